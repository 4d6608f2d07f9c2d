"""The report in two files (REPORT.md the answers, DETAILS.md the tables behind them), its
length limits, and the equal-compute view's one-machine rule."""
import os

import pytest

from tests.conftest import result_record
from utils.report import compute
from utils.report.common import machine_of
from utils.report.readme import slowest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Word limits of the generated documents (words as `wc -w` counts them, tables included).
LIMITS = {"results/REPORT.md": 2500, "results/quick/REPORT.md": 2000, "README.md": 3000}


def test_committed_documents_stay_within_their_word_limits():
    for name, limit in LIMITS.items():
        with open(os.path.join(ROOT, name)) as f:
            words = len(f.read().split())
        assert words <= limit, f"{name}: {words} words"


def _run(name, seed, acc, machine, s_per_epoch, macs=1e6):
    return result_record(name, seed, acc, macs=macs, final={"time_per_epoch_s": s_per_epoch},
                         environment={"device_name": machine, "threads": 2})


def test_compute_view_takes_times_from_one_machine_only():
    # A has two seeds on machine X (10 s, 12 s) and one on Y (100 s); B ran only on Y.
    runs = [_run("A", 0, 0.80, "X", 10.0), _run("A", 1, 0.82, "X", 12.0),
            _run("A", 2, 0.81, "Y", 100.0), _run("B", 0, 0.70, "Y", 50.0, macs=4e6)]
    machine, points = compute.points(runs, ["A", "B"])
    assert machine == "X (2 threads)"
    assert points["A"]["s_per_epoch"] == 11.0          # Y's 100 s never averaged in
    assert points["A"]["time_seeds"] == 2               # the time point's own seed count
    # B never ran on X: its point comes from its own machine, and says so (it was left out)
    assert (points["B"]["s_per_epoch"], points["B"]["time_machine"]) == (50.0, "Y (2 threads)")
    assert points["A"]["acc"] == 0.81 and points["A"]["seeds"] == 3
    assert points["B"]["macs"] == 4e6


def test_readme_slowest_model_is_timed_on_one_machine():
    groups = {"A": [_run("A", 0, 0.8, "X", 10.0), _run("A", 1, 0.8, "Y", 300.0)],
              "B": [_run("B", 0, 0.8, "X", 20.0), _run("B", 1, 0.8, "X", 22.0)]}
    # A is slowest on Y, but the one machine compared is X, where most runs ran: B, 21 s.
    assert slowest(groups) == ("B", 21.0, "X (2 threads)")


def test_a_one_thread_run_is_labelled_in_the_singular():
    one = result_record("A", 0, 0.8, environment={"device_name": "X", "threads": 1})
    assert machine_of(one) == "X (1 thread)"
    assert machine_of(_run("A", 0, 0.8, "X", 10.0)) == "X (2 threads)"


def test_calibration_is_shown_for_every_run_that_recorded_it_and_not_recorded_otherwise(
        tmp_path):
    import json

    import numpy as np
    import pytest

    from tests.conftest import result_record
    from utils import predictions
    from utils.report import calibration
    from utils.report.table import Results

    folder = tmp_path / "mnist_comparison"
    folder.mkdir()
    n = 1000
    conf = np.where(np.arange(n) < 500, 0.95, 0.55)     # two bins
    correct = np.r_[np.arange(500) < 475, np.arange(500) < 275]  # 95 % and 55 % right
    record = result_record("FCNet", 0, acc=correct.mean(), section="mnist_comparison",
                           test_size=n, final={"test_ece": 0.0},
                           predictions=predictions.encode(np.zeros(n), (~correct).astype(int),
                                                          np.zeros(n), conf))
    (folder / "FCNet__seed0.json").write_text(json.dumps(record))
    (folder / "SimpleCNN__seed0.json").write_text(json.dumps(result_record(
        "SimpleCNN", 0, section="mnist_comparison")))
    rows = {r["model"]: r for r in calibration.numbers(Results(str(tmp_path)))}
    assert rows["FCNet"]["ece"] == 0.0 and rows["FCNet"]["recorded"] == 1
    assert rows["SimpleCNN"]["ece"] is None and rows["SimpleCNN"]["reliability"] is None
    centres, acc, counts = rows["FCNet"]["reliability"]
    assert counts.sum() == n and counts[14] == 500 and counts[8] == 500
    assert acc[14] == pytest.approx(0.95) and acc[8] == pytest.approx(0.55)
    text = calibration.render(Results(str(tmp_path)), str(tmp_path / "plots"))
    assert "not recorded" in text


