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


def _native(key):
    """A pandas group key as plain Python values (numpy's bool_ and int64 print and compare
    alike, but a key is kept and passed on, so it should be what a run holds)."""
    if isinstance(key, tuple):
        return tuple(map(_native, key))
    return key.item() if hasattr(key, "item") else key


def group_runs(runs, by, sort=None):
    """{key: [runs]}: the runs as a pandas table with a column per entry of `by` (column name:
    function of a run), rows sorted by the columns of `sort` (same form; stable, ascending)
    when given, grouped by the `by` columns in the order the rows first show each key (a tuple
    where `by` has several columns)."""
    if not runs:
        return {}
    columns = {**(sort or {}), **by}
    frame = pd.DataFrame({c: [f(r) for r in runs] for c, f in columns.items()} | {"run": runs})
    if sort:
        frame = frame.sort_values(list(sort), kind="stable")
    keys = list(by) if len(by) > 1 else next(iter(by))
    return {_native(k): list(g["run"]) for k, g in frame.groupby(keys, sort=False)}


def group_by_name(runs, order=None):
    """{name: [runs over seeds]}, in `order` when given (unknown names last, alphabetically)."""
    rank = {n: i for i, n in enumerate(order or ())}
    return group_runs(runs, {"name": lambda r: r["name"]},
                      sort={"rank": lambda r: rank.get(r["name"], len(rank)),
                            "name": lambda r: r["name"], "seed": lambda r: r["seed"]})


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


def wall_time_s(run):
    """What a run cost: training, evaluation and measuring."""
    return run["final"]["wall_time_s"]


def gap_of(run):
    """Eval-mode train accuracy − test accuracy at the end of a run."""
    return run["final"]["train_acc_eval"] - run["final"]["test_acc"]
