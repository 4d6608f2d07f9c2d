"""Results that a later recipe replaced (results/superseded/, recovered from git history): the
report lists them so that every search that followed a test result is disclosed with the result
that prompted it."""
import json
import os

from utils.markdown import md_table
from utils.report.parts import join


def render(results):
    path = os.path.join(results.dir, "superseded", "index.json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        runs = json.load(f)["runs"]
    reruns = [r for r in runs if r.get("kind") == "rerun"]
    runs = [r for r in runs if r.get("kind") != "rerun"]
    rows = []
    for r in runs:
        with open(os.path.join(results.dir, "superseded", r["file"]), encoding="utf-8") as f:
            spec = json.load(f).get("spec", {})
        rows.append([f"`{r['section_folder']}/{r['run_id']}`", f"{r['test_acc']:.4f}",
                     spec.get("schedule", "—"), json.dumps(spec.get("model_kwargs", {})),
                     f"`{r['committed_in']}`", r["superseded_by"]])
    return join([
        "## Superseded results (disclosed)",
        f"{len(runs)} final runs were replaced after their test accuracy was seen (each listed "
        f"with what replaced it) and {len(reruns)} by a rerun of the same spec; every old file "
        "is kept under `results/superseded/`.",
        *[
            "These final runs were replaced after their test accuracy was seen: most by a recipe "
            "then chosen on a validation split carved from train (the `-recipe` sections), but the "
            "search itself was prompted by a test result, so both are listed; the last column says "
            "what replaced each. Files under `results/superseded/`, recovered from the git history:",
            md_table(["run", "test acc then", "schedule", "model kwargs", "committed in",
                      "replaced by (commit message)"], rows),
            *([f"{len(reruns)} more results were replaced by a rerun of the same spec, to record "
                "what an older version did not (per-image predictions, weight norms); the old "
                "files are kept there too, listed in `results/superseded/index.json`."]
               if reruns else [])]])
