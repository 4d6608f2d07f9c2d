"""Moving a finished result out of the way of its own rerun, with the reason on record.

A result is never replaced in place: before its run trains again, its file moves to
`<results>/superseded/<section>/<run id>__<commit>.json` and `superseded/index.json` gains a line
saying why (the report lists them), so nothing measured is ever lost.
"""
import json
import os
import subprocess

from utils.results import read_json, write_text_atomic
from utils.spec import SHIFT_DATASETS

# Why an older finished result is retrained by --upgrade-evidence: each names what it lacks.
EVIDENCE = {
    "predictions": "per-image test predictions (paired tests over the test images)",
    "weight_norm": "per-layer weight norms in its gradient snapshots (gradient flow as ||g||/||w||)",
    "translation": "test accuracy on shifted images (the translation test of section 1.3)",
}


def missing_evidence(result):
    """The EVIDENCE keys an older result lacks (empty for a run recorded by this version)."""
    missing = [] if "predictions" in result else ["predictions"]
    snaps = result.get("gradient_flow") or []
    if any("weight_norm" not in layer for s in snaps for layer in s["layers"].values()):
        missing.append("weight_norm")
    if result.get("dataset") in SHIFT_DATASETS and not result.get("translation"):
        missing.append("translation")
    return missing


def _commit_of(path):
    """The short commit a file was last committed in, or None outside git / uncommitted."""
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%h", "--", os.path.basename(path)],
                             capture_output=True, text=True, timeout=10,
                             cwd=os.path.dirname(os.path.abspath(path)))
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def supersede(results_dir, path, reason, kind="rerun"):
    """Move the result at `path` under results_dir/superseded/ and record why; returns the new
    path. `kind` "rerun": the same spec trained again; "replaced": other settings took its
    place (the report lists those apart, as results replaced after their test accuracy was
    seen). The index is written before the move, so an interruption leaves a line too many at
    worst, never a file unaccounted for."""
    result = read_json(path)
    section = os.path.basename(os.path.dirname(path))
    commit = _commit_of(path) or (result.get("environment") or {}).get("git_commit") or "local"
    folder = os.path.join(results_dir, "superseded")
    name = f"{result['run_id']}__{commit}"
    target = os.path.join(folder, section, name + ".json")
    n = 1
    while os.path.exists(target):  # never overwrite an earlier superseded file
        n += 1
        target = os.path.join(folder, section, f"{name}-{n}.json")
    index_path = os.path.join(folder, "index.json")
    index = read_json(index_path) if os.path.exists(index_path) else {
        "note": "results replaced by a later run", "runs": []}
    index["runs"].append({"file": os.path.relpath(target, folder), "section_folder": section,
                          "run_id": result["run_id"], "test_acc": result["final"]["test_acc"],
                          "committed_in": commit, "kind": kind, "superseded_by": reason})
    write_text_atomic(index_path, json.dumps(index, indent=1, ensure_ascii=False) + "\n")
    os.makedirs(os.path.dirname(target), exist_ok=True)
    os.replace(path, target)
    return target
