"""Plots as pure functions of result dicts (the JSON files): redrawable without training. Every
figure of the report is drawn here; the section modules hand it their numbers."""
import math
import os

import matplotlib

matplotlib.use("Agg")  # no screen on the training machines
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.ticker import (FuncFormatter, LogLocator, MaxNLocator,  # noqa: E402
                               NullFormatter)

from utils.report.common import comparison_name, extent_in_image  # noqa: E402
from utils.report.gradient_flow import MEASURE, has_weight_norms, layer_names, profile  # noqa: E402


def _save(fig, path):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig.tight_layout()
    # A fixed creation date keeps the PNGs byte-stable across redraws.
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    return path


def history_matrix(runs, key):
    """epochs x seeds array of one history field (runs of unequal length are cut to the shortest)."""
    n = min(len(r["history"]) for r in runs)
    return np.array([[h[key] for h in r["history"][:n]] for r in runs]).T


def curves(groups, key, title, ylabel, path):
    """One line per model (mean over seeds; shaded band: min..max over seeds, labelled so)
    against the epoch; losses on a log scale, where their late changes are visible."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for name, runs in groups.items():
        values = history_matrix(runs, key)
        epochs = np.arange(1, len(values) + 1)
        label = name if len(runs) == 1 else f"{name} (mean of {len(runs)} seeds)"
        line, = ax.plot(epochs, values.mean(1), marker="o", ms=3, label=label)
        if len(runs) > 1:
            ax.fill_between(epochs, values.min(1), values.max(1), alpha=0.2,
                            color=line.get_color(), label=f"{name}: min–max over seeds")
    if "loss" in key:
        ax.set_yscale("log")
    ax.set(title=title, xlabel="epoch", ylabel=ylabel + (" (log scale)" if "loss" in key else ""))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def final_points(groups, title, path, baseline=None):
    """Final test accuracy per net: each seed as a dot, the mean with its 95 % t-interval over
    seeds as a bar (none where one seed ran); `baseline`'s mean as a dashed line."""
    from utils.report.stats import mean_interval
    fig, ax = plt.subplots(figsize=(6.4, 0.45 * len(groups) + 1.4))
    names = list(groups)
    for y, name in enumerate(names):
        accs = [r["final"]["test_acc"] for r in groups[name]]
        m, low, high = mean_interval(accs)
        ax.plot(accs, [y] * len(accs), "o", ms=4, alpha=0.5, color="grey",
                label="one seed" if y == 0 else None)
        if len(accs) > 1:
            ax.errorbar([m], [y], xerr=[[m - low], [high - m]], fmt="s", color="C0", capsize=4,
                        label="mean, 95 % interval over seeds" if y == 0 else None)
        else:
            ax.plot([m], [y], "s", color="C0")
    if baseline in groups:
        ax.axvline(np.mean([r["final"]["test_acc"] for r in groups[baseline]]), ls="--",
                   color="C1", lw=1, label=f"{baseline} mean")
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set(title=title, xlabel="test accuracy at the last epoch")
    ax.grid(alpha=0.3, axis="x")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3)
    return _save(fig, path)


