"""Training-stability measures computed from a run's per-step traces (pure functions of JSON)."""
import statistics

SPIKE_WINDOW = 50     # steps in the rolling median a loss is compared with
SPIKE_FACTOR = 1.5    # a step is a spike when its loss exceeds the median by this factor


def loss_spikes(losses, window=SPIKE_WINDOW, factor=SPIKE_FACTOR):
    """Indices of steps whose loss exceeds `factor` x the median of the `window` steps before."""
    spikes = []
    for i in range(window, len(losses)):
        if losses[i] > factor * statistics.median(losses[i - window:i]):
            spikes.append(i)
    return spikes


def rolling_mean(values, window):
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def late_variability(values, fraction=0.25):
    """Coefficient of variation (std / mean) over the last `fraction` of the steps."""
    tail = values[-max(2, int(len(values) * fraction)):]
    m = statistics.mean(tail)
    return statistics.stdev(tail) / m if m else float("inf")


def summary(run):
    trace = run["trace"]
    return {"spikes": len(loss_spikes(trace["loss"])), "steps": len(trace["loss"]),
            "max_grad_norm": max(trace["grad_norm"]),
            "late_loss_cv": late_variability(trace["loss"]),
            "late_grad_cv": late_variability(trace["grad_norm"])}
