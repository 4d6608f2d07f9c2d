"""The report's opening: each question of the assignment answered by the comparisons that decide
it, each with its 95 % interval, computed from the JSON. A difference whose interval includes
zero is "unresolved", never ranked. verdicts.comparisons computes the numbers; `render` only
prints them."""
import os
import statistics

from utils.report import (paired as report_paired, stability_rates as report_stability,
                          sweep as report_sweep)
from utils.report.departures import depth_of
from utils.markdown import md_table
from utils.report.common import comparison_name, interval_text, reading_rules
from utils.report.parts import detail, split
from utils.report.runs import gap_of, group_by_name
from utils.sections import BY_KEY
from utils.report.verdicts import (FAMILY_ALPHA, PAIRED, by_block, comparisons,
                                   rate_sweep)
from utils.report.table import Results

PROFILE_DIRS = ("quick", "smoke")  # a reduced profile's results sit in results/<profile>/


def _holm_verdict(c):
    """'resolved' or 'unresolved' after the report-wide correction, with the adjusted p (the
    direction is the difference's sign)."""
    return f"{'resolved' if c['resolved_holm'] else 'unresolved'} ({_p(c['p_holm'])})"


def _p(p):
    return f"p = {p:.2g}" if p >= 0.001 else "p < 0.001"


def _verdict(c):
    if not c["resolved"]:
        return "unresolved"
    return f"{c['a']} {'higher' if c['difference'] > 0 else 'lower'}"


def _profile_note(results):
    runs = [r for s in BY_KEY.values() for r in results.section(s.folder)[:1]]
    profiles = sorted({r.get("profile", "full") for r in runs})
    if profiles in ([], ["full"]):
        return ""
    epochs = sorted({r["hyperparameters"]["epochs"] for r in runs})
    sizes = sorted({r["train_size"] for r in runs})
    return (f"**Profile: {', '.join(profiles)}.** These runs trained for "
            f"{'/'.join(map(str, epochs))} epochs on {'/'.join(f'{n:,}' for n in sizes)} "
            "training images, a reduction of the assignment's settings for CPUs: their numbers "
            "are not comparable with the reference's or the full profile's.")


def _gap(runs):
    return statistics.mean(gap_of(r) for r in runs)


def notes(results, rows):
    """What the numbers say about why, each sentence printed only where its comparison resolved
    the way it explains."""
    by_pair = {(c["a"], c["b"]): c for c in rows if c["section"] != PAIRED}
    out = []
    c = by_pair.get(("SimpleCNN", "FCNet"))
    if c and c["resolved"] and c["difference"] > 0:
        out.append(f"- 1.1: SimpleCNN is more accurate with {c['params_b'] / c['params_a']:.1f}× "
                   f"fewer parameters ({c['params_a']:,} against {c['params_b']:,}): a "
                   "convolution shares its weights across positions and sees local "
                   "neighbourhoods, which the FC net has to learn position by position.")
    cifar = group_by_name(results.section(BY_KEY["1.2"].folder))
    if "ResNetCIFAR" in cifar and "ResNetCIFARRegularized" in cifar:
        c = by_pair.get(("ResNetCIFARRegularized", "ResNetCIFAR"))
        dropout = cifar["ResNetCIFARRegularized"][0]["model_kwargs"].get("dropout")
        out.append(f"- 1.2: regularisation (dropout {dropout} before the classifier, the only "
                   f"difference) changed test accuracy "
                   f"by {c['difference']:+.4f} ({_verdict(c)}); the eval-mode train − test gap "
                   f"went from {_gap(cifar['ResNetCIFAR']):.4f} to "
                   f"{_gap(cifar['ResNetCIFARRegularized']):.4f}.")
    kernels = group_by_name(results.section(BY_KEY["2.1"].folder))
    if "CNN_3x3" in kernels and "CNN_7x7" in kernels:
        w3, w7 = (kernels[k][0]["model_kwargs"]["widths"] for k in ("CNN_3x3", "CNN_7x7"))
        out.append(f"- 2.1: at one parameter budget a larger kernel buys spatial extent with "
                   f"channels: widths {'×'.join(map(str, w3))} for 3×3 against "
                   f"{'×'.join(map(str, w7))} for 7×7.")
    out += [n for n in (_depth_note(by_pair, results), _custom_note(rows, results),
                        _residual_note(by_pair, results)) if n]
    return "\n".join(out)


def interval_of(c):
    if c.get("too_few"):
        return f"{c['difference']:+.4f} ({min(c['seeds_a'], c['seeds_b'])} seeds: no interval)"
    return interval_text(c["difference"], c["low"], c["high"])


def _said(c):
    """'+0.0045 [-0.0047, +0.0137], unresolved' or the interval alone where it resolved."""
    return interval_of(c) + ("" if c["resolved"] else ", unresolved")