def generalisation(groups, title, path):
    """The overfitting question, one panel a model: training loss (running mean over each
    epoch, in training mode) and test loss by epoch, means over seeds, log scale; the title of
    each panel gives the final eval-mode train and test accuracy."""
    fig, axes = plt.subplots(1, len(groups), figsize=(2.6 * len(groups) + 0.6, 3.0),
                             sharey=True, squeeze=False)
    for ax, (name, runs) in zip(axes[0], groups.items()):
        for key, label, style in (("train_loss", "train (running)", "-"),
                                  ("test_loss", "test", "--")):
            values = history_matrix(runs, key).mean(1)
            ax.plot(np.arange(1, len(values) + 1), values, style, marker="o", ms=2.5,
                    label=label)
        train = np.mean([r["final"]["train_acc_eval"] for r in runs])
        test = np.mean([r["final"]["test_acc"] for r in runs])
        ax.set_title(f"{name}\nacc: train (eval) {train:.3f}, test {test:.3f}", fontsize=8)
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("loss (log scale)" + ("; mean over seeds" if any(
        len(runs) > 1 for runs in groups.values()) else ""))
    axes[0][0].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def confusion(run, path):
    """Row-normalised confusion matrix (each cell: the share of that true class predicted as
    that class, i.e. recall on the diagonal), with the image count under each share."""
    cm = np.array(run["confusion_matrix"])
    share = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    labels = np.array([[f"{p:.2f}\n{n}" for p, n in zip(prow, nrow)]
                       for prow, nrow in zip(share, cm)])
    fig, ax = plt.subplots(figsize=(8.4, 7))
    sns.heatmap(share, annot=labels, fmt="", annot_kws={"fontsize": 7}, cmap="Blues", vmin=0,
                vmax=1, xticklabels=run["classes"], yticklabels=run["classes"], ax=ax,
                cbar_kws={"label": "share of the true class (row)"})
    acc = np.trace(cm) / cm.sum()
    ax.set(title=f"{run['name']} confusion matrix (test, seed {run['seed']}, acc {acc:.3f}): "
                 "row share, count below", xlabel="predicted class", ylabel="true class")
    return _save(fig, path)


def gradient_flow(run, path):
    """Per-layer ‖grad‖/‖weight‖ along the main path (log scale) at each sampled step: the one
    measure of every gradient table (utils/report/gradient_flow.py). A run from before the weight
    norms were recorded shows ‖grad‖ and says it does not compare across layer sizes."""
    snaps = run["gradient_flow"]
    layers = snaps[0]["layers"]
    names = layer_names(layers)
    relative = has_weight_norms(layers)
    fig, ax = plt.subplots(figsize=(max(6.4, 0.45 * len(names) + 2), 4.6))
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(snaps)))
    for snap, color in zip(snaps, colors):
        values = (profile(snap["layers"])[1] if relative else
                  [snap["layers"][n]["norm"] for n in names])
        ax.plot(range(len(names)), [np.nan if v is None else v for v in values], marker="o",
                ms=3, color=color, label=f"step {snap['step']} (epoch {snap['epoch']:.2f})")
    ax.set_yscale("log")
    ax.set_xticks(range(len(names)), [n.removesuffix(".weight") for n in names],
                  rotation=60, ha="right", fontsize=7)
    single = len(names) < 3  # the input layer and one more: the tables give no ratio
    ax.set(title=f"{run['name']} gradient flow (main path, input → output)"
                 + ("\none layer after the input layer: no first/last ratio" if single else ""),
           xlabel="layer (weights)",
           ylabel=f"{MEASURE} (log)" if relative else
           "‖grad‖ (log; ‖w‖ not recorded:\nnot comparable across layer sizes)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="best", framealpha=0.8)
    return _save(fig, path)


def _show_image(ax, pixels):
    """A uint8 C x H x W image (as nested lists) on an axis."""
    img = np.array(pixels, dtype=np.uint8)
    ax.imshow(img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0),
              cmap="gray" if img.shape[0] == 1 else None)
    ax.set_xticks([])
    ax.set_yticks([])


