"""Brings result files written by earlier versions of the study to the current result schema
(utils/results.py), so the report reads one shape and keeps no branch for older ones.

    python -m utils.migrate_results                # every result file under results/
    python -m utils.migrate_results --check DIR    # exit 1 if any file there still needs it

It fills only what is known exactly from the file itself, and changes no value a file holds
(tests/test_migrate_results.py checks both on the committed results): a field the run never
measured stays absent and the report says "not recorded".
"""
import argparse
import glob
import math
import os
import sys

from utils.results import read_json, write_json_atomic
from utils.spec import ERF_IMAGES

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _finite_run(r):
    """Every epoch's losses finite: a run that did not diverge."""
    return all(math.isfinite(e[k]) for e in r["history"] for k in ("train_loss", "test_loss")
               if e.get(k) is not None)


def _erf(r):
    """The run's empirical receptive field record ({"images": ...} where it has none)."""
    return (r.get("analyses") or {}).get("receptive_field", {"images": None})


# (what it adds, whether a result needs it, how to add it)
MIGRATIONS = (
    ("evaluated_on: 'validation' for a run trained with a held-out split, else 'test'",
     lambda r: "evaluated_on" not in r,
     lambda r: r.update(evaluated_on="validation" if r["spec"].get("validation") else "test")),
    ("diverged: null for a run whose every loss was finite (written before divergence was "
     "recorded, each had finished)",
     lambda r: "diverged" not in r and _finite_run(r), lambda r: r.update(diverged=None)),
    (f"analyses.receptive_field.images: {ERF_IMAGES}, the count every run used before it was "
     "recorded", lambda r: "images" not in _erf(r), lambda r: _erf(r).update(images=ERF_IMAGES)),
)


def migrate(result):
    """The migrations a result needs, applied in place; returns their descriptions."""
    done = []
    for what, needed, apply in MIGRATIONS:
        if needed(result):
            apply(result)
            done.append(what)
    return done


def result_files(results_dir):
    """Every run's result file under a results folder (superseded ones included: the report
    lists them), never a study or benchmark record."""
    paths = glob.glob(os.path.join(results_dir, "**", "*__seed*.json"), recursive=True)
    return sorted(p for p in paths if os.sep + "benchmarks" + os.sep not in p)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results_dirs", nargs="*", default=[os.path.join(ROOT, "results")],
                        help="results folders to migrate (default: results/)")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if a file needs migrating")
    args = parser.parse_args(argv)
    pending = 0
    for folder in args.results_dirs:
        for path in result_files(folder):
            result = read_json(path)
            done = migrate(result)
            if done:
                pending += 1
                if not args.check:
                    write_json_atomic(path, result)
                print(f"{os.path.relpath(path)}: {'; '.join(done)}")
    print(f"{pending} file(s) {'need migrating' if args.check else 'migrated'}")
    return 1 if args.check and pending else 0


if __name__ == "__main__":
    sys.exit(main())
