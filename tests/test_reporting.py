"""Report sentences over several seeds speak for all of them, or name the one they use."""
import pytest

from utils.report.common import gradient_flow_table, overfitting_table
from utils.report.runs import mean_history


TWO_SEEDS = ([0.5, 0.9], [0.6, 0.8], [1.0, 0.5]), ([0.7, 0.9], [0.6, 0.6], [1.2, 0.7])


def _run(seed, train_accs, test_accs, test_losses, test_size=10_000):
    history = [{"epoch": i + 1, "train_acc": a, "test_acc": b, "test_loss": c, "train_loss": 1.0}
               for i, (a, b, c) in enumerate(zip(train_accs, test_accs, test_losses))]
    grads = [{"step": 0, "layers": {"first.weight": {"norm": 2.0, "weight_norm": 1.0},
                                    "last.weight": {"norm": 1.0, "weight_norm": 1.0}}}]
    return {"seed": seed, "history": history, "gradient_flow": grads, "spec": {"lr": 0.1},
            "test_size": test_size,
            "final": {"train_acc_eval": train_accs[-1], "test_acc": test_accs[-1]}}


def test_the_mean_history_averages_each_epoch_over_seeds_and_keeps_the_epoch_number():
    runs = [_run(seed, *curves) for seed, curves in enumerate(TWO_SEEDS)]
    h = mean_history(runs)
    assert [e["epoch"] for e in h] == [1, 2]
    assert h[0]["train_acc"] == pytest.approx(0.6)
    assert h[1]["test_acc"] == pytest.approx(0.7)
    assert h[1]["test_loss"] == pytest.approx(0.6)


def test_the_mean_history_cuts_runs_to_the_shortest():
    runs = [_run(0, [0.5, 0.9], [0.6, 0.8], [1.0, 0.5]), _run(1, [0.7], [0.6], [1.2])]
    assert len(mean_history(runs)) == 1


def _gap_run(seed, loss_gaps):
    """A run whose test − train loss gap is loss_gaps, one per epoch (train loss 0.1)."""
    history = [{"epoch": i + 1, "train_acc": 0.9, "test_acc": 0.9 - g / 10, "train_loss": 0.1,
                "test_loss": 0.1 + g} for i, g in enumerate(loss_gaps)]
    return {"seed": seed, "history": history}


def test_overfitting_is_the_loss_gaps_slope_over_the_last_half_with_an_interval_over_seeds():
    from utils.report.overfitting import trends

    # the first half is ignored (a jump there); the last half rises 0.01, 0.02, 0.015 per epoch
    widening = [_gap_run(0, [0.5, 0.0, 0.00, 0.01, 0.02, 0.03]),
                _gap_run(1, [0.9, 0.0, 0.00, 0.02, 0.04, 0.06]),
                _gap_run(2, [0.9, 0.0, 0.00, 0.015, 0.03, 0.045])]
    t = trends({"A": widening})["A"]
    assert t["loss_slope"][0] == pytest.approx(0.015) and t["verdict"] == "widening"
    assert t["loss_gap"] == pytest.approx(0.045)
    assert t["acc_gap"] == pytest.approx(0.0045)
    # two of those seeds: t with one degree of freedom, the interval holds zero
    assert trends({"A": widening[:2]})["A"]["verdict"] == "flat"
    # slopes of +0.01 and -0.01: the interval holds zero
    mixed = [_gap_run(0, [0, 0, 0.00, 0.01, 0.02, 0.03]), _gap_run(1, [0, 0, 0.03, 0.02, 0.01, 0.0])]
    assert trends({"B": mixed})["B"]["verdict"] == "flat"
    assert trends({"C": widening[:1]})["C"]["verdict"] == "one seed"
    # the test loss 0.1 + gap is lowest at epoch 2 or 3, not the last
    assert not t["lowest_loss_at_end"]
    falling = [_gap_run(0, [0.5, 0.4, 0.3, 0.2])]
    assert trends({"D": falling})["D"]["lowest_loss_at_end"]
    assert trends({"D": falling})["D"]["verdict"] == "one seed"
    assert "A (mean of 3 seeds)" in overfitting_table({"A": widening})
    # rising but still below zero (train loss above test, as dropout makes it): closing
    closing = [_gap_run(seed, [-0.5, -0.4, -0.3, -0.3 + d, -0.3 + 2 * d, -0.3 + 3 * d])
               for seed, d in enumerate((0.01, 0.02, 0.015))]
    assert trends({"F": closing})["F"]["verdict"] == "closing"
    # one epoch: no slope to fit
    assert trends({"E": [_gap_run(0, [0.5])]})["E"]["verdict"] == "too few epochs"


def test_a_single_run_gets_no_seed_note():
    runs = [_run(0, [0.5, 0.9], [0.6, 0.8], [1.0, 0.5])]
    assert "mean of" not in overfitting_table({"Net": runs})
    assert "(seed" not in gradient_flow_table({"Net": runs})


def test_a_gradient_sentence_from_one_of_several_seeds_names_that_seed():
    runs = [_run(0, [0.5], [0.6], [1.0]), _run(1, [0.7], [0.6], [1.2])]
    assert "| Net (seed 0) |" in gradient_flow_table({"Net": runs})


def test_a_count_takes_its_noun_in_the_right_number():
    from utils.report.common import count

    assert [count(n, "epoch") for n in (1, 2, 0)] == ["1 epoch", "2 epochs", "0 epochs"]


def test_recall_per_class_orders_the_classes_by_what_convolution_adds():
    from utils.report.task1 import class_recall_table
    from utils.report.task1 import class_recalls

    def net(cm, ece=None):
        final = {"test_loss": 1.0, **({"test_ece": ece} if ece is not None else {})}
        return [{"classes": ["cat", "ship"], "confusion_matrix": cm, "final": final}]
    groups = {"DeepFCNet": net([[30, 70], [40, 60]], ece=0.05),
              "ResNetCIFAR": net([[90, 10], [30, 70]])}
    assert class_recalls(groups["ResNetCIFAR"]) == {"cat": [0.9], "ship": [0.7]}
    recall = class_recall_table(groups)
    table = recall["table"]
    cat, ship = [line for line in table.splitlines() if line.startswith(("| cat", "| ship"))]
    assert table.index("| cat") < table.index("| ship")  # +0.6 before +0.1
    assert "+0.600 [" in cat and "+0.100 [" in ship
    assert recall["worst"][0] == "ship" and recall["worst"][1][0] == pytest.approx(0.1)


def test_one_interval_formatter_for_differences_and_for_accuracies():
    from utils.report.common import interval_text

    assert interval_text(0.0084, 0.00714, 0.0096) == "+0.0084 [+0.0071, +0.0096]"
    assert interval_text(0.5313, 0.52, 0.5426, signed=False) == "0.5313 [0.5200, 0.5426]"


def test_times_are_never_averaged_across_machines():
    from utils.report.common import per_machine

    def run(machine, s):
        return {"environment": {"device_name": machine, "threads": 2},
                "final": {"time_per_epoch_s": s}}
    assert per_machine([run("AMD", 10.0), run("AMD", 12.0)], "time_per_epoch_s") == \
        "11.0 ± 1.4 (n=2)"
    assert per_machine([run("AMD", 108.6), run("Intel", 127.1), run("Intel", 130.3)],
                       "time_per_epoch_s") == \
        "108.6 on AMD (2 threads); 128.7 ± 2.3 (n=2) on Intel (2 threads)"
