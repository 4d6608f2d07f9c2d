"""The verdicts the whole report shares, as numbers: the comparisons with their intervals and
p-values (and Holm's correction across all of them, 3.1-paired's among them), and the rule that
calls a gradient flow vanishing or exploding. A section's own verdicts live in its module
(the sweep's in sweep.py, 3.2's stability in stability_rates.py, overfitting in overfitting.py,
3.1's swap effects and late movement in task3.py);
the answers page and the sections only format what these return.

Built on the measures: stats.py (intervals and tests), gradient_flow.py (‖grad‖/‖weight‖ per
layer), stability.py (loss spikes, falls of test accuracy), runs.py (a run's numbers)."""
import math
import statistics

from utils.report.gradient_flow import flow_ratio, has_weight_norms, largest_step
from utils.report.runs import group_by_name, mean
from utils.report.stats import (MIN_SEEDS, compare_accuracies, compare_runs, holm,
                                mean_correct, mean_interval, mean_p, resolved)
from utils.sections import BY_KEY, SECTIONS, order


def difference(diff, low, high, over, p=None):
    """One comparison as every verdict states it: the difference, its 95 % interval, what the
    interval is over (seeds, test images...), whether it excludes zero, and its p-value."""
    return {"difference": diff, "low": low, "high": high, "over": over, "p": p,
            "resolved": resolved(low, high)}


# --- gradient flow (the measure: gradient_flow.py) -----------------------------------------------

FLOW_FACTOR = 10.0  # the flow ratio beyond which (either way) the gradient vanishes or explodes
STEP_LIMIT = 1.0  # one step at the peak rate moving a layer by this much of its own size
NOT_RECORDED = "no ‖w‖ recorded"


def flow_verdict(layers, lr):
    """'exploding' (either rule), 'vanishing', 'steady', NOT_RECORDED or 'not measurable'."""
    if not has_weight_norms(layers):
        return NOT_RECORDED
    step, ratio = largest_step(layers, lr), flow_ratio(layers)
    if step is not None and step >= STEP_LIMIT:
        return "exploding"
    if ratio is None:
        return "not measurable"
    if ratio < 1 / FLOW_FACTOR:
        return "vanishing"
    return "exploding" if ratio > FLOW_FACTOR else "steady"


# --- 3.1-paired: each net against the standard one, seed by seed --------------------------------

PAIRED_ORDER = order("3.1-paired")  # the baseline, then the swaps alphabetically
PAIRED_BASELINE = PAIRED_ORDER[0]


def paired_effects(runs, baseline=PAIRED_BASELINE):
    """{name: {seeds, mean, low, high, p, resolved, acc, baseline_acc}} of test accuracy minus
    the baseline's on the same seed, for every other net with at least one seed in common (acc
    and baseline_acc: the two nets' mean over those shared seeds; low/high: the 95 % t-interval
    over the seeds' differences, its verdict uncorrected: Holm's across the report is the
    verdict, comparisons)."""
    groups = group_by_name(runs, PAIRED_ORDER)
    base = {r["seed"]: r["final"]["test_acc"] for r in groups.get(baseline, [])}
    paired = {name: [(r["final"]["test_acc"], base[r["seed"]]) for r in model_runs
                     if r["seed"] in base]
              for name, model_runs in groups.items() if name != baseline}
    out = {}
    for name, pairs in paired.items():
        if not pairs:
            continue
        diffs = [a - b for a, b in pairs]
        m, lo, hi = mean_interval(diffs)
        several = len(pairs) > 1
        out[name] = {"seeds": len(pairs), "mean": m, "low": lo, "high": hi,
                     "p": mean_p(diffs) if several else 1.0,
                     "acc": statistics.mean(a for a, _ in pairs),
                     "baseline_acc": statistics.mean(b for _, b in pairs),
                     "resolved": several and resolved(lo, hi)}
    return out


# --- the findings: every comparison the report states, corrected together -------------------------

PAIRED = "3.1-paired"
OVER_SEEDS = ("seeds", "paired seeds")
FAMILY_ALPHA = 0.05  # the family-wise error rate Holm's correction keeps across the report

# The sections that state comparisons, from the registry: each (a, b) or (a, b, measure) is
# a − b in that measure.
QUESTIONS = [s for s in SECTIONS if s.comparisons]

# What a comparison can compare, per run (None where the run did not record it).
MEASURES = {
    "test_acc": lambda r: r["final"]["test_acc"],
    # the translation test: mean accuracy over the shifted test images, 1 px and more
    "shifted": lambda r: (statistics.mean(r["translation"]["acc"][1:])
                          if r.get("translation") else None),
}


def section_groups(results, section):
    """{name: [runs]} of a section and of the sections its comparisons also use."""
    runs = [r for key in (section.key, *section.uses) for r in results.section(BY_KEY[key].folder)]
    return group_by_name(runs, section.order)


