"""3.2's stability test (section "3.2-stability"): each residual block type trained at several
peak learning rates; the table and its verdicts, from the JSON."""
import os
import statistics

from utils.markdown import md_table
from utils.report import plotting
from utils.report.common import count, image, interval_text
from utils.report.runs import final
from utils.sections import BY_KEY, folder
from utils.report.stats import accuracy_interval
from utils.report.verdicts import TRAINED_FRACTION, by_block, rate_sweep

RESIDUAL_STABILITY = folder("3.2-stability")
PLOTS = BY_KEY["3.2-stability"].plots


def draw(results, plots_dir):
    blocks = by_block(results.section(RESIDUAL_STABILITY))
    if not blocks:
        return []
    curves = {model: ([runs[0]["spec"]["lr"] for runs in rates],
                      [statistics.mean(final(runs, "test_acc")) for runs in rates],
                      [(r["spec"]["lr"], r["final"]["test_acc"]) for runs in rates for r in runs])
              for model, rates in blocks.items()}
    return [plotting.lr_sweep(curves, os.path.join(plots_dir, PLOTS, "stability_lr_sweep.png"))]


def edge_sentence(sweep):
    """Where each block stopped training, or that none did within the rates tried."""
    if sweep["all_trained"]:
        return (f"every block trained at every rate up to {sweep['lrs'][-1]:g}, the highest "
                "tried, so the sweep bounds the edge of stability from below only")
    return (f"the highest peak rate at which every seed of a block trained (no divergence, test "
            f"accuracy at least {TRAINED_FRACTION:.0%} of the block's best): " + ", ".join(
                f"{m} {_edge(v)}" for m, v in sweep["verdicts"].items()))


def _edge(verdict):
    highest = verdict["highest_stable_lr"]
    if highest is None:
        return "none"
    seeds = count(verdict["edge_seeds"], "seed")
    if verdict["next_lr"] is None:
        return f"{highest:g} ({seeds}; the highest it was tried at)"
    above = next(row for row in verdict["rows"] if row["lr"] == verdict["next_lr"])
    return (f"{highest:g} ({seeds}; at {verdict['next_lr']:g}, {above['trained']} of "
            f"{count(above['seeds'], 'seed')} trained)")


def _grid(lrs):
    if len(lrs) < 3:
        return "rates " + " and ".join(f"{x:g}" for x in lrs)
    steps = {round(b / a, 6) for a, b in zip(lrs, lrs[1:])}
    spread = f"{lrs[0]:g} to {lrs[-1]:g}"
    return f"rates {spread}, a factor of {steps.pop():g} apart" if len(steps) == 1 else spread


def _seed_counts(blocks):
    """How many seeds each rate has, e.g. '3 seeds at 3.2 and 6.4, 1 at the others'."""
    per_lr = {}
    for rates in blocks.values():
        for runs in rates:
            per_lr.setdefault(runs[0]["spec"]["lr"], set()).add(len(runs))
    most = max(n for ns in per_lr.values() for n in ns)
    at_most = [lr for lr, ns in sorted(per_lr.items()) if ns == {most}]
    if len(at_most) == len(per_lr):
        return count(most, "seed") + " at every rate"
    return (f"{count(most, 'seed')} at {', '.join(f'{x:g}' for x in at_most)} for every block, "
            "fewer at the others")


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
    hp = runs[0]["hyperparameters"]
    sweep = rate_sweep(blocks)
    rows = []
    for model, v in sweep["verdicts"].items():
        for i, row in enumerate(v["rows"]):
            highest = (f"{v['highest_stable_lr']:g}" if v["highest_stable_lr"] else "none") \
                if i == 0 else ""
            rows.append([model if i == 0 else "", f"{row['lr']:g}", row["seeds"],
                         f"{row['diverged']} of {row['seeds']}",
                         f"{row['trained']} of {row['seeds']}", _accuracy_cell(row),
                         f"{row['largest_fall']:.4f} (epoch {row['fall_epoch']})"
                         if row["fall_epoch"] else "none",
                         f"{row['spikes']} of {row['steps']}", highest])
    bound = edge_sentence(sweep)
    bound = bound[0].upper() + bound[1:] + "."
    return [
        f"**Stability test: a peak-learning-rate sweep** ({_grid(sweep['lrs'])}; "
        f"{_seed_counts(blocks)}; "
        f"{count(hp['epochs'], 'epoch')} on {runs[0]['train_size']:,} training images, one-cycle, "
        f"otherwise the 3.2 recipe; loss spikes as defined at the top, non-finite steps "
        f"included; a seed trained when its loss stayed finite and its test accuracy reached "
        f"{TRAINED_FRACTION:.0%} of the block's best mean):", bound,
        image(plots_dir, results.dir, f"{PLOTS}/stability_lr_sweep.png", "lr sweep"),
        md_table(["block", "peak lr", "seeds", "diverged", "trained",
                          "test acc [95 % interval] or mean (range)",
                          "largest fall in test acc (any seed)", "loss spikes (all seeds)",
                          "highest lr that trained"], rows)]
