"""Intervals, and verdicts computed as numbers: a comparison is a claim only when its interval
excludes zero; otherwise it is unresolved."""
import math
import statistics

import numpy as np
from scipy import stats

from utils import predictions

Z95 = stats.norm.ppf(0.975)  # the normal quantile of a two-sided 95 % interval
# Fewer seeds than this a side give a t-interval too wide or too unstable to mean anything
# (two paired seeds: one degree of freedom): such a comparison is shown with no interval.
MIN_SEEDS = 3


def wilson_interval(correct, n, confidence=0.95):
    """95 % Wilson score interval of a proportion (an accuracy over n test images)."""
    if n == 0:
        return 0.0, 1.0
    ci = stats.binomtest(correct, n).proportion_ci(confidence_level=confidence, method="wilson")
    return ci.low, ci.high


def accuracy_interval(acc, n):
    """95 % Wilson interval of an accuracy measured on n test images."""
    return wilson_interval(round(acc * n), n)


def accuracy_difference(acc_a, acc_b, n, z=Z95):
    """(a − b, low, high): 95 % interval of the difference of two accuracies over the same n
    test images, treated as independent samples (predictions per image are not stored, so the
    pairing cannot be used; for positively correlated models this overstates the spread)."""
    diff = acc_a - acc_b
    half = z * math.sqrt((acc_a * (1 - acc_a) + acc_b * (1 - acc_b)) / n)
    return diff, diff - half, diff + half


def mcnemar_difference(correct_a, correct_b, confidence=0.95):
    """(a − b, low, high, p): the accuracy difference of two models over the same test images,
    paired image by image. Only the discordant images carry information: b_only of them are right
    under a alone (n10), the others under b alone (n01). Conditional on their number m, n10 is
    Binomial(m, π) and a − b = m (2π − 1) / n, so the exact (Clopper-Pearson) interval of π maps
    to an interval of the difference; p is the exact McNemar test of π = 1/2. The interval
    excludes 0 exactly when p < 1 − confidence."""
    a, b = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    n = len(a)
    if n != len(b) or n == 0:
        raise ValueError(f"paired over different test images ({n} and {len(b)})")
    n10, n01 = int((a & ~b).sum()), int((b & ~a).sum())
    m = n10 + n01
    diff = (n10 - n01) / n
    if m == 0:
        return diff, 0.0, 0.0, 1.0
    test = stats.binomtest(n10, m, 0.5)
    ci = test.proportion_ci(confidence_level=confidence, method="exact")
    return diff, m * (2 * ci.low - 1) / n, m * (2 * ci.high - 1) / n, test.pvalue


def mean_interval(values, confidence=0.95):
    """(mean, low, high): Student-t interval of the mean over seeds (needs two or more)."""
    m = statistics.mean(values)
    if len(values) < 2:
        return m, math.nan, math.nan
    if statistics.stdev(values) == 0:
        return m, m, m
    ci = stats.ttest_1samp(values, 0.0).confidence_interval(confidence)
    return m, ci.low, ci.high


def resolved(low, high):
    """Whether an interval of a difference excludes zero."""
    return low > 0 or high < 0


def welch_interval(a, b, confidence=0.95):
    """(mean(a) − mean(b), low, high): Welch's t-interval for a difference of means over seeds
    (each side needs two or more values)."""
    diff = statistics.mean(a) - statistics.mean(b)
    if statistics.variance(a) == statistics.variance(b) == 0:
        return diff, diff, diff
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(confidence)
    return diff, ci.low, ci.high


def mean_correct(runs):
    """Per test image, the fraction of `runs` (seeds) that got it right, when every run recorded
    predictions on the same test images; else None."""
    decoded = []
    for run in runs:
        if "predictions" not in run:
            return None
        decoded.append(predictions.decode(run["predictions"]))
    labels = decoded[0]["label"]
    if any(len(d["label"]) != len(labels) or (d["label"] != labels).any() for d in decoded):
        return None
    return np.mean([d["correct"] for d in decoded], axis=0)


