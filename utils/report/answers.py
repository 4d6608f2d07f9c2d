"""REPORT.md, the page a student reads: one plain answer per assignment item (what was found,
why, what to keep in mind), the figure of every comparison, then per item the one table that
answers it. Everything else is DETAILS.md's (utils/report/build.py).

Numbers first: `numbers` builds one dict per item from the registry (utils/sections.py: its
nets, its comparisons) and the report's comparisons (verdicts.comparisons, Holm across the
report); the words come from templates/report.md.j2, never from here, and no net is named in
this module: each comes from the registry or the results."""
import os

from utils.report import compute, findings, overfitting, superseded, why, words
from utils.report.departures import applicable
from utils.report.common import fmt_int, fmt_macs, image, mean_std, reference_cell, table
from utils.report.runs import final, gap_of, group_by_name, mean
from utils.report.stability_rates import TRAINED_FRACTION, by_block, rate_sweep
from utils.report.sweep import seeds_by_config, sweep_verdicts
from utils.sections import BY_KEY, DEPARTURES, ROLES, folder, role

# The assignment's items in the order the page answers them; a study section folds into the item
# it extends (the paired seeds into 3.1, the depth sweep into 2.2, the stability test into 3.2).
ITEMS = ("1.1", "1.2", "1.3", "2.1", "2.2", "3.1", "3.2")
EXTENDS = {"3.1": "3.1-paired", "2.2": "2.2-sweep", "3.2": "3.2-stability"}
FIGURE = "findings/comparisons.png"  # plotting.comparisons_figure


def _net(name, runs, reference):
    accs = final(runs, "test_acc")
    spec = runs[0]["spec"]
    ref = reference.get(name, {})

    def unlike(key, ours):  # the reference's value where it records one other than ours
        return None if ref.get(key) in (None, ours) else ref[key]
    return {"name": name, "seeds": len(runs), "params": runs[0]["params"],
            "macs": runs[0].get("macs"), "acc": mean(accs), "accs": accs,
            "error": 1 - mean(accs), "gap": mean([gap_of(r) for r in runs]),
            "reference": ref.get("test_acc"),
            # the epochs the reference trained and the size of its net, where they differ
            "reference_epochs": unlike("epochs", runs[0]["hyperparameters"]["epochs"]),
            "reference_params": unlike("params", runs[0]["params"]),
            "recipe": f"{spec['optimizer']} peak lr {spec['lr']:g}",
            "widths": (runs[0].get("model_kwargs") or {}).get("widths"),
            "conv_layers": sum(p["type"].startswith("Conv") for p in runs[0]["param_breakdown"])
            if runs[0].get("param_breakdown") else None,
            "profile": runs[0]["profile"]}


