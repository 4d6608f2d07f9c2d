"""Overfitting as the generalisation gap over the epochs: per epoch the test − train loss and
the train − test accuracy (the running train numbers every history holds), and the gap's trend
over the second half of training: the least-squares slope per epoch of each seed, with a 95 %
interval over the seeds. A gap that widens beyond its interval is "widening"; an annealed
schedule cannot hide it the way it hides a fall from the peak epoch."""
import numpy as np

from utils.report.stats import mean_interval, resolved

LATE = 0.5  # the trend is fitted on the last half of the epochs


def gaps(run):
    """(epochs, loss gap test − train, accuracy gap train − test) of one run, per epoch."""
    h = run["history"]
    return (np.array([e["epoch"] for e in h], float),
            np.array([e["test_loss"] - e["train_loss"] for e in h]),
            np.array([e["train_acc"] - e["test_acc"] for e in h]))


def _slope(x, y):
    late = x >= x[-1] * (1 - LATE)
    return float(np.polyfit(x[late], y[late], 1)[0]) if late.sum() >= 2 else float("nan")


def trends(groups):
    """{name: {"loss_gap", "acc_gap" (last epoch, mean over seeds), "loss_slope" (mean, low,
    high), "acc_slope", "verdict" (widening, closing: rising
    but still below zero, narrowing, flat, one seed, too few epochs; by the loss gap),
    "lowest_loss_at_end" (the mean test loss is lowest at the last epoch: still improving, where
    the learning rate was constant)}}."""
    out = {}
    for name, runs in groups.items():
        curves = [gaps(r) for r in runs]
        # a run with under two epochs in its last half has no slope
        loss = [v for x, g, _ in curves if np.isfinite(v := _slope(x, g))]
        acc = [v for x, _, a in curves if np.isfinite(v := _slope(x, a))]
        test_loss = np.mean([[e["test_loss"] for e in r["history"]] for r in runs
                             if len(r["history"]) == len(runs[0]["history"])], axis=0)
        m, low, high = mean_interval(loss) if loss else (float("nan"),) * 3
        last_gap = float(np.mean([g[-1] for _, g, _ in curves]))
        # a rising gap that is still negative (train loss above test, as dropout and
        # augmentation make it) is closing, not overfitting
        verdict = ("too few epochs" if not loss else "one seed" if len(loss) < 2 else
                   "flat" if not resolved(low, high) else "narrowing" if m < 0 else
                   "widening" if last_gap > 0 else "closing")
        out[name] = {"loss_gap": last_gap,
                     "acc_gap": float(np.mean([a[-1] for _, _, a in curves])),
                     "loss_slope": (m, low, high),
                     "acc_slope": mean_interval(acc) if acc else (float("nan"),) * 3,
                     "verdict": verdict,
                     "lowest_loss_at_end": bool(np.argmin(test_loss) == len(test_loss) - 1)}
    return out
