"""3.1 with power (section "3.1-paired"): every net trained on the same seeds under the cosine
schedule, each swap's effect measured as a paired difference from StandardCNN."""
import os
import statistics

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from utils.plotting import _save  # noqa: E402
from utils.reporting import count, final, image, md_table  # noqa: E402
from utils.results import group_by_name, load_section  # noqa: E402
from utils.sections import BY_KEY, folder, order  # noqa: E402
from utils.stats import mean_interval, resolved  # noqa: E402

CUSTOM_PAIRED = folder("3.1-paired")
PLOTS = BY_KEY["3.1-paired"].plots
ORDER = order("3.1-paired")  # then the swaps, alphabetically
BASELINE = ORDER[0]


def paired_effects(runs, baseline=BASELINE):
    """{name: {seeds, mean, low, high, resolved, acc, baseline_acc}} of test accuracy minus the
    baseline's on the same seed, for every other net with at least one seed in common (acc and
    baseline_acc: the two nets' mean over those shared seeds)."""
    groups = group_by_name(runs, ORDER)
    base = {r["seed"]: r["final"]["test_acc"] for r in groups.get(baseline, [])}
    out = {}
    for name, model_runs in groups.items():
        if name == baseline:
            continue
        pairs = [(r["final"]["test_acc"], base[r["seed"]]) for r in model_runs if r["seed"] in base]
        if pairs:
            m, lo, hi = mean_interval([a - b for a, b in pairs])
            out[name] = {"seeds": len(pairs), "mean": m, "low": lo, "high": hi,
                         "acc": statistics.mean(a for a, _ in pairs),
                         "baseline_acc": statistics.mean(b for _, b in pairs),
                         "resolved": len(pairs) > 1 and resolved(lo, hi)}
    return out


def draw(results_dir, plots_dir):
    effects = paired_effects(load_section(results_dir, CUSTOM_PAIRED))
    if not effects:
        return []
    fig, ax = plt.subplots(figsize=(6.4, 0.6 * len(effects) + 1.6))
    names = list(effects)
    for i, name in enumerate(names):
        e = effects[name]
        ax.plot([e["mean"]], [i], "o", color="C0" if e["resolved"] else "C7")
        if e["seeds"] > 1:
            ax.plot([e["low"], e["high"]], [i, i], color="C0" if e["resolved"] else "C7")
    ax.axvline(0, color="k", lw=0.8)
    ax.set(yticks=range(len(names)), yticklabels=names,
           xlabel=f"test accuracy − {BASELINE}'s on the same seed",
           title="3.1 paired effects (line: 95 % t-interval over seeds; grey: unresolved)")
    ax.grid(alpha=0.3, axis="x")
    return [_save(fig, os.path.join(plots_dir, PLOTS, "paired_effects.png"))]


def render(results_dir, plots_dir):
    runs = load_section(results_dir, CUSTOM_PAIRED)
    effects = paired_effects(runs)
    if not effects:
        return None
    groups = group_by_name(runs, ORDER)
    hp = runs[0]["hyperparameters"]
    rows = []
    for name, model_runs in groups.items():
        accs = final(model_runs, "test_acc")
        spread = f" ± {statistics.stdev(accs):.4f}" if len(accs) > 1 else ""
        e = effects.get(name)
        rows.append([name, len(accs), f"{statistics.mean(accs):.4f}{spread}",
                     "baseline" if e is None else
                     f"{e['mean']:+.4f} [{e['low']:+.4f}, {e['high']:+.4f}]" if e["seeds"] > 1
                     else f"{e['mean']:+.4f} (one seed)",
                     "" if e is None else ("resolved" if e["resolved"] else "unresolved")])
    # A section still running (30 full runs, ~3 CPU-hours) says which nets it has not reached.
    missing = [n for n in order("3.1") if n not in groups]
    pending = ([f"Not run yet in these results: {', '.join(missing)} (`--section 3.1-paired` "
                "resumes where it stopped)."] if missing else [])
    return "\n\n".join([
        f"**Paired comparison** (section `3.1-paired`: every net on the same seeds, "
        f"{hp['schedule']} schedule from Adam lr {hp['lr']}, {count(hp['epochs'], 'epoch')}; each "
        f"difference is taken seed by seed against {BASELINE}, with a 95 % Student-t interval "
        "over the seeds):",
        md_table(["net", "seeds", "test acc (mean ± sd)", f"− {BASELINE} [95 % CI]", "verdict"],
                 rows),
        *pending,
        image(plots_dir, results_dir, f"{PLOTS}/paired_effects.png", "paired effects")])