def _depth_note(by_pair, results):
    """2.2: depth in the assignment's nets, then what the sweep showed about degradation,
    skips and gradients (one seed each there: intervals over the test images)."""
    parts = []
    medium, deep = by_pair.get(("MediumCNN", "ShallowCNN")), by_pair.get(("DeepCNN", "MediumCNN"))
    skips = by_pair.get(("ResidualCNN", "DeepCNN"))
    if medium and deep:
        parts.append(f"- 2.2 depth (BatchNorm after every conv): ShallowCNN → MediumCNN changed "
                     f"test accuracy by {_said(medium)}, MediumCNN → DeepCNN "
                     f"({deep_layers(results)} conv layers) by {_said(deep)}"
                     + (f"; skip connections at that depth by {_said(skips)}" if skips else "")
                     + ".")
    sweep = results.section(BY_KEY["2.2-sweep"].folder)
    if sweep and (headline := report_sweep.headline(sweep)):
        parts.append(f"- 2.2 sweep (CIFAR ResNet family; intervals as in its section): {headline}")
    return "\n".join(parts)


def deep_layers(results):
    runs = results.section(BY_KEY["2.2"].folder)
    deep = [r for r in runs if r["name"] == "DeepCNN"]
    return depth_of(deep[0]["spec"]) if deep else "the deep net's"


def _custom_note(rows, results):
    """3.1: did any custom layer change accuracy, and what do they cost."""
    swaps = [c for c in rows if c["section"] == "3.1" and c["a"].startswith("Swap_")]
    if not swaps:
        return None
    changed = [c["a"] for c in swaps if c["resolved"]]
    largest = max(swaps, key=lambda c: abs(c["difference"]))
    which = f" ({', '.join(changed)})" if changed else ""
    text = (f"- 3.1: {len(changed)} of {len(swaps)} single-layer swaps changed MNIST test "
            f"accuracy resolvably{which}; the largest difference from StandardCNN: "
            f"{largest['a']} {_said(largest)} ({largest['seeds_a']} seed"
            f"{'s' * (largest['seeds_a'] > 1)})")
    paired = [c for c in rows if c["section"] == PAIRED]
    if paired:
        seeds = sorted({c["seeds_a"] for c in paired})
        resolved_swaps = [f"{c['a']} {interval_of(c)}" for c in paired if c["resolved"]]
        text += ("; under the cosine schedule, paired by seed ("
                 + (f"{seeds[0]} seeds each" if len(seeds) == 1 else
                    f"{seeds[0]} or more seeds")
                 + f"), {len(resolved_swaps)} of {len(paired)} nets "
                 f"differ{'s' * (len(resolved_swaps) == 1)} resolvably from "
                 "StandardCNN" + (f" ({'; '.join(resolved_swaps)})" if resolved_swaps else ""))
        family = report_paired.holm_sentence(rows)
        if family:  # None where too few seeds give no intervals to correct
            text += "; " + family
    study = results.study(BY_KEY["3.1"].folder)
    if study:
        rows_ = study["benchmark"]["rows"]
        ratios = [r["custom_fwd_bwd_ms"] / r["standard_fwd_bwd_ms"] for r in rows_]
        text += (f". Each custom layer's forward+backward costs {min(ratios):.1f}–"
                 f"{max(ratios):.1f}× its standard analogue's")
    return text + "."


def _residual_note(by_pair, results):
    """3.2: the as-built ranking (each neighbour pair with its interval), the equal-budget
    comparison and the stability test's highest stable learning rate per block."""
    runs = group_by_name(results.section(BY_KEY["3.2"].folder))
    built = {n: r for n, r in runs.items() if not n.endswith("_matched")}
    if len(built) < 2:
        return None
    pairs = [c for (a, b), c in by_pair.items() if a in built and b in built]
    text = ("- 3.2: as built, " + "; ".join(
        f"{c['a']} ({c['params_a']:,} params) − {c['b']} ({c['params_b']:,}) {_said(c)}"
        for c in pairs))
    matched = [c for (a, b), c in by_pair.items() if a.endswith("_matched")]
    if matched:
        text += ("; at one parameter budget, " + "; ".join(
            f"{c['a']} − {c['b']} {_said(c)}" for c in matched))
    blocks = by_block(results.section(BY_KEY["3.2-stability"].folder))
    if blocks:
        sweep = rate_sweep(blocks)
        tried = f"peak learning rates {', '.join(f'{x:g}' for x in sweep['lrs'])}"
        text += f". Stability ({tried}): {report_stability.edge_sentence(sweep)}"
        if sweep["largest_fall"]:
            m, row = sweep["largest_fall"]
            text += (f"; the largest epoch-to-epoch fall in test accuracy: {m} at lr "
                     f"{row['lr']:g}, {row['largest_fall']:.4f} at epoch {row['fall_epoch']}")
    return text + "."


