"""Reading runs: one run's final numbers and the groupings of runs that every report module
uses (by name over seeds, a history averaged over seeds). Numbers only; nothing is formatted
here. The groupings go through pandas, one row per run."""
import statistics

import pandas as pd

from utils.report.stats import accuracy_interval


def final(runs, key):
    return [r["final"][key] for r in runs]


def mean(values):
    return statistics.mean(values)


def group_by_name(runs, order=None):
    """{name: [runs over seeds]}, in `order` when given (unknown names last, alphabetically)."""
    if not runs:
        return {}
    rank = {n: i for i, n in enumerate(order or ())}
    frame = pd.DataFrame({"name": [r["name"] for r in runs], "seed": [r["seed"] for r in runs],
                          "run": runs})
    frame["rank"] = frame["name"].map(lambda n: rank.get(n, len(rank)))
    frame = frame.sort_values(["rank", "name", "seed"], kind="stable")
    return {name: list(group["run"]) for name, group in frame.groupby("name", sort=False)}


def mean_history(runs):
    """Per-epoch history averaged over seeds: one dict per epoch with the mean of every numeric
    field (runs of unequal length are cut to the shortest). A single run comes back as is."""
    if len(runs) == 1:
        return runs[0]["history"]
    n = min(len(r["history"]) for r in runs)
    first = runs[0]["history"][0]
    numeric = [k for k in first if isinstance(first[k], (int, float))]
    rows = pd.DataFrame([{k: e[k] for k in numeric} for r in runs for e in r["history"][:n]])
    # statistics.mean per cell: exact, so a seed's order never moves a printed digit
    means = rows.groupby("epoch", sort=False).agg(statistics.mean)
    return [{k: (int(epoch) if k == "epoch" else float(means.at[epoch, k])) for k in numeric}
            for epoch in means.index]


def at_chance(run):
    """Whether the run's test accuracy is indistinguishable from guessing (one over the number
    of classes, inside its 95 % interval over the test images): the net learned nothing."""
    low, high = accuracy_interval(run["final"]["test_acc"], run["test_size"])
    return low <= 1 / len(run["classes"]) <= high


def gap_of(run):
    """Eval-mode train accuracy − test accuracy at the end of a run."""
    return run["final"]["train_acc_eval"] - run["final"]["test_acc"]
