"""The one-off migration of result files to the current schema (utils/migrate_results.py):
every value an old file held is unchanged, only exactly-known fields are added, and the
committed results need nothing more."""
import json
import os
import shutil

from tests.conftest import ROOT
from utils import migrate_results
from utils.results import read_json


def leaves(obj, path=()):
    """{path: value} of every scalar in a JSON value."""
    if isinstance(obj, dict):
        return {k: v for key, sub in obj.items() for k, v in leaves(sub, path + (key,)).items()}
    if isinstance(obj, list):
        return {k: v for i, sub in enumerate(obj) for k, v in leaves(sub, path + (i,)).items()}
    return {path: obj}


def old_result():
    """A result as an early version wrote it: no evaluated_on, no diverged, an ERF record
    without its image count."""
    return {"name": "CNN_3x3", "seed": 0, "spec": {"name": "CNN_3x3", "seed": 0},
            "history": [{"epoch": 1, "train_loss": 1.2, "test_loss": 1.1}],
            "analyses": {"receptive_field": {"radius_95": 3, "map": [[0.5, 1.0]]}},
            "final": {"test_acc": 0.5}}


def test_a_migrated_file_keeps_every_old_value_and_gains_only_the_known_fields(tmp_path):
    path = tmp_path / "kernel_size" / "CNN_3x3__seed0.json"
    path.parent.mkdir()
    path.write_text(json.dumps(old_result()))
    assert migrate_results.main(["--check", str(tmp_path)]) == 1
    assert migrate_results.main([str(tmp_path)]) == 0
    new = read_json(str(path))
    old = leaves(old_result())
    assert {k: v for k, v in leaves(new).items() if k in old} == old
    assert set(leaves(new)) - set(old) == {("evaluated_on",), ("diverged",),
                                           ("analyses", "receptive_field", "images")}
    assert (new["evaluated_on"], new["diverged"]) == ("test", None)
    assert new["analyses"]["receptive_field"]["images"] == 64
    assert migrate_results.main(["--check", str(tmp_path)]) == 0  # nothing left to do


def test_a_run_with_a_non_finite_loss_is_not_declared_undiverged():
    r = old_result()
    r["history"][0]["train_loss"] = float("nan")
    migrate_results.migrate(r)
    assert "diverged" not in r


def test_the_committed_results_are_migrated(tmp_path):
    """Run on a copy: every committed result already has the current shape."""
    copy = tmp_path / "results"
    shutil.copytree(os.path.join(ROOT, "results"), copy,
                    ignore=shutil.ignore_patterns("weights", "*.png", "*.md"))
    assert migrate_results.main(["--check", str(copy)]) == 0
