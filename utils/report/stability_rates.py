"""3.2's stability test (section "3.2-stability"): each residual block type trained at several
peak learning rates; the table and its verdicts, from the JSON."""
import os
import statistics

from utils.report import plotting, words
from utils.report.common import image, interval_text, table
from utils.report.runs import final
from utils.sections import BY_KEY, folder
from utils.report.stats import accuracy_interval
from utils.report.runs import at_chance, group_runs, mean
from utils.report.stability import largest_fall, robust_spikes
from utils.report.stats import compare_runs
from utils.report.verdicts import difference

RESIDUAL_STABILITY = folder("3.2-stability")
PLOTS = BY_KEY["3.2-stability"].plots


# --- 3.2's ranking and stability verdicts, as numbers -------------------------------------------

def ranking(groups):
    """Nets by mean test accuracy, best first, and each neighbour pair's difference with its
    95 % interval, by the test the findings use (stats.compare_runs: Welch over seeds, or paired
    over the test images where too few seeds and both recorded predictions, else over the test
    images), so one pair never gets two intervals: [(name, accuracy)], [a `difference` with
    its "better" and "worse" net]."""
    acc = {n: mean(final(runs, "test_acc")) for n, runs in groups.items()}
    best_first = sorted(acc, key=acc.get, reverse=True)
    pairs = [{"better": a, "worse": b, **difference(*compare_runs(groups[a], groups[b]))}
             for a, b in zip(best_first, best_first[1:])]
    return [(n, acc[n]) for n in best_first], pairs


def stability_measures(groups):
    """Per net: robust loss spikes per seed (stability.py), the largest epoch-to-epoch fall in
    test accuracy over its seeds (with the seed, the epoch and the accuracies around it), the
    largest gradient norm, and the test accuracy's range over seeds."""
    out = {}
    for name, runs in groups.items():
        falls = []
        for r in runs:
            fall, epoch = largest_fall(r["history"])
            if epoch:
                before = next(h for h in r["history"] if h["epoch"] == epoch - 1)["test_acc"]
                after = next(h for h in r["history"] if h["epoch"] == epoch)["test_acc"]
                falls.append({"fall": fall, "epoch": epoch, "seed": r["seed"],
                              "from": before, "to": after})
        accs = final(runs, "test_acc")
        out[name] = {"seeds": len(runs),
                     "spikes": [len(robust_spikes(r["trace"]["loss"])) for r in runs],
                     "steps": len(runs[0]["trace"]["loss"]),
                     "largest_fall": max(falls, key=lambda f: f["fall"], default=None),
                     "max_grad_norm": max(v for r in runs for v in r["trace"]["grad_norm"]
                                          if v is not None),
                     "acc_range": max(accs) - min(accs) if len(accs) > 1 else None}
    return out


# A run "trained" when its test accuracy reached this fraction of its block's best (the highest
# mean over seeds at any rate): above chance alone would call a net at 0.20 trained.
TRAINED_FRACTION = 0.9


def by_block(runs):
    """{model: [[runs of one peak lr, by seed], ... by increasing peak lr]}."""
    def lr(r):
        return r["spec"]["lr"]
    models = group_runs(runs, {"model": lambda r: r["model"]},
                        sort={"model": lambda r: r["model"], "lr": lr, "seed": lambda r: r["seed"]})
    return {m: list(group_runs(same, {"lr": lr}).values()) for m, same in models.items()}


def block_verdicts(rates):
    """Per block: per peak lr (all its seeds) the divergences, the seeds that trained (finite
    loss and a test accuracy of at least TRAINED_FRACTION of the block's best mean), the mean
    test accuracy, the largest epoch-to-epoch fall in test accuracy of any seed and the robust
    loss spikes of all seeds; then the highest rate at which every seed trained, the seeds
    behind it and the next rate tried (the grid step above the edge)."""
    best = max(statistics.mean(final(runs, "test_acc")) for runs in rates)
    rows = []
    for runs in rates:
        falls = [largest_fall(r["history"]) for r in runs]
        fall, epoch = max(falls, key=lambda f: f[0])
        trained = [r["diverged"] is None and not at_chance(r) and
                   r["final"]["test_acc"] >= TRAINED_FRACTION * best for r in runs]
        rows.append({"lr": runs[0]["spec"]["lr"], "seeds": len(runs),
                     "diverged": sum(r["diverged"] is not None for r in runs),
                     "trained": sum(trained), "learned": all(trained),
                     "largest_fall": fall, "fall_epoch": epoch,
                     "spikes": sum(len(robust_spikes(r["trace"]["loss"])) for r in runs),
                     "steps": sum(len(r["trace"]["loss"]) for r in runs),
                     "accs": final(runs, "test_acc"),
                     "test_acc": statistics.mean(final(runs, "test_acc")),
                     "test_size": runs[0]["test_size"]})
    stable = [i for i, row in enumerate(rows) if row["learned"]]
    edge = rows[stable[-1]] if stable else None
    above = rows[stable[-1] + 1] if stable and stable[-1] + 1 < len(rows) else None
    return {"highest_stable_lr": edge["lr"] if edge else None,
            "edge_seeds": edge["seeds"] if edge else 0,
            "next_lr": above["lr"] if above else None, "best_acc": best, "rows": rows}


