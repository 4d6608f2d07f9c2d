"""Task 3 (custom layers on MNIST, residual block variants on CIFAR-10): plots and report."""
import math
import os
from types import SimpleNamespace

from utils.report import plotting, paired as report_paired, stability_rates as report_stability, words
from utils.report.recipe import selection_block
from utils.report.common import (MACS, NAME, PARAMS, SEEDS, accuracy_table, by_machine,
                                 environment_lines, fmt_int, full_profile, image,
                                 interval_text, mean_std, nets, overfitting_table,
                                 per_machine, reference_columns, spread, table)
from utils.report.runs import group_by_name, mean
from utils.sections import BY_KEY, folder, order, role
from utils.spec import deviation
from utils.report.stability_rates import ranking, stability_measures
from utils.report.stats import compare_runs
from utils.report.verdicts import difference

MNIST = folder("1.1")
CUSTOM, RESIDUAL = folder("3.1"), folder("3.2")
# The residual nets' depth candidates, evaluated on a validation split (utils/train/recipe.py)
RESIDUAL_RECIPE = folder("3.2-recipe")
CUSTOM_ORDER, RESIDUAL_ORDER = order("3.1"), order("3.2")
CUSTOM_NET, STANDARD = role("3.1", "custom"), role("3.1", "standard")
# Task 1's nets 3.1 shows beside its own (same layout as SimpleCNN; the FC net for scale)
TASK1_NETS = [role("1.1", "cnn"), role("1.1", "fc")]


def _groups(results):
    custom = group_by_name(results.section(CUSTOM), CUSTOM_ORDER)
    baseline = group_by_name([r for r in results.section(MNIST) if r["name"] in TASK1_NETS],
                             TASK1_NETS)
    residual = group_by_name(results.section(RESIDUAL), RESIDUAL_ORDER)
    return custom, baseline, residual


def _study(results):
    return results.study(CUSTOM)


def draw(results, plots_dir, rows):
    custom, baseline, residual = _groups(results)
    written = []
    if custom:
        written.append(plotting.final_points(custom, "MNIST, custom layers: final test accuracy",
                                             os.path.join(plots_dir, CUSTOM, "test_acc.png"),
                                             baseline=STANDARD))
        written.append(plotting.curves(custom, "train_loss", "MNIST, custom layers: train loss",
                                       "train loss",
                                       os.path.join(plots_dir, CUSTOM, "train_loss.png")))
        written.append(plotting.generalisation(custom, "MNIST, custom layers: train and test "
                                               "loss", os.path.join(plots_dir, CUSTOM,
                                                                    "overfitting.png")))
    if residual:
        built = {k: v for k, v in residual.items() if not k.endswith("_matched")}
        matched = {k: v for k, v in residual.items() if k.endswith("_matched")}
        for label, groups in (("as_built", built), ("matched", matched)):
            if not groups:
                continue
            for key, ylabel in (("test_acc", "test accuracy"), ("train_loss", "train loss")):
                written.append(plotting.curves(
                    groups, key, f"Residual variants ({label.replace('_', ' ')}): {ylabel}",
                    ylabel, os.path.join(plots_dir, RESIDUAL, f"{label}_{key}.png")))
            written.append(plotting.generalisation(
                groups, f"Residual variants ({label.replace('_', ' ')}): train and test loss",
                os.path.join(plots_dir, RESIDUAL, f"{label}_overfitting.png")))
            written.append(plotting.traces(
                groups, "loss", f"Per-step training loss ({label.replace('_', ' ')})", "loss",
                os.path.join(plots_dir, RESIDUAL, f"{label}_loss_trace.png")))
            written.append(plotting.traces(
                groups, "grad_norm", f"Per-step gradient norm ({label.replace('_', ' ')})",
                "‖grad‖ (all parameters)",
                os.path.join(plots_dir, RESIDUAL, f"{label}_grad_norm_trace.png"), log=True))
    return (written + report_stability.draw(results, plots_dir)
            + report_paired.draw(results, plots_dir, rows))


# --- 3.1 ----------------------------------------------------------------------------------------

LATE_EPOCHS = 5  # late movement: the test accuracy's span over the last this many epochs


def swap_effect(swap, standard):
    """swap − standard test accuracy as a `difference`, with the 95 % interval of the test the
    findings use for the same pair (stats.compare_runs); None where either side has not run."""
    if not swap or not standard:
        return None
    return difference(*compare_runs(swap, standard))


