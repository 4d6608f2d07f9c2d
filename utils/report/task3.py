"""Task 3 (custom layers on MNIST, residual block variants on CIFAR-10): plots and report."""
import math
import os

from utils.report import plotting, paired as report_paired, stability_rates as report_stability, words
from utils.markdown import md_table
from utils.report.parts import join
from utils.report.recipe import selection_block
from utils.report.common import (accuracy_table, by_machine, environment_lines, fmt_int, fmt_macs,
                                 full_profile, image, interval_text, mean_std,
                                 overfitting_sentences, per_machine)
from utils.report.runs import final, group_by_name
from utils.sections import BY_KEY, folder, order, role
from utils.spec import deviation
from utils.report.stability_rates import ranking, stability_measures
from utils.report.verdicts import LATE_EPOCHS, late_movement, swap_effect

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


def draw(results, plots_dir):
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
            + report_paired.draw(results, plots_dir))


# --- 3.1 ----------------------------------------------------------------------------------------

def _gradcheck_table(study):
    return md_table(["layer", "torch.autograd.gradcheck", "dtype", "input shape"],
                    [[g["layer"], "passed" if g["passed"] else "FAILED", g["dtype"],
                      "×".join(map(str, g["input_shape"]))] for g in study["gradcheck"]])


def _effect_cell(effect):
    if effect is None:
        return "—"
    verdict = "" if effect["resolved"] else ", unresolved"
    # + 0.0 turns a rounded -0.0 into 0.0, so a tie never prints as "-0.0000"
    tidy = [round(effect[k], 4) + 0.0 for k in ("difference", "low", "high")]
    return f"{interval_text(*tidy)} (over {effect['over']}{verdict})"


def _layer_table(study, custom):
    standard = custom.get(STANDARD)
    rows, twins = [], []
    for row in study["benchmark"]["rows"]:
        swap = custom.get(f"Swap_{row['custom']}")  # the net with only this layer swapped in
        rows.append([
            f"{row['custom']} vs {row['standard']}",
            f"{fmt_int(row['custom_params'])} / {fmt_int(row['standard_params'])}",
            f"{row['custom_fwd_bwd_ms']:.2f} / {row['standard_fwd_bwd_ms']:.2f}",
            f"{row['custom_fwd_bwd_ms'] / row['standard_fwd_bwd_ms']:.1f}×",
            _effect_cell(swap_effect(swap, standard))])
        if "twin_fwd_bwd_ms" in row:
            twins.append([row["custom"],
                          f"{row['custom_forward_ms']:.2f} / {row['standard_forward_ms']:.2f}",
                          f"{row['custom_fwd_bwd_ms']:.2f}",
                          f"{row['twin_fwd_bwd_ms']:.2f}",
                          f"{row['custom_fwd_bwd_ms'] / row['twin_fwd_bwd_ms']:.2f}×",
                          f"{row['custom_saved_mb']:.2f} / {row['twin_saved_mb']:.2f} / "
                          f"{row['standard_saved_mb']:.2f}"])
    shape = "×".join(map(str, study["benchmark"]["input_shape"]))
    twin_table = ("**Hand-written backward against the autograd twin** (the same maths in "
                  "differentiable torch ops, `models/autograd_twins.py`; memory: the tensors a "
                  "forward pass keeps for backward):\n\n" + md_table(
                      ["layer", "forward ms (custom / standard)", "hand-written fwd+bwd ms",
                       "autograd twin fwd+bwd ms",
                       "hand-written / twin", "MB kept for backward (custom / twin / standard)"],
                      twins)) if twins else ""
    examples = ("**The simple examples the tests check**, measured:\n\n" + md_table(
        ["check", "expected", "measured"],
        [[e["check"], f"{e['expected']:g}", f"{e['measured']:.3g}"]
         for e in study["examples"]])) if "examples" in study else ""
    return [f"Per batch of shape {shape} on {study['environment']['device_name']} (median of "
            f"{study['benchmark']['reps']} timed passes after a warm-up); difference: MNIST test "
            f"accuracy of the {TASK1_NETS[0]}-shaped net with only that layer swapped in, minus "
            f"the same net with standard layers ({STANDARD}, trained in this section with the "
            "same recipe).\n\n" + md_table(
                ["custom vs standard", "params (custom / standard)", "forward+backward ms",
                 "slowdown (fwd+bwd)", "test acc difference [95 % interval]"], rows),
            *[twin_table, examples]]


