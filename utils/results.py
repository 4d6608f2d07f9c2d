"""Result files: one self-describing JSON per finished run, written atomically."""
import glob
import json
import os
import sys
import tempfile


_UMASK = os.umask(0)
os.umask(_UMASK)


def run_path(results_dir, section, run_id):
    return os.path.join(results_dir, section, f"{run_id}.json")


def write_text_atomic(path, text):
    """Write to a temp file in the same folder, then rename: a reader never sees half a file."""
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w") as f:
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


def read_json(path):
    with open(path) as f:
        return json.load(f)


class BadResult(ValueError):
    """A result file that is not a finished run's JSON (truncated, empty, another shape)."""


# What every reader of a result relies on; a file without them is not a finished run.
RESULT_KEYS = {"name": str, "seed": int, "final": dict}


def read_result(path, required=RESULT_KEYS):
    """A finished run's result, or BadResult saying what is wrong with the file. `required` maps
    the keys it must hold to their types."""
    try:
        result = read_json(path)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BadResult(f"{path} is not readable JSON ({type(err).__name__})") from err
    if not isinstance(result, dict):
        raise BadResult(f"{path} holds a {type(result).__name__}, not a run's result")
    missing = [k for k, kind in required.items() if not isinstance(result.get(k), kind)]
    if missing:
        raise BadResult(f"{path} lacks {', '.join(missing)}: not a finished run's result")
    return result


_warned = set()


def load_section(results_dir, section):
    """Every finished run of a section, ordered by run id. A bad file is left where it is and
    skipped with one warning (a report is still drawn from the others)."""
    runs = {}
    for path in sorted(glob.glob(os.path.join(results_dir, section, "*.json"))):
        try:
            result = read_result(path)
        except BadResult as err:
            if path not in _warned:
                _warned.add(path)
                print(f"warning: skipped {err}; rerun its script to retrain it", file=sys.stderr)
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
    return sorted(runs.values(), key=lambda r: r.get("run_id", ""))


def set_aside(path):
    """Rename a bad result to <path>.bad-N (never overwriting an earlier one); returns the name."""
    n = 1
    while os.path.exists(f"{path}.bad-{n}"):
        n += 1
    os.replace(path, f"{path}.bad-{n}")
    return f"{path}.bad-{n}"


def group_by_name(runs, order=None):
    """{name: [runs over seeds]}, in `order` when given (unknown names last, alphabetically)."""
    groups = {}
    for r in sorted(runs, key=lambda r: (r["name"], r["seed"])):
        groups.setdefault(r["name"], []).append(r)
    if order:
        rank = {n: i for i, n in enumerate(order)}
        groups = dict(sorted(groups.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0])))
    return groups
