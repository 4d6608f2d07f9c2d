"""REPORT.md, assembled from every task's section: the one module that knows them all.

Each task contributes a `render(results, plots_dir)` that returns its markdown, or None when
none of its runs has finished, where `results` is the results table (utils/report/table.py), read once
per build; the section modules import only building blocks
(utils/report/common.py), never this module, so the imports flow one way.
"""
import os

from utils.report import findings, summary, superseded, task1, task2, task3
from utils.report.departures import departures
from utils.results import write_text_atomic
from utils.sections import TASK1, TASK2, TASK3
from utils.report.table import Results

SECTION_RENDERERS = [task1.render, task2.render, task3.render]
DRAWERS = {TASK1: task1.draw, TASK2: task2.draw, TASK3: task3.draw}


def build(script, results_dir, plots_dir):
    """What a script run ends with: its task's plots and the whole REPORT.md, from one read of
    the results folder (utils/report/table.py). Returns the report's path."""
    results = Results(results_dir)
    draw_plots(script, results, plots_dir)
    return write_report(results, plots_dir)


def draw_plots(script, results, plots_dir):
    """Redraw the plots of one task script's sections; returns the paths written."""
    return DRAWERS[script](results, plots_dir)


def write_report(results, plots_dir):
    rows = findings.comparisons(results)
    summary.draw(rows, plots_dir)
    parts = [render(results, plots_dir) for render in SECTION_RENDERERS]
    parts = [p for p in [summary.render(results, rows, plots_dir), findings.render(results, rows),
                         *parts, departures(results), superseded.render(results)] if p]
    header = ("# CNN versus fully connected networks: the generated report\n\n"
              "Every number, table and analytic sentence below is computed from the result "
              f"files in `{os.path.basename(os.path.normpath(results.dir))}/` by "
              "`utils/report/build.py` and the section modules it assembles; rerun any task script "
              "with `--report-only` to regenerate it. Accuracies are at the last epoch (never a "
              "best epoch picked on test).\n")
    if not parts:
        parts = ["No run has finished yet."]
    path = os.path.join(results.dir, "REPORT.md")
    write_text_atomic(path, header + "\n" + "\n\n".join(parts) + "\n")
    return path
