"""Section 1.3, why convolution wins: its numbers (one dict, from the results and the report's
comparisons, read by REPORT.md's answer, DETAILS.md's section and the figure alike), its words
(templates/why.md.j2) and its figure. The nets are read by the role the registry gives them
(utils/sections.py WHY_ROLES), never by a name typed here."""
import os

from utils.report import plotting, words
from utils.report.common import environment_lines, fmt_int, image, mean_std, table
from utils.report.runs import final, mean
from utils.report.verdicts import section_groups
from utils.reference import LITERATURE
from utils.sections import (BY_KEY, DATA_FRACTIONS, WHY_DATA, WHY_PERMUTED, WHY_ROLES,
                            data_fraction, permuted)

SECTION = BY_KEY["1.3"]
FIGURE = f"{SECTION.plots}/why_convolution_wins.png"
NAMES = WHY_ROLES
SHIFT_TESTED = ("fc", "fc_shift_aug", "cnn", "resnet")  # the nets the translation test reports


def _net(runs):
    shifted = [r["translation"] for r in runs if r.get("translation")]
    return {"acc": mean(final(runs, "test_acc")), "accs": final(runs, "test_acc"),
            "seeds": len(runs), "params": runs[0]["params"], "train_size": runs[0]["train_size"],
            # the largest shift of the training images (0: none), beside the shifts tested
            "shift_augment": runs[0]["spec"].get("shift_augment", 0),
            # over the seeds that recorded the translation test
            "shift_curve": [mean(v) for v in zip(*(t["acc"] for t in shifted))]
            if shifted else None, "shift_seeds": len(shifted),
            "shift_pixels": shifted[0]["pixels"] if shifted else None}


def numbers(results, rows):
    """Everything the section states: per net its natural and permuted accuracy, shift curve
    and size; the data curve; and the comparisons (rows of verdicts.comparisons, with Holm, as
    words.claim states them) that carry each claim. None before any 1.3 run has finished."""
    own = results.section(SECTION.folder)
    if not own:
        return None
    groups = section_groups(results, SECTION)
    nets = {name: _net(runs) for name, runs in groups.items()}

    def claim(a, b, measure="test_acc", section=SECTION.key):
        return words.claim(next((c for c in rows if c["section"] == section and c["a"] == a
                                 and c["b"] == b and c.get("measure", "test_acc") == measure),
                                None))
    # the 1.1 comparison of the CNN with the FC net: the gap 1.3 explains
    gap_natural = claim(NAMES["cnn"], NAMES["fc"], section="1.1")
    data = [{"pct": pct, **{role: nets.get(NAMES[role] if pct == 100 else
                                           data_fraction(NAMES[role], pct)) for role in WHY_DATA},
             "gap": gap_natural if pct == 100 else claim(data_fraction(NAMES["cnn"], pct),
                                                         data_fraction(NAMES["fc"], pct))}
            for pct in (*DATA_FRACTIONS, 100)]
    shifted = {NAMES[r]: nets[NAMES[r]] for r in SHIFT_TESTED
               if NAMES[r] in nets and nets[NAMES[r]]["shift_curve"]}
    cnn_p, fc_p = (groups.get(permuted(NAMES[r])) for r in ("cnn", "fc"))
    return {
        "names": NAMES, "nets": nets,
        "pixels": next(r["input_shape"][-1] * r["input_shape"][-2]
                       for r in own),
        "test_size": own[0]["test_size"],
        "seeds": sorted({n["seeds"] for n in nets.values()}),
        "over": sorted({c["over"] for c in rows if c["section"] == SECTION.key}),
        "permutation": {role: claim(permuted(NAMES[role]), NAMES[role]) for role in WHY_PERMUTED},
        "gap_natural": gap_natural,
        # the CNN − FC difference on permuted images (means over the seeds each ran)
        "gap_permuted": mean(final(cnn_p, "test_acc")) - mean(final(fc_p, "test_acc"))
        if cnn_p and fc_p else None,
        "locality": claim(NAMES["local"], NAMES["fc"]),
        "sharing": claim(NAMES["cnn"], NAMES["local"]),
        "matched": claim(NAMES["cnn"], NAMES["fc_matched"]),
        "shift": {key: claim(a, b, "shifted") for key, (a, b) in {
            "learned": (NAMES["fc_shift_aug"], NAMES["fc"]),
            "built_in": (NAMES["cnn"], NAMES["fc"]),
            "built_vs_learned": (NAMES["cnn"], NAMES["fc_shift_aug"])}.items()},
        "shifted": {name: mean(net["shift_curve"][1:]) for name, net in shifted.items()},
        "shift_pixels": next(iter(shifted.values()))["shift_pixels"][-1] if shifted else None,
        "data": data,
        "gaps": [{"pct": p["pct"], "images": p["cnn"]["train_size"], "gap": p["gap"]}
                 for p in data if p["gap"] is not None and all(p[r] for r in WHY_DATA)],
        "literature": LITERATURE,
        "ours": {NAMES[r]: 1 - nets[NAMES[r]]["acc"] for r in ("fc", "fc_shift_aug", "cnn")
                 if NAMES[r] in nets}}


def render(results, plots_dir, rows):
    n = numbers(results, rows)
    if n is None:
        return None
    return words.render(
        "why.md.j2", w=n, n=NAMES, environment="\n".join(environment_lines(
            results.section(SECTION.folder))),
        figure=image(plots_dir, results.dir, FIGURE, "why convolution wins: four panels"),
        table=table(n["nets"].items(), [
            ("net", lambda nn: nn[0]), ("seeds", lambda nn: nn[1]["seeds"]),
            ("params", lambda nn: fmt_int(nn[1]["params"])),
            ("training images", lambda nn: fmt_int(nn[1]["train_size"])),
            ("test acc", lambda nn: mean_std(nn[1]["accs"], with_n=False)),
            ("mean acc shifted" + (f" 1–{n['shift_pixels']} px" if n["shift_pixels"] else ""),
             lambda nn: f"{mean(nn[1]['shift_curve'][1:]):.4f}"
             if nn[1]["shift_curve"] else "not recorded")])).strip()


def draw(results, plots_dir, rows):
    """The four-panel figure, from the report's comparisons (verdicts.comparisons)."""
    n = numbers(results, rows)
    if n is None:
        return []
    return [plotting.why_panels(n, NAMES, os.path.join(plots_dir, FIGURE))]