def _custom_model_table(custom, baseline):
    ref = BY_KEY["3.1"].reference if full_profile(custom) else None
    rows = []
    if CUSTOM_NET in custom:
        runs = custom[CUSTOM_NET]
        if len(runs[0]["history"]) >= 5:
            at5 = [r["history"][4] for r in runs]
            # the time of the first five epochs, per machine (never averaged across machines)
            five = "; ".join(
                mean_std([sum(e["epoch_time_s"] for e in r["history"][:5]) for r in same],
                         "{:.1f}", with_n=False) + (f" on {m}" if len(machines) > 1 else "")
                for machines in [by_machine(runs)] for m, same in machines.items())
            rows.append([f"{CUSTOM_NET} (5 epochs)", len(runs), 5,
                         runs[0]["hyperparameters"]["schedule"], fmt_int(runs[0]["params"]),
                         mean_std([h["train_acc"] for h in at5], with_n=False),
                         mean_std([h["test_acc"] for h in at5], with_n=False), five,
                         *_ref_cells(ref, f"{CUSTOM_NET} (5 epochs)")])
    for name, runs, ref_name in (
            [(n, custom.get(n), n) for n in (CUSTOM_NET, STANDARD)]
            + [(f"{n} (Task 1)", baseline.get(n), n) for n in TASK1_NETS]):
        if not runs:
            continue
        rows.append([name, len(runs), len(runs[0]["history"]),
                     runs[0]["hyperparameters"]["schedule"], fmt_int(runs[0]["params"]),
                     mean_std([r["final"]["train_acc"] for r in runs], with_n=False),
                     mean_std(final(runs, "test_acc"), with_n=False),
                     per_machine(runs, "train_time_s", with_n=False),
                     *_ref_cells(ref, ref_name)])
    return md_table(["model", "seeds", "epochs", "lr schedule", "params", "train acc (running)",
                     "test acc (mean ± sd)", "train time, s"]
                    + (["ref. train acc", "ref. test acc", "ref. train time, s"] if ref else []),
                    rows)


def _ref_cells(ref, name):
    if ref is None:
        return []
    r = ref.get(name, {})
    return [r.get("train_acc", "—"), r.get("test_acc", "—"), r.get("train_time_s", "—")]


def _late_movement_sentence(custom, baseline):
    movement = late_movement(custom, baseline)
    if not movement:
        return ""
    parts = [f"{n} {span:.4f} ({schedule})" for n, (span, schedule) in movement.items()]
    return (f"Late-training movement: over the last {LATE_EPOCHS} epochs, test accuracy spanned "
            "(max − min, mean over seeds) " + ", ".join(parts) + ". A single last-epoch "
            "number carries noise of about this size; differences between swaps smaller than "
            "it say little.")


