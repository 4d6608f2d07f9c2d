"""Training-stability measures computed from a run's per-step traces (pure functions of JSON)."""
import statistics

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
    non-finite loss (None) always counts."""
    spikes = []
    for i in range(window, len(losses)):
        if losses[i] is None:
            spikes.append(i)
            continue
        before = [v for v in losses[i - window:i] if v is not None]
        if len(before) < window // 2:
            continue
        median = statistics.median(before)
        mad = median_abs_deviation(before)
        if losses[i] - median > max(k * MAD_SCALE * mad, floor):
            spikes.append(i)
    return spikes


def largest_fall(history, key="test_acc"):
    """The largest drop of `key` from one epoch to the next (0 when it never fell), and the
    epoch it fell to."""
    falls = [(history[i - 1][key] - history[i][key], history[i]["epoch"])
             for i in range(1, len(history))]
    fall, epoch = max(falls, default=(0.0, None))
    return (fall, epoch) if fall > 0 else (0.0, None)