def _map_grid(rows, title, path, row_labels, first_col_images=None, scale_of=None,
              channel_start=None):
    """A grid of 2-D maps: one row per entry of `rows` (each a list of maps), every map of a row
    on that row's colour scale (shown by the row's colour bar), so channels compare; rows with
    the same `scale_of` entry share one scale (one image's channels wrapped over rows)."""
    scale_of = scale_of or list(range(len(rows)))
    channel_start = channel_start or [0] * len(rows)
    scales = {}
    for group, maps in zip(scale_of, rows):
        low, high = scales.get(group, (np.inf, -np.inf))
        scales[group] = (min(low, min(np.min(m) for m in maps)),
                         max(high, max(np.max(m) for m in maps)))
    n_rows = len(rows)
    n_cols = max(len(r) for r in rows) + (1 if first_col_images else 0)
    # One narrow extra column holds each row's colour bar.
    fig, axes = plt.subplots(n_rows, n_cols + 1, figsize=(1.1 * n_cols + 1.5, 1.15 * n_rows + 0.8),
                             squeeze=False, gridspec_kw={"width_ratios": [1] * n_cols + [0.08]})
    for i, maps in enumerate(rows):
        offset = 0
        if first_col_images:
            if first_col_images[i] is not None:
                _show_image(axes[i, 0], first_col_images[i])
            else:
                axes[i, 0].set_xticks([])
                axes[i, 0].set_yticks([])
                axes[i, 0].set_frame_on(False)
            offset = 1
        low, high = scales[scale_of[i]]
        for j in range(n_cols - offset):
            ax = axes[i, j + offset]  # (axes[i, -1] is the colour bar's)
            ax.set_xticks([])
            ax.set_yticks([])
            if j < len(maps):
                image = ax.imshow(np.array(maps[j]), cmap="viridis", vmin=low, vmax=high)
                if i == 0 or any(channel_start):  # wrapped rows: each names its channels
                    ax.set_title(f"ch {j + channel_start[i]}", fontsize=7)
            else:
                ax.axis("off")
        fig.colorbar(image, cax=axes[i, -1]).ax.tick_params(labelsize=6)
        axes[i, 0].set_ylabel(row_labels[i], fontsize=7)
    fig.suptitle(title)
    return _save(fig, path)


ACTIVATION_COLUMNS = 8  # channels per row: 15-16 in one strip were unreadable at page width


def first_layer_activations(run, path):
    """Each test image beside its first-layer channels, wrapped at ACTIVATION_COLUMNS per row
    (the rows of one image share its colour scale)."""
    data = run["analyses"]["first_layer"]
    rows, labels, images, groups, starts = [], [], [], [], []
    for i, maps in enumerate(data["activations"]):
        for start in range(0, len(maps), ACTIVATION_COLUMNS):
            rows.append(maps[start:start + ACTIVATION_COLUMNS])
            labels.append(f"test image {i}" if start == 0 else "")
            images.append(data["images"][i] if start == 0 else None)
            groups.append(i)
            starts.append(start)
    return _map_grid(rows, f"{run['name']}: first-layer activations (conv-BN-ReLU) on the same "
                     "test images", path, labels, first_col_images=images, scale_of=groups,
                     channel_start=starts)


def first_layer_kernels(run, path):
    """Each first-layer kernel as a small RGB image (min-max scaled per kernel)."""
    kernels = np.array(run["analyses"]["first_layer"]["kernels"])  # K x 3 x k x k
    n = len(kernels)
    cols = min(8, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(1.2 * cols, 1.3 * rows + 0.6), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, k in enumerate(kernels):
        k = (k - k.min()) / (k.max() - k.min() + 1e-12)
        ax = axes.flat[i]
        ax.imshow(k.transpose(1, 2, 0) if k.shape[0] == 3 else k[0], interpolation="nearest")
        ax.set_title(f"{i}", fontsize=7)
    fig.suptitle(f"{run['name']}: first-layer kernels (RGB, scaled per kernel)")
    return _save(fig, path)


def receptive_field_map(run, path):
    """Effective receptive field heatmap with the analytic field and the 95 % mass square."""
    from matplotlib.patches import Rectangle

    rf = run["analyses"]["receptive_field"]
    grad = np.array(rf["map"])
    cy, cx = rf["centre"]
    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    im = ax.imshow(grad, cmap="magma")
    fig.colorbar(im, ax=ax, label="mean |∂ centre unit / ∂ pixel| (max = 1)")
    analytic = rf["analytic"][-1]["rf"]
    inside = [extent_in_image(c, analytic, n) for c, n in zip(rf["centre"], grad.shape)]
    clipped = (f"; {inside[1]}×{inside[0]} inside the image" if min(inside) < analytic else "")
    for radius, color, style, label in (
            (rf["analytic_radius"], "cyan", "--", f"analytic field ({analytic} px{clipped})"),
            (rf["radius_95"], "lime", "-", "95 % of gradient mass")):
        # Clipped to the image (a hair inside its frame), so a box larger than the image stays
        # visible along the border instead of being drawn off the axes.
        h, w = grad.shape
        x0, x1 = max(cx - radius - 0.5, -0.3), min(cx + radius + 0.5, w - 0.7)
        y0, y1 = max(cy - radius - 0.5, -0.3), min(cy + radius + 0.5, h - 0.7)
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, color=color, lw=2,
                               ls=style, label=label))
    ax.set(title=f"{run['name']}: effective receptive field", xlabel="input x (pixels)",
           ylabel="input y (pixels)", xlim=(-0.5, grad.shape[1] - 0.5),
           ylim=(grad.shape[0] - 0.5, -0.5))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), fontsize=7, ncol=2)
    return _save(fig, path)


