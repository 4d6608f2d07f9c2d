"""Equal-parameter sizing: choose channel widths so that variants share one parameter budget.

The reference sized its kernel variants by hand and ended up to 6.3 % apart; here a small
search does it. Parameter counts grow monotonically with each width, so for every first-stage
width the last-stage width is found by bisection. Among the candidates within `tolerance` of the
budget, the one closest to the nominal width ratios wins (so a variant is not made absurdly
thin in one stage to hit the count); if none is within it, the closest count wins.
"""
from utils.train.measure import count_params


def _bisect_last(build, prefix, budget):
    """The last width w (>= 2) whose parameter count is closest to `budget`, given the others.
    (Width 2 at least: a mixed 1x1+3x3 layer needs a channel for each branch.) The upper bound
    grows by doubling, so no model much larger than the budget is ever built."""
    def params(w):
        return count_params(build((*prefix, w)))

    hi_w = 4
    while params(hi_w) < budget:
        hi_w *= 2
    lo_w = 2
    while lo_w < hi_w:  # smallest w with params >= budget
        mid = (lo_w + hi_w) // 2
        if params(mid) >= budget:
            hi_w = mid
        else:
            lo_w = mid + 1
    options = [w for w in (lo_w - 1, lo_w) if w >= 2]
    return min(((w, params(w)) for w in options), key=lambda wp: abs(wp[1] - budget))


def widths_for_budget(build, budget, ratios=(1, 2, 4), first_widths=range(4, 129),
                      tolerance=0.005):
    """Widths (w1, w2, ..., wn) for `build(widths) -> nn.Module` with a parameter count as close
    to `budget` as the search can get. w_i = w1 * ratios[i] for all but the last, which is
    bisected. Returns (widths, params)."""
    best = None
    for w1 in first_widths:
        prefix = tuple(w1 * r for r in ratios[:-1])
        if count_params(build((*prefix, 2))) > budget:
            break  # even the thinnest last stage is over budget: wider w1 only gets worse
        last, params = _bisect_last(build, prefix, budget)
        shape_error = abs(last / (w1 * ratios[-1]) - 1)
        off = abs(params - budget)
        key = (off > tolerance * budget, shape_error if off <= tolerance * budget else off)
        if best is None or key < best[0]:
            best = (key, (*prefix, last), params)
    if best is None:
        raise ValueError(f"no widths reach a budget of {budget} parameters")
    return best[1], best[2]
