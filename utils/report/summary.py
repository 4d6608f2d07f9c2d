"""The report's opening: per task, a few plain sentences of what was found, each with its number,
its interval, whether it survives the report-wide correction (Holm, verdicts.comparisons) and
what it means in test images; then the confounds a reader must keep in mind; then one figure of
every comparison. Sentences only print the numbers verdicts.comparisons computed."""
import os
import statistics

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from utils.report import compute  # noqa: E402
from utils.report.common import by_machine, comparison_name, image  # noqa: E402
from utils.report.runs import final, group_by_name  # noqa: E402
from utils.report.overfitting import trends  # noqa: E402
from utils.report.findings import interval_of  # noqa: E402
from utils.report.plotting import _save  # noqa: E402
from utils.sections import BY_KEY  # noqa: E402

FIGURE = "findings/comparisons.png"
TASKS = [("Task 1: CNN versus fully connected", ("1.1", "1.2", "1.3")),
         ("Task 2: kernel size and depth", ("2.1", "2.2")),
         ("Task 3: custom layers and residual blocks", ("3.1", "3.1-paired", "3.2"))]


def verdict_words(c):
    """'survives Holm' / 'resolved alone, not after Holm' / 'unresolved' (the report-wide
    correction)."""
    if c["resolved_holm"]:
        return "survives Holm"
    return "resolved alone, not after Holm" if c["resolved"] else "unresolved"


def in_test_images(c, n):
    """What a resolved difference means on the test set: the errors before and after, their
    ratio, and about how many of the n test images it is."""
    err_a, err_b = 1 - c["acc_a"], 1 - c["acc_b"]
    if not c["resolved"] or min(err_a, err_b) <= 0 or c.get("measure", "test_acc") != "test_acc":
        return ""
    ratio = max(err_a, err_b) / min(err_a, err_b)
    return (f": test error {err_b:.2%} → {err_a:.2%}, {ratio:.2f}× "
            f"{'fewer' if err_a < err_b else 'more'}, {abs(c['difference']) * n:,.0f} of "
            f"{n:,} images")


def sentence(c, n):
    return (f"{comparison_name(c)} {interval_of(c)} ({c['over']}; "
            f"{verdict_words(c)}){in_test_images(c, n)}.")


def _groups(results, key):
    section = BY_KEY[key]
    return group_by_name(results.section(section.folder), section.order)


def _size_confound(groups, names):
    """'params 20,138 → 104,042 → 492,010, MACs/image 5.6 M → … ' for the nets named."""
    names = [n for n in names if n in groups]
    if len(names) < 2:
        return ""
    params = " → ".join(f"{groups[n][0]['params']:,}" for n in names)
    macs = " → ".join(f"{groups[n][0]['macs'] / 1e6:.1f} M" for n in names)
    return f"{', '.join(names)}: parameters {params}, MACs per image {macs}"


def _time_ratio(groups, a, b):
    """Seconds per training epoch of a over b, from runs on one machine only, or None."""
    if a not in groups or b not in groups:
        return None
    for machine, runs_a in by_machine(groups[a]).items():
        runs_b = by_machine(groups[b]).get(machine)
        if runs_b:
            return (statistics.mean(final(runs_a, "time_per_epoch_s"))
                    / statistics.mean(final(runs_b, "time_per_epoch_s")), machine)
    return None


def confounds(results, key):
    """What a reader must keep in mind beside a section's comparisons, from the runs."""
    groups = _groups(results, key)
    if not groups:
        return ""
    if key == "1.1":
        return _size_confound(groups, ["FCNet", "SimpleCNN", "ResNetLike"])
    if key == "1.2":
        fc, res = groups.get("DeepFCNet"), groups.get("ResNetCIFAR")
        recipes = ""
        if fc and res:
            f, r = fc[0]["spec"], res[0]["spec"]
            recipes = (f"; each net trains on the recipe its own validation search chose "
                       f"(DeepFCNet {f['optimizer']} peak lr {f['lr']:g}, ResNetCIFAR "
                       f"{r['optimizer']} peak lr {r['lr']:g} with "
                       f"{r['model_kwargs'].get('blocks_per_stage', 1)} blocks per stage)")
        return _size_confound(groups, ["DeepFCNet", "ResNetCIFAR"]) + recipes
    if key == "2.1":
        widths = {n: r[0]["model_kwargs"].get("widths") for n, r in groups.items()}
        unconverged = [n for n, t in trends(groups).items() if t["lowest_loss_at_end"]]
        text = ("one parameter budget, so a larger kernel has fewer channels (first-layer "
                + ", ".join(f"{n} {w[0]}" for n, w in widths.items() if w) + ")")
        if unconverged:
            text += (f"; {len(unconverged)} of {len(groups)} nets still had their lowest test "
                     "loss at the last epoch (not converged)")
        return text
    if key == "2.2":
        return ("depth brings size: " + _size_confound(
            groups, ["ShallowCNN", "MediumCNN", "DeepCNN"]))
    if key in ("3.1", "3.1-paired"):
        t = _time_ratio(groups, "CNNWithCustomLayers", "StandardCNN")
        return (f"CNNWithCustomLayers takes {t[0]:.2g}× StandardCNN's time per epoch "
                f"(on {t[1]})") if t else ""
    if key == "3.2":
        return ("as built the blocks differ in size: " + _size_confound(
            groups, ["BasicResNet", "BottleneckResNet", "WideResNet"]))
    return ""


