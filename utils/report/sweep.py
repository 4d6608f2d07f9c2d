"""The depth sweep of Task 2.2 (section "2.2-sweep"): plots and report section, from the JSON.

The verdicts are computed as numbers first (`sweep_verdicts`), then printed; each accuracy
comparison carries a 95 % interval over the test images (one seed per configuration).
"""
import os
import statistics

from utils.report import plotting
from utils.markdown import md_table
from utils.report.common import flow_cell, fmt_int, image, interval_text
from utils.sections import BY_KEY, folder
from utils.report.stats import accuracy_interval, mean_interval
from utils.report.runs import at_chance, group_runs
from utils.report.stats import compare_runs
from utils.report.verdicts import difference, flow_verdict

DEPTH_SWEEP = folder("2.2-sweep")
PLOTS = BY_KEY["2.2-sweep"].plots


# --- its verdicts, as numbers ---------------------------------------------------------------

def config(run):
    kw = run["model_kwargs"]
    return kw["depth"], kw["residual"], kw["batchnorm"]


def seeds_by_config(runs):
    """{(depth, residual, batchnorm): [runs by seed]}, ordered by depth, BN first, plain first."""
    def kw(key):
        return lambda r: r["model_kwargs"][key]
    return group_runs(runs, {"depth": kw("depth"), "residual": kw("residual"),
                             "batchnorm": kw("batchnorm")},
                      sort={"depth": kw("depth"), "no_bn": lambda r: not kw("batchnorm")(r),
                            "residual": kw("residual"), "seed": lambda r: r["seed"]})


def by_config(runs):
    """{(depth, residual, batchnorm): its lowest seed's run}: what the plots and the gradient
    columns show."""
    return {c: seeds[0] for c, seeds in seeds_by_config(runs).items()}


def sweep_verdicts(runs):
    """Every comparison the section states, as numbers: per depth and normalisation, residual
    minus plain; per family, deepest minus the depth before it (degradation)."""
    configs = seeds_by_config(runs)
    depths = sorted({d for d, _, _ in configs})
    out = {"skip_effect": [], "depth_effect": []}

    def diff(a, b):
        # Two nets that both learned nothing tie at chance: "unresolved" would undersell that.
        return {**difference(*compare_runs(a, b)), "seeds": (len(a), len(b)),
                "both_at_chance": all(map(at_chance, a + b))}

    for depth in depths:
        for bn in (True, False):
            res, plain = configs.get((depth, True, bn)), configs.get((depth, False, bn))
            if res and plain:
                out["skip_effect"].append({"depth": depth, "batchnorm": bn, **diff(res, plain)})
    for residual in (False, True):
        for bn in (True, False):
            family = [configs[(d, residual, bn)] for d in depths if (d, residual, bn) in configs]
            for shallow, deep in zip(family, family[1:]):
                out["depth_effect"].append({"residual": residual, "batchnorm": bn,
                                            "from": config(shallow[0])[0],
                                            "to": config(deep[0])[0],
                                            **diff(deep, shallow)})
    return out


def init_flow(runs):
    """{verdict: [run names]} of the gradient-flow rule on each run's step-0 snapshot."""
    flow = {}
    for r in by_config(runs).values():
        if r["gradient_flow"]:
            verdict = flow_verdict(r["gradient_flow"][0]["layers"], r["spec"]["lr"])
            flow.setdefault(verdict, []).append(r["name"])
    return flow


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
    """The sweep's three figures (utils/report/plotting.py): the gradient along the depth at
    initialisation, the final accuracy against depth, the training loss per step."""
    configs = by_config(results.section(DEPTH_SWEEP))
    if not configs:
        return []
    depths = sorted({d for d, _, _ in configs})
    seeded = seeds_by_config(results.section(DEPTH_SWEEP))
    families = {}
    for key in plotting.SWEEP_STYLES:
        runs = [(d, seeded[(d, *key)]) for d in depths if (d, *key) in seeded]
        if runs:
            families[key] = {"points": accuracy_points(seeded, key),
                             "seeds": [(d, r["final"]["test_acc"]) for d, rs in runs for r in rs],
                             "diverged": [(d, r["final"]["test_acc"]) for d, rs in runs
                                          for r in rs if r["diverged"]]}
    classes = len(next(iter(configs.values()))["classes"])

    def path(name):
        return os.path.join(plots_dir, PLOTS, name)
    return [plotting.sweep_gradients(configs, depths, path("sweep_grad_init.png")),
            plotting.sweep_accuracy(families, depths, classes, path("sweep_accuracy.png")),
            plotting.sweep_train_loss(configs, depths, path("sweep_train_loss.png"))]


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
        f"Recipe: batch {hp['batch_size']}, {hp['optimizer'].upper()} "
            f"(momentum {hp['momentum']}), {hp['schedule']} schedule peaking at lr {hp['lr']}, "
            f"weight decay {hp['weight_decay']}, {hp['augmentation']}. Accuracies: the mean over "
            f"seeds with its 95 % Student-t interval where a net has three or more seeds, else "
            f"the 95 % Wilson interval over the {fmt_int(any_run['test_size'])} test images; "
            f"differences over seeds (Welch) where both sides have several, else over the test "
            f"images (exact McNemar where both recorded their predictions). A run whose loss "
            f"became non-finite is recorded as diverged (its accuracy is then chance). Gradient "
            f"flow (lowest seed) at step 0 and at the last sampled step, by the report's one "
            f"rule (— where the loss was already non-finite).",
        headline(runs),
        image(plots_dir, results.dir, f"{PLOTS}/sweep_accuracy.png", "accuracy by depth"),
        *[
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
                           "training loss")],
    ]
    return [x for x in lines if x]