def render(results, rows=None):
    """The findings: the table of every comparison (REPORT.md) and the notes on why
    (DETAILS.md), as a Part (utils/report/parts.py), or None."""
    rows = comparisons(results) if rows is None else rows
    if not rows:
        return None
    headers = ["section", "comparison (a − b)", "seeds a / b", "difference [95 % CI]",
               "interval over", f"Holm over all {len(rows)}"]
    cells = [[c["section"], comparison_name(c), f"{c['seeds_a']}/{c['seeds_b']}",
              interval_of(c), c["over"], _holm_verdict(c)] for c in rows]
    full_dir = full_results_dir(results.dir)
    full_rows = comparisons(Results(full_dir)) if full_dir else None
    if full_rows is not None:  # a reduced profile: each comparison beside the full study's
        full = {(c["section"], c["a"], c["b"]): c for c in full_rows}
        outcome = {(p["section"], p["a"], p["b"]): p["outcome"]
                   for p in agreement(rows, full_rows)["pairs"]}
        headers += ["full profile: difference [95 % CI]",
                    "here, of a full-profile resolution (— where full is unresolved)"]
        for row, c in zip(cells, rows):
            key = (c["section"], c["a"], c["b"])
            f = full.get(key)
            row += ([interval_of(f), OUTCOME_WORDS[outcome.get(key, "full unresolved")]]
                    if f else ["—", "not run in full"])
    resolved_count = sum(c["resolved"] for c in rows)
    # The summary states every resolved comparison in words and the figure draws them all; the
    # table of all of them, and the rules the tables apply, are reference: DETAILS.md.
    return split([
        "## Findings",
        _profile_note(results), agreement_block(rows, full_rows),
        f"{len(rows)} comparisons in all: {resolved_count} resolve alone, "
        f"{sum(c['resolved_holm'] for c in rows)} after Holm's correction for all of them.",
        *detail(f"Every comparison the report makes. The last column corrects for all "
                f"{len(rows)} (Holm's step-down method on each test's p-value, adjusted p "
                f"shown: the chance of any false resolution among them stays below "
                f"{FAMILY_ALPHA * 100:g} %).",
                md_table(headers, cells), reading_rules(reference=full_rows is None),
                "**Why, where it resolved:**", notes(results, rows))])


def full_results_dir(results_dir):
    """Where the full profile's results sit beside a reduced profile's (results/quick ->
    results), or None."""
    parent = os.path.dirname(os.path.normpath(results_dir))
    return parent if os.path.basename(os.path.normpath(results_dir)) in PROFILE_DIRS else None


OUTCOME_WORDS = {"agree": "same", "unresolved": "unresolved here", "flipped": "other way",
                 "full unresolved": "—"}


def agreement(rows, full_rows):
    """On the findings' own comparisons: of those the full profile resolves, how many these runs
    resolve the same way, leave unresolved, or resolve the other way. A same sign inside an
    unresolved interval is no agreement. Returns {"pairs": [...], "by_section": {key: (agree,
    total)}, "agree", "unresolved", "flipped", "total"}."""
    here = {(c["section"], c["a"], c["b"]): c for c in rows}
    pairs, by_section = [], {}
    for f in full_rows:
        c = here.get((f["section"], f["a"], f["b"]))
        if not f["resolved"] or c is None:
            continue
        outcome = ("unresolved" if not c["resolved"] else
                   "agree" if (c["difference"] > 0) == (f["difference"] > 0) else "flipped")
        pairs.append({"section": f["section"], "a": f["a"], "b": f["b"],
                      "full": f["difference"], "reduced": c["difference"], "outcome": outcome})
        agree, total = by_section.get(f["section"], (0, 0))
        by_section[f["section"]] = (agree + (outcome == "agree"), total + 1)
    counts = {k: sum(p["outcome"] == k for p in pairs) for k in ("agree", "unresolved", "flipped")}
    return {"pairs": pairs, "by_section": by_section, **counts, "total": len(pairs)}


def agreement_block(rows, full_rows):
    if full_rows is None:
        return ""
    a = agreement(rows, full_rows)
    if not a["total"]:
        return ""
    per_section = ", ".join(f"{k} {agree}/{total}" for k, (agree, total) in a["by_section"].items())
    flips = [p for p in a["pairs"] if p["outcome"] == "flipped"]
    lines = [f"**Agreement with the full study.** Of the full profile's {a['total']} resolved "
             f"comparisons (the findings table in DETAILS.md), these runs resolve "
             f"{a['agree']} the same way ({a['agree'] / a['total']:.0%}), leave "
             f"{a['unresolved']} unresolved and "
             f"resolve {a['flipped']} the other way; agreeing by section: {per_section}."]
    if flips:
        lines.append("Resolved the other way here (full-profile difference → this profile's):\n\n"
                     + "\n".join(f"- {p['section']}: {p['a']} − {p['b']}: {p['full']:+.4f} → "
                                 f"{p['reduced']:+.4f}" for p in flips))
    return "\n\n".join(lines)