def feature_maps(run, path):
    data = run["analyses"]["feature_maps"]
    rows = [layer["maps"][:8] for layer in data["layers"]]
    labels = [f"{layer['layer']}\n{layer['channels']}ch {layer['size']}px"
              for layer in data["layers"]]
    return _map_grid(rows, f"{run['name']}: feature maps of one test image (first 8 channels)",
                     path, labels, first_col_images=[data["image"]] + [None] * (len(rows) - 1))


def traces(groups, key, title, ylabel, path, window=25, log=False):
    """Per-step trace of every model (seed 0): faint raw values, bold rolling mean, and for the
    loss the robust spikes (utils/report/stability.py) marked."""
    from utils.report.stability import rolling_mean

    from utils.report.stability import robust_spikes

    fig, ax = plt.subplots(figsize=(7, 4.2))
    for (name, runs), color in zip(groups.items(), plt.cm.tab10.colors):
        values = runs[0]["trace"][key]
        ax.plot(values, color=color, alpha=0.25, lw=0.6)
        ax.plot(rolling_mean(values, window), color=color, lw=1.6,
                label=f"{name} (seed {runs[0]['seed']}, mean of {window} steps)")
        if key == "loss":  # the spikes the stability table counts
            spikes = robust_spikes(values)
            if spikes:
                ax.plot(spikes, [values[i] for i in spikes], "v", color=color, ms=6,
                        label=f"{name}: loss spikes ({len(spikes)})")
    if log:
        ax.set_yscale("log")
    batches = sorted({runs[0]["hyperparameters"]["batch_size"] for runs in groups.values()})
    ax.set(title=title, ylabel=ylabel,
           xlabel=f"training step (batch of {' / '.join(map(str, batches))})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return _save(fig, path)


def why_panels(n, names, path):
    """Section 1.3 in four panels, from why.numbers: (a) natural against permuted pixels per
    net, (b) accuracy against the shift of the test images, (c) accuracy against the number of
    training images, (d) the FC net, its size-matched twin, the locally connected net and the
    CNN on natural images. Dots are seeds, markers their mean."""
    nets = n["nets"]
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.4))
    (perm, shift), (data, ladder) = axes

    def seeds(ax, x, net, colour, marker="o"):
        ax.plot([x] * len(net["accs"]), net["accs"], ".", color=colour, alpha=0.45, ms=5)
        ax.plot([x], [net["acc"]], marker, color=colour, ms=7)

    roles = [r for r in n["permutation"] if names[r] in nets]
    for i, role in enumerate(roles):
        seeds(perm, i - 0.15, nets[names[role]], "C0")
        shuffled = nets.get(f"{names[role]}_permuted")
        if shuffled:
            seeds(perm, i + 0.15, shuffled, "C3", "s")
    perm.set_xticks(range(len(roles)), [names[r] for r in roles], fontsize=7)
    perm.set_xlim(-0.5, len(roles) - 0.5)  # every net's tick shown, run or not on permuted
    perm.plot([], [], "o", color="C0", label="natural pixels")
    perm.plot([], [], "s", color="C3", label="permuted pixels")
    perm.set(title="(a) pixel order", ylabel="test accuracy")
    perm.legend(fontsize=7)

    for role in ("fc", "fc_shift_aug", "local", "cnn", "resnet"):
        net = nets.get(names[role])
        if net and net["shift_curve"]:
            shift.plot(net["shift_pixels"], net["shift_curve"], marker="o", ms=3,
                       label=names[role])
    shift.set(title="(b) translation (mean of 4 directions)",
              xlabel="shift, pixels", ylabel="test accuracy")
    shift.legend(fontsize=7)

    for role, colour in (("fc", "C0"), ("cnn", "C2")):
        points = [(p[role]["train_size"], p[role]["acc"], p[role]["accs"]) for p in n["data"]
                  if p[role]]
        if points:
            x, y, accs = zip(*points)
            data.plot(x, y, marker="o", color=colour, label=names[role])
            for xi, a in zip(x, accs):
                data.plot([xi] * len(a), a, ".", color=colour, alpha=0.45)
    data.set_xscale("log")
    data.set(title="(c) training images (same number of steps)", xlabel="training images",
             ylabel="test accuracy")
    data.legend(fontsize=7)

    ladder_roles = [r for r in ("fc", "fc_matched", "local", "cnn") if names[r] in nets]
    for i, role in enumerate(ladder_roles):
        seeds(ladder, i, nets[names[role]], f"C{i}")
    ladder.set_xticks(range(len(ladder_roles)),
                      [f"{names[r]}\n{nets[names[r]]['params']:,} params" for r in ladder_roles],
                      fontsize=7)
    ladder.set_xlim(-0.5, len(ladder_roles) - 0.5)
    ladder.set(title="(d) no locality → locality → locality + sharing", ylabel="test accuracy")
    for ax in axes.flat:
        ax.grid(alpha=0.3)
    return _save(fig, path)