def rate_sweep(blocks):
    """The stability sweep as a whole: the rates tried, each block's verdicts, whether no block
    diverged at any of them and all trained (the edge then lies above the highest), and the
    largest epoch-to-epoch fall in test accuracy over all runs as (block, row), or None."""
    verdicts = {m: block_verdicts(r) for m, r in blocks.items()}
    lrs = sorted({runs[0]["spec"]["lr"] for rates in blocks.values() for runs in rates})
    falls = [(m, row) for m, v in verdicts.items() for row in v["rows"] if row["fall_epoch"]]
    return {"lrs": lrs, "verdicts": verdicts,
            "all_trained": all(v["highest_stable_lr"] == lrs[-1] for v in verdicts.values()),
            "largest_fall": max(falls, key=lambda f: f[1]["largest_fall"]) if falls else None}


def draw(results, plots_dir):
    blocks = by_block(results.section(RESIDUAL_STABILITY))
    if not blocks:
        return []
    curves = {model: ([runs[0]["spec"]["lr"] for runs in rates],
                      [statistics.mean(final(runs, "test_acc")) for runs in rates],
                      [(r["spec"]["lr"], r["final"]["test_acc"]) for runs in rates for r in runs])
              for model, rates in blocks.items()}
    return [plotting.lr_sweep(curves, os.path.join(plots_dir, PLOTS, "stability_lr_sweep.png"))]


def _grid_step(lrs):
    """The one factor between neighbouring rates, or None where they are not evenly spaced."""
    steps = {round(b / a, 6) for a, b in zip(lrs, lrs[1:])}
    return steps.pop() if len(steps) == 1 else None


def _seed_counts(blocks):
    """(most seeds a rate has, the rates that have that many for every block, all rates)."""
    per_lr = {}
    for rates in blocks.values():
        for runs in rates:
            per_lr.setdefault(runs[0]["spec"]["lr"], set()).add(len(runs))
    most = max(n for ns in per_lr.values() for n in ns)
    return most, [lr for lr, ns in sorted(per_lr.items()) if ns == {most}], len(per_lr)


def _accuracy_cell(row):
    """One seed: its 95 % interval over the test images; several: the mean and the range over
    seeds (near the edge some seeds train and others do not, so the seeds are no sample of one
    normal spread an interval could describe)."""
    accs = row["accs"]
    if len(accs) == 1:
        return interval_text(accs[0], *accuracy_interval(accs[0], row["test_size"]),
                             signed=False)
    return f"{statistics.mean(accs):.4f} (seeds {min(accs):.4f} to {max(accs):.4f})"


def render(results, plots_dir):
    runs = results.section(RESIDUAL_STABILITY)
    blocks = by_block(runs)
    if not blocks:
        return None
    sweep = rate_sweep(blocks)
    for v in sweep["verdicts"].values():  # the rate above the edge, as the sentence states it
        v["above"] = next((row for row in v["rows"] if row["lr"] == v["next_lr"]), None)
    rows = [(model, v, i, row) for model, v in sweep["verdicts"].items()
            for i, row in enumerate(v["rows"])]

    def first(cell):  # a block's own cells only on its first row
        return lambda r: cell(r) if r[2] == 0 else ""
    return words.macro(
        "studies.md.j2", "stability", sweep=sweep, step=_grid_step(sweep["lrs"]),
        seed_counts=_seed_counts(blocks), hp=runs[0]["hyperparameters"],
        train_size=runs[0]["train_size"], fraction=TRAINED_FRACTION,
        image=image(plots_dir, results.dir, f"{PLOTS}/stability_lr_sweep.png", "lr sweep"),
        table=table(rows, [
            ("block", first(lambda r: r[0])), ("peak lr", lambda r: f"{r[3]['lr']:g}"),
            ("seeds", lambda r: r[3]["seeds"]),
            ("diverged", lambda r: f"{r[3]['diverged']} of {r[3]['seeds']}"),
            ("trained", lambda r: f"{r[3]['trained']} of {r[3]['seeds']}"),
            ("test acc [95 % interval] or mean (range)", lambda r: _accuracy_cell(r[3])),
            ("largest fall in test acc (any seed)", lambda r: "none" if not r[3]["fall_epoch"]
             else f"{r[3]['largest_fall']:.4f} (epoch {r[3]['fall_epoch']})"),
            ("loss spikes (all seeds)", lambda r: f"{r[3]['spikes']} of {r[3]['steps']}"),
            ("highest lr that trained", first(lambda r: f"{r[1]['highest_stable_lr']:g}"
                                              if r[1]["highest_stable_lr"] else "none"))]))
