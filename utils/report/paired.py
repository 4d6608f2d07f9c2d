"""3.1 with power (section "3.1-paired"): every net trained on the same seeds under the cosine
schedule, each swap's effect measured as a paired difference from the standard net; the words
in templates/studies.md.j2."""
import os

from utils.report import plotting, words
from utils.report.common import SEEDS, count, image, interval_text, nets, spread, table
from utils.report.runs import group_by_name
from utils.sections import BY_KEY, folder, order
from utils.report.stats import MIN_SEEDS
from utils.report.verdicts import PAIRED, comparisons, paired_effects

CUSTOM_PAIRED = folder("3.1-paired")
PLOTS = BY_KEY["3.1-paired"].plots
ORDER = order("3.1-paired")  # then the swaps, alphabetically
BASELINE = ORDER[0]


def draw(results, plots_dir, rows):
    """The section's rows of the report's comparisons (rows), drawn as the comparisons figure
    draws every row: the verdict is Holm's across the report, here as there."""
    return plotting.comparisons_figure(
        [c for c in rows if c["section"] == PAIRED],
        os.path.join(plots_dir, PLOTS, "paired_effects.png"),
        f"3.1 paired: each net − {BASELINE}, on the same seeds")


def holm_kept(rows):
    """(the nets whose paired comparison survives the report-wide Holm correction, how many
    comparisons had an interval, how many of those resolve alone) from verdicts.comparisons'
    rows; None without any."""
    paired = [c for c in rows if c["section"] == PAIRED and not c.get("too_few")]
    return ([c["a"] for c in paired if c["resolved_holm"]], len(paired),
            sum(bool(c["resolved"]) for c in paired)) if paired else None


def _cells(e, row, base=False):
    """The difference with its interval (the report's row for it: seed by seed, or over the
    paired test images under MIN_SEEDS seeds) and its verdict alone and after Holm."""
    def verdict(yes):
        return "resolved" if yes else "unresolved"
    if e is None:  # the baseline itself, or a net with no seed in common with it
        return ["baseline" if base else "no seed in common with the baseline", "", ""]
    if row is None or row["too_few"]:  # as in the findings table: no interval over so few seeds
        return [f"{e['mean']:+.4f} ({count(e['seeds'], 'seed')}: no interval)",
                "unresolved", "unresolved"]
    return [interval_text(row["difference"], row["low"], row["high"])
            + ("" if row["over"] == "paired seeds" else f" (over {row['over']})"),
            verdict(row["resolved"]), verdict(row["resolved_holm"])]


def render(results, plots_dir, rows=None):
    """The section's markdown (rows: the report's comparisons, computed here when not given)."""
    runs = results.section(CUSTOM_PAIRED)
    effects = paired_effects(runs)
    if not effects:
        return None
    groups = group_by_name(runs, ORDER)
    report_rows = comparisons(results) if rows is None else rows
    holm = {c["a"]: c for c in report_rows if c["section"] == PAIRED}
    cells = {name: _cells(effects.get(name), holm.get(name), name == BASELINE) for name in groups}
    columns = [f"− {BASELINE} [95 % CI]", "alone", "after Holm (report-wide)"]
    return words.macro(
        "studies.md.j2", "paired", hp=runs[0]["hyperparameters"], baseline=BASELINE,
        seeds=sorted({len(runs) for runs in groups.values()}), kept=holm_kept(report_rows),
        # a section still running (30 full runs, ~3 CPU-hours) says which nets it lacks
        missing=[n for n in order("3.1") if n not in groups],
        table=table(nets(groups), [
            ("net", lambda n: n.name), SEEDS, ("test acc (mean ± sd)", spread("test_acc")),
            *[(header, lambda n, i=i: cells[n.name][i]) for i, header in enumerate(columns)]]),
        # drawn from the section's rows of the comparisons (draw): none, no figure
        image=image(plots_dir, results.dir, f"{PLOTS}/paired_effects.png", "paired effects")
        if holm else "",
        few=MIN_SEEDS)