RELIABILITY_MIN_IMAGES = 20  # a bin of fewer images swings between 0 and 1 and hides the rest


def reliability_diagram(rows, path):
    """Accuracy against confidence (calibration.reliability) per model, pooled over its seeds'
    test images; the diagonal is perfect calibration. Bins of fewer than
    RELIABILITY_MIN_IMAGES images are left out; each model its own colour."""
    fig, ax = plt.subplots(figsize=(9.6, 5))
    ax.plot([0, 1], [0, 1], "k--", lw=0.8, label="perfectly calibrated")
    for i, r in enumerate(rows):
        centres, acc, counts = r["reliability"]
        keep = counts >= RELIABILITY_MIN_IMAGES
        ax.plot(centres[keep], acc[keep], marker="o", ms=3, color=plt.cm.tab20(i % 20),
                ls="-" if i < 20 else "--", label=f"{r['section']} {r['model']}")
    ax.set(title="Reliability: accuracy against the predicted class's probability",
           xlabel=f"confidence (15 bins; bins of {RELIABILITY_MIN_IMAGES}+ images shown)",
           ylabel="accuracy in the bin", xlim=(0, 1), ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _save(fig, path)


def comparisons_figure(rows, path, title="Every comparison of the report"):
    """Every comparison as a difference with its 95 % interval: filled where it survives the
    report-wide correction, hollow where it resolves only alone, grey where unresolved. Where
    some interval reaches past ±0.01 the x axis is linear within ±0.01 and logarithmic beyond,
    so 0.001 and 0.35 both show; rows of one section are named without it."""
    if not rows:
        return []
    fig, ax = plt.subplots(figsize=(9.6, 0.3 * len(rows) + 1.4))
    y = np.arange(len(rows))[::-1]
    for yi, c in zip(y, rows):
        if c.get("too_few"):
            ax.plot(c["difference"], yi, "x", color="0.55", ms=5)
            continue
        colour = "C0" if c["resolved_holm"] else "C1" if c["resolved"] else "0.55"
        ax.errorbar(c["difference"], yi, xerr=[[c["difference"] - c["low"]],
                                              [c["high"] - c["difference"]]],
                    fmt="o", color=colour, mfc=colour if c["resolved_holm"] else "white",
                    ms=5, capsize=2, lw=1.2)
    ax.axvline(0, color="k", lw=0.8)
    wide = max((abs(x) for c in rows for x in (c["low"], c["high"], c["difference"])
                if not math.isnan(x)), default=0.0) > 0.01
    if wide:
        ax.set_xscale("symlog", linthresh=0.01)
    else:
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:+.4f}"))
    sections = len({c["section"] for c in rows}) > 1
    ax.set_yticks(y, [f"{c['section']}  " * sections + comparison_name(c) for c in rows],
                  fontsize=7)
    ax.set(xlabel="test accuracy difference a − b (95 % interval"
                  + ("; symlog axis)" if wide else ")"), title=title)
    ax.plot([], [], "o", color="C0", label="survives the report-wide correction")
    ax.plot([], [], "o", color="C1", mfc="white", label="resolved alone only")
    ax.plot([], [], "o", color="0.55", mfc="white", label="unresolved")
    if any(c.get("too_few") for c in rows):
        ax.plot([], [], "x", color="0.55", label="too few seeds for an interval")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside: hides nothing
    ax.grid(alpha=0.3, axis="x", which="both")
    return [_save(fig, path)]


