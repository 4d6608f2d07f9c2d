"""Section 1.3, why convolution wins: its numbers (one dict, from the results and the report's
comparisons), its words (templates/why.md) and its figure. The nets are read by the role the
registry gives them (utils/sections.py WHY_ROLES), never by a name typed here."""
import os
import string

from utils.markdown import md_table
from utils.report import plotting
from utils.report.common import count, fmt_int, image, interval_text, mean_std
from utils.report.parts import join
from utils.report.runs import final, mean
from utils.report.verdicts import section_groups
from utils.reference import LITERATURE
from utils.sections import (BY_KEY, DATA_FRACTIONS, WHY_DATA, WHY_PERMUTED, WHY_ROLES,
                            data_fraction, permuted)

SECTION = BY_KEY["1.3"]
FIGURE = f"{SECTION.plots}/why_convolution_wins.png"
TEMPLATE = os.path.join(os.path.dirname(__file__), "templates", "why.md")
NAMES = WHY_ROLES


def _row(rows, a, b, measure="test_acc"):
    return next((c for c in rows if c["section"] == SECTION.key and c["a"] == a
                 and c["b"] == b and c.get("measure", "test_acc") == measure), None)


def _gap_row(rows):
    """The 1.1 comparison of the CNN with the FC net (the gap 1.3 explains)."""
    return next((c for c in rows if c["section"] == "1.1" and c["a"] == NAMES["cnn"]
                 and c["b"] == NAMES["fc"]), None)


def numbers(results, rows):
    """Everything the section states, as numbers: per net its natural and permuted accuracy,
    shift curve and size; the data curve; and the comparisons (rows of verdicts.comparisons,
    with Holm) that carry each claim. None before any 1.3 run has finished."""
    groups = section_groups(results, SECTION)
    if not any(r for r in results.section(SECTION.folder)):
        return None
    nets = {}
    for name, runs in groups.items():
        shifted = [r["translation"] for r in runs if r.get("translation")]
        nets[name] = {"acc": mean(final(runs, "test_acc")), "accs": final(runs, "test_acc"),
                      "seeds": len(runs), "params": runs[0]["params"],
                      "train_size": runs[0]["train_size"],
                      # over the seeds that recorded the translation test
                      "shift_curve": [mean(v) for v in zip(*(t["acc"] for t in shifted))]
                      if shifted else None, "shift_seeds": len(shifted),
                      "shift_pixels": shifted[0]["pixels"] if shifted else None}
    data = []
    for pct in (*DATA_FRACTIONS, 100):
        point = {"pct": pct}
        for role in WHY_DATA:
            name = NAMES[role] if pct == 100 else data_fraction(NAMES[role], pct)
            point[role] = nets.get(name)
        point["gap"] = (_gap_row(rows) if pct == 100 else
                        _row(rows, data_fraction(NAMES["cnn"], pct),
                             data_fraction(NAMES["fc"], pct)))
        data.append(point)
    return {
        "nets": nets,
        "pixels": next(r["input_shape"][-1] * r["input_shape"][-2]
                       for r in results.section(SECTION.folder)),
        "seeds": sorted({n["seeds"] for n in nets.values()}),
        "permutation": {role: _row(rows, permuted(NAMES[role]), NAMES[role])
                        for role in WHY_PERMUTED},
        "gap_natural": _gap_row(rows),
        "gap_permuted": _permuted_gap(groups),
        "locality": _row(rows, NAMES["local"], NAMES["fc"]),
        "sharing": _row(rows, NAMES["cnn"], NAMES["local"]),
        "matched": _row(rows, NAMES["cnn"], NAMES["fc_matched"]),
        "shift": {key: _row(rows, a, b, "shifted") for key, (a, b) in {
            "learned": (NAMES["fc_shift_aug"], NAMES["fc"]),
            "built_in": (NAMES["cnn"], NAMES["fc"]),
            "built_vs_learned": (NAMES["cnn"], NAMES["fc_shift_aug"])}.items()},
        "data": data,
    }


