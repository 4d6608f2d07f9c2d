"""Vanishing and exploding gradients, measured one way for every network of the study.

One measure: a layer's ||grad|| / ||weight||, the relative size of an SGD step per unit of
learning rate, which compares layers of different size (mean |grad| per weight does not: it
shrinks as a layer grows, so its first/last ratio mostly compares layer sizes). A result whose
snapshots lack the weight norms (runs from before they were recorded) gets no verdict.

The two rules on it (verdicts.flow_verdict). Relative: the flow ratio is the measure in the
first weight layer after the input layer over the last weight layer before the classifier,
along the main path (1x1 projection shortcuts left out; the input layer left out because it
alone sees the raw pixels); beyond a factor of FLOW_FACTOR either way the gradient is
vanishing or exploding. Absolute: at the run's peak learning rate, a step of
lr * ||grad|| / ||weight|| >= STEP_LIMIT in any of those layers would move the weights by their
own size, which is exploding however even the layers are (a ratio alone calls a uniform
explosion "steady").
"""
MEASURE = "‖grad‖ / ‖weight‖"


def _on_main_path(name):
    return "shortcut" not in name and not name.startswith(("fc.", "classifier."))


def has_weight_norms(layers):
    return all("weight_norm" in v for v in layers.values())


def layer_names(layers):
    """The main-path weight layers, input to output. Fully connected nets keep all their layers
    but the last (the classifier)."""
    names = [n for n in layers if _on_main_path(n)]
    return names[:-1] if len(names) == len(layers) else names


def profile(layers):
    """(names, values): the measure in each main-path layer, None where it is not finite or the
    weight norms were not recorded."""
    names = layer_names(layers)
    if not has_weight_norms(layers):
        return names, [None] * len(names)
    values = []
    for n in names:
        v = layers[n]
        values.append(v["norm"] / v["weight_norm"]
                      if v["norm"] is not None and v["weight_norm"] else None)
    return names, values


def flow_ratio(layers):
    """The first layer after the input layer over the last, or None (not recorded, non-finite,
    or fewer than two such layers)."""
    values = profile(layers)[1][1:]
    if len(values) < 2 or None in values or not values[-1]:
        return None
    return values[0] / values[-1]


def largest_step(layers, lr):
    """lr times the largest measure of the layers the ratio uses (after the input layer): one
    step's size relative to the weights it moves, momentum aside. None when not recorded."""
    values = [v for v in profile(layers)[1][1:] if v is not None]
    return lr * max(values) if values and has_weight_norms(layers) else None




def signal_ratio(entry, batch):
    """The backpropagated signal's fall or growth through depth: the RMS of the loss gradient
    at the first weight layer's output over that at the last hidden layer's (the classifier
    left out: its gradient is the loss's own), from a record of OutputGradients
    ({"layers": {name: norm}, "sizes": {name: values per image}}); None without sizes."""
    sizes = entry.get("sizes")
    names = [n for n in entry["layers"] if "shortcut" not in n][:-1]
    if not sizes or len(names) < 2 or any(entry["layers"][n] is None for n in names):
        return None

    def rms(name):
        return entry["layers"][name] / (sizes[name] * batch) ** 0.5

    first, last = rms(names[0]), rms(names[-1])
    return first / last if last else None