def compare_paired_seeds(values_a, values_b):
    """(mean a − b, low, high, p) over the seeds both sides ran, each seed's difference one
    observation (Student t): the seed fixes the initialisation and the training images of both."""
    diffs = [values_a[s] - values_b[s] for s in sorted(set(values_a) & set(values_b))]
    m, low, high = mean_interval(diffs)
    return m, low, high, mean_p(diffs)


def compare_measure(section, runs_a, runs_b, measure):
    """(difference, low, high, over, p) of `measure` between two groups of runs: paired by seed
    where the section pairs and MIN_SEEDS or more seeds are shared; else, for test accuracy, as
    stats.compare_runs chooses; else Welch over seeds or the binomial interval over images."""
    value = MEASURES[measure]
    a = {r["seed"]: value(r) for r in runs_a}
    b = {r["seed"]: value(r) for r in runs_b}
    if section.paired_seeds and len(set(a) & set(b)) >= MIN_SEEDS:
        diff, low, high, p = compare_paired_seeds(a, b)
        return diff, low, high, "paired seeds", p
    if measure == "test_acc":
        return compare_runs(runs_a, runs_b)
    return compare_accuracies(list(a.values()), list(b.values()), runs_a[0]["test_size"])


def comparisons(results):
    """One dict per comparison whose two sides have finished runs that recorded its measure."""
    out = []
    for section in QUESTIONS:
        groups = section_groups(results, section)
        for a, b, *measure in section.comparisons:
            measure = measure[0] if measure else "test_acc"
            # the seeds that recorded the measure (older runs of a name may lack it)
            side = {n: [r for r in groups.get(n, []) if MEASURES[measure](r) is not None]
                    for n in (a, b)}
            if not side[a] or not side[b]:
                continue
            diff, low, high, method, p = compare_measure(section, side[a], side[b], measure)
            out.append({"section": section.key, "question": section.question, "a": a, "b": b,
                        "measure": measure,
                        "acc_a": mean([MEASURES[measure](r) for r in side[a]]),
                        "seeds_a": len(side[a]),
                        "acc_b": mean([MEASURES[measure](r) for r in side[b]]),
                        "seeds_b": len(side[b]),
                        "params_a": side[a][0]["params"], "params_b": side[b][0]["params"],
                        **difference(diff, low, high, method), "p": p})
    keys = [s.key for s in SECTIONS]  # the paired rows go right after 3.1's
    rows = sorted(out + paired_comparisons(results), key=lambda c: keys.index(c["section"]))
    for c in rows:
        # Only an interval over seeds needs MIN_SEEDS; one over test images stands on its images.
        c["too_few"] = c["over"] in OVER_SEEDS and min(c["seeds_a"], c["seeds_b"]) < MIN_SEEDS
        if c["too_few"]:  # stated, but no claim: it keeps its place in the family at p = 1
            c.update(low=math.nan, high=math.nan, p=1.0, resolved=False)
    # Error control across the report: Holm over every comparison it states.
    for c, adjusted in zip(rows, holm([c["p"] for c in rows])):
        c["p_holm"], c["resolved_holm"] = adjusted, adjusted < FAMILY_ALPHA
    return rows


def paired_comparisons(results):
    """3.1-paired, in the same shape: each net minus the standard net seed by seed under the cosine
    schedule, a Student-t interval over those differences (the shared seed's share of the noise
    cancels, which is what gives this section its power). With fewer than MIN_SEEDS shared seeds
    and predictions on both sides, the difference pairs over the test images instead
    (stats.compare_runs); without predictions, nets with two or more shared seeds are stated
    with no interval."""
    runs = results.section(BY_KEY[PAIRED].folder)
    groups = group_by_name(runs, PAIRED_ORDER)
    base = PAIRED_BASELINE
    rows = []
    for name, e in paired_effects(runs).items():
        row = {"section": PAIRED, "question": "Custom layers, cosine schedule, paired by seed",
               "a": name, "b": base, "acc_a": e["acc"], "seeds_a": e["seeds"],
               "acc_b": e["baseline_acc"], "seeds_b": e["seeds"],
               "params_a": groups[name][0]["params"], "params_b": groups[base][0]["params"],
               "difference": e["mean"], "low": e["low"], "high": e["high"],
               "over": "paired seeds", "p": e["p"], "resolved": e["resolved"]}
        if e["seeds"] < MIN_SEEDS:
            shared = {r["seed"] for r in groups[name]} & {r["seed"] for r in groups[base]}
            a, b = ([r for r in groups[n] if r["seed"] in shared] for n in (name, base))
            if mean_correct(a) is not None and mean_correct(b) is not None:
                diff, low, high, over, p = compare_runs(a, b)
                row.update(difference=diff, low=low, high=high, over=over, p=p,
                           resolved=resolved(low, high))
            elif e["seeds"] < 2:
                continue
        rows.append(row)
    return rows