def _late_span(runs, last=LATE_EPOCHS):
    """Max − min test accuracy over the last `last` epochs, averaged over seeds."""
    spans = []
    for r in runs:
        late = [e["test_acc"] for e in r["history"][-last:]]
        spans.append(max(late) - min(late))
    return mean(spans)


def late_movement(custom, baseline):
    """{net: (late span, lr schedule)}: how far test accuracy still moves from epoch to epoch
    late in training, under this section's schedule and under Task 1's (its CNN)."""
    groups = dict(custom)
    cnn = role("1.1", "cnn")
    if cnn in baseline:
        groups[f"{cnn} (Task 1)"] = baseline[cnn]
    return {n: (_late_span(runs), runs[0]["hyperparameters"]["schedule"])
            for n, runs in groups.items() if len(runs[0]["history"]) > LATE_EPOCHS}


def _effect_cell(effect):
    if effect is None:
        return "—"
    return f"{interval_text(effect['difference'], effect['low'], effect['high'])} (over {effect['over']}" + \
        ("" if effect["resolved"] else ", unresolved") + ")"


def _pair(a, b, fmt="{:.2f}", sep=" / "):
    return lambda r: sep.join(fmt.format(r[k]) for k in (a, b))


def _layer_tables(study, custom):
    """The custom layers against their standard analogues and against their autograd twins, and
    the tests' simple examples as measured."""
    rows = study["benchmark"]["rows"]
    swap = {r["custom"]: _effect_cell(swap_effect(custom.get(f"Swap_{r['custom']}"),
                                                  custom.get(STANDARD))) for r in rows}
    return {
        "shape": "×".join(map(str, study["benchmark"]["input_shape"])),
        "reps": study["benchmark"]["reps"], "device": study["environment"]["device_name"],
        "interleaved": study["benchmark"].get("interleaved", False),
        "standard": table(rows, [
            ("custom vs standard", lambda r: f"{r['custom']} vs {r['standard']}"),
            ("params (custom / standard)", _pair("custom_params", "standard_params", "{:,}")),
            ("forward+backward ms", _pair("custom_fwd_bwd_ms", "standard_fwd_bwd_ms")),
            ("slowdown (fwd+bwd)",
             lambda r: f"{r['custom_fwd_bwd_ms'] / r['standard_fwd_bwd_ms']:.1f}×"),
            ("test acc difference [95 % interval]", lambda r: swap[r["custom"]])]),
        "twins": table([r for r in rows if "twin_fwd_bwd_ms" in r], [
            ("layer", lambda r: r["custom"]),
            ("forward ms (custom / standard)", _pair("custom_forward_ms", "standard_forward_ms")),
            ("hand-written fwd+bwd ms", lambda r: f"{r['custom_fwd_bwd_ms']:.2f}"),
            ("autograd twin fwd+bwd ms", lambda r: f"{r['twin_fwd_bwd_ms']:.2f}"),
            ("hand-written / twin", lambda r: f"{r['custom_fwd_bwd_ms'] / r['twin_fwd_bwd_ms']:.2f}×"),
            ("MB kept for backward (custom / twin / standard)", lambda r: " / ".join(
                f"{r[k]:.2f}" for k in ("custom_saved_mb", "twin_saved_mb", "standard_saved_mb")))])
        if any("twin_fwd_bwd_ms" in r for r in rows) else None,
        "examples": table(study["examples"], [
            ("check", lambda e: e["check"]), ("expected", lambda e: f"{e['expected']:g}"),
            ("measured", lambda e: f"{e['measured']:.3g}")]) if "examples" in study else None,
        "gradcheck": table(study["gradcheck"], [
            ("layer", lambda g: g["layer"]),
            ("torch.autograd.gradcheck", lambda g: "passed" if g["passed"] else "FAILED"),
            ("dtype", lambda g: g["dtype"]),
            ("input shape", lambda g: "×".join(map(str, g["input_shape"])))])}


