"""Post-training analyses a run spec can ask for by name; each returns JSON-ready data that is
stored in the run's result file, so plots and report never need the model again.

Models expose what the analyses need through two small methods:
    trunk()          -> the conv part (input -> last feature map), for receptive fields
    feature_layers() -> [(name, module)] whose outputs are worth looking at, in forward order
"""
import torch

from utils.train import receptive_field as rf
from utils.spec import ERF_IMAGES

SAMPLE_IMAGES = (0, 1)   # the same test images for every model
MAX_CHANNELS = 16        # channels kept per layer (maps are for looking at, not for analysis)


def _round(t, digits=4):
    return [[float(f"{v:.{digits}g}") for v in row] for row in t.tolist()]


def _sample(loader, indices):
    idx = torch.tensor(indices, device=loader.images.device)
    return loader.normalise(loader.images[idx]), loader.images[idx]


def first_layer(model, loader):
    """First conv layer's kernels and its activations (after BN and ReLU) on the sample images."""
    first_name, first = model.feature_layers()[0]
    x, raw = _sample(loader, SAMPLE_IMAGES)
    with torch.inference_mode():
        model.eval()
        acts = first(x).float()
    weights = model.first_conv_weight().detach().float().cpu()
    return {"layer": first_name,
            "images": raw.cpu().tolist(),
            "kernels": [[_round(ch) for ch in k] for k in weights[:MAX_CHANNELS]],
            "activations": [[_round(a) for a in img[:MAX_CHANNELS]] for img in acts.cpu()]}


def feature_maps(model, loader):
    """Outputs of every feature layer for one sample image (first MAX_CHANNELS channels)."""
    x, raw = _sample(loader, SAMPLE_IMAGES[:1])
    maps = []
    model.eval()
    with torch.inference_mode():
        for name, module in model.feature_layers():
            x = module(x)
            maps.append({"layer": name, "channels": x.shape[1], "size": x.shape[2],
                         "maps": [_round(m) for m in x[0, :MAX_CHANNELS].float().cpu()]})
    return {"image": raw[0].cpu().tolist(), "layers": maps}


def receptive_fields(model, loader):
    """Analytic per-layer receptive field of the trunk, and the empirical one of its central
    unit (mean |input gradient| over ERF_IMAGES test images)."""
    trunk = model.trunk()
    rows = rf.analytic(rf.geometry_of(trunk))
    n = min(ERF_IMAGES, len(loader.labels))
    x = loader.normalise(loader.images[:n]).float().contiguous()
    trunk = trunk.float().to(memory_format=torch.contiguous_format)
    grad_map, (cy, cx) = rf.empirical(trunk, x)
    grad_map = grad_map.cpu()
    centre = (rf.unit_centre(rows, cy), rf.unit_centre(rows, cx))
    return {"analytic": rows, "map": _round(grad_map / grad_map.max(), 3),
            "unit": [cy, cx], "centre": list(centre), "images": n,
            "radius_95": rf.mass_radius(grad_map, centre, 0.95),
            "radius_50": rf.mass_radius(grad_map, centre, 0.50),
            "nonzero_radius": rf.nonzero_radius(grad_map, centre),
            "analytic_radius": (rows[-1]["rf"] - 1) / 2}


def learned_scalars(model, loader):
    """Every one-element parameter (e.g. SwishBeta's beta, MixPool2d's mixing logit) by name."""
    return {name: p.item() for name, p in model.named_parameters() if p.numel() == 1}


ANALYSES = {"first_layer": first_layer, "feature_maps": feature_maps,
            "receptive_field": receptive_fields, "scalars": learned_scalars}
# The model methods each analysis calls: checked before any training (models_lacking), so a
# model without one stops in one line, not after hours of training.
NEEDS = {"first_layer": ("feature_layers", "first_conv_weight"),
         "feature_maps": ("feature_layers",), "receptive_field": ("trunk",), "scalars": ()}


def models_lacking(specs, models):
    """{(model, analysis): [missing methods]} over the specs: what their models lack for the
    analyses their specs ask for (`models`: name -> class)."""
    out = {}
    for spec in specs:
        cls = models.get(spec.model)  # an unknown name is build_model's to report
        for analysis in spec.analyses if cls is not None else ():
            missing = [m for m in NEEDS[analysis] if not callable(getattr(cls, m, None))]
            if missing:
                out[(spec.model, analysis)] = missing
    return out


def run_analyses(names, model, loader):
    return {name: ANALYSES[name](model, loader) for name in names}
