"""The equal-compute view: test accuracy against the arithmetic a net costs (MACs per image) and
against its training time per epoch, for the sections whose comparisons change the size of the
net with its design (2.1 kernel size, 2.2 depth, 3.2 block type). Times come from one machine
only (the one most of the section's runs used), never averaged across machines."""
import os
import statistics

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

from utils.report.common import by_machine, count, image, main_machine  # noqa: E402
from utils.report.runs import final, group_by_name  # noqa: E402
from utils.report.plotting import _save  # noqa: E402
from utils.sections import BY_KEY  # noqa: E402

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
                     "s_per_epoch": statistics.mean(final(timed[where], "time_per_epoch_s"))}
    return machine, out


def draw(results, plots_dir):
    """One figure per section: accuracy against MACs (log scale) and against s/epoch."""
    written = []
    for key, what in SECTIONS.items():
        runs = results.section(BY_KEY[key].folder)
        if not runs:
            continue
        machine, pts = points(runs, BY_KEY[key].order)
        fig, axes = plt.subplots(1, 2, figsize=(10, 4.4))
        for ax, x, label in ((axes[0], "macs", "MACs per image, millions"),
                             (axes[1], "s_per_epoch", f"training s/epoch on {machine} "
                                                      "(hollow: another machine, named)")):
            for i, (name, p) in enumerate(pts.items()):
                timing = x == "s_per_epoch"
                elsewhere = timing and p["time_machine"] != machine
                seeds = p["time_seeds"] if timing else p["seeds"]
                label = (f"{name} ({count(seeds, 'seed')}"
                         + (f", on {p['time_machine']}" if elsewhere else "") + ")")
                ax.errorbar(p[x], p["acc"], yerr=p["acc_sd"], fmt="o", color=f"C{i % 10}",
                            mfc="white" if elsewhere else f"C{i % 10}", capsize=3, label=label)
            ax.set(xlabel=label, ylabel="test accuracy (mean ± sd over seeds)")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7, loc="best", framealpha=0.8)
        macs = [p["macs"] for p in pts.values()]
        if max(macs) > 5 * min(macs):  # a wide range (depth): log scale, major ticks labelled
            axes[0].set_xscale("log")
            axes[0].xaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
            axes[0].xaxis.set_minor_formatter(NullFormatter())
        axes[0].xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1e6:g}"))
        fig.suptitle(f"{key} {what}: accuracy against compute")
        written.append(_save(fig, os.path.join(plots_dir, figure(key))))
    return written


def render(results, plots_dir):
    """The figures as markdown, for the summary; '' when none of the sections has run."""
    shown = [image(plots_dir, results.dir, figure(key), f"{key} accuracy against compute")
             for key in SECTIONS if results.section(BY_KEY[key].folder)]
    if not shown:
        return ""
    return ("**Accuracy against compute** (2.1, 2.2, 3.2: the design changes the net's "
            "arithmetic too; times from one machine each, named on the axis):\n\n"
            + "\n".join(shown))
