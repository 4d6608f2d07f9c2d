"""The findings table of DETAILS.md: every comparison of the report with its 95 % interval and
Holm's verdict across the report, and for a reduced profile its agreement with the full study.
verdicts.comparisons computes the numbers; the words are templates/findings.md.j2's."""
from utils.report import words
from utils.report.common import comparison_name, interval_text, table
from utils.report.gradient_flow import MEASURE
from utils.report.overfitting import LATE
from utils.report.stability import ROBUST_FLOOR, ROBUST_K, SPIKE_WINDOW
from utils.sections import BY_KEY
from utils.report.verdicts import FAMILY_ALPHA, FLOW_FACTOR, STEP_LIMIT, comparisons

OUTCOME_WORDS = {"agree": "same", "unresolved": "unresolved here", "flipped": "other way",
                 "full unresolved": "—"}


def _p(p):
    if p < 0.001:
        return "p < 0.001"
    # a p that rounds to the 0.05 threshold gets a digit more, so "unresolved (p = 0.05)"
    # never reads as a tie with it
    return f"p = {p:.3g}" if f"{p:.2g}" == f"{FAMILY_ALPHA:.2g}" else f"p = {p:.2g}"


def profile(results):
    """The reduced profile's epochs and training-set sizes, or None for the full profile."""
    runs = [r for s in BY_KEY.values() for r in results.section(s.folder)]
    profiles = sorted({r["profile"] for r in runs})
    if profiles in ([], ["full"]):
        return None
    return {"profiles": profiles, "epochs": sorted({r["hyperparameters"]["epochs"] for r in runs}),
            "sizes": sorted({r["train_size"] for r in runs})}


def interval_of(c):
    if c.get("too_few"):
        return f"{c['difference']:+.4f} ({min(c['seeds_a'], c['seeds_b'])} seeds: no interval)"
    return interval_text(c["difference"], c["low"], c["high"])


def render(results, rows=None, full_rows=None):
    """The findings: the table of every comparison (DETAILS.md's markdown), or None."""
    rows = comparisons(results) if rows is None else rows
    if not rows:
        return None

    def key(c):
        return c["section"], c["a"], c["b"]
    full = {key(c): c for c in full_rows or []}
    agreed = agreement(rows, full_rows) if full_rows is not None else None
    outcome = {key(p): p["outcome"] for p in agreed["pairs"]} if agreed else {}
    return words.macro(
        "findings.md.j2", "findings", rows=rows, profile=profile(results), agreement=agreed,
        rules={"late": LATE, "measure": MEASURE, "flow": FLOW_FACTOR, "step": STEP_LIMIT,
               "window": SPIKE_WINDOW, "k": ROBUST_K, "floor": ROBUST_FLOOR,
               "alpha": FAMILY_ALPHA},
        table=table(rows, [
            ("section", lambda c: c["section"]), ("comparison (a − b)", comparison_name),
            ("seeds a / b", lambda c: f"{c['seeds_a']}/{c['seeds_b']}"),
            ("difference [95 % CI]", interval_of), ("interval over", lambda c: c["over"]),
            (f"Holm over all {len(rows)}", lambda c: ("resolved" if c["resolved_holm"] else
                                                      "unresolved") + f" ({_p(c['p_holm'])})"),
            *([("full profile: difference [95 % CI]",
                lambda c: interval_of(full[key(c)]) if key(c) in full else "—"),
               ("here, of a full-profile claim (— where full is unresolved after Holm)",
                lambda c: OUTCOME_WORDS[outcome.get(key(c), "full unresolved")]
                if key(c) in full else "not run in full")] if full_rows is not None else [])]))


def agreement(rows, full_rows):
    """On the findings' own comparisons, in the report's one sense of resolved (after Holm, on
    either side): of the full profile's claims, how many these runs also claim the same way,
    leave unresolved, or claim the other way, and which of their own claims the full profile
    does not make ("extra"). A same sign inside an unresolved interval is no agreement. Returns
    {"pairs": [...], "extra": [...], "by_section": {key: (agree, total)}, "agree",
    "unresolved", "flipped", "total"}."""
    here = {(c["section"], c["a"], c["b"]): c for c in rows}
    pairs, by_section = [], {}
    for f in full_rows:
        c = here.get((f["section"], f["a"], f["b"]))
        if not f["resolved_holm"] or c is None:
            continue
        outcome = ("unresolved" if not c["resolved_holm"] else
                   "agree" if (c["difference"] > 0) == (f["difference"] > 0) else "flipped")
        pairs.append({"section": f["section"], "a": f["a"], "b": f["b"],
                      "full": f["difference"], "reduced": c["difference"], "outcome": outcome})
        agree, total = by_section.get(f["section"], (0, 0))
        by_section[f["section"]] = (agree + (outcome == "agree"), total + 1)
    counts = {k: sum(p["outcome"] == k for p in pairs) for k in ("agree", "unresolved", "flipped")}
    full = {(f["section"], f["a"], f["b"]): f for f in full_rows}
    extra = [c for key, c in here.items() if c["resolved_holm"] and key in full
             and not full[key]["resolved_holm"]]
    return {"pairs": pairs, "extra": extra, "by_section": by_section, **counts,
            "total": len(pairs)}
