"""Committed results are hours of CPU: every committed result file must still be recognised as
finished by the spec its script produces today, so that no refactor retrains one because a field
was renamed or moved."""
import glob
import importlib
import os

import pytest

from tests.conftest import ROOT
from utils.train.cli import build_parser
from utils.results import read_json
from utils.supersede import missing_evidence

SCRIPTS = ["homework_cnn_vs_fc_comparison", "homework_cnn_architecture_analysis",
           "homework_custom_layers_experiments"]


def produced_specs(profile):
    """{(section folder, run id): spec} of every run the three scripts declare for `profile`."""
    specs = {}
    for name in SCRIPTS:
        script = importlib.import_module(name)
        args = build_parser("", script.SECTIONS, getattr(script, "options", None)).parse_args(
            ["--profile", profile])
        for section in script.SECTIONS.values():
            for spec in section(args):
                specs[(spec.section, spec.run_id)] = spec
    return specs


def committed(profile_dir):
    root = os.path.join(ROOT, "results", profile_dir)
    paths = glob.glob(os.path.join(root, "*", "*.json"))
    # Benchmarks are not runs; superseded results are kept for the record, never rerun.
    return [p for p in paths
            if os.path.basename(os.path.dirname(p)) not in ("benchmarks", "superseded")]


@pytest.mark.parametrize("profile, folder", [("full", ""), ("quick", "quick")])
def test_every_committed_result_is_finished_for_the_spec_its_script_produces(profile, folder):
    paths = committed(folder)
    if profile == "full":
        assert len(paths) >= 70  # the committed full study
    specs = produced_specs(profile)
    unrecognised = []
    for path in paths:
        result = read_json(path)
        key = (os.path.basename(os.path.dirname(path)), result["run_id"])
        if key not in specs or not specs[key].matches(result["spec"]):
            unrecognised.append(os.path.relpath(path, ROOT))
    assert unrecognised == []


# The runs whose comparisons carry a verdict in the report (issue 27): each must stand on three
# seeds that recorded per-image predictions and per-layer weight norms, so that the paired tests
# and the ||g||/||w|| gradient flow have what they need.
CLAIM_BEARING = {
    "cifar_comparison": ["DeepFCNet", "ResNetCIFAR", "ResNetCIFARRegularized"],
    "depth": ["ShallowCNN", "MediumCNN", "DeepCNN", "ResidualCNN"],
    "depth_sweep": [f"{kind}{depth}" for kind in ("Plain", "Residual") for depth in (8, 20, 56)],
    "residual_blocks": [f"{block}_matched" for block in ("BasicResNet", "WideResNet",
                                                          "BottleneckResNet")],
    "residual_stability": [f"{block}_lr{lr}" for block in ("BasicResNet", "WideResNet",
                                                           "BottleneckResNet")
                           for lr in ("3.2", "6.4")],
}


def test_every_claim_bearing_run_has_three_seeds_with_predictions_and_weight_norms():
    complete = {}
    for path in committed(""):
        result = read_json(path)
        if not missing_evidence(result):
            key = (os.path.basename(os.path.dirname(path)), result["name"])
            complete.setdefault(key, set()).add(result["seed"])
    short = {f"{folder}/{name}": sorted(complete.get((folder, name), ()))
             for folder, names in CLAIM_BEARING.items() for name in names
             if not {0, 1, 2} <= complete.get((folder, name), set())}
    assert short == {}