def _item(results, rows, key):
    section = BY_KEY[key]
    # the section's own runs, in the registry's order (a name it does not declare comes last)
    groups = group_by_name(results.section(section.folder), section.order)
    if not groups:
        return None
    nets = [_net(name, runs, section.reference) for name, runs in groups.items()]
    extra = EXTENDS.get(key)
    claims = [words.claim(c) for c in rows if c["section"] == key]
    extra_claims = [words.claim(c) for c in rows if c["section"] == extra]
    # The answer speaks of the nets its comparisons name; the table shows every net, so a net
    # added without a comparison joins the table and changes no sentence about the others.
    named = {n for c in section.comparisons for n in c[:2]}
    spoken = [n for n in nets if n["name"] in named] or nets
    recipes = {}
    for n in spoken:
        recipes.setdefault(n["recipe"], []).append(n["name"])
    test_size = next(iter(groups.values()))[0]["test_size"]
    folded = _extra(results, extra)
    # the largest difference the answer states, in test images: its own and the folded study's
    changes = [(abs(c["difference"]) * size, size) for cs, size in
               ((claims, test_size), (extra_claims, folded and folded["test_size"])) for c in cs]
    by_size = sorted(spoken, key=lambda n: n["params"])
    best = max(spoken, key=lambda n: n["acc"])
    trend = overfitting.trends({n["name"]: groups[n["name"]] for n in spoken})
    # Only at a constant rate does a lowest test loss at the last epoch say a net was still
    # improving: an annealed schedule puts its smallest steps there anyway.
    constant = [n for n in trend if groups[n][0]["hyperparameters"].get("schedule") == "constant"]
    # the best net's comparisons, each as (the other net, its claim)
    against_best = [(c["b"] if c["a"] == best["name"] else c["a"], c) for c in claims
                    if best["name"] in (c["a"], c["b"])]
    item = {"key": key, "label": section.label, "question": section.question, "nets": nets,
            "spoken": spoken, "claims": claims, "extra_claims": extra_claims,
            # the plain lead: whom the best net beats (after Holm) and whom it cannot be told from
            "beats": [other for other, c in against_best if c["holm"]],
            "ties": [other for other, c in against_best if not c["holm"]],
            # of those, the ones that resolve alone: told apart before the correction, not after
            "ties_alone": [other for other, c in against_best if c["alone"]],
            "extra_label": BY_KEY[extra].label if extra else "",
            "largest_change": max(changes, default=(0, test_size)), "best": best,
            "smallest": by_size[0], "largest": by_size[-1],
            "cheapest": min(spoken, key=lambda n: n["macs"] or 0),
            "costliest": max(spoken, key=lambda n: n["macs"] or 0),
            "recipes": recipes,
            "constant_rate": constant,
            "still_improving": [n for n in constant if trend[n]["lowest_loss_at_end"]],
            "widening": [n for n, t in trend.items() if t["verdict"] == "widening"],
            "trend": trend, "epochs": next(iter(groups.values()))[0]["hyperparameters"]["epochs"],
            "roles": {part: role(key, part) for part in ROLES.get(key, {})},
            "times": _times(results, section, spoken), "extra": folded,
            # whether a search behind one of its departures (DETAILS.md) ran in these results
            "searched": any(results.section(folder(d["recipe"])) for d in DEPARTURES
                            if d["net"][0] == key and "recipe" in d)}
    study = results.study(section.folder)
    item["gradcheck"] = (sum(g["passed"] for g in study["gradcheck"]),
                         len(study["gradcheck"])) if study and study.get("gradcheck") else None
    if key == "2.2":
        item["sweep"] = _sweep(results)
    if key == "3.2":
        item["stability"] = _stability(results)
    return item


def _times(results, section, spoken):
    """Seconds per training epoch of the nets spoken of, on the section's most used machine
    (compute.points), with that machine and how many of each net's seeds ran there; the nets
    timed only elsewhere are named, never compared with these."""
    machine, points = compute.points(results.section(section.folder), section.order)
    spoken = {name: p for name, p in points.items() if name in {n["name"] for n in spoken}}
    here = {name: p for name, p in spoken.items() if p["time_machine"] == machine}
    # how far one net's seeds differ on that machine: what a difference of means is worth
    # (a run that diverged in its first epoch records 0 s: it took no comparable time)
    ratios = {name: max(t) / min(t) for name, p in here.items()
              if len(t := [s for s in p["seed_times"] if s > 0]) > 1 and max(t) > min(t)}
    return {"machine": machine, "nets": {name: p["s_per_epoch"] for name, p in here.items()},
            "seeds": {name: (p["time_seeds"], p["seeds"]) for name, p in here.items()},
            "elsewhere": [name for name in spoken if name not in here],
            "spread": max(ratios.items(), key=lambda nr: nr[1]) if ratios else None}


def _extra(results, key):
    """The study section an item folds in, as its runs describe it: seeds a net, epochs, the
    schedule, training and test images."""
    runs = results.section(BY_KEY[key].folder) if key else []
    if not runs:
        return None
    h = runs[0]["hyperparameters"]
    return {"seeds": sorted({len(g) for g in group_by_name(runs).values()}), "epochs": h["epochs"],
            "schedule": h["schedule"], "train_size": runs[0]["train_size"],
            "test_size": runs[0]["test_size"]}


