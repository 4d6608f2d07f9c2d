"""The depth sweep of Task 2.2 (section "2.2-sweep"): plots and report section, from the JSON.

The verdicts are computed as numbers first (`sweep_verdicts`), then printed; each accuracy
comparison carries a 95 % interval over the test images (one seed per configuration).
"""
import os
import statistics

from utils.report import plotting, words
from utils.report.common import flow_cell, fmt_int, image, interval_text, table
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
    for v in out["skip_effect"] + out["depth_effect"]:  # as every sentence and table states it
        v["interval"] = interval_text(v["difference"], v["low"], v["high"])
        v["size"] = interval_text(v["difference"], v["low"], v["high"], size_only=True)
    # the headline: going deeper to the deepest depth with BatchNorm, and the skips there
    out["deepest"] = max((v["to"] for v in out["depth_effect"]), default=None)
    out["steps"] = [v for v in out["depth_effect"] if v["to"] == out["deepest"] and v["batchnorm"]]
    out["skip"] = next((v for v in out["skip_effect"] if v["depth"] == out["deepest"]
                        and v["batchnorm"]), None)
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
    """The sweep's part of Task 2 (templates/sweep.md.j2), as one markdown chunk, or None."""
    runs = results.section(DEPTH_SWEEP)
    configs = by_config(runs)
    if not configs:
        return None
    any_run = next(iter(configs.values()))
    yes = {True: "yes", False: "no"}

    def flow(at):
        return lambda c: (flow_cell(at(c[1][0]["gradient_flow"]), c[1][0]["spec"]["lr"])
                          if c[1][0]["gradient_flow"] else "—")
    run_table = table(seeds_by_config(runs).items(), [
        ("net", lambda c: c[1][0]["name"]), ("depth", lambda c: c[0][0]),
        ("skips", lambda c: yes[c[0][1]]), ("BN", lambda c: yes[c[0][2]]),
        ("params", lambda c: fmt_int(c[1][0]["params"])), ("seeds", lambda c: len(c[1])),
        ("train acc (eval)", lambda c: _accuracy_cell(c[1], "train_acc_eval")),
        ("test acc [95 % CI]", lambda c: _accuracy_cell(c[1])),
        ("gradient first/last, init", flow(lambda s: s[0])), ("… at the end", flow(lambda s: s[-1])),
        ("diverged", lambda c: "epoch {epoch}, batch {batch}".format(**c[1][0]["diverged"])
         if c[1][0]["diverged"] else "no")])
    verdicts = sweep_verdicts(runs)

    def img(name, alt):
        return image(plots_dir, results.dir, f"{PLOTS}/{name}", alt)
    return [words.render(
        "sweep.md.j2", depths=sorted({d for d, _, _ in configs}),
        hp=any_run["hyperparameters"], test_size=any_run["test_size"], **verdicts,
        flow=init_flow(runs), diverged=[r["name"] for r in configs.values() if r["diverged"]],
        accuracy_plot=img("sweep_accuracy.png", "accuracy by depth"),
        table=run_table,
        skip_table=table(verdicts["skip_effect"], [
            ("depth", lambda v: v["depth"]), ("BatchNorm", lambda v: yes[v["batchnorm"]]),
            ("residual − plain", _diff_cell)]),
        depth_table=table(verdicts["depth_effect"], [
            ("family", lambda v: ("residual" if v["residual"] else "plain")
             + (" with BN" if v["batchnorm"] else " without BN")),
            ("depths", lambda v: f"{v['from']} → {v['to']}"), ("deeper − shallower", _diff_cell)]),
        other_plots=img("sweep_grad_init.png", "gradient at init") + "\n"
        + img("sweep_train_loss.png", "training loss")).strip()]
