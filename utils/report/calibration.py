"""Calibration wherever it was recorded: per section and model, the expected calibration error
(15 equal-width confidence bins) of every run that recorded it, and a reliability diagram from
the per-image confidences the predictions carry (runs recorded since they do). Runs that lack
either say "not recorded", once."""
import os

import numpy as np

from utils import predictions
from utils.report import plotting, words
from utils.report.common import image, table
from utils.report.runs import final, group_by_name, mean
from utils.sections import SECTIONS

FIGURE = "findings/reliability.png"
BINS = 15


def reliability(runs):
    """(bin centres, accuracy per bin, images per bin) pooled over the runs' test images, from
    their predictions' confidence, or None where no run recorded it."""
    conf, correct = [], []
    for run in runs:
        stored = predictions.decode(run["predictions"]) if "predictions" in run else {}
        if "confidence" in stored:
            conf.append(stored["confidence"].astype(float))
            correct.append(stored["correct"])
    if not conf:
        return None
    conf, correct = np.concatenate(conf), np.concatenate(correct)
    which = np.clip((conf * BINS).astype(int), 0, BINS - 1)
    counts = np.bincount(which, minlength=BINS)
    hits = np.bincount(which, weights=correct, minlength=BINS)
    with np.errstate(invalid="ignore", divide="ignore"):
        acc = np.where(counts > 0, hits / counts, np.nan)
    return (np.arange(BINS) + 0.5) / BINS, acc, counts


def numbers(results):
    """[{section, model, seeds, ece (mean over the runs that recorded it), recorded, nll,
    reliability}] for every final or study section's models."""
    rows = []
    for section in SECTIONS:
        if section.kind == "recipe":
            continue
        for name, runs in group_by_name(results.section(section.folder), section.order).items():
            eces = [r["final"]["test_ece"] for r in runs
                    if r["final"].get("test_ece") is not None]
            rows.append({"section": section.key, "model": name, "seeds": len(runs),
                         "ece": mean(eces) if eces else None, "recorded": len(eces),
                         "nll": mean(final(runs, "test_loss")) if all(
                             r["final"]["test_loss"] is not None for r in runs) else None,
                         "reliability": reliability(runs)})
    return rows


def render(results, plots_dir):
    rows = numbers(results)
    if not rows:
        return None
    return words.macro("details.md.j2", "calibration", table=table(rows, [
        ("section", lambda r: r["section"]), ("model", lambda r: r["model"]),
        ("seeds", lambda r: r["seeds"]),
        ("test NLL", lambda r: "—" if r["nll"] is None else f"{r['nll']:.3f}"),
        ("ECE (seeds recorded)", lambda r: "not recorded" if r["ece"] is None else
         f"{r['ece']:.4f} ({r['recorded']} of {r['seeds']})")]),
        figure=image(plots_dir, results.dir, FIGURE, "reliability: accuracy against confidence")
        if any(r["reliability"] is not None for r in rows) else None,
        drawn=sum(r["reliability"] is not None for r in rows))


def draw(results, plots_dir):
    drawn = [r for r in numbers(results) if r["reliability"] is not None]
    if not drawn:
        return []
    return [plotting.reliability_diagram(drawn, os.path.join(plots_dir, FIGURE))]
