"""3.2's stability test (section "3.2-stability"): each residual block type trained at several
peak learning rates; the table and its verdicts, from the JSON."""
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from utils.report.plotting import _save  # noqa: E402
from utils.markdown import md_table  # noqa: E402
from utils.report.common import at_chance, count, final, image, interval_text  # noqa: E402
from utils.sections import BY_KEY, folder  # noqa: E402
from utils.report.stability import largest_fall, robust_spikes  # noqa: E402
from utils.report.stats import accuracy_interval  # noqa: E402

RESIDUAL_STABILITY = folder("3.2-stability")
PLOTS = BY_KEY["3.2-stability"].plots


def by_block(runs):
    """{model: [runs by increasing peak lr]} (seed 0)."""
    out = {}
    for r in sorted(runs, key=lambda r: (r["model"], r["spec"]["lr"])):
        if r["seed"] == 0:
            out.setdefault(r["model"], []).append(r)
    return out


def block_verdicts(runs_by_lr):
    """Per block: the highest peak lr that trained (no divergence, and a test accuracy above
    chance at the end: a net whose loss stays finite but which learned nothing did not train),
    and per lr the divergence, the largest epoch-to-epoch fall in test accuracy and the robust
    loss spikes."""
    rows = []
    for r in runs_by_lr:
        fall, epoch = largest_fall(r["history"])
        rows.append({"lr": r["spec"]["lr"], "diverged": r["diverged"] is not None,
                     "learned": not at_chance(r),
                     "largest_fall": fall, "fall_epoch": epoch,
                     "spikes": len(robust_spikes(r["trace"]["loss"])),
                     "steps": len(r["trace"]["loss"]), "test_acc": r["final"]["test_acc"],
                     "test_size": r["test_size"]})
    stable = [row["lr"] for row in rows if not row["diverged"] and row["learned"]]
    return {"highest_stable_lr": max(stable) if stable else None, "rows": rows}


def draw(results, plots_dir):
    blocks = by_block(results.section(RESIDUAL_STABILITY))
    if not blocks:
        return []
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for model, runs in blocks.items():
        ax.plot([r["spec"]["lr"] for r in runs], final(runs, "test_acc"),
                marker="o", label=model)
    ax.set(xscale="log", xlabel="peak learning rate (one-cycle)",
           ylabel="test accuracy (last epoch)",
           title="3.2 stability: accuracy against the peak learning rate")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return [_save(fig, os.path.join(plots_dir, PLOTS, "stability_lr_sweep.png"))]


def summary(blocks):
    """The sweep as a whole: the rates tried, each block's verdicts, whether no block diverged
    at any of them and all trained (the edge then lies above the highest), and the largest epoch-to-epoch fall
    in test accuracy over all runs as (block, row), or None."""
    verdicts = {m: block_verdicts(r) for m, r in blocks.items()}
    lrs = sorted({r["spec"]["lr"] for runs in blocks.values() for r in runs})
    falls = [(m, row) for m, v in verdicts.items() for row in v["rows"] if row["fall_epoch"]]
    return {"lrs": lrs, "verdicts": verdicts,
            "all_trained": all(v["highest_stable_lr"] == lrs[-1] for v in verdicts.values()),
            "largest_fall": max(falls, key=lambda f: f[1]["largest_fall"]) if falls else None}


def edge_sentence(sweep):
    """Where each block stopped training, or that none did within the rates tried."""
    if sweep["all_trained"]:
        return (f"every block trained at every rate up to {sweep['lrs'][-1]:g}, the highest "
                "tried, so the sweep bounds the edge of stability from below only")
    return ("the highest peak rate at which each block still trained (no divergence, test "
            "accuracy above chance): " + ", ".join(
                f"{m} {_edge(v)}" for m, v in sweep["verdicts"].items()))


def _edge(verdict):
    highest, tried = verdict["highest_stable_lr"], max(row["lr"] for row in verdict["rows"])
    if highest is None:
        return "none"
    return f"{highest:g}" + (" (the highest it was tried at)" if highest == tried else "")


def _with_interval(acc, n):
    return interval_text(acc, *accuracy_interval(acc, n), signed=False)


def render(results, plots_dir):
    runs = results.section(RESIDUAL_STABILITY)
    blocks = by_block(runs)
    if not blocks:
        return None
    hp = runs[0]["hyperparameters"]
    sweep = summary(blocks)
    rows = []
    for model, v in sweep["verdicts"].items():
        for i, row in enumerate(v["rows"]):
            highest = (f"{v['highest_stable_lr']:g}" if v["highest_stable_lr"] else "none") \
                if i == 0 else ""
            rows.append([model if i == 0 else "", f"{row['lr']:g}",
                         "yes" if row["diverged"] else
                         "no" if row["learned"] else "no, but stayed at chance",
                         _with_interval(row["test_acc"], row["test_size"]),
                         f"{row['largest_fall']:.4f} (epoch {row['fall_epoch']})"
                         if row["fall_epoch"] else "none",
                         f"{row['spikes']} of {row['steps']}", highest])
    bound = edge_sentence(sweep)
    bound = bound[0].upper() + bound[1:] + "."
    return "\n\n".join(x for x in [
        "**Stability test: a peak-learning-rate sweep** (one seed per rate; "
        f"{count(hp['epochs'], 'epoch')} on {runs[0]['train_size']:,} training images, one-cycle, "
        f"otherwise the 3.2 recipe; loss spikes as defined at the top, non-finite steps "
        f"included):",
        md_table(["block", "peak lr", "diverged", "test acc [95 % interval over the test images]",
                  "largest fall in test acc",
                  "loss spikes", "highest lr that trained"], rows), bound,
        image(plots_dir, results.dir, f"{PLOTS}/stability_lr_sweep.png", "lr sweep")] if x)
