"""Results that a later recipe replaced (results/superseded/, recovered from git history): the
report lists them so that every search that followed a test result is disclosed with the result
that prompted it."""
import json
import os

from utils.report import words
from utils.report.common import table


def replaced(results):
    """(the final results replaced after their test accuracy was seen, those replaced by a rerun
    of the same spec) as results/superseded/index.json lists them; ([], []) without one."""
    path = os.path.join(results.dir, "superseded", "index.json")
    if not os.path.exists(path):
        return [], []
    with open(path, encoding="utf-8") as f:
        runs = json.load(f)["runs"]
    return ([r for r in runs if r.get("kind") != "rerun"],
            [r for r in runs if r.get("kind") == "rerun"])


def render(results):
    runs, reruns = replaced(results)
    if not runs and not reruns:
        return None
    specs = {}
    for r in runs:
        with open(os.path.join(results.dir, "superseded", r["file"]), encoding="utf-8") as f:
            specs[r["file"]] = json.load(f).get("spec", {})
    return words.macro(
        "details.md.j2", "superseded", runs=runs, reruns=reruns,
        distinct=len({(r["section_folder"], r["run_id"]) for r in runs}), table=table(runs, [
            ("run", lambda r: f"`{r['section_folder']}/{r['run_id']}`"),
            ("test acc then", lambda r: f"{r['test_acc']:.4f}"),
            ("schedule", lambda r: specs[r["file"]].get("schedule", "—")),
            ("model kwargs", lambda r: json.dumps(specs[r["file"]].get("model_kwargs", {}))),
            ("committed in", lambda r: f"`{r['committed_in']}`"),
            ("replaced by (commit message)", lambda r: r["superseded_by"])]))
