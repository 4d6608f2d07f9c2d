"""The equal-compute view: test accuracy against the arithmetic a net costs (MACs per image) and
against its training time per epoch, for the sections whose comparisons change the size of the
net with its design (2.1 kernel size, 2.2 depth, 3.2 block type). Times come from one machine
only (the one most of the section's runs used), never averaged across machines."""
import os
import statistics

from utils.report import plotting, words
from utils.report.common import by_machine, image, main_machine
from utils.report.runs import final, group_by_name
from utils.sections import BY_KEY

SECTIONS = {"2.1": "kernel size", "2.2": "depth", "3.2": "residual block"}


def figure(key):
    return f"findings/compute_{key}.png"


def points(runs, order=None):
    """Per net: MACs per image, mean test accuracy (with its seed spread) and mean seconds per
    training epoch on the section's most used machine (None where the net never ran there).
    Returns (machine, {name: point})."""
    groups = group_by_name(runs, order)
    machine = main_machine(runs)
    out = {}
    for name, same in groups.items():
        accs = final(same, "test_acc")
        timed = by_machine(same)
        # the main machine where the net ran there, else the machine most of its seeds used
        where = machine if machine in timed else max(timed, key=lambda m: len(timed[m]))
        out[name] = {"macs": same[0]["macs"], "acc": statistics.mean(accs),
                     "acc_sd": statistics.stdev(accs) if len(accs) > 1 else 0.0,
                     "seeds": len(accs), "time_machine": where,
                     "time_seeds": len(timed[where]),
                     "seed_times": (times := final(timed[where], "time_per_epoch_s")),
                     "s_per_epoch": statistics.mean(times)}
    return machine, out


def draw(results, plots_dir):
    """One figure per section: accuracy against MACs and against s/epoch (plotting.py)."""
    written = []
    for key, what in SECTIONS.items():
        runs = results.section(BY_KEY[key].folder)
        if runs:
            machine, pts = points(runs, BY_KEY[key].order)
            written.append(plotting.accuracy_against_compute(
                f"{key} {what}", machine, pts, os.path.join(plots_dir, figure(key))))
    return written


def render(results, plots_dir):
    """The figures as markdown, for the summary; '' when none of the sections has run."""
    shown = [image(plots_dir, results.dir, figure(key), f"{key} accuracy against compute")
             for key in SECTIONS if results.section(BY_KEY[key].folder)]
    if not shown:
        return ""
    return words.macro("details.md.j2", "compute", images=shown)
