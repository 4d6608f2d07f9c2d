"""Task 2 (kernel size and depth on CIFAR-10): its plots and its report section, from the JSON."""
import os

from utils.report import plotting, sweep as report_sweep
from utils.report.gradient_flow import layer_names
from utils.report.verdicts import NOT_RECORDED
from utils.report.parts import join
from utils.markdown import md_table
from utils.report.sweep import DEPTH_SWEEP
from utils.report.common import (accuracy_table, environment_lines, extent_in_image, flow_cell,
                                 fmt_int, fmt_macs, gradient_flow_table, image,
                                 one_seed_note, overfitting_sentences, reference_note,
                                 speed_table)
from utils.report.runs import final, group_by_name, mean, mean_history
from utils.sections import BY_KEY, folder, order, role
from utils.spec import deviation

KERNEL, DEPTH = folder("2.1"), folder("2.2")
PLOTS = BY_KEY["2.1"].plots
KERNEL_ORDER, DEPTH_ORDER = order("2.1"), order("2.2")
PLAIN, RESIDUAL = role("2.2", "plain"), role("2.2", "residual")
CURVES = [("test_acc", "test accuracy"), ("train_loss", "train loss")]


def _plot(plots_dir, name):
    return os.path.join(plots_dir, PLOTS, name)


def draw(results, plots_dir):
    written = []
    kernels = group_by_name(results.section(KERNEL), KERNEL_ORDER)
    depth = group_by_name(results.section(DEPTH), DEPTH_ORDER)
    for prefix, groups, label in (("kernel", kernels, "kernel size"), ("depth", depth, "depth")):
        if groups:
            for key, ylabel in CURVES:
                written.append(plotting.curves(groups, key, f"CIFAR-10, {label}: {ylabel}",
                                               ylabel, _plot(plots_dir, f"{prefix}_{key}.png")))
            written.append(plotting.generalisation(groups, f"CIFAR-10, {label}: train and test "
                                                   "loss", _plot(plots_dir,
                                                                 f"{prefix}_overfitting.png")))
    for name, runs in kernels.items():
        short = name.removeprefix("CNN_")
        written += [
            plotting.first_layer_activations(runs[0], _plot(plots_dir, f"act_CNN_{short}.png")),
            plotting.first_layer_kernels(runs[0], _plot(plots_dir, f"kernels_CNN_{short}.png")),
            plotting.receptive_field_map(runs[0], _plot(plots_dir, f"erf_CNN_{short}.png"))]
    for name, runs in depth.items():
        written += [plotting.feature_maps(runs[0], _plot(plots_dir, f"fmap_{name}.png")),
                    plotting.gradient_flow(runs[0], _plot(plots_dir, f"grad_norm_{name}.png"))]
    pair = {n: depth[n] for n in (PLAIN, RESIDUAL) if n in depth}
    if len(pair) == 2:
        for key, ylabel in (("test_acc", "test accuracy"), ("train_loss", "train loss")):
            written.append(plotting.curves(pair, key, f"Skip connections: {ylabel}", ylabel,
                                           _plot(plots_dir, f"residual_effect_{key}.png")))
    return written + report_sweep.draw(results, plots_dir)


# --- 2.1 ----------------------------------------------------------------------------------------

def _kernel_table(groups, budget):
    ref = BY_KEY["2.1"].reference
    rows = []
    for name, runs in groups.items():
        r0 = runs[0]
        rows.append([name, "×".join(map(str, r0["model_kwargs"]["widths"])), fmt_int(r0["params"]),
                     f"{deviation(r0['params'], budget):+.2%}", fmt_macs(r0["macs"]),
                     fmt_int(ref[name]["params"]) if name in ref else "—",
                     f"{deviation(ref[name]['params'], budget):+.2%}" if name in ref else "—"])
    return md_table(["model", "widths", "params", "vs budget", "MACs/image", "ref. params",
                     "ref. vs budget"], rows)


def _budget(groups):
    """The parameter budget the equal-parameter search aimed at, as its specs recorded it."""
    return next(iter(groups.values()))[0]["spec"]["meta"]["param_budget"]


def _rf_table(groups):
    """The analytic receptive field after each layer, one column per model (the four share one
    layout, so a row is the same layer in each): size / jump / start, in input pixels."""
    layers = {name: runs[0]["analyses"]["receptive_field"]["analytic"]
              for name, runs in groups.items()}
    first = next(iter(layers.values()))
    rows = []
    for i, layer in enumerate(first):
        cells = [f"{ls[i]['rf']}/{ls[i]['jump']}/{ls[i]['start']:g}" if i < len(ls) else "—"
                 for ls in layers.values()]
        rows.append([f"{layer['layer']} ({layer.get('type', '')}, stride {layer['stride']})",
                     *cells])
    return md_table(["layer", *layers], rows)


def _erf_table(groups):
    """Empirical against analytic field, both measured inside the image from the central unit's
    actual position (its field overhangs the image unevenly where that unit is off-centre)."""
    rows = []
    for name, runs in groups.items():
        rf = runs[0]["analyses"]["receptive_field"]
        size = len(rf["map"])
        analytic = rf["analytic"][-1]["rf"]
        visible = min(extent_in_image(c, analytic, size) for c in rf["centre"])
        side95 = min(2 * rf["radius_95"] + 1, visible)
        share = (side95 / visible) ** 2
        rows.append([name + one_seed_note(runs), analytic,
                     f"{visible} (unit centred at {rf['centre'][0]:g} px)",
                     f"{min(2 * rf['nonzero_radius'] + 1, visible):g}", f"{side95:g}",
                     f"{min(2 * rf['radius_50'] + 1, visible):g}", f"{share:.0%}"])
    return md_table(["model", "analytic RF (px)", "analytic RF inside the image (px)",
                     "nonzero gradient extent (px)", "95 % mass (px)", "50 % mass (px)",
                     "95 % area / analytic area in image"], rows)


# --- 2.2 ----------------------------------------------------------------------------------------

def _epochs_to(history, threshold):
    return next((e["epoch"] for e in history if e["test_acc"] >= threshold), None)


def _residual_sentences(groups):
    deep, res = groups.get(PLAIN), groups.get(RESIDUAL)
    if not deep or not res:
        return ""

    def acc(runs):
        return mean(final(runs, "test_acc"))

    def start_flow(runs):
        return flow_cell(runs[0]["gradient_flow"][0], runs[0]["spec"]["lr"])

    hd, hr = mean_history(deep), mean_history(res)
    target = round(min(acc(deep), acc(res)) * 0.9, 2)
    ed, er = _epochs_to(hd, target), _epochs_to(hr, target)
    layers = len(layer_names(deep[0]["gradient_flow"][0]["layers"]))
    lines = [f"- Same depth ({layers} conv layers) "
             f"and widths; the only difference is the skip connections "
             f"({fmt_int(res[0]['params'] - deep[0]['params'])} extra parameters in the 1×1 "
             "projections where the shape changes).",
             f"- Test accuracy: {RESIDUAL} {acc(res):.4f} vs {PLAIN} {acc(deep):.4f} "
             f"({acc(res) - acc(deep):+.4f}). Train loss after epoch 1: {hr[0]['train_loss']:.3f} "
             f"vs {hd[0]['train_loss']:.3f}; at the end: {hr[-1]['train_loss']:.3f} vs "
             f"{hd[-1]['train_loss']:.3f}.",
             f"- Epochs to reach {target:.2f} test accuracy: {RESIDUAL} {er or 'never'}, "
             f"{PLAIN} {ed or 'never'}.",
             f"- Gradient flow ratio at step 0 (the rule of the table above): {RESIDUAL} "
             f"{start_flow(res)} vs {PLAIN} {start_flow(deep)}. At this depth, with "
             "BatchNorm after every conv, the skips are not needed to keep gradients flowing; "
             "the depth sweep below removes BatchNorm and goes deeper."
             if NOT_RECORDED not in (start_flow(res), start_flow(deep)) else ""]
    return "\n".join(lines)


def render(results, plots_dir):
    kernels = group_by_name(results.section(KERNEL), KERNEL_ORDER)
    depth = group_by_name(results.section(DEPTH), DEPTH_ORDER)
    sweep = report_sweep.render(results, plots_dir)
    if not kernels and not depth and not sweep:
        return None

    def img(name, alt):
        return image(plots_dir, results.dir, f"{PLOTS}/{name}", alt)

    out = ["## Task 2 — CNN architecture analysis (CIFAR-10)"]
    if kernels:
        budget = _budget(kernels)
        shorts = [n.removeprefix("CNN_") for n in kernels]
        out += [
            "### 2.1 Kernel size at an equal parameter budget",
            *[f"Same layout for {', '.join(KERNEL_ORDER)}: three conv-BN-ReLU stages "
                "(2×2 max pooling after the first two), global average pooling, a linear "
                f"classifier; only the kernels differ ({role('2.1', 'combo')}: each layer is a "
                "1×1 branch with a quarter of the "
                "channels beside a 3×3 branch, concatenated). Widths come from an "
                "equal-parameter search (`utils/train/param_search.py`)."],
            *[f"**Parameter budget {fmt_int(budget)}** (with the reference's counts "
                "beside ours and how far each is from the budget):",
                _kernel_table(kernels, budget)],
            f"**Accuracy and time**{reference_note(kernels)}:",
            accuracy_table(kernels, BY_KEY["2.1"].reference),
            *["**Speed:**", speed_table(kernels)],
            *["**Receptive fields.** Analytic, after each layer: size/jump/start in "
                "input pixels (jump: input pixels between adjacent units; start: centre of the "
                "first unit's field):", _rf_table(kernels)],
            *["Empirical (effective) receptive field of the central unit of the last "
                    f"feature map: mean |input gradient| over "
                    f"{next(iter(kernels.values()))[0]['analyses']['receptive_field']['images']} "
                    "test images "
                    "after training; radii measured from the unit's analytic centre:",
                    _erf_table(kernels),
                    "\n".join(img(f"erf_CNN_{s}.png", f"ERF {s}") for s in shorts)],
            "**First-layer activations** (the same two test images for every model):",
            "\n".join(img(f"act_CNN_{s}.png", f"activations {s}") for s in shorts),
            *["**First-layer kernels:**",
                    "\n".join(img(f"kernels_CNN_{s}.png", f"kernels {s}") for s in shorts),
                    "**Overfitting:**", overfitting_sentences(kernels),
                    img("kernel_overfitting.png", "kernel size overfitting"),
                    "**Learning curves:**",
                    "\n".join(img(f"kernel_{k}.png", f"kernel {k}") for k, _ in CURVES)],
        ]
    if depth:
        out += [
            "### 2.2 Depth and residual connections",
            f"{', '.join(DEPTH_ORDER)} share the same parts: a conv3x3-BN-ReLU stem, "
                "then conv layers "
                "split over three stages (32, 16, 8 pixels; 32, 64, 128 channels); every conv is "
                "followed by BatchNorm; PyTorch's default (Kaiming-uniform) initialisation "
                "everywhere.",
            f"{PLAIN} is {RESIDUAL} with its skip connections removed "
            "(`DepthCNN(residual=False)`).",
            f"**Accuracy and time**{reference_note(depth)}:",
            accuracy_table(depth, BY_KEY["2.2"].reference),
            *["**Speed:**", speed_table(depth)],
            f"**Vanishing / exploding gradients** (sampled at "
            f"{len(next(iter(depth.values()))[0]['gradient_flow'])} evenly spaced steps from the "
            "first to the last): the backpropagated signal at initialisation (the gradient at "
            "each layer's output, first over last hidden layer), and the relative update size "
            "‖grad‖/‖weight‖ per main-path layer, which the plots show:",
            gradient_flow_table(depth, results.init_gradients()),
            "\n".join(img(f"grad_norm_{n}.png", f"gradient norms {n}") for n in depth),
            f"**Effectiveness of residual connections** ({PLAIN} vs {RESIDUAL}):",
            _residual_sentences(depth),
            img("residual_effect_test_acc.png", "residual effect test acc") + "\n"
            + img("residual_effect_train_loss.png", "residual effect train loss")
            if PLAIN in depth and RESIDUAL in depth else "",
            "**Feature maps** (one test image through every stage):",
            "\n".join(img(f"fmap_{n}.png", f"feature maps {n}") for n in depth),
            *["**Overfitting:**", overfitting_sentences(depth),
                    img("depth_overfitting.png", "depth overfitting"),
                    "**Learning curves:**",
                    "\n".join(img(f"depth_{k}.png", f"depth {k}") for k, _ in CURVES)],
        ]
    out += sweep or []
    out += ["**Measured on:**", "\n".join(environment_lines(
        [r for g in (kernels, depth) for runs in g.values() for r in runs]
        + results.section(DEPTH_SWEEP)))]
    return join(out)
