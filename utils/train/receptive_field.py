"""Receptive fields: analytic (per-layer size, jump, start) and empirical (input gradients).

Analytic, for a chain of layers with kernel k, stride s, padding p, dilation d (Araujo et al.,
"Computing receptive fields of convolutional neural networks", Distill 2019):
    jump_out  = jump_in * s
    size_out  = size_in + (k - 1) * d * jump_in
    start_out = start_in + ((k - 1) / 2 * d - p) * jump_in
where `start` is the centre of the first output unit's field, in input pixel indices (pixel i
has its centre at i, so a stride-2 2x2 pool moves it to 0.5).
"""
from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class LayerGeometry:
    name: str
    kernel: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1
    kind: str = ""


def _pair(v):
    return v[0] if isinstance(v, (tuple, list)) else v


def geometry_of(model):
    """The spatial layers of a sequential-style model in forward (definition) order.

    Conv2d / pooling layers count; a module with a `kernel_size` attribute of its own (e.g. a
    mixed 1x1+3x3 conv) counts once, by its largest kernel, and its children are skipped.
    """
    layers, skip_prefixes = [], []
    for name, m in model.named_modules():
        if any(name.startswith(p + ".") for p in skip_prefixes):
            continue
        if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            layers.append(LayerGeometry(name, _pair(m.kernel_size), _pair(m.stride),
                                        _pair(m.padding), _pair(getattr(m, "dilation", 1)),
                                        type(m).__name__))
        elif hasattr(m, "kernel_size"):
            k = _pair(m.kernel_size)
            layers.append(LayerGeometry(name, k, 1, k // 2, 1, type(m).__name__))
            skip_prefixes.append(name)
    return layers


def analytic(layers):
    """Per layer: receptive field size, jump and start, as a list of dicts."""
    size, jump, start, rows = 1, 1, 0.0, []
    for layer in layers:
        k, s, p, d = layer.kernel, layer.stride, layer.padding, layer.dilation
        size = size + (k - 1) * d * jump
        start = start + ((k - 1) / 2 * d - p) * jump
        jump = jump * s
        rows.append({"layer": layer.name, "type": layer.kind, "kernel": k, "stride": s, "padding": p,
                     "dilation": d, "rf": size, "jump": jump, "start": start})
    return rows


def unit_centre(rows, index):
    """Input-pixel coordinate of the centre of output unit `index` along one axis."""
    return rows[-1]["start"] + index * rows[-1]["jump"]


def empirical(feature_extractor, images):
    """Mean |d unit / d input| over `images` (N x C x H x W, normalised floats), summed over
    input channels, for the central unit of the feature map (sum over its channels, so that no
    single channel's sparsity decides the map): how strongly each pixel drives it, i.e. the
    effective receptive field (Luo et al., 2016). Returns (H x W map, (cy, cx) unit index)."""
    was_training = feature_extractor.training
    feature_extractor.eval()
    x = images.detach().clone().requires_grad_(True)
    out = feature_extractor(x)
    cy, cx = out.shape[2] // 2, out.shape[3] // 2
    out[:, :, cy, cx].sum().backward()
    feature_extractor.train(was_training)
    return x.grad.abs().sum(1).mean(0), (cy, cx)


def _distance(grad_map, centre):
    """Chebyshev distance of every pixel from `centre` = (y, x) in pixel coordinates."""
    h, w = grad_map.shape
    ys = (torch.arange(h, dtype=torch.float64) - centre[0]).abs()
    xs = (torch.arange(w, dtype=torch.float64) - centre[1]).abs()
    return torch.maximum(ys[:, None], xs[None, :])


def mass_radius(grad_map, centre, fraction=0.95):
    """Smallest r such that the pixels within Chebyshev distance r of `centre` hold `fraction`
    of the total gradient mass."""
    dist, g = _distance(grad_map, centre), grad_map.double()
    total = g.sum()
    for r in sorted(set(dist.flatten().tolist())):
        if g[dist <= r].sum() >= fraction * total:
            return r
    return dist.max().item()


def nonzero_radius(grad_map, centre, eps=0.0):
    """Largest Chebyshev distance from `centre` of a pixel with gradient above `eps`."""
    dist = _distance(grad_map, centre)
    mask = grad_map > eps
    return dist[mask].max().item() if mask.any() else 0.0
