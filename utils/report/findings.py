"""The findings table of DETAILS.md: every comparison of the report with its 95 % interval and
Holm's verdict across the report, and for a reduced profile its agreement with the full study.
verdicts.comparisons computes the numbers; `render` only prints them."""

from utils.markdown import md_table
from utils.report.common import comparison_name, interval_text, reading_rules
from utils.report.parts import join
from utils.sections import BY_KEY
from utils.report.verdicts import FAMILY_ALPHA, comparisons


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
    profiles = sorted({r["profile"] for r in runs})
    if profiles in ([], ["full"]):
        return ""
    epochs = sorted({r["hyperparameters"]["epochs"] for r in runs})
    sizes = sorted({r["train_size"] for r in runs})
    return (f"**Profile: {', '.join(profiles)}.** These runs trained for "
            f"{'/'.join(map(str, epochs))} epochs on {'/'.join(f'{n:,}' for n in sizes)} "
            "training images, a reduction of the assignment's settings for CPUs: their numbers "
            "are not comparable with the reference's or the full profile's.")


def interval_of(c):
    if c.get("too_few"):
        return f"{c['difference']:+.4f} ({min(c['seeds_a'], c['seeds_b'])} seeds: no interval)"
    return interval_text(c["difference"], c["low"], c["high"])


def render(results, rows=None, full_rows=None):
    """The findings: the table of every comparison (DETAILS.md's markdown), or None."""
    rows = comparisons(results) if rows is None else rows
    if not rows:
        return None
    headers = ["section", "comparison (a − b)", "seeds a / b", "difference [95 % CI]",
               "interval over", f"Holm over all {len(rows)}"]
    cells = [[c["section"], comparison_name(c), f"{c['seeds_a']}/{c['seeds_b']}",
              interval_of(c), c["over"], _holm_verdict(c)] for c in rows]
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
    return join([
        "## Findings",
        _profile_note(results), agreement_block(rows, full_rows),
        f"{len(rows)} comparisons in all: {resolved_count} resolve alone, "
        f"{sum(c['resolved_holm'] for c in rows)} after Holm's correction for all of them.",
        *[f"Every comparison the report makes. The last column corrects for all "
                f"{len(rows)} (Holm's step-down method on each test's p-value, adjusted p "
                f"shown: the chance of any false resolution among them stays below "
                f"{FAMILY_ALPHA * 100:g} %).",
                md_table(headers, cells), reading_rules(reference=full_rows is None)]])



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