# The method of a paired test on the seeds' per-image mean: the images are its sampling unit, so
# the label says what it leaves out (two seeds of one net can differ by more than its interval).
MEAN_OF_SEEDS = "paired test images, mean of seeds: seed-to-seed variation left out"


def paired_image_difference(per_image_a, per_image_b, confidence=0.95):
    """(a − b, low, high, p) over the same test images, paired image by image: a normal
    interval of the mean of the per-image differences (each side's fraction of seeds right).
    Images are the sampling unit, so seed-to-seed variation is left out: the weaker evidence."""
    d = np.asarray(per_image_a, dtype=float) - np.asarray(per_image_b, dtype=float)
    diff = float(d.mean())
    se = float(d.std(ddof=1) / math.sqrt(len(d))) if len(d) > 1 else 0.0
    if se == 0:
        return diff, diff, diff, float(diff == 0)
    z = stats.norm.ppf(0.5 + confidence / 2)
    return diff, diff - z * se, diff + z * se, float(2 * stats.norm.sf(abs(diff) / se))


def compare_runs(runs_a, runs_b):
    """(difference, low, high, method, p) of test accuracy between two groups of seeds: Welch
    over seeds where both sides have MIN_SEEDS or more; else, where every run recorded per-image
    predictions on the same test images, a test paired over those images (one run a side: the
    exact McNemar interval, "paired test images"; more: the per-image mean over seeds,
    MEAN_OF_SEEDS); else Welch over seeds or the binomial interval over the test
    images as compare_accuracies chooses. p is the two-sided p-value of the same test (its
    interval excludes 0 exactly when p < 0.05), for error control across many comparisons
    (holm)."""
    acc_a = [r["final"]["test_acc"] for r in runs_a]
    acc_b = [r["final"]["test_acc"] for r in runs_b]
    if min(len(runs_a), len(runs_b)) < MIN_SEEDS:
        per_image_a, per_image_b = mean_correct(runs_a), mean_correct(runs_b)
        if per_image_a is not None and per_image_b is not None \
                and len(per_image_a) == len(per_image_b):
            if len(runs_a) == len(runs_b) == 1:
                diff, low, high, p = mcnemar_difference(per_image_a > 0.5, per_image_b > 0.5)
                return diff, low, high, "paired test images", p
            diff, low, high, p = paired_image_difference(per_image_a, per_image_b)
            return diff, low, high, MEAN_OF_SEEDS, p
    return compare_accuracies(acc_a, acc_b, runs_a[0]["test_size"])


def compare_accuracies(a, b, n):
    """(difference, low, high, method, p) of test accuracy between two groups of seeds,
    evaluated on the same n test images: Welch over seeds where both sides have several, else a
    binomial interval over the test images (which leaves out seed-to-seed variation: say so);
    p is the two-sided p-value of the same test."""
    if len(a) > 1 and len(b) > 1:
        diff, low, high = welch_interval(a, b)
        if statistics.variance(a) == statistics.variance(b) == 0:
            return diff, low, high, "seeds", float(diff == 0)
        return diff, low, high, "seeds", stats.ttest_ind(a, b, equal_var=False).pvalue
    acc_a, acc_b = statistics.mean(a), statistics.mean(b)
    diff, low, high = accuracy_difference(acc_a, acc_b, n)
    se = math.sqrt((acc_a * (1 - acc_a) + acc_b * (1 - acc_b)) / n)
    p = float(diff == 0) if se == 0 else 2 * stats.norm.sf(abs(diff) / se)
    return diff, low, high, "test images", p


def mean_p(values):
    """Two-sided p-value of a Student-t test that the mean of `values` is 0 (two or more)."""
    if statistics.stdev(values) == 0:
        return float(statistics.mean(values) == 0)
    return stats.ttest_1samp(values, 0.0).pvalue


def holm(pvalues, alpha=0.05):
    """Holm's step-down adjustment over a family of tests: adjusted p-values in the given
    order (a test is resolved family-wise when its adjusted p < alpha; the chance of any false
    resolution among them stays below alpha, whatever their dependence)."""
    order = sorted(range(len(pvalues)), key=lambda i: pvalues[i])
    adjusted, running = [0.0] * len(pvalues), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(pvalues) - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted
