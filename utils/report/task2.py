"""Task 2 (kernel size and depth on CIFAR-10): its plots and its report section, from the JSON."""
import os

from utils.report import plotting, sweep as report_sweep, words
from utils.report.gradient_flow import layer_names
from utils.report.verdicts import NOT_RECORDED
from utils.report.sweep import DEPTH_SWEEP
from utils.report.common import (MACS, NAME, PARAMS, accuracy_table, environment_lines,
                                 extent_in_image, flow_cell, fmt_int, gradient_flow_table,
                                 image, nets, one_seed_note, overfitting_table,
                                 reference_note, speed_table, table)
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

    def theirs(cell):
        return lambda n: cell(ref[n.name]["params"]) if n.name in ref else "—"
    return table(nets(groups), [
        NAME, ("widths", lambda n: "×".join(map(str, n.r0["model_kwargs"]["widths"]))), PARAMS,
        ("vs budget", lambda n: f"{deviation(n.r0['params'], budget):+.2%}"), MACS,
        ("ref. params", theirs(fmt_int)),
        ("ref. vs budget", theirs(lambda p: f"{deviation(p, budget):+.2%}"))])


def _budget(groups):
    """The parameter budget the equal-parameter search aimed at, as its specs recorded it."""
    return next(iter(groups.values()))[0]["spec"]["meta"]["param_budget"]


def _rf_table(groups):
    """The analytic receptive field after each layer, one column per model (the four share one
    layout, so a row is the same layer in each): size / jump / start, in input pixels."""
    layers = {name: runs[0]["analyses"]["receptive_field"]["analytic"]
              for name, runs in groups.items()}
    return table(range(len(next(iter(layers.values())))), [
        ("layer", lambda i: "{layer} ({type}, stride {stride})".format(
            **{"type": "", **next(iter(layers.values()))[i]})),
        *[(name, lambda i, ls=ls: f"{ls[i]['rf']}/{ls[i]['jump']}/{ls[i]['start']:g}"
           if i < len(ls) else "—") for name, ls in layers.items()]])


def _erf_table(groups):
    """Empirical against analytic field, both measured inside the image from the central unit's
    actual position (its field overhangs the image unevenly where that unit is off-centre)."""
    rows = []
    for n in nets(groups):
        n.rf = rf = n.r0["analyses"]["receptive_field"]
        n.analytic = rf["analytic"][-1]["rf"]
        n.visible = min(extent_in_image(c, n.analytic, len(rf["map"])) for c in rf["centre"])
        rows.append(n)

    def side(key):  # a square of that radius around the unit, as much of it as is in the image
        return lambda n: min(extent_in_image(c, 2 * n.rf[key] + 1, len(n.rf["map"]))
                             for c in n.rf["centre"])
    return table(rows, [
        ("model", lambda n: n.name + one_seed_note(n.runs)),
        ("analytic RF (px)", lambda n: n.analytic),
        ("analytic RF inside the image (px)",
         lambda n: f"{n.visible} (unit centred at {n.rf['centre'][0]:g} px)"),
        ("nonzero gradient extent (px)", lambda n: f"{side('nonzero_radius')(n):g}"),
        ("95 % mass (px)", lambda n: f"{side('radius_95')(n):g}"),
        ("50 % mass (px)", lambda n: f"{side('radius_50')(n):g}"),
        ("95 % area / analytic area in image",
         lambda n: f"{(side('radius_95')(n) / n.visible) ** 2:.0%}")])


# --- 2.2 ----------------------------------------------------------------------------------------

def _epochs_to(history, threshold):
    return next((e["epoch"] for e in history if e["test_acc"] >= threshold), None)


def _pair(groups):
    """The plain net against the residual one: size, accuracy, losses, epochs to 90 % of the
    lower accuracy, the gradient-flow cells at step 0; None without both."""
    deep, res = groups.get(PLAIN), groups.get(RESIDUAL)
    if not deep or not res:
        return None
    hd, hr = mean_history(deep), mean_history(res)
    acc_plain, acc_res = mean(final(deep, "test_acc")), mean(final(res, "test_acc"))
    target = round(min(acc_plain, acc_res) * 0.9, 2)
    flows = [flow_cell(r[0]["gradient_flow"][0], r[0]["spec"]["lr"]) for r in (res, deep)]
    recorded = NOT_RECORDED not in flows
    return {"layers": len(layer_names(deep[0]["gradient_flow"][0]["layers"])),
            "extra_params": res[0]["params"] - deep[0]["params"],
            "acc_residual": acc_res, "acc_plain": acc_plain,
            "first_residual": hr[0]["train_loss"], "first_plain": hd[0]["train_loss"],
            "last_residual": hr[-1]["train_loss"], "last_plain": hd[-1]["train_loss"],
            "target": target, "epochs_residual": _epochs_to(hr, target),
            "epochs_plain": _epochs_to(hd, target),
            "flow_residual": flows[0] if recorded else None, "flow_plain": flows[1],
            "both_steady": recorded and all("steady" in f for f in flows),
            "seeds": min(len(deep), len(res))}


def render(results, plots_dir):
    """DETAILS.md's Task 2 (templates/task2.md.j2): 2.1, 2.2 and the depth sweep."""
    kernels = group_by_name(results.section(KERNEL), KERNEL_ORDER)
    depth = group_by_name(results.section(DEPTH), DEPTH_ORDER)
    sweep = report_sweep.render(results, plots_dir)
    if not kernels and not depth and not sweep:
        return None

    def img(name, alt):
        return image(plots_dir, results.dir, f"{PLOTS}/{name}", alt)

    def imgs(pattern, names, alt):
        return "\n".join(img(pattern.format(n), f"{alt} {n}") for n in names)

    k = d = None
    if kernels:
        budget, shorts = _budget(kernels), [n.removeprefix("CNN_") for n in kernels]
        k = {"names": KERNEL_ORDER, "combo": role("2.1", "combo"), "budget": budget,
             "budget_table": _kernel_table(kernels, budget),
             "reference_note": reference_note(kernels),
             "accuracy": accuracy_table(kernels, BY_KEY["2.1"].reference),
             "speed": speed_table(kernels), "rf": _rf_table(kernels),
             "erf_images": next(iter(kernels.values()))[0]["analyses"]["receptive_field"][
                 "images"], "erf": _erf_table(kernels),
             "erf_maps": imgs("erf_CNN_{}.png", shorts, "ERF"),
             "activations": imgs("act_CNN_{}.png", shorts, "activations"),
             "kernels": imgs("kernels_CNN_{}.png", shorts, "kernels"),
             "overfitting": overfitting_table(kernels),
             "overfitting_plot": img("kernel_overfitting.png", "kernel size overfitting"),
             "curves": imgs("kernel_{}.png", [key for key, _ in CURVES], "kernel")}
    if depth:
        d = {"names": DEPTH_ORDER, "plain": PLAIN, "residual": RESIDUAL,
             "reference_note": reference_note(depth),
             "accuracy": accuracy_table(depth, BY_KEY["2.2"].reference),
             "speed": speed_table(depth),
             "snapshots": len(next(iter(depth.values()))[0]["gradient_flow"]),
             "gradients": gradient_flow_table(depth, results.init_gradients()),
             "gradient_plots": imgs("grad_norm_{}.png", depth, "gradient norms"),
             "pair": _pair(depth),
             "pair_plots": imgs("residual_effect_{}.png", ("test_acc", "train_loss"),
                                "residual effect"),
             "feature_maps": imgs("fmap_{}.png", depth, "feature maps"),
             "overfitting": overfitting_table(depth),
             "overfitting_plot": img("depth_overfitting.png", "depth overfitting"),
             "curves": imgs("depth_{}.png", [key for key, _ in CURVES], "depth")}
    return words.render("task2.md.j2", k=k, d=d, sweep="\n\n".join(sweep or []),
                        environment="\n".join(environment_lines(
                            [r for g in (kernels, depth) for runs in g.values() for r in runs]
                            + results.section(DEPTH_SWEEP)))).strip()