# --- the depth sweep (utils/report/sweep.py) ------------------------------------------------
# (residual, batchnorm) -> label, colour, line style
SWEEP_STYLES = {(True, True): ("residual, BN", "C0", "-"), (False, True): ("plain, BN", "C3", "-"),
                (True, False): ("residual, no BN", "C0", ":"),
                (False, False): ("plain, no BN", "C3", ":")}


def _per_depth(configs, depths, path, draw, title, xlabel, ylabel, sharey=False):
    """One panel per depth, a line per configuration there (draw(ax, run, label, colour, ls)),
    log scale."""
    fig, axes = plt.subplots(1, len(depths), figsize=(4.6 * len(depths), 4.0), squeeze=False,
                             sharey=sharey)
    for ax, depth in zip(axes[0], depths):
        for (d, residual, bn), run in configs.items():
            if d == depth:
                draw(ax, run, *SWEEP_STYLES[(residual, bn)])
        ax.set(yscale="log", title=title(depth), xlabel=xlabel, ylabel=ylabel)
        ax.grid(alpha=0.3, which="both")
    axes[0][0].legend(fontsize=8)
    return _save(fig, path)


def sweep_gradients(configs, depths, path):
    """Per-weight gradient along the depth at initialisation, one panel per depth."""
    def draw(ax, run, label, colour, ls):
        if run["gradient_flow"]:
            values = np.array([np.nan if v is None or v == 0 else v
                               for v in profile(run["gradient_flow"][0]["layers"])[1]])
            ax.plot(np.arange(1, len(values) + 1), values, color=colour, ls=ls, marker=".",
                    label=label)
    return _per_depth(configs, depths, path, draw,
                      lambda depth: f"{depth} layers, at initialisation (step 0)",
                      "conv layer (input → output)", MEASURE)


