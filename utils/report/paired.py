"""3.1 with power (section "3.1-paired"): every net trained on the same seeds under the cosine
schedule, each swap's effect measured as a paired difference from the standard net."""
import os
import statistics

from utils.markdown import md_table
from utils.report import plotting
from utils.report.common import count, image, interval_text
from utils.report.runs import final, group_by_name
from utils.sections import BY_KEY, folder, order
from utils.report.stats import MIN_SEEDS
from utils.report.verdicts import PAIRED, comparisons, paired_effects

CUSTOM_PAIRED = folder("3.1-paired")
PLOTS = BY_KEY["3.1-paired"].plots
ORDER = order("3.1-paired")  # then the swaps, alphabetically
BASELINE = ORDER[0]


def draw(results, plots_dir):
    effects = paired_effects(results.section(CUSTOM_PAIRED))
    if not effects:
        return []
    return [plotting.paired_effects(effects, BASELINE,
                                    os.path.join(plots_dir, PLOTS, "paired_effects.png"))]


def _verdict(is_resolved):
    return "resolved" if is_resolved else "unresolved"


def holm_sentence(rows):
    """How many of the section's comparisons survive the report-wide Holm correction (the one
    verdict the report gives), from verdicts.comparisons' rows; None without any."""
    paired = [c for c in rows if c["section"] == PAIRED and not c.get("too_few")]
    if not paired:
        return None
    kept = [c["a"] for c in paired if c["resolved_holm"]]
    return (f"after Holm's correction across the report, {len(kept)} of {len(paired)} "
            f"stay{'s' * (len(kept) == 1)} resolved" + (f" ({', '.join(kept)})" if kept else ""))


def render(results, plots_dir):
    runs = results.section(CUSTOM_PAIRED)
    effects = paired_effects(runs)
    if not effects:
        return None
    groups = group_by_name(runs, ORDER)
    hp = runs[0]["hyperparameters"]
    report_rows = comparisons(results)
    holm = {c["a"]: c for c in report_rows if c["section"] == PAIRED}
    rows = []
    for name, model_runs in groups.items():
        accs = final(model_runs, "test_acc")
        spread = f" ± {statistics.stdev(accs):.4f}" if len(accs) > 1 else ""
        e = effects.get(name)
        if e is None:
            cells = ["baseline", "", "", ""]
        elif e["seeds"] >= MIN_SEEDS:
            cells = [interval_text(e["mean"], e["low"], e["high"]), _verdict(e["resolved"]),
                     _verdict(name in holm and holm[name]["resolved_holm"]),
                     interval_text(e["mean"], e["family_low"], e["family_high"])]
        else:  # as in the findings table: too few seeds for an interval to mean anything
            cells = [f"{e['mean']:+.4f} ({count(e['seeds'], 'seed')}: no interval)",
                     "unresolved", "unresolved", "—"]
        rows.append([name, len(accs), f"{statistics.mean(accs):.4f}{spread}", *cells])
    # A section still running (30 full runs, ~3 CPU-hours) says which nets it has not reached.
    missing = [n for n in order("3.1") if n not in groups]
    pending = ([f"Not run yet in these results: {', '.join(missing)} (`--section 3.1-paired` "
                "resumes where it stopped)."] if missing else [])
    family = holm_sentence(report_rows)
    return [
        f"**Paired comparison** (section `3.1-paired`): every net again on the same "
        f"{len(next(iter(groups.values())))} seeds, {hp['schedule']} schedule from Adam lr "
        f"{hp['lr']}, {count(hp['epochs'], 'epoch')}; each difference is taken seed by seed "
        f"against {BASELINE} (the findings table's `3.1-paired` rows).",
        *pending,
        *["Each difference with a 95 % Student-t interval over the seeds, its verdict "
                "alone and after Holm's correction across the report (the report's one "
                "verdict); last, for reference only, the interval widened for this section's "
                "own family of comparisons (Bonferroni over the nets compared here), which "
                "gives no verdict of its own:",
                md_table(["net", "seeds", "test acc (mean ± sd)", f"− {BASELINE} [95 % CI]",
                          "alone", "after Holm (report-wide)",
                          "[section-family Bonferroni CI]"], rows),
                *([f"Each comparison alone: {sum(e['resolved'] for e in effects.values())} of "
                   f"{len(effects)} resolved; {family}."] if family else []),
                image(plots_dir, results.dir, f"{PLOTS}/paired_effects.png", "paired effects")]]
