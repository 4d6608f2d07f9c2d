"""Result files: one self-describing JSON per finished run, written atomically."""
import glob
import json
import os
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


def load_section(results_dir, section):
    """Every finished run of a section, ordered by run id."""
    paths = sorted(glob.glob(os.path.join(results_dir, section, "*.json")))
    return [read_json(p) for p in paths]


def group_by_name(runs, order=None):
    """{name: [runs over seeds]}, in `order` when given (unknown names last, alphabetically)."""
    groups = {}
    for r in sorted(runs, key=lambda r: (r["name"], r["seed"])):
        groups.setdefault(r["name"], []).append(r)
    if order:
        rank = {n: i for i, n in enumerate(order)}
        groups = dict(sorted(groups.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0])))
    return groups
