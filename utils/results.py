"""Result files: one self-describing JSON per finished run, written atomically."""
import binascii
import glob
import json
import math
import os
import re
import stat
import sys
import tempfile
import zlib

from utils import predictions


_UMASK = os.umask(0)
os.umask(_UMASK)


def run_path(results_dir, section, run_id):
    return os.path.join(results_dir, section, f"{run_id}.json")


# A run's final weights (state_dict, torch.save; git-ignored): <results>/weights/<section>/.
WEIGHTS_DIR = "weights"


def weights_path(result_path):
    """Where the weights of the result at `result_path` are kept."""
    section_dir, name = os.path.split(result_path)
    results_dir, section = os.path.split(section_dir)
    return os.path.join(results_dir, WEIGHTS_DIR, section, os.path.splitext(name)[0] + ".pt")


def write_text_atomic(path, text):
    """Write to a temp file in the same folder, then rename: a reader never sees half a file."""
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file normal permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def write_json_atomic(path, obj):
    # Compact: traces and maps would make an indented file tens of thousands of lines long.
    write_text_atomic(path, json.dumps(obj, separators=(",", ":")) + "\n")


# No result file comes near this (the largest, with traces and predictions, is under 1 MB): a
# larger "result" is something else, and is not read into memory.
MAX_RESULT_BYTES = 64 * 2 ** 20


def read_json(path):
    """A JSON file (UTF-8, with or without a byte-order mark), read only when it is a regular
    file of sane size: a FIFO or a device named *.json must not block a reader."""
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"{path} is not a regular file")
    if info.st_size > MAX_RESULT_BYTES:
        raise ValueError(f"{path} is {info.st_size / 2 ** 20:,.0f} MB, more than any result "
                         f"({MAX_RESULT_BYTES // 2 ** 20} MB)")
    with open(path, encoding="utf-8-sig") as f:
        return json.load(f)


class BadResult(ValueError):
    """A result file that is not a finished run's JSON (truncated, empty, another shape)."""


class Number:
    """A JSON number (int or float, never a bool) -- a type for the schemas below."""


class NumberOrNull:
    """A JSON number or null (a loss that went non-finite is stored as null)."""


def _is(value, kind):
    if kind is Number:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is NumberOrNull:
        return value is None or _is(value, Number)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


_KIND_NAMES = {Number: "a number", NumberOrNull: "a number or null", int: "an integer",
               str: "a string", dict: "an object", list: "a list"}


# What every reader of a result relies on, with its type: a file without it is not a finished
# run of this study (an older version's file included: the warning names the field it lacks).
RESULT_SCHEMA = {"name": str, "seed": int, "run_id": str, "section": str, "spec": dict,
                 "params": int, "macs": int, "train_size": int, "test_size": int,
                 "history": list, "final": dict, "environment": dict, "profile": str,
                 "evaluated_on": str}
FINAL_SCHEMA = {"test_acc": Number, "train_acc_eval": Number, "train_time_s": Number,
                "time_per_epoch_s": Number, "test_loss": NumberOrNull,
                "train_loss": NumberOrNull, "train_acc": NumberOrNull, "wall_time_s": Number}


def schema_problem(result, schema=RESULT_SCHEMA):
    """The first field of `result` that breaks the result schema, as a phrase ("lacks spec",
    "final.test_acc is str, not a number"), or None when the file is a finished run."""
    for prefix, fields, obj in (("", schema, result),
                                ("final.", FINAL_SCHEMA if schema is RESULT_SCHEMA else {},
                                 result.get("final"))):
        for key, kind in fields.items():
            if key not in obj:
                return f"lacks {prefix}{key}"
            if not _is(obj[key], kind):
                found = "null" if obj[key] is None else type(obj[key]).__name__
                return f"{prefix}{key} is {found}, not {_KIND_NAMES[kind]}"
    if schema is RESULT_SCHEMA and not result["history"] and not result.get("diverged"):
        return "has an empty history (no finished epoch) and did not diverge"
    if schema is RESULT_SCHEMA:
        return value_problem(result)
    return None


ACCURACIES = ("test_acc", "train_acc_eval", "train_acc")


def value_problem(result):
    """The first value of a well-formed result that cannot be: a non-finite final metric, an
    accuracy outside [0, 1] (a percentage), a seed or name that disagrees with its spec, or
    per-image predictions whose count or accuracy disagree with the run's; None when sane."""
    final = result["final"]
    for key, value in final.items():
        if _is(value, Number) and not math.isfinite(value):
            return f"has final.{key} = {value}"
    for key in ACCURACIES:
        if final.get(key) is not None and not 0 <= final[key] <= 1:
            return f"has final.{key} = {final[key]}, outside 0..1"
    for key in ("name", "seed"):
        if key in result["spec"] and result["spec"][key] != result[key]:
            return f"says {key} {result[key]!r} but its spec says {result['spec'][key]!r}"
    if "predictions" in result:
        try:
            stored = predictions.decode(result["predictions"])
        except (ValueError, KeyError, TypeError, zlib.error, binascii.Error) as err:
            return f"has unreadable predictions ({type(err).__name__})"
        n = len(stored["label"])
        if n != result["test_size"]:
            return f"has predictions for {n:,} images, not its {result['test_size']:,}"
        if abs(stored["correct"].mean() - final["test_acc"]) > 0.5 / n:
            return (f"has predictions whose accuracy {stored['correct'].mean():.4f} is not its "
                    f"final.test_acc {final['test_acc']:.4f}")
    return None


_RUN_FILE = re.compile(r"^(?P<name>.+)__seed(?P<seed>\d+)\.json$")


