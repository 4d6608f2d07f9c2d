"""Section 1.3, why convolution wins: its numbers (one dict, from the results and the report's
comparisons), its words (templates/why.md.j2) and its figure. The nets are read by the role the
registry gives them (utils/sections.py WHY_ROLES), never by a name typed here."""
import os

from utils.report import plotting, words
from utils.report.common import fmt_int, image, mean_std, table
from utils.report.runs import final, mean
from utils.report.verdicts import section_groups
from utils.reference import LITERATURE
from utils.sections import (BY_KEY, DATA_FRACTIONS, WHY_DATA, WHY_PERMUTED, WHY_ROLES,
                            data_fraction, permuted)

SECTION = BY_KEY["1.3"]
FIGURE = f"{SECTION.plots}/why_convolution_wins.png"
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


# --- words: templates/why.md.j2 ----------------------------------------------------------------

def _runs_table(n):
    return table(n["nets"].items(), [
        ("net", lambda nn: nn[0]), ("seeds", lambda nn: nn[1]["seeds"]),
        ("params", lambda nn: fmt_int(nn[1]["params"])),
        ("training images", lambda nn: fmt_int(nn[1]["train_size"])),
        ("test acc", lambda nn: mean_std(nn[1]["accs"], with_n=False)),
        ("mean acc shifted 1–6 px", lambda nn: f"{mean(nn[1]['shift_curve'][1:]):.4f}"
         if nn[1]["shift_curve"] else "not recorded")])


def render(results, plots_dir, rows):
    n = numbers(results, rows)
    if n is None:
        return None
    nets = n["nets"]
    shifted = {name: nets[name] for name in (NAMES[r] for r in ("fc", "fc_shift_aug", "cnn",
                                                                 "resnet"))
               if name in nets and nets[name]["shift_curve"]}
    return words.render(
        "why.md.j2", n=NAMES, nets=nets, seeds=n["seeds"], pixels=n["pixels"],
        over=sorted({c["over"] for c in rows if c["section"] == SECTION.key}),
        permutation={role: words.claim(c) for role, c in n["permutation"].items() if c},
        gap_natural=words.claim(n["gap_natural"]), gap_permuted=n["gap_permuted"],
        locality=words.claim(n["locality"]), sharing=words.claim(n["sharing"]),
        matched=words.claim(n["matched"]),
        shift={k: words.claim(c) for k, c in n["shift"].items()},
        shifted={name: mean(net["shift_curve"][1:]) for name, net in shifted.items()},
        shift_pixels=next(iter(shifted.values()))["shift_pixels"][-1] if shifted else None,
        data=[{"pct": p["pct"], "images": p["cnn"]["train_size"], "gap": words.claim(p["gap"])}
              for p in n["data"] if p["gap"] is not None and all(p[r] for r in WHY_DATA)],
        literature=LITERATURE,
        ours={NAMES[r]: 1 - nets[NAMES[r]]["acc"] for r in ("fc", "fc_shift_aug", "cnn")
              if NAMES[r] in nets},
        figure=image(plots_dir, results.dir, FIGURE, "why convolution wins: four panels"),
        table=_runs_table(n)).strip()


def draw(results, plots_dir, rows):
    """The four-panel figure, from the report's comparisons (verdicts.comparisons)."""
    n = numbers(results, rows)
    if n is None:
        return []
    return [plotting.why_panels(n, NAMES, os.path.join(plots_dir, FIGURE))]