def _custom_model_table(custom, baseline):
    """The custom net at 5 epochs and at the end, the standard net, and Task 1's nets."""
    ref = BY_KEY["3.1"].reference if full_profile(custom) else None

    def row(name, runs, ref_name, epochs=None):
        if epochs:  # epoch `epochs` of the same runs (constant lr), timed per machine
            at = [r["history"][epochs - 1] for r in runs]
            machines = by_machine(runs)
            time = "; ".join(mean_std([sum(e["epoch_time_s"] for e in r["history"][:epochs])
                                       for r in same], "{:.1f}", with_n=False)
                             + (f" on {m}" if len(machines) > 1 else "")
                             for m, same in machines.items())
        else:
            at, time = [r["final"] for r in runs], per_machine(runs, "train_time_s", with_n=False)
        return SimpleNamespace(name=name, runs=runs, r0=runs[0], ref=ref_name, time=time,
                               epochs=epochs or len(runs[0]["history"]),
                               **{k: mean_std([a[k] for a in at], with_n=False)
                                  for k in ("train_acc", "test_acc")})
    net = custom.get(CUSTOM_NET)
    rows = ([row(f"{CUSTOM_NET} (5 epochs)", net, f"{CUSTOM_NET} (5 epochs)", 5)]
            if net and len(net[0]["history"]) >= 5 else [])
    rows += [row(n, custom[n], n) for n in (CUSTOM_NET, STANDARD) if custom.get(n)]
    rows += [row(f"{n} (Task 1)", baseline[n], n) for n in TASK1_NETS if baseline.get(n)]
    return table(rows, [
        NAME, SEEDS, ("epochs", lambda n: n.epochs),
        ("lr schedule", lambda n: n.r0["hyperparameters"]["schedule"]), PARAMS,
        ("train acc (running)", lambda n: n.train_acc),
        ("test acc (mean ± sd)", lambda n: n.test_acc), ("train time, s", lambda n: n.time),
        *reference_columns(ref, name=lambda n: n.ref)])


def _scalars(custom):
    """Per net (its first seed) the learned scalars at the end, α = σ(logit) beside a mix's."""
    return [{"name": name, "seed": runs[0]["seed"],
             "values": [(k, v, 1 / (1 + math.exp(-v)) if k.endswith("mix_logit") else None)
                        for k, v in runs[0]["analyses"]["scalars"].items()]}
            for name, runs in custom.items() if runs[0].get("analyses", {}).get("scalars")]


# --- 3.2 ----------------------------------------------------------------------------------------

def _kinds(residual):
    """Which of the 3.2 groups (as built, matched) have runs."""
    return {"matched" if n.endswith("_matched") else "as_built" for n in residual}


def _channels_into_fc(run):
    """The last stage's output channels, read from the classifier's size in the run's parameter
    breakdown (fc: channels × classes weights + classes biases)."""
    fc = next(p["params"] for p in run["param_breakdown"] if p["name"] == "fc")
    classes = len(run["classes"])
    return (fc - classes) // classes


def _residual_table(groups, budget=None):
    ref = BY_KEY["3.2"].reference if not budget and full_profile(groups) else None
    blocks = {n.r0["model_kwargs"].get("blocks_per_stage", 1) for n in nets(groups)}

    def base(n):
        return ref[n.name.removesuffix("_matched")]
    return table(nets(groups), [
        ("net", lambda n: n.name), SEEDS,
        ("widths", lambda n: "×".join(map(str, n.r0["model_kwargs"]["widths"]))
         if n.r0["model_kwargs"].get("widths") else "default"),
        ("channels into fc", lambda n: _channels_into_fc(n.r0)),
        ("blocks/stage", lambda n: n.r0["model_kwargs"].get("blocks_per_stage", 1))
        if len(blocks) > 1 else None, PARAMS,
        ("vs budget", lambda n: f"{deviation(n.r0['params'], budget):+.2%}") if budget else None,
        MACS, ("train acc (eval)", spread("train_acc_eval")),
        ("test acc (mean ± sd)", spread("test_acc")),
        ("s/epoch", lambda n: per_machine(n.runs, "time_per_epoch_s", with_n=False)),
        ("ref. params", lambda n: fmt_int(base(n)["params"])) if ref else None,
        ("ref. test acc (20 epochs)", lambda n: base(n)["test_acc"]) if ref else None])


def depths(groups):
    """{model: blocks per stage} over the runs of `groups` (matched runs share their model's)."""
    return {runs[0]["model"]: runs[0]["model_kwargs"].get("blocks_per_stage", 1)
            for runs in groups.values()}


# 3x3 convolutions a block: what decides how far a stage sees.
THREE_BY_THREE = {role("3.2", "basic"): 2, role("3.2", "bottleneck"): 1, role("3.2", "wide"): 2}
# A fall of test accuracy from one epoch to the next this large is reported as an event.
NOTABLE_FALL = 0.05