def _permuted_gap(groups):
    """The CNN − FC difference on permuted images (mean over the seeds both ran), or None."""
    a, b = groups.get(permuted(NAMES["cnn"])), groups.get(permuted(NAMES["fc"]))
    if not a or not b:
        return None
    return mean(final(a, "test_acc")) - mean(final(b, "test_acc"))


# --- words ------------------------------------------------------------------------------------

def said(c, digits=4):
    """'+0.0084 [+0.0071, +0.0096], survives Holm' (or 'unresolved'), or 'not run yet'."""
    if c is None:
        return "not run yet"
    if c.get("too_few"):
        return f"{c['difference']:+.{digits}f} (too few seeds for an interval)"
    verdict = ("survives Holm" if c["resolved_holm"] else
               "resolved alone, not after Holm" if c["resolved"] else "unresolved")
    return f"{interval_text(c['difference'], c['low'], c['high'], digits=digits)}, {verdict}"


def _permutation_text(n):
    parts = [f"{NAMES[role]} {said(c)}" for role, c in n["permutation"].items() if c]
    if not parts:
        return "Not run yet."
    return "Permuted − natural test accuracy: " + "; ".join(parts) + "."


def _gap_text(n):
    natural, shuffled = n["gap_natural"], n["gap_permuted"]
    if natural is None or shuffled is None:
        return ""
    return (f"The {NAMES['cnn']} − {NAMES['fc']} difference is {natural['difference']:+.4f} on "
            f"natural images and {shuffled:+.4f} on permuted ones.")


def _local_text(n):
    loc, share, gap = n["locality"], n["sharing"], n["gap_natural"]
    if loc is None or share is None:
        return "Not run yet."
    local = n["nets"][NAMES["local"]]
    text = (f"{NAMES['local']} has {NAMES['cnn']}'s layout with a filter of its own at every "
            f"position ({fmt_int(local['params'])} parameters against "
            f"{fmt_int(n['nets'][NAMES['cnn']]['params'])}). Locality, {NAMES['local']} − "
            f"{NAMES['fc']}: {said(loc)}; weight sharing, {NAMES['cnn']} − {NAMES['local']}: "
            f"{said(share)}.")
    step = loc["difference"] + share["difference"]  # FC -> CNN through the local net
    if gap is not None and step > 0:
        text += (f" Of the {step:+.4f} from {NAMES['fc']} to {NAMES['cnn']} along that path, "
                 f"locality accounts for {loc['difference'] / step:.0%} and sharing for "
                 f"{share['difference'] / step:.0%} (means over the shared seeds; the "
                 f"intervals above say how sure).")
    return text


def _shift_text(n):
    nets = n["nets"]
    curves = [(name, nets[name]["shift_curve"]) for name in
              (NAMES["fc"], NAMES["fc_shift_aug"], NAMES["cnn"], NAMES["resnet"])
              if name in nets and nets[name]["shift_curve"]]
    if not curves:
        return "Not run yet (the 1.1 runs record it since the translation test was added)."
    pixels = nets[curves[0][0]]["shift_pixels"]
    text = (f"Test images moved by 1–{pixels[-1]} px (up, down, left, right; zero fill), mean "
            "accuracy over those shifts: "
            + ", ".join(f"{name} {mean(c[1:]):.4f}" for name, c in curves))
    rows = n["shift"]
    claims = [f"{what}, {NAMES[a]} − {NAMES[b]}: {said(rows[key])}" for key, what, a, b in (
        ("learned", "Invariance learned from shifted training images", "fc_shift_aug", "fc"),
        ("built_in", "built in", "cnn", "fc"),
        ("built_vs_learned", "built in against learned", "cnn", "fc_shift_aug"))
        if rows[key] is not None]
    return text + "." + (" " + "; ".join(claims) + "." if claims else "")