def name_problem(path, result):
    """Where a file named <name>__seed<k>.json holds another run, what it holds; else None."""
    match = _RUN_FILE.match(os.path.basename(path))
    if match and (match["name"], int(match["seed"])) != (result["name"], result["seed"]):
        return (f"holds {result['name']} seed {result['seed']} under the name "
                f"{os.path.basename(path)}")
    return None


def read_result(path, required=RESULT_SCHEMA):
    """A finished run's result, or BadResult saying what is wrong with the file. `required` maps
    the keys it must hold to their types (the full result schema unless told otherwise)."""
    try:
        result = read_json(path)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValueError) as err:
        why = str(err) if isinstance(err, ValueError) and str(err).startswith(path) else \
            f"{path} is not readable JSON ({type(err).__name__})"
        raise BadResult(why) from err
    if not isinstance(result, dict):
        raise BadResult(f"{path} holds a {type(result).__name__}, not a run's result")
    problem = schema_problem(result, required)
    if not problem and required is RESULT_SCHEMA:
        problem = name_problem(path, result)
    if problem:
        raise BadResult(f"{path} {problem}: not a finished run's result")
    return result


_warned = set()
# Skipped files of one folder named one by one; the rest are counted in one line.
MAX_WARNINGS = 10


def load_section(results_dir, section):
    """Every finished run of a section, ordered by run id. A bad file is left where it is and
    skipped with one warning (a report is still drawn from the others)."""
    runs, skipped = {}, []
    for path in sorted(glob.glob(os.path.join(results_dir, section, "*.json"))):
        try:
            result = read_result(path)
        except BadResult as err:
            if path not in _warned:
                _warned.add(path)
                skipped.append(err)
            continue
        # A run is its name and seed as the file says inside, never the file's name: a copy
        # under another name is the same run, counted once (the file named for it wins).
        key = (result["name"], result["seed"])
        named_for_it = os.path.basename(path) == f"{result['name']}__seed{result['seed']}.json"
        if key in runs:
            if path not in _warned:
                _warned.add(path)
                print(f"warning: {path} holds the same run as another file ({key[0]}, seed "
                      f"{key[1]}); counted once", file=sys.stderr)
            if not named_for_it:
                continue
        runs[key] = result
    for err in skipped[:MAX_WARNINGS]:
        print(f"warning: skipped {err}; rerun its script to retrain it", file=sys.stderr)
    if len(skipped) > MAX_WARNINGS:
        print(f"warning: skipped {len(skipped) - MAX_WARNINGS:,} more files of "
              f"{os.path.join(results_dir, section)} that are not finished runs "
              f"({len(skipped):,} in all)", file=sys.stderr)
    return sorted(_one_recipe_per_name(runs.values()), key=lambda r: r.get("run_id", ""))


def recipe_difference(spec_a, spec_b):
    """The spec fields (not the seed) in which two runs' recipes differ, as 'epochs 1 vs 3';
    a field only one spec records (added to the study since) counts as equal."""
    return ", ".join(f"{key} {spec_a[key]!r} vs {spec_b[key]!r}" for key in sorted(spec_a)
                     if key != "seed" and key in spec_b and spec_a[key] != spec_b[key])


def _recipe(run):
    """What must agree for two seeds to be pooled: the spec, and the precision the run trained
    in (bf16 autocast or float32: --amp is an execution setting, not part of the spec)."""
    return {**run["spec"], "bf16 autocast": bool((run.get("execution") or {}).get("amp"))}


def _one_recipe_per_name(runs):
    """The seeds of a name are pooled only when they share one recipe (_recipe): the recipe most
    seeds have is kept (on a tie, the lowest seed's) and every other run is left out with a
    warning naming the field that differs."""
    by_name = {}
    for r in sorted(runs, key=lambda r: r["seed"]):
        by_name.setdefault(r["name"], []).append(r)
    kept = []
    for name, seeds in by_name.items():
        recipes = []  # [(a representative spec, [runs])]
        for r in seeds:
            for spec, members in recipes:
                if not recipe_difference(spec, _recipe(r)):
                    members.append(r)
                    break
            else:
                recipes.append((_recipe(r), [r]))
        main_spec, main = max(recipes, key=lambda kv: len(kv[1]))
        kept += main
        for spec, members in recipes:
            for r in members if members is not main else []:
                key = ("recipe", r["section"], r["run_id"])
                if key not in _warned:
                    _warned.add(key)
                    print(f"warning: {r['section']}/{r['run_id']} was trained with another "
                          f"recipe than the other seeds of {name} "
                          f"({recipe_difference(_recipe(r), main_spec)}); not pooled with them: "
                          f"retrain it with the same settings (--force) or move it away",
                          file=sys.stderr)
    return kept


def set_aside(path, tag="bad"):
    """Rename a file to <path>.<tag>-N (never overwriting an earlier one); returns the name."""
    n = 1
    while os.path.exists(f"{path}.{tag}-{n}"):
        n += 1
    os.replace(path, f"{path}.{tag}-{n}")
    return f"{path}.{tag}-{n}"


# The custom-layer study's measurements (gradchecks, timings), one file beside section 3.1's runs.
STUDY_FILE = os.path.join("layers", "layer_study.json")
STUDY_SCHEMA = {"version": int, "gradcheck": list, "benchmark": dict, "environment": dict}


def load_study(results_dir, section):
    """The layer study of a results folder, or None when it is absent or bad (one warning: the
    report is drawn without it; the script set it aside and measures it again)."""
    path = os.path.join(results_dir, section, STUDY_FILE)
    if not os.path.exists(path):
        return None
    try:
        return read_result(path, STUDY_SCHEMA)
    except BadResult as err:
        if path not in _warned:
            _warned.add(path)
            print(f"warning: skipped {err}; rerun its script to measure it again",
                  file=sys.stderr)
        return None


