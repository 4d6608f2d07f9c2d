"""The depth sweep of Task 2.2 (section "2.2-sweep"): plots and report section, from the JSON.

The verdicts are computed as numbers first (`sweep_verdicts`), then printed; each accuracy
comparison carries a 95 % interval over the test images (one seed per configuration).
"""
import math
import os
import statistics

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from utils.report.gradient_flow import MEASURE, profile  # noqa: E402
from utils.report.plotting import _save  # noqa: E402
from utils.markdown import md_table  # noqa: E402
from utils.report.common import flow_cell, fmt_int, image, interval_text  # noqa: E402
from utils.report.parts import detail  # noqa: E402
from utils.sections import BY_KEY, folder  # noqa: E402
from utils.report.stats import accuracy_interval, mean_interval  # noqa: E402
from utils.report.verdicts import (by_config, init_flow, seeds_by_config,  # noqa: E402
                                   sweep_verdicts)

DEPTH_SWEEP = folder("2.2-sweep")
PLOTS = BY_KEY["2.2-sweep"].plots
STYLES = {(True, True): ("residual, BN", "C0", "-"), (False, True): ("plain, BN", "C3", "-"),
          (True, False): ("residual, no BN", "C0", ":"), (False, False): ("plain, no BN", "C3", ":")}


def test_interval(run):
    return accuracy_interval(run["final"]["test_acc"], run["test_size"])


def accuracy_points(seeded, key):
    """[(depth, mean, low, high)] of one family (residual, batchnorm) as the accuracy plot
    draws it, from seeds_by_config."""
    return [(d, *accuracy_with_interval(runs)) for (d, *k), runs in seeded.items()
            if tuple(k) == key]


def accuracy_with_interval(runs):
    """(mean test accuracy, low, high): Student t over seeds where several ran, else the
    Wilson interval over the one run's test images."""
    if len(runs) > 1:
        return mean_interval([r["final"]["test_acc"] for r in runs])
    return (runs[0]["final"]["test_acc"], *test_interval(runs[0]))


