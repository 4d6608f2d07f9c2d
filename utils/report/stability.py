"""Training-stability measures computed from a run's per-step traces (pure functions of JSON)."""
import warnings

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.stats import median_abs_deviation

SPIKE_WINDOW = 50     # steps in the rolling median a loss is compared with


def rolling_mean(values, window):
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


MAD_SCALE = 1.4826  # MAD x this estimates the standard deviation of normal noise
ROBUST_K = 6.0        # a spike rises this many robust standard deviations above the median ...
ROBUST_FLOOR = 0.1    # ... and at least this much in absolute loss (nats)


def robust_spikes(losses, window=SPIKE_WINDOW, k=ROBUST_K, floor=ROBUST_FLOOR):
    """Indices of steps whose loss rises above the median of the `window` steps before by more
    than max(k robust standard deviations (median absolute deviation), `floor` nats). Unlike a
    ratio to the median, this does not fire more often as the loss falls towards zero. A
    non-finite loss (None) always counts; a window with fewer than half its steps finite is
    never compared. All windows at once: a trace has thousands of steps."""
    x = np.array([np.nan if v is None else v for v in losses], dtype=float)
    if len(x) <= window:
        return []
    before = sliding_window_view(x[:-1], window)   # row j: the steps j .. j + window - 1
    now = x[window:]
    enough = np.isfinite(before).sum(axis=1) >= window // 2
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore")   # an all-NaN window gives NaN, which `enough` drops
        median = np.nanmedian(before, axis=1)
        # "omit" is per-window Python inside scipy: only pay for it when a window has a NaN.
        mad = median_abs_deviation(before, axis=1,
                                   nan_policy="omit" if np.isnan(before).any() else "propagate")
        rise = now - median > np.maximum(k * MAD_SCALE * mad, floor)
    return [int(i) + window for i in np.flatnonzero(np.isnan(now) | (enough & rise))]


def largest_fall(history, key="test_acc"):
    """The largest drop of `key` from one epoch to the next (0 when it never fell), and the
    epoch it fell to."""
    falls = [(history[i - 1][key] - history[i][key], history[i]["epoch"])
             for i in range(1, len(history))]
    fall, epoch = max(falls, default=(0.0, None))
    return (fall, epoch) if fall > 0 else (0.0, None)