def _sweep(results):
    """The depth sweep's headline (sweep.sweep_verdicts): going deeper to its deepest depth
    with BatchNorm, per family, and the skips there; or None."""
    runs = results.section(BY_KEY["2.2-sweep"].folder)
    v = sweep_verdicts(runs) if runs else None
    if not v or not v["steps"]:
        return None
    return {**v, "steps": {("residual" if d["residual"] else "plain"): d for d in v["steps"]},
            "epochs": runs[0]["hyperparameters"]["epochs"],
            "depths": sorted({d for d, _, _ in seeds_by_config(runs)}),
            "over": sorted({d["over"] for d in v["depth_effect"] + v["skip_effect"]})}


def _stability(results):
    """Per block the highest peak learning rate at which every seed trained and its seeds, with
    what "trained" means and the runs' length; or None."""
    runs = results.section(BY_KEY["3.2-stability"].folder)
    if not runs:
        return None
    sweep = rate_sweep(by_block(runs))
    return {"blocks": {block: (v["highest_stable_lr"], v["edge_seeds"])
                       for block, v in sweep["verdicts"].items()},
            "fraction": TRAINED_FRACTION, "epochs": runs[0]["hyperparameters"]["epochs"],
            "train_size": runs[0]["train_size"], "lowest": sweep["lrs"][0]}


def numbers(results, rows, full_rows=None):
    """Everything the page states: per item its dict (None for an item without runs), the
    report's comparison counts, the 1.3 numbers (why.numbers) and, for a reduced profile, its
    agreement with the full study."""
    return {"items": [i for key in ITEMS if (i := _item(results, rows, key))],
            "why": why.numbers(results, rows),
            "comparisons": len(rows), "resolved": sum(c["resolved_holm"] for c in rows),
            # what DETAILS.md discloses, counted on the page that a reader opens first
            "departures": len(applicable(results)),
            "replaced": len(superseded.replaced(results)[0]),
            "profile_note": words.macro("findings.md.j2", "profile_note",
                                        p=findings.profile(results)),
            "agreement": words.macro("findings.md.j2", "agreement_note", a=findings.agreement(
                rows, full_rows)) if full_rows is not None else "",
            "folder": _shown(results.dir)}


def _shown(folder):
    """The results folder as a reader finds it: relative to here, else its name."""
    rel = os.path.relpath(folder)
    return rel if not rel.startswith("..") else os.path.basename(os.path.normpath(folder))


def item_table(item):
    """The one table of an item: its nets with size, cost and accuracy (the reference's test
    accuracy beside ours in the full profile)."""
    reference = any(n["reference"] is not None for n in item["nets"]) and \
        all(n["profile"] == "full" for n in item["nets"])
    return table(item["nets"], [
        ("net", lambda n: n["name"]), ("seeds", lambda n: n["seeds"]),
        ("params", lambda n: fmt_int(n["params"])),
        ("MACs/image", lambda n: fmt_macs(n["macs"]) if n["macs"] else "—"),
        ("test acc (mean ± sd)", lambda n: mean_std(n["accs"], with_n=False)),
        ("train − test acc", lambda n: f"{n['gap']:+.4f}"),
        ("reference test acc", lambda n: reference_cell(
            n["reference"], n["reference_epochs"], n["reference_params"])) if reference else None])


def readme_block(results, rows):
    """README's opening: the plain lead of every answer."""
    return words.render("readme_answers.md.j2", **numbers(results, rows)).strip()


def render(results, rows, plots_dir, missing="", full_rows=None):
    """REPORT.md's text (full_rows: the full study's comparisons, for a reduced profile)."""
    n = numbers(results, rows, full_rows)
    return words.render(
        "report.md.j2", **n, missing=missing, table=item_table, figure=image(plots_dir, results.dir, FIGURE,
                                           "every comparison with its interval"),
        why_figure=image(plots_dir, results.dir, why.FIGURE, "why convolution wins"))