def draw(results, plots_dir):
    configs = by_config(results.section(DEPTH_SWEEP))
    if not configs:
        return []
    depths = sorted({d for d, _, _ in configs})
    paths = []

    # Per-weight gradient along the depth at initialisation, one panel per depth.
    fig, axes = plt.subplots(1, len(depths), figsize=(4.6 * len(depths), 4.0), squeeze=False)
    for ax, depth in zip(axes[0], depths):
        for (d, residual, bn), run in configs.items():
            if d != depth or not run["gradient_flow"]:
                continue
            label, colour, ls = STYLES[(residual, bn)]
            values = np.array([np.nan if v is None or v == 0 else v
                               for v in profile(run["gradient_flow"][0]["layers"])[1]])
            ax.plot(np.arange(1, len(values) + 1), values, color=colour, ls=ls, marker=".",
                    label=label)
        ax.set(yscale="log", title=f"{depth} layers, at initialisation (step 0)",
               xlabel="conv layer (input → output)", ylabel=MEASURE)
        ax.grid(alpha=0.3, which="both")
    axes[0][0].legend(fontsize=8)
    paths.append(_save(fig, os.path.join(plots_dir, PLOTS, "sweep_grad_init.png")))

    # Final accuracy against depth: the mean over seeds (as the text and table state it), each
    # seed a dot, bars the 95 % interval over seeds where several ran, else over the test images.
    seeded = seeds_by_config(results.section(DEPTH_SWEEP))
    fig, ax = plt.subplots(figsize=(8.6, 4.4))
    for key, (label, colour, ls) in STYLES.items():
        points = [(d, seeded[(d, *key)]) for d in depths if (d, *key) in seeded]
        if not points:
            continue
        xs, accs, lows, highs = map(np.array, zip(*accuracy_points(seeded, key)))
        ax.errorbar(xs, accs, yerr=[accs - lows, highs - accs], color=colour, ls=ls,
                    marker="o", capsize=3, label=label)
        for d, runs in points:
            ax.plot([d] * len(runs), [r["final"]["test_acc"] for r in runs], ".", color=colour,
                    alpha=0.4)
        # a diverged run sits at chance too: a cross tells it from a net that only learned
        # nothing
        diverged = [(d, r["final"]["test_acc"]) for d, runs in points for r in runs
                    if r["diverged"]]
        if diverged:
            ax.plot(*zip(*diverged), "x", color="k", ms=11, mew=2, zorder=5)
    any_run = next(iter(configs.values()))
    ax.axhline(1 / len(any_run["classes"]), color="0.5", ls="--", lw=1,
               label=f"chance (1/{len(any_run['classes'])})")
    if any(r["diverged"] for r in configs.values()):
        ax.plot([], [], "x", color="k", ms=9, mew=2, label="diverged (loss non-finite)")
    ax.set(xlabel="depth (weight layers)", ylabel="test accuracy (last epoch)", xticks=depths,
           title="Depth sweep: test accuracy, mean over seeds (dots: seeds; bars: 95 % "
                 "interval over seeds, over the test images where one seed ran)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside: no point hidden
    paths.append(_save(fig, os.path.join(plots_dir, PLOTS, "sweep_accuracy.png")))

    # Training loss per step (running mean over 50 steps), log scale, one panel per depth.
    fig, axes = plt.subplots(1, len(depths), figsize=(4.6 * len(depths), 4.0), squeeze=False,
                             sharey=True)
    for ax, depth in zip(axes[0], depths):
        for (d, residual, bn), run in configs.items():
            if d != depth:
                continue
            loss = np.array([np.nan if v is None else v for v in run["trace"]["loss"]])
            window = min(50, len(loss))
            smooth = np.convolve(np.nan_to_num(loss, nan=np.inf), np.ones(window) / window,
                                 mode="valid")
            label, colour, ls = STYLES[(residual, bn)]
            steps_per_epoch = math.ceil(run["train_size"] / run["hyperparameters"]["batch_size"])
            ax.plot((np.arange(len(smooth)) + window) / steps_per_epoch, smooth, color=colour,
                    ls=ls, label=label + (" (diverged)" if run["diverged"] else ""))
        ax.set(yscale="log", title=f"{depth} layers", xlabel="epoch",
               ylabel="training loss (running mean of 50 steps)")
        ax.grid(alpha=0.3, which="both")
    axes[0][0].legend(fontsize=8)
    paths.append(_save(fig, os.path.join(plots_dir, PLOTS, "sweep_train_loss.png")))
    return paths


def _family(residual, bn):
    return ("residual" if residual else "plain") + (" with BN" if bn else " without BN")


def findings(runs):
    """The section's conclusions, each printed from a computed verdict."""
    configs, verdicts = by_config(runs), sweep_verdicts(runs)
    out = []
    for v in verdicts["skip_effect"]:
        what = ("neither net learned (both at chance), so the skips' effect cannot be seen here"
                if v["both_at_chance"] else
                f"skips {'raised' if v['difference'] > 0 else 'lowered'} test accuracy by "
                f"{interval_text(v['difference'], v['low'], v['high'], size_only=True)}"
                if v["resolved"] else
                f"skips made no resolved difference "
                f"({interval_text(v['difference'], v['low'], v['high'])})")
        out.append(f"- {v['depth']} layers {'with' if v['batchnorm'] else 'without'} BN: {what}.")
    for v in verdicts["depth_effect"]:
        change = ("neither depth learned (both at chance): no change" if v["both_at_chance"]
                  else "no resolved change" if not v["resolved"] else
                  ("a resolved gain" if v["difference"] > 0 else "a resolved loss"))
        out.append(f"- {_family(v['residual'], v['batchnorm'])}, {v['from']} → {v['to']} "
                   f"layers: {change} of test accuracy "
                   f"({interval_text(v['difference'], v['low'], v['high'])}).")
    flow = init_flow(runs)
    for verdict in ("vanishing", "exploding", "not measurable"):
        if flow.get(verdict):
            out.append(f"- Gradient at initialisation {verdict}: {', '.join(flow[verdict])}.")
    diverged = [r["name"] for r in configs.values() if r["diverged"]]
    out.append(f"- Diverged: {', '.join(diverged) if diverged else 'none'}.")
    return "\n".join(out)


def headline(runs):
    """The sweep in one sentence: at its deepest depth with BatchNorm, what going deeper did to
    the plain and the residual family, and what the skips did there; then the gradient
    sentence. '' when the sweep has a single depth."""
    verdicts = sweep_verdicts(runs)
    if not verdicts["depth_effect"]:
        return ""
    deepest = max(v["to"] for v in verdicts["depth_effect"])
    steps = [v for v in verdicts["depth_effect"] if v["to"] == deepest and v["batchnorm"]]
    skip = [v for v in verdicts["skip_effect"] if v["depth"] == deepest and v["batchnorm"]]
    if not steps:
        return gradient_sentence(runs)
    epochs = runs[0]["hyperparameters"]["epochs"]
    return (f"After {epochs} epochs (what the sweep's short schedule shows: how fast each "
            f"net optimises, not where it converges), going deeper to {deepest} layers with "
            f"BN: " + "; ".join(
        f"{'residual' if v['residual'] else 'plain'} {v['from']} → {v['to']} {_said(v)}"
        for v in steps) + (f"; skips at {deepest} layers {_said(skip[0])}" if skip else "")
        + ". " + gradient_sentence(runs))


def _said(v):
    """'+0.0045 [-0.0047, +0.0137], unresolved', or the interval alone where it resolved."""
    return (interval_text(v["difference"], v["low"], v["high"])
            + ("" if v["resolved"] else ", unresolved"))


def gradient_sentence(runs):
    """One sentence: whose gradients vanish or explode at initialisation, and which runs
    diverged."""
    flow = init_flow(runs)
    parts = [f"{verdict} for {', '.join(flow[verdict])}"
             for verdict in ("vanishing", "exploding") if flow.get(verdict)]
    diverged = [r["name"] for r in by_config(runs).values() if r["diverged"]]
    return ("At initialisation the gradient is " + ("; ".join(parts) if parts else
                                                     "neither vanishing nor exploding anywhere")
            + (f"; diverged: {', '.join(diverged)}." if diverged else "."))


def _diff_cell(v):
    verdict = ("both at chance" if v["both_at_chance"] else
               "resolved" if v["resolved"] else "unresolved")
    return f"{interval_text(v['difference'], v['low'], v['high'])} ({verdict}; over {v['over']})"


def _accuracy_cell(seeds, key="test_acc"):
    """One run: its 95 % Wilson interval over the test images; three or more seeds: the mean
    with its Student-t interval over seeds; two: both values, too few for an interval."""
    accs = [r["final"][key] for r in seeds]
    if None in accs:
        return "—"
    if len(accs) == 1:
        return interval_text(accs[0], *accuracy_interval(accs[0], seeds[0]["test_size"]),
                             signed=False) if key == "test_acc" else f"{accs[0]:.4f}"
    if len(accs) == 2:
        return f"{accs[0]:.4f}, {accs[1]:.4f} (2 seeds: no interval)"
    return interval_text(*mean_interval(accs), signed=False) if key == "test_acc" else \
        f"{statistics.mean(accs):.4f}"


def render(results, plots_dir):
    """The sweep's part of Task 2 as markdown chunks (utils/report/parts.py), or None."""
    runs = results.section(DEPTH_SWEEP)
    configs = by_config(runs)
    if not configs:
        return None
    any_run = next(iter(configs.values()))
    hp = any_run["hyperparameters"]
    rows = []
    for (depth, residual, bn), seeds in seeds_by_config(runs).items():
        r = seeds[0]
        snaps = r["gradient_flow"]
        div = r["diverged"]
        rows.append([r["name"], depth, "yes" if residual else "no", "yes" if bn else "no",
                     fmt_int(r["params"]), len(seeds), _accuracy_cell(seeds, "train_acc_eval"),
                     _accuracy_cell(seeds),
                     flow_cell(snaps[0], r["spec"]["lr"]) if snaps else "—",
                     flow_cell(snaps[-1], r["spec"]["lr"]) if snaps else "—",
                     f"epoch {div['epoch']}, batch {div['batch']}" if div else "no"])
    verdicts = sweep_verdicts(runs)
    depths = sorted({d for d, _, _ in configs})
    lines = [
        "### 2.2 (sweep) Depth, skip connections and BatchNorm, one at a time",
        f"The CIFAR ResNet family (He et al., 2016): a 3×3 stem, three stages of BasicBlocks "
        f"(16, 32, 64 channels), global average pooling, fc; depth = 6n + 2 weight layers, here "
        f"{', '.join(map(str, depths))}, each with and without its skip connections and with "
        f"and without BatchNorm, from He initialisation, on one recipe for all "
        f"({hp['epochs']} epochs).",
        *detail(
            f"Recipe: batch {hp['batch_size']}, {hp['optimizer'].upper()} "
            f"(momentum {hp['momentum']}), {hp['schedule']} schedule peaking at lr {hp['lr']}, "
            f"weight decay {hp['weight_decay']}, {hp['augmentation']}. Accuracies: the mean over "
            f"seeds with its 95 % Student-t interval where a net has three or more seeds, else "
            f"the 95 % Wilson interval over the {fmt_int(any_run['test_size'])} test images; "
            f"differences over seeds (Welch) where both sides have several, else over the test "
            f"images (exact McNemar where both recorded their predictions). A run whose loss "
            f"became non-finite is recorded as diverged (its accuracy is then chance). Gradient "
            f"flow (lowest seed) at step 0 and at the last sampled step, by the report's one "
            f"rule (— where the loss was already non-finite)."),
        headline(runs),
        image(plots_dir, results.dir, f"{PLOTS}/sweep_accuracy.png", "accuracy by depth"),
        *detail(
            "**Findings** (each with its 95 % interval; unresolved where it includes zero):",
            findings(runs),
            md_table(["net", "depth", "skips", "BN", "params", "seeds", "train acc (eval)",
                      "test acc [95 % CI]", "gradient first/last, init", "… at the end",
                      "diverged"], rows),
            "**Skip connections** (residual − plain test accuracy, 95 % interval):",
            md_table(["depth", "BatchNorm", "residual − plain"],
                     [[v["depth"], "yes" if v["batchnorm"] else "no", _diff_cell(v)]
                      for v in verdicts["skip_effect"]]),
            "**Depth** (deeper − shallower test accuracy within one family, 95 % interval; "
            "after this short schedule a negative resolved value in a plain family shows the "
            "deep plain net optimising more slowly, not yet the converged degradation He et "
            "al. reported):"
            if verdicts["depth_effect"] else "",
            md_table(["family", "depths", "deeper − shallower"],
                     [[_family(v["residual"], v["batchnorm"]), f"{v['from']} → {v['to']}",
                       _diff_cell(v)] for v in verdicts["depth_effect"]])
            if verdicts["depth_effect"] else "",
            image(plots_dir, results.dir, f"{PLOTS}/sweep_grad_init.png", "gradient at init")
            + "\n" + image(plots_dir, results.dir, f"{PLOTS}/sweep_train_loss.png",
                           "training loss")),
    ]
    return [x for x in lines if x]