def test_the_matched_table_puts_each_runs_params_under_params_and_its_deviation_beside(tmp_path):
    """Read back from the committed 3.2 matched runs: the params column is the JSON's params."""
    from tests.conftest import ROOT
    from utils.report.runs import group_by_name
    from utils.report.table import Results
    from utils.report.task3 import _residual_table
    from utils.spec import deviation

    runs = Results(os.path.join(ROOT, "results")).section("residual_blocks")
    groups = {n: g for n, g in group_by_name(runs).items() if n.endswith("_matched")}
    budget = groups["BasicResNet_matched"][0]["spec"]["meta"]["param_budget"]
    lines = _residual_table(groups, budget).splitlines()
    headers = [h.strip() for h in lines[0].strip("|").split("|")]
    for line in lines[2:]:
        cells = dict(zip(headers, (c.strip() for c in line.strip("|").split("|"))))
        r0 = groups[cells["net"]][0]
        assert int(cells["params"].replace(",", "")) == r0["params"]
        assert cells["vs budget"] == f"{deviation(r0['params'], budget):+.2%}"


def test_a_table_whose_rows_ran_on_different_machines_names_each_rows_machine():
    from utils.report.common import accuracy_table
    groups = {"A": [_run("A", 0, 0.8, "X", 10.0)], "B": [_run("B", 0, 0.7, "Y", 50.0)]}
    table = accuracy_table(groups)
    assert "on X (2 threads)" in table and "on Y (2 threads)" in table
    same = {"A": [_run("A", 0, 0.8, "X", 10.0)], "B": [_run("B", 0, 0.7, "X", 50.0)]}
    assert " on X" not in accuracy_table(same)


def test_the_backprop_signal_is_the_rms_gradient_at_the_first_layer_over_the_last_hidden():
    from utils.report.common import signal_cell
    from utils.report.gradient_flow import signal_ratio

    # per image: 100 values at the first layer, 25 at the last hidden, 10 at the classifier
    entry = {"layers": {"conv1": 2.0, "conv2": 5.0, "shortcut.0": 9.0, "fc": 1.0},
             "sizes": {"conv1": 100, "conv2": 25, "shortcut.0": 25, "fc": 10}}
    # RMS over a batch of 4: 2 / sqrt(400) = 0.1 and 5 / sqrt(100) = 0.5
    assert signal_ratio(entry, batch=4) == pytest.approx(0.2)
    run = {"section": "s", "run_id": "N__seed0", "spec": {"batch_size": 4},
           "output_gradients": [entry]}
    assert signal_cell(run, {}) == "0.2 (steady)"
    assert signal_cell(run, {"s/N__seed0": {**entry, "layers": {**entry["layers"],
                                                                  "conv1": 0.1},
                                            "batch": 4}}) == "0.01 (vanishing)"
    assert signal_cell({**run, "output_gradients": []}, {}) == "not recorded"


def test_a_net_with_one_layer_after_the_input_says_why_it_has_no_ratio_instead_of_unmeasurable():
    from utils.report.common import flow_cell

    def layer(norm, weight_norm):
        return {"norm": norm, "weight_norm": weight_norm, "mean_abs": 0.1, "max_abs": 1.0,
                "numel": 9}
    shallow = {"layers": {"stem.0.weight": layer(1.0, 2.0), "convs.0.weight": layer(0.5, 1.0),
                          "fc.weight": layer(0.1, 1.0)}}
    assert flow_cell(shallow, 0.1).startswith("— (one layer after the input layer")


def test_a_layer_study_without_any_finished_3_1_run_still_renders_task_3(tmp_path):
    """--section 3.1 runs the layer study first: when every run then fails, --report-only on
    that folder shows the study's gradient checks and timings and no net table."""
    import shutil

    from utils.report import task3
    from utils.report.table import Results
    from utils.results import STUDY_FILE
    from utils.sections import folder

    study = os.path.join(folder("3.1"), STUDY_FILE)
    os.makedirs(tmp_path / os.path.dirname(study))
    shutil.copy(os.path.join(ROOT, "results", "quick", study), tmp_path / study)
    text = task3.render(Results(str(tmp_path)), str(tmp_path / "plots"))
    assert text.count("| passed |") == 4 and "All swap runs" not in text


def test_a_section_without_a_published_solution_gets_no_reference_columns():
    from utils.report.common import accuracy_table

    runs = [result_record("FCNet", 0, 0.98, profile="full",
                          environment={"device_name": "AMD EPYC", "threads": 2})]
    assert accuracy_table({"FCNet": runs}, {}).splitlines()[0].count("|") == 9
    assert "ref. test acc" in accuracy_table({"FCNet": runs}, {"FCNet": {"test_acc": 0.9}})