def sweep_accuracy(families, depths, classes, path):
    """Final accuracy against depth: the mean over seeds (as the text and table state it), each
    seed a dot, bars the 95 % interval over seeds where several ran, else over the test images;
    a diverged run a cross (it sits at chance like a net that learned nothing)."""
    fig, ax = plt.subplots(figsize=(8.6, 4.4))
    for key, family in families.items():
        label, colour, ls = SWEEP_STYLES[key]
        xs, accs, lows, highs = map(np.array, zip(*family["points"]))
        ax.errorbar(xs, accs, yerr=[accs - lows, highs - accs], color=colour, ls=ls,
                    marker="o", capsize=3, label=label)
        ax.plot(*zip(*family["seeds"]), ".", color=colour, alpha=0.4)
        if family["diverged"]:
            ax.plot(*zip(*family["diverged"]), "x", color="k", ms=11, mew=2, zorder=5)
    ax.axhline(1 / classes, color="0.5", ls="--", lw=1, label=f"chance (1/{classes})")
    if any(f["diverged"] for f in families.values()):
        ax.plot([], [], "x", color="k", ms=9, mew=2, label="diverged (loss non-finite)")
    ax.set(xlabel="depth (weight layers)", ylabel="test accuracy (last epoch)", xticks=depths,
           title="Depth sweep: test accuracy, mean over seeds\n(dots: seeds; bars: 95 % "
                 "interval over seeds, over the test images where one seed ran)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside: no point hidden
    return _save(fig, path)


def sweep_train_loss(configs, depths, path):
    """Training loss per step (running mean over 50 steps), log scale, one panel per depth."""
    def draw(ax, run, label, colour, ls):
        loss = np.array([np.nan if v is None else v for v in run["trace"]["loss"]])
        window = min(50, len(loss))
        smooth = np.convolve(np.nan_to_num(loss, nan=np.inf), np.ones(window) / window,
                             mode="valid")
        steps_per_epoch = math.ceil(run["train_size"] / run["hyperparameters"]["batch_size"])
        ax.plot((np.arange(len(smooth)) + window) / steps_per_epoch, smooth, color=colour,
                ls=ls, label=label + (" (diverged)" if run["diverged"] else ""))
    return _per_depth(configs, depths, path, draw, lambda depth: f"{depth} layers", "epoch",
                      "training loss (running mean of 50 steps)", sharey=True)


def accuracy_against_compute(title, machine, pts, path):
    """Accuracy against MACs per image (log scale over a wide range) and against s/epoch on
    one machine (a net timed only elsewhere hollow, its machine named), from compute.points."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4))
    for ax, x, xlabel in ((axes[0], "macs", "MACs per image, millions"),
                          (axes[1], "s_per_epoch", f"training s/epoch on {machine}" + (
                              "\n(hollow: timed on another machine, named)" if any(
                                  p["time_machine"] != machine for p in pts.values()) else ""))):
        for i, (name, p) in enumerate(pts.items()):
            timing = x == "s_per_epoch"
            elsewhere = timing and p["time_machine"] != machine
            # the accuracy is over every seed; a time over the seeds timed on its machine
            seeds = (f"{p['time_seeds']} of {p['seeds']} seeds timed"
                     if timing and p["time_seeds"] != p["seeds"]
                     else f"{p['seeds']} seed{'s' * (p['seeds'] != 1)}")
            label = f"{name} ({seeds}" + (f", on {p['time_machine']}" if elsewhere else "") + ")"
            ax.errorbar(p[x], p["acc"], yerr=p["acc_sd"], fmt="o", color=f"C{i % 10}",
                        mfc="white" if elsewhere else f"C{i % 10}", capsize=3, label=label)
        ax.set(xlabel=xlabel, ylabel="test accuracy (mean ± sd over seeds)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best", framealpha=0.8)
    macs = [p["macs"] for p in pts.values()]
    if max(macs) > 5 * min(macs):  # a wide range (depth): log scale, major ticks labelled
        axes[0].set_xscale("log")
        axes[0].xaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
        axes[0].xaxis.set_minor_formatter(NullFormatter())
    axes[0].xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1e6:g}"))
    fig.suptitle(f"{title}: accuracy against compute")
    return _save(fig, path)


def lr_sweep(curves, path):
    """3.2's stability test: per block the mean test accuracy against the peak learning rate
    ({block: (rates, means, [(rate, a seed's accuracy)])}), each seed a dot."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for i, (model, (lrs, means, seeds)) in enumerate(curves.items()):
        ax.plot(lrs, means, marker="o", color=f"C{i}", label=f"{model} (mean over each rate's seeds)")
        ax.scatter(*zip(*seeds), s=12, color=f"C{i}", alpha=0.5)
    ax.set(xscale="log", xlabel="peak learning rate (one-cycle)",
           ylabel="test accuracy (last epoch)",
           title="3.2 stability: accuracy against the peak learning rate")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return _save(fig, path)
