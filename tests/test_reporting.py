"""Report sentences over several seeds speak for all of them, or name the one they use."""
import pytest

from utils.reporting import gradient_flow_table, mean_history, overfitting_sentences


TWO_SEEDS = ([0.5, 0.9], [0.6, 0.8], [1.0, 0.5]), ([0.7, 0.9], [0.6, 0.6], [1.2, 0.7])


def _run(seed, train_accs, test_accs, test_losses):
    history = [{"epoch": i + 1, "train_acc": a, "test_acc": b, "test_loss": c, "train_loss": 1.0}
               for i, (a, b, c) in enumerate(zip(train_accs, test_accs, test_losses))]
    grads = [{"step": 0, "layers": {"first.weight": {"mean_abs": 2.0},
                                    "last.weight": {"mean_abs": 1.0}}}]
    return {"seed": seed, "history": history, "gradient_flow": grads,
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


def test_the_overfitting_sentence_uses_every_seed_and_says_so():
    runs = [_run(seed, *curves) for seed, curves in enumerate(TWO_SEEDS)]
    text = overfitting_sentences({"Net": runs})
    assert "**Net** (mean of 2 seeds)" in text
    # running gap at epoch 1: mean train 0.6 − mean test 0.6; at epoch 2: 0.9 − 0.7
    assert "from +0.0000 (epoch 1) to +0.2000 (epoch 2)" in text
    # final eval gap: mean of (0.9 − 0.8) and (0.9 − 0.6)
    assert "= +0.2000 at the end" in text


def test_a_single_run_gets_no_seed_note():
    runs = [_run(0, [0.5, 0.9], [0.6, 0.8], [1.0, 0.5])]
    assert "mean of" not in overfitting_sentences({"Net": runs})
    assert "(seed" not in gradient_flow_table({"Net": runs})


def test_a_gradient_sentence_from_one_of_several_seeds_names_that_seed():
    runs = [_run(0, [0.5], [0.6], [1.0]), _run(1, [0.7], [0.6], [1.2])]
    assert "| Net (seed 0) |" in gradient_flow_table({"Net": runs})


def _finals(name_to_gaps):
    """Groups whose runs have only the final accuracies, the gaps given per seed."""
    return {name: [{"seed": i, "history": [{"epoch": 1, "train_acc": 0.9, "test_acc": 0.9,
                                            "test_loss": 1.0}],
                    "final": {"train_acc_eval": 0.9, "test_acc": 0.9 - g}}
                   for i, g in enumerate(gaps)] for name, gaps in name_to_gaps.items()}


def test_a_gap_ranking_within_the_seed_spread_is_called_unreliable():
    text = overfitting_sentences(_finals({"A": [0.01, 0.03], "B": [0.02, 0.03]}))
    assert "Largest final gap: **B**" in text
    assert "so this ranking is not reliable" in text


def test_a_gap_ranking_beyond_the_seed_spread_says_by_how_much():
    text = overfitting_sentences(_finals({"A": [0.01, 0.012], "B": [0.05, 0.052]}))
    assert "not reliable" not in text
    assert "their difference (0.0400) is 28.3× the typical seed-to-seed" in text


def test_a_gap_ranking_with_one_seed_each_is_not_judged():
    text = overfitting_sentences(_finals({"A": [0.01], "B": [0.05]}))
    assert text.endswith("smallest: **A** (+0.0100).")