def render(results, rows, plots_dir):
    """The summary, or None when no comparison has both sides finished."""
    if not rows:
        return None
    survive = sum(c["resolved_holm"] for c in rows)
    lines = ["## Summary",
             f"{len(rows)} comparisons of test accuracy, each a − b at the last epoch with its "
             f"95 % interval: over **seeds** (Welch's t) where both sides ran several seeds, "
             f"over **paired seeds** (Student's t on the seed-by-seed differences) in "
             f"3.1-paired and 1.3, else over **test images** (one run a side: exact McNemar on the "
             f"images the two nets disagree on where both recorded per-image predictions, "
             f"else a normal interval for two independent accuracies; it leaves out "
             f"seed-to-seed variation, so it is the weaker evidence). "
             f"{sum(c['resolved'] for c in rows)} resolve on their own (the interval excludes "
             f"0); {survive} survive Holm's correction for all {len(rows)} (the chance of any "
             f"false resolution kept below 5 %). MACs: multiply-accumulate operations per "
             f"image in one forward pass."]
    for title, keys in TASKS:
        mine = [c for c in rows if c["section"] in keys]
        if not mine:
            continue
        lines.append(f"**{title}**")
        bullets = [f"- {c['section']} {sentence(c, _test_size(results, c['section']))}"
                   for c in mine if c["resolved"]]
        unresolved = [c for c in mine if not c["resolved"]]
        if unresolved:
            by_base = {}
            for c in unresolved:
                by_base.setdefault((c["section"], c["b"]), []).append(c["a"])
            bullets.append("- Unresolved (no difference this study can see): " + "; ".join(
                f"{section} {', '.join(names)} − {b}" for (section, b), names in by_base.items())
                + ".")
        kept = [f"- Keep in mind ({key}): {text}." for key in keys
                if (text := confounds(results, key))]
        lines.append("\n".join(bullets + kept))
    lines.append(image(plots_dir, results.dir, FIGURE, "every comparison with its interval"))
    lines.append(compute.render(results, plots_dir))
    return "\n\n".join(x for x in lines if x)


def _test_size(results, key):
    runs = results.section(BY_KEY[key].folder)
    return runs[0]["test_size"] if runs else 0


def draw(rows, plots_dir):
    """Every comparison as a difference with its 95 % interval: filled where it survives the
    report-wide correction, hollow where it resolves only alone, grey where unresolved. The
    x axis is linear within ±0.01 and logarithmic beyond, so 0.001 and 0.35 both show."""
    if not rows:
        return []
    fig, ax = plt.subplots(figsize=(7.6, 0.3 * len(rows) + 1.4))
    y = np.arange(len(rows))[::-1]
    for yi, c in zip(y, rows):
        if c.get("too_few"):
            ax.plot(c["difference"], yi, "x", color="0.55", ms=5)
            continue
        colour = "C0" if c["resolved_holm"] else "C1" if c["resolved"] else "0.55"
        ax.errorbar(c["difference"], yi, xerr=[[c["difference"] - c["low"]],
                                              [c["high"] - c["difference"]]],
                    fmt="o", color=colour, mfc=colour if c["resolved_holm"] else "white",
                    ms=5, capsize=2, lw=1.2)
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xscale("symlog", linthresh=0.01)
    ax.set_yticks(y, [f"{c['section']}  {comparison_name(c)}" for c in rows], fontsize=7)
    ax.set(xlabel="test accuracy difference a − b (95 % interval; symlog axis)",
           title="Every comparison of the report")
    ax.plot([], [], "o", color="C0", label="survives the report-wide correction")
    ax.plot([], [], "o", color="C1", mfc="white", label="resolved alone only")
    ax.plot([], [], "o", color="0.55", mfc="white", label="unresolved")
    if any(c.get("too_few") for c in rows):
        ax.plot([], [], "x", color="0.55", label="too few seeds for an interval")
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(alpha=0.3, axis="x", which="both")
    return [_save(fig, os.path.join(plots_dir, FIGURE))]
