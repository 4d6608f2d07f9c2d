"""Vanishing and exploding gradients, measured one way for every network of the study.

A layer's gradient is compared per weight, so that layers of different size compare: by
||grad|| / ||weight|| (the relative size of an SGD step) where the result recorded the weight's
norm, else by mean |grad| per weight (older results). The flow ratio is that value in the first
weight layer after the input layer over the last weight layer before the classifier, along the
main path (1x1 projection shortcuts left out); the input layer is left out because it alone sees
the raw pixels (3 colour channels, or the flattened image). Beyond a factor of FLOW_FACTOR either
way the gradient is called vanishing or exploding.
"""
FLOW_FACTOR = 10.0
RELATIVE = "‖grad‖ / ‖weight‖"
MEAN_ABS = "mean absolute gradient per weight"


def _on_main_path(name):
    return "shortcut" not in name and not name.startswith(("fc.", "classifier."))


def metric(layers):
    """The per-weight measure these snapshot layers allow."""
    return RELATIVE if all("weight_norm" in v for v in layers.values()) else MEAN_ABS


def profile(layers):
    """(names, values) of the main-path weight layers, input to output, in the measure `metric`
    gives; a non-finite value is None. Fully connected nets keep all their layers but the last
    (the classifier)."""
    names = [n for n in layers if _on_main_path(n)]
    if len(names) == len(layers):  # a net without a named classifier: drop its output layer
        names = names[:-1]
    relative = metric(layers) == RELATIVE
    values = []
    for n in names:
        v = layers[n]
        if relative:
            ok = v["norm"] is not None and v["weight_norm"]
            values.append(v["norm"] / v["weight_norm"] if ok else None)
        else:
            values.append(v["mean_abs"])
    return names, values


def flow_ratio(layers):
    """The first layer after the input layer over the last, or None (non-finite, or fewer than
    two such layers)."""
    _, values = profile(layers)
    values = values[1:]
    if len(values) < 2 or None in values or not values[-1]:
        return None
    return values[0] / values[-1]


def flow_verdict(ratio):
    if ratio is None:
        return "not measurable"
    if ratio < 1 / FLOW_FACTOR:
        return "vanishing"
    if ratio > FLOW_FACTOR:
        return "exploding"
    return "steady"
