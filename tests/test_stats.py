import math

import numpy as np
import pytest

from utils import predictions
from utils.report.stats import (accuracy_difference, compare_runs, mcnemar_difference, mean_interval,
                                resolved, wilson_interval)


def test_wilson_interval_matches_the_textbook_value():
    # 81 of 263 (Wilson 1927 style example): 0.2553 .. 0.3662 at 95 %.
    low, high = wilson_interval(81, 263)
    assert low == pytest.approx(0.2553, abs=1e-4) and high == pytest.approx(0.3662, abs=1e-4)
    assert wilson_interval(10_000, 10_000)[1] == pytest.approx(1.0)
    assert 0.9993 < wilson_interval(10_000, 10_000)[0] < 1.0


def test_accuracy_difference_interval_on_ten_thousand_images():
    diff, low, high = accuracy_difference(0.90, 0.88, 10_000)
    half = 1.959964 * math.sqrt((0.9 * 0.1 + 0.88 * 0.12) / 10_000)
    assert diff == pytest.approx(0.02) and high - diff == pytest.approx(half)
    assert resolved(low, high)  # 0.02 against a half-width of 0.0088
    assert not resolved(*accuracy_difference(0.900, 0.898, 10_000)[1:])


def test_mean_interval_uses_student_t_over_seeds():
    m, low, high = mean_interval([0.9932, 0.9898, 0.9927])
    # t(0.975, 2) = 4.3027, sd = 0.001836, n = 3
    assert m == pytest.approx(0.991900, abs=1e-6)
    assert high - m == pytest.approx(4.3027 * 0.0018358 / math.sqrt(3), rel=1e-3)
    assert math.isnan(mean_interval([0.5])[1])


def test_robust_spikes_ignore_a_falling_loss_and_catch_a_jump():
    from utils.report.stability import robust_spikes

    # A loss falling from 0.5 to 0.001 with log-normal noise (sigma 0.3): a ratio-to-median rule
    # would count noisy steps of the tiny tail as spikes; the robust rule counts none.
    import math
    import random
    rng = random.Random(0)
    falling = [0.5 * 0.99 ** i * math.exp(0.3 * rng.gauss(0, 1)) for i in range(600)]
    assert robust_spikes(falling) == []
    jumped = falling[:300] + [2.0] + falling[301:]
    assert robust_spikes(jumped) == [300]
    assert robust_spikes(falling[:100] + [None] + falling[101:]) == [100]


def test_largest_fall_in_test_accuracy():
    from utils.report.stability import largest_fall

    history = [{"epoch": 1, "test_acc": 0.40}, {"epoch": 2, "test_acc": 0.59},
               {"epoch": 3, "test_acc": 0.42}, {"epoch": 4, "test_acc": 0.70}]
    fall, epoch = largest_fall(history)
    assert fall == pytest.approx(0.17) and epoch == 3
    assert largest_fall(history[:2]) == (0.0, None)


def test_welch_interval_and_the_choice_of_method():
    from utils.report.stats import compare_accuracies, welch_interval

    a, b = [0.9937, 0.9930, 0.9944], [0.9853, 0.9846, 0.9860]
    diff, low, high = welch_interval(a, b)
    assert diff == pytest.approx(0.0084) and low > 0  # resolved
    # equal variances and sizes: df = 4, t = 2.776, se = sqrt(2 * 0.0007^2 / 3)
    assert high - diff == pytest.approx(2.776 * math.sqrt(2 * 0.0007 ** 2 / 3), rel=1e-3)
    assert compare_accuracies(a, b, 10_000)[3] == "seeds"
    d, lo, hi, method, _ = compare_accuracies([0.8835], [0.8788], 10_000)
    assert method == "test images" and lo < 0 < hi


def test_mcnemar_interval_of_a_hand_computed_case():
    # 100 images: 9 right under a alone, 1 under b alone, 90 alike (60 both right, 30 both wrong)
    a = [1] * 9 + [0] * 1 + [1] * 60 + [0] * 30
    b = [0] * 9 + [1] * 1 + [1] * 60 + [0] * 30
    diff, low, high, p = mcnemar_difference(a, b)
    assert diff == pytest.approx(0.08)
    # exact McNemar: 2 P(X <= 1), X ~ Binomial(10, 1/2) = 2 (1 + 10) / 1024
    assert p == pytest.approx(22 / 1024, abs=1e-12)
    # Clopper-Pearson for 9 of 10: the upper end solves p^10 = 0.025 ... mapped by 10 (2π - 1)/100
    upper_pi = 0.975 ** (1 / 10)
    assert high == pytest.approx(10 * (2 * upper_pi - 1) / 100, abs=1e-9)
    lower_pi = (low * 100 / 10 + 1) / 2  # ... the lower solves P(X >= 9 | π) = 0.025
    assert 10 * lower_pi ** 9 * (1 - lower_pi) + lower_pi ** 10 == pytest.approx(0.025, abs=1e-9)
    assert low > 0  # p < 0.05: the interval excludes zero


def test_runs_with_predictions_are_compared_image_by_image():
    labels = np.arange(200) % 10
    right_a = np.r_[np.ones(150), np.zeros(50)].astype(bool)
    right_b = np.r_[np.ones(140), np.zeros(60)].astype(bool)  # b is a minus 10 images

    def run(right):
        preds = np.where(right, labels, (labels + 1) % 10)
        return {"final": {"test_acc": right.mean()}, "test_size": 200,
                "predictions": predictions.encode(labels, preds, np.zeros(200))}

    diff, low, high, method, _ = compare_runs([run(right_a)], [run(right_b)])
    assert method == "paired test images" and diff == pytest.approx(0.05)
    # 10 discordant images, all for a: exact, resolved; the unpaired interval is not
    assert low > 0
    _, unpaired_low, _ = accuracy_difference(0.75, 0.70, 200)
    assert unpaired_low < 0


def test_holm_steps_down_from_the_smallest_p_and_never_lets_an_adjusted_p_fall():
    from utils.report.stats import holm

    # By hand: sorted 0.01, 0.02, 0.03, 0.5 -> 4 × 0.01, 3 × 0.02, max(0.06, 2 × 0.03), 1 × 0.5
    assert holm([0.03, 0.5, 0.01, 0.02]) == pytest.approx([0.06, 0.5, 0.04, 0.06])
    assert holm([0.04, 0.04]) == pytest.approx([0.08, 0.08])
    assert holm([0.9, 0.8]) == pytest.approx([1.0, 1.0])  # capped at 1


def test_each_tests_p_value_agrees_with_its_interval():
    from utils.report.stats import compare_accuracies, mean_interval, mean_p

    for a, b in (([0.71, 0.72, 0.70], [0.69, 0.70, 0.68]), ([0.5, 0.52], [0.51, 0.5])):
        diff, low, high, over, p = compare_accuracies(a, b, 10_000)
        assert over == "seeds" and (p < 0.05) == (low > 0 or high < 0)
    diff, low, high, over, p = compare_accuracies([0.8835], [0.8788], 10_000)
    assert over == "test images" and p == pytest.approx(0.305, abs=0.002) and low < 0 < high
    diffs = [0.0012, 0.0006, 0.0015, 0.0011, 0.0016]
    _, low, _ = mean_interval(diffs)
    assert mean_p(diffs) < 0.05 and low > 0
