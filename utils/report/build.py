"""REPORT.md and DETAILS.md, assembled from every task's section: the one module that knows
them all.

Each task contributes a `render(results, plots_dir[, rows])` that returns its part of DETAILS.md as
markdown (from its template), or None when none of its runs has finished, where `results` is the
results table (utils/report/table.py), read once per build; the section modules import only
building blocks (utils/report/common.py, words.py), never this module, so the imports flow one
way.
"""
import glob
import os

from utils.report import (answers, calibration, compute, findings, plotting, superseded,
                          task1, task2, task3, verdicts, why)
from utils.report.departures import departures
from utils.results import write_text_atomic
from utils.sections import SECTIONS, TASK1, TASK2, TASK3
from utils.report.table import Results

DETAILS_FILE = "DETAILS.md"
DRAWERS = {TASK1: lambda results, plots_dir, rows: task1.draw(results, plots_dir)
           + why.draw(results, plots_dir, rows),
           TASK2: lambda results, plots_dir, rows: task2.draw(results, plots_dir),
           TASK3: task3.draw}


def build(script, results_dir, plots_dir, full_dir=None):
    """What a script run ends with: its task's plots and the whole REPORT.md, from one read of
    the results folder (utils/report/table.py). Returns the report's path."""
    results = Results(results_dir)
    rows = verdicts.comparisons(results)  # once: the plots and both files share them
    remove_stale_plots(script, plots_dir, draw_plots(script, results, plots_dir, rows))
    return write_report(results, plots_dir, Results(full_dir) if full_dir else None, rows)


def remove_stale_plots(script, plots_dir, written):
    """Delete the PNGs in a script's plot folders that this drawing did not write (a model that
    left a section, a renamed plot): what the folder shows is what the results draw. Returns
    the paths removed."""
    keep = {os.path.realpath(p) for p in written if p}
    removed = []
    for folder in sorted({s.plots for s in SECTIONS if s.script == script}):
        for path in sorted(glob.glob(os.path.join(plots_dir, folder, "*.png"))):
            if os.path.realpath(path) not in keep:
                os.remove(path)
                removed.append(path)
    if removed:
        print(f"removed {len(removed)} plot(s) no result draws any more: "
              + ", ".join(os.path.basename(p) for p in removed[:5])
              + (" …" if len(removed) > 5 else ""))
    return removed


def draw_plots(script, results, plots_dir, rows):
    """Redraw the plots of one task script's sections (rows: the report's comparisons);
    returns the paths written."""
    return DRAWERS[script](results, plots_dir, rows)


def missing_models(results):
    """{section key: [model]} of the models a section declares that have no usable result while
    others of that section have some (a model whose every file was bad or removed)."""
    out = {}
    for section in SECTIONS:
        runs = results.section(section.folder)
        names = {r["name"] for r in runs}
        absent = [name for name in section.order if name not in names]
        if runs and absent:
            out[section.key] = absent
    return out


def write_report(results, plots_dir, full=None, rows=None):
    """REPORT.md (the answers, utils/report/answers.py) and DETAILS.md (every section in full:
    the tables and plots behind the answers, method and statistics); returns REPORT.md's
    path."""
    rows = verdicts.comparisons(results) if rows is None else rows
    # a reduced profile's comparisons beside the full study's (None: no such study given)
    full_rows = verdicts.comparisons(full) if full else None
    plotting.comparisons_figure(rows, os.path.join(plots_dir, answers.FIGURE))
    compute.draw(results, plots_dir)
    calibration.draw(results, plots_dir)
    parts = [findings.render(results, rows, full_rows), compute.render(results, plots_dir),
             task1.render(results, plots_dir), why.render(results, plots_dir, rows),
             task2.render(results, plots_dir), task3.render(results, plots_dir, rows),
             departures(results), calibration.render(results, plots_dir),
             superseded.render(results)]
    parts = [p for p in parts if p]
    missing = missing_models(results)
    missing_text = ("**Missing** (declared, but without a usable result: not trained yet, or "
                    "each of its files skipped with a warning naming it; left out of every "
                    "table): " + "; ".join(f"{key} {', '.join(names)}"
                                           for key, names in missing.items()) + "."
                    if missing and parts else "")
    path = os.path.join(results.dir, "REPORT.md")
    report = (answers.render(results, rows, plots_dir, missing_text, full_rows) if parts else
              "# CNN versus fully connected networks: what we found\n\nNo run has finished yet.\n")
    write_text_atomic(path, report)
    write_text_atomic(os.path.join(results.dir, DETAILS_FILE),
                      "# The tables and plots behind REPORT.md\n\n"
                      f"Generated with the report from the result files in "
                      f"`{os.path.basename(os.path.normpath(results.dir))}/` "
                      "(`utils/report/build.py` and the section modules it assembles). "
                      "Accuracies are at the last epoch.\n\n"
                      + "\n\n".join(parts) + "\n")
    return path