def _scalar_sentences(custom):
    lines = []
    for name, runs in custom.items():
        scalars = runs[0].get("analyses", {}).get("scalars", {})
        if not scalars:
            continue
        parts = [f"`{k}` = {v:.3f}" + (f" (α = {1 / (1 + math.exp(-v)):.3f})"
                                        if k.endswith("mix_logit") else "")
                 for k, v in scalars.items()]
        lines.append(f"- **{name}** (seed {runs[0]['seed']}), learned scalars at the end: "
                     + ", ".join(parts) + ".")
    return "\n".join(lines)


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
    ref = BY_KEY["3.2"].reference
    blocks = {r0["model_kwargs"].get("blocks_per_stage", 1) for r0 in
              (runs[0] for runs in groups.values())}
    rows = []
    for name, runs in groups.items():
        r0 = runs[0]
        base = name.removesuffix("_matched")
        widths = r0["model_kwargs"].get("widths")
        row = [name, len(runs), "×".join(map(str, widths)) if widths else "default",
               _channels_into_fc(r0),
               *([r0["model_kwargs"].get("blocks_per_stage", 1)] if len(blocks) > 1 else []),
               fmt_int(r0["params"]),
               *([f"{deviation(r0['params'], budget):+.2%}"] if budget else []),
               fmt_macs(r0["macs"]),
               mean_std([r["final"]["train_acc_eval"] for r in runs], with_n=False),
               mean_std(final(runs, "test_acc"), with_n=False),
               per_machine(runs, "time_per_epoch_s", with_n=False)]
        if not budget and full_profile(groups):
            row += [fmt_int(ref[base]["params"]), ref[base]["test_acc"]]
        rows.append(row)
    headers = ["net", "seeds", "widths", "channels into fc",
               *(["blocks/stage"] if len(blocks) > 1 else []), "params",
               *(["vs budget"] if budget else []), "MACs/image",
               "train acc (eval)", "test acc (mean ± sd)", "s/epoch"]
    if not budget and full_profile(groups):
        headers += ["ref. params", "ref. test acc (20 epochs)"]
    return md_table(headers, rows)


def _ranking_sentence(groups):
    order, pairs = ranking(groups)
    sentence = "By mean test accuracy: " + ", ".join(
        f"**{n}** {acc:.4f} ({fmt_int(groups[n][0]['params'])} params, "
        f"{fmt_macs(groups[n][0]['macs'])} MACs)" for n, acc in order) + "."
    if not pairs:
        return sentence
    return sentence + " Neighbours apart by (95 % interval): " + "; ".join(
        f"{p['better']} − {p['worse']} {interval_text(p['difference'], p['low'], p['high'])} "
        f"over {p['over']}" + ("" if p["resolved"] else ", unresolved") for p in pairs) + "."


def depths(groups):
    """{model: blocks per stage} over the runs of `groups` (matched runs share their model's)."""
    return {runs[0]["model"]: runs[0]["model_kwargs"].get("blocks_per_stage", 1)
            for runs in groups.values()}


# 3x3 convolutions a block: what decides how far a stage sees.
THREE_BY_THREE = {role("3.2", "basic"): 2, role("3.2", "bottleneck"): 1, role("3.2", "wide"): 2}


def _depth_sentence(groups):
    blocks = depths(groups)
    if len(set(blocks.values())) == 1:
        n = next(iter(blocks.values()))
        return f"All at the same depth in blocks: {n} block{'s' * (n > 1)} per stage."
    return "Blocks per stage (3×3 convolutions per stage): " + ", ".join(
        f"{m} {b} ({b * THREE_BY_THREE[m]})" for m, b in blocks.items()) + "."


# A fall of test accuracy from one epoch to the next this large is reported as an event.
NOTABLE_FALL = 0.05