def _data_text(n):
    points = [p for p in n["data"] if p["gap"] is not None and all(p[r] for r in WHY_DATA)]
    if not points:
        return "Not run yet."
    steps = ("Every fraction trains the whole split's number of steps (each epoch draws as "
             "many images as the whole split holds), tested on all test images. ")
    return steps + f"{NAMES['cnn']} − {NAMES['fc']} by training images: " + "; ".join(
        f"{fmt_int(p['cnn']['train_size'])} ({p['pct']} %) {said(p['gap'])}" for p in points) + "."


def _matched_text(n):
    c = n["matched"]
    if c is None:
        return "Not run yet."
    fc = n["nets"][NAMES["fc_matched"]]
    return (f"{NAMES['fc_matched']} is {NAMES['fc']} narrowed to {NAMES['cnn']}'s size "
            f"({fmt_int(fc['params'])} parameters against {fmt_int(c['params_a'])}): "
            f"{NAMES['cnn']} − {NAMES['fc_matched']} {said(c)}.")


def _literature_text(n):
    """The published errors of utils/reference.py LITERATURE, by paper, then ours beside them."""
    by_source = {}
    for entry in LITERATURE:
        how = " trained on distorted images" if entry["training"] == "distorted" else ""
        by_source.setdefault(entry["source"], []).append(
            f"{entry['net']}{how} {entry['test_error_pct']:g} %")
    text = ("Published test errors on MNIST, for reference (not ours): "
            + "; ".join(f"{source}: {', '.join(items)}" for source, items in by_source.items()))
    nets = n["nets"]
    ours = [NAMES[role] for role in ("fc", "fc_shift_aug", "cnn") if NAMES[role] in nets]
    if ours:
        text += ("; ours: " + ", ".join(f"{name} {1 - nets[name]['acc']:.2%}".replace("%", " %")
                                         for name in ours))
    return text + "."


def _seeds_text(n):
    seeds = n["seeds"]
    return count(seeds[0], "seed") + " a net" if len(seeds) == 1 else \
        f"{seeds[0]}–{seeds[-1]} seeds a net"


def _intervals_text(rows):
    """How this section's intervals were computed, from the comparisons themselves."""
    over = sorted({c["over"] for c in rows if c["section"] == SECTION.key})
    return ("Intervals are over " + " or ".join(over) if over else "Intervals")


def _runs_table(n):
    rows = []
    for name, net in n["nets"].items():
        curve = net["shift_curve"]
        rows.append([name, net["seeds"], fmt_int(net["params"]), fmt_int(net["train_size"]),
                     mean_std(net["accs"], with_n=False),
                     f"{mean(curve[1:]):.4f}" if curve else "not recorded"])
    return md_table(["net", "seeds", "params", "training images", "test acc",
                     "mean acc shifted 1–6 px"], rows)


def render(results, plots_dir, rows):
    n = numbers(results, rows)
    if n is None:
        return None
    with open(TEMPLATE, encoding="utf-8") as f:
        template = string.Template(f.read())
    text = template.substitute(
        seeds_text=_seeds_text(n), intervals_text=_intervals_text(rows),
        pixels=fmt_int(n["pixels"]), permutation_text=_permutation_text(n), gap_text=_gap_text(n),
        local_text=_local_text(n), shift_text=_shift_text(n), data_text=_data_text(n),
        matched_text=_matched_text(n), literature_text=_literature_text(n),
        figure=image(plots_dir, results.dir, FIGURE, "why convolution wins: four panels"))
    heading, body = text.split("\n", 1)
    return join([heading, body.strip(),
                  *["**Every net of the section** (1.1's nets are its natural-image "
                          "baselines):", _runs_table(n)]])


def draw(results, plots_dir, rows=None):
    from utils.report.verdicts import comparisons
    n = numbers(results, comparisons(results) if rows is None else rows)
    if n is None:
        return []
    return [plotting.why_panels(n, NAMES, os.path.join(plots_dir, FIGURE))]