def _stability_table(measures):
    return table(measures.items(), [
        ("run", lambda nm: nm[0]), ("seeds", lambda nm: nm[1]["seeds"]),
        ("loss spikes (of all steps)",
         lambda nm: mean_std(nm[1]["spikes"], "{:.1f}") + f" of {nm[1]['steps']}"),
        ("largest epoch-to-epoch fall in test acc", lambda nm: "none" if not nm[1]["largest_fall"]
         else "{fall:.4f} (epoch {epoch})".format(**nm[1]["largest_fall"])),
        ("max ‖grad‖", lambda nm: f"{nm[1]['max_grad_norm']:.3g}"),
        ("test acc range over seeds", lambda nm: "— (1 seed)" if nm[1]["acc_range"] is None
         else f"{nm[1]['acc_range']:.4f}")])


def _group(groups, kind, imgs, budget=None):
    """One 3.2 table set (as built or matched): the nets, their ranking, their stability."""
    measures = stability_measures(groups)
    order, pairs = ranking(groups)
    return {"table": _residual_table(groups, budget), "budget": budget,
            "order": [(n, acc, groups[n][0]) for n, acc in order], "pairs": pairs,
            "stability": _stability_table(measures),
            "events": [dict(m["largest_fall"], name=name) for name, m in measures.items()
                       if m["largest_fall"] and m["largest_fall"]["fall"] >= NOTABLE_FALL],
            "plots": imgs([f"{RESIDUAL}/{kind}_{k}.png" for k in
                           ("loss_trace", "grad_norm_trace", "test_acc", "train_loss")])}


def render(results, plots_dir, rows=None):
    """DETAILS.md's Task 3 (templates/task3.md.j2): 3.1, its paired run, 3.2 and its
    stability test (rows: the report's comparisons, which the paired run's verdicts read)."""
    custom, baseline, residual = _groups(results)
    study = _study(results)
    stability = report_stability.render(results, plots_dir)
    paired = report_paired.render(results, plots_dir, rows)
    if not custom and not residual and not study and not stability and not paired:
        return None

    def imgs(paths, prefix=""):  # alt text: the file's name in words
        return "\n".join(image(plots_dir, results.dir, p, prefix + os.path.basename(p)[:-4]
                                .replace("_", " ")) for p in paths)

    c = r = None
    if custom or study:
        c = {"custom": CUSTOM_NET, "standard": STANDARD, "cnn": TASK1_NETS[0],
             "reference": bool(custom) and full_profile(custom),
             "task1": TASK1_NETS, "study": _layer_tables(study, custom) if study else None,
             "models": None}  # a layer study alone (every run failed) has no net to show
        if custom:
            c.update(epochs=len(custom[next(iter(custom))][0]["history"]),
                     models=_custom_model_table(custom, baseline),
                     late=late_movement(custom, baseline), late_epochs=LATE_EPOCHS,
                     scalars=_scalars(custom), swaps=accuracy_table(custom),
                     plots=imgs([f"{CUSTOM}/test_acc.png", f"{CUSTOM}/train_loss.png"], "custom "),
                     overfitting=overfitting_table(custom),
                     overfitting_plot=imgs([f"{CUSTOM}/overfitting.png"], "custom layers "))
    if residual:
        built = {k: v for k, v in residual.items() if not k.endswith("_matched")}
        matched = {k: v for k, v in residual.items() if k.endswith("_matched")}
        r = {"depths": depths(residual), "three_by_three": THREE_BY_THREE,
             "notable_fall": NOTABLE_FALL, "full": full_profile(built),
             "selection": selection_block(
                 results.section(RESIDUAL_RECIPE), built.get(role("3.2", "bottleneck"), []),
                 not_applied=("this search ran for the Bottleneck alone (after its as-built test "
                              "accuracy missed an 0.80 target), so applying it would compare the "
                              "block types at different depths; all three stay at one block per "
                              "stage, and this table is a study of the Bottleneck's depth.")),
             "built": _group(built, "as_built", imgs) if built else None,
             "matched": _group(matched, "matched", imgs, next(iter(matched.values()))[0]["spec"][
                 "meta"]["param_budget"]) if matched else None,
             "overfitting": overfitting_table(residual),
             "overfitting_plots": imgs([f"{RESIDUAL}/{k}_overfitting.png" for k in
                                        ("as_built", "matched") if k in _kinds(residual)])}
    return words.render("task3.md.j2", c=c, r=r, paired=paired or "",
                        stability=stability or "",
                        environment="\n".join(environment_lines(
                            [x for g in (custom, residual) for runs in g.values() for x in runs]
                            + results.section(folder("3.1-paired"))
                            + results.section(folder("3.2-stability"))))).strip()
