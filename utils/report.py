"""REPORT.md, assembled from every task's section: the one module that knows them all.

Each task contributes a `render(results_dir, plots_dir)` that returns its markdown, or None when
none of its runs has finished; the section modules import only building blocks
(utils/reporting.py), never this module, so the imports flow one way.
"""
import os

from utils import findings, report_superseded, report_task1, report_task2, report_task3
from utils.departures import departures
from utils.results import write_text_atomic
from utils.sections import TASK1, TASK2, TASK3

SECTION_RENDERERS = [report_task1.render, report_task2.render, report_task3.render]
DRAWERS = {TASK1: report_task1.draw, TASK2: report_task2.draw, TASK3: report_task3.draw}


def draw_plots(script, results_dir, plots_dir):
    """Redraw the plots of one task script's sections; returns the paths written."""
    return DRAWERS[script](results_dir, plots_dir)


def write_report(results_dir, plots_dir):
    parts = [render(results_dir, plots_dir) for render in SECTION_RENDERERS]
    parts = [p for p in [findings.render(results_dir), *parts, departures(results_dir),
                         report_superseded.render(results_dir)] if p]
    header = ("# CNN versus fully connected networks: the generated report\n\n"
              "Every number, table and analytic sentence below is computed from the result "
              f"files in `{os.path.basename(os.path.normpath(results_dir))}/` by "
              "`utils/report.py` and the section modules it assembles; rerun any task script "
              "with `--report-only` to regenerate it. Accuracies are at the last epoch (never a "
              "best epoch picked on test).\n")
    if not parts:
        parts = ["No run has finished yet."]
    path = os.path.join(results_dir, "REPORT.md")
    write_text_atomic(path, header + "\n" + "\n\n".join(parts) + "\n")
    return path