def _stability(groups):
    measures = stability_measures(groups)
    rows, events = [], []
    for name, m in measures.items():
        f = m["largest_fall"]
        rows.append([name, m["seeds"], mean_std(m["spikes"], "{:.1f}") + f" of {m['steps']}",
                     f"{f['fall']:.4f} (epoch {f['epoch']})" if f else "none",
                     f"{m['max_grad_norm']:.3g}",
                     f"{m['acc_range']:.4f}" if m["acc_range"] is not None else "— (1 seed)"])
        if f and f["fall"] >= NOTABLE_FALL:
            events.append(f"{name} (seed {f['seed']}): test accuracy fell from {f['from']:.4f} "
                          f"to {f['to']:.4f} at epoch {f['epoch']}")
    table = md_table(["run", "seeds", "loss spikes (of all steps)",
                      "largest epoch-to-epoch fall in test acc", "max ‖grad‖",
                      "test acc range over seeds"], rows)
    sentence = ((f"Falls of test accuracy of {NOTABLE_FALL:g} or more between epochs: "
                 + "; ".join(events) + ".") if events else
                f"No fall of test accuracy of {NOTABLE_FALL:g} or more between epochs.")
    return table, sentence + (" Observed stability ranks nothing by itself; the "
                              "learning-rate sweep (section `3.2-stability`) tests it.")


def render(results, plots_dir):
    """DETAILS.md's Task 3 (templates/task3.md.j2): 3.1, its paired run, 3.2 and its
    stability test."""
    custom, baseline, residual = _groups(results)
    study = _study(results)
    stability = report_stability.render(results, plots_dir)
    paired = report_paired.render(results, plots_dir)
    if not custom and not residual and not study and not stability and not paired:
        return None

    def imgs(paths, prefix=""):  # alt text: the file's name in words
        return "\n".join(image(plots_dir, results.dir, p, prefix + os.path.basename(p)[:-4]
                                .replace("_", " ")) for p in paths)

    c = r = None
    if custom or study:
        c = {"custom": CUSTOM_NET, "standard": STANDARD, "cnn": TASK1_NETS[0],
             "task1": TASK1_NETS,
             "gradcheck": _gradcheck_table(study) if study else None,
             "layers": _layer_table(study, custom) if study else []}
        if custom:
            c.update(epochs=len(custom[next(iter(custom))][0]["history"]),
                     models=_custom_model_table(custom, baseline),
                     late=_late_movement_sentence(custom, baseline),
                     scalars=_scalar_sentences(custom), swaps=accuracy_table(custom),
                     plots=imgs([f"{CUSTOM}/test_acc.png", f"{CUSTOM}/train_loss.png"], "custom "),
                     overfitting=overfitting_sentences(custom),
                     overfitting_plot=imgs([f"{CUSTOM}/overfitting.png"], "custom layers "))
    if residual:
        built = {k: v for k, v in residual.items() if not k.endswith("_matched")}
        matched = {k: v for k, v in residual.items() if k.endswith("_matched")}

        def group(groups, kind, budget=None):
            table, events = _stability(groups)
            return {"table": _residual_table(groups, budget), "ranking": _ranking_sentence(groups),
                    "stability": table, "events": events, "budget": budget,
                    "plots": imgs([f"{RESIDUAL}/{kind}_{k}.png" for k in
                                   ("loss_trace", "grad_norm_trace", "test_acc", "train_loss")])}
        r = {"depth": _depth_sentence(residual), "full": full_profile(built),
             "selection": selection_block(
                 results.section(RESIDUAL_RECIPE), built.get(role("3.2", "bottleneck"), []),
                 not_applied=("this search ran for the Bottleneck alone (after its as-built test "
                              "accuracy missed an 0.80 target), so applying it would compare the "
                              "block types at different depths; all three stay at one block per "
                              "stage, and this table is a study of the Bottleneck's depth.")),
             "built": group(built, "as_built") if built else None,
             "matched": group(matched, "matched", next(iter(matched.values()))[0]["spec"][
                 "meta"]["param_budget"]) if matched else None,
             "overfitting": overfitting_sentences(residual),
             "overfitting_plots": imgs([f"{RESIDUAL}/{k}_overfitting.png" for k in
                                        ("as_built", "matched") if k in _kinds(residual)])}
    return words.render("task3.md.j2", c=c, r=r, paired=join(paired or []),
                        stability=join(stability or []),
                        environment="\n".join(environment_lines(
                            [x for g in (custom, residual) for runs in g.values()
                             for x in runs]))).strip()
