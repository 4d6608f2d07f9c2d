"""Task 3.1's layer-level measurements: gradcheck of every hand-written backward; each custom
layer against its autograd twin and its standard analogue (parameters, forward and
forward+backward time per batch, memory kept for backward); the simple examples the tests check.
Written to results/custom_layers/layers/layer_study.json; the report reads it from there."""
import hashlib
import os
import statistics

import torch
from torch import nn
from torch.autograd import gradcheck

from torch.nn import functional as F

from models import autograd_twins as twin
from models import custom_layers
from models.custom_layers import (MixPool2d, MixPoolFunction, SEAttention, SEFunction, SwishBeta,
                                  SwishBetaFunction, WSConv2d, WSConv2dFunction, standardise)
from utils.train.measure import Timer, count_params, environment
from utils.results import (STUDY_FILE, STUDY_SCHEMA, BadResult, read_result, set_aside,
                           write_json_atomic)



def _f64(*shape, seed):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed),
                       dtype=torch.float64).requires_grad_(True)


def gradcheck_cases():
    """(layer, function, float64 inputs away from non-differentiable points): batch 2, odd
    spatial size 5x7."""
    distinct = (torch.randperm(2 * 3 * 5 * 7, generator=torch.Generator().manual_seed(0))
                .double().view(2, 3, 5, 7) / 10).requires_grad_(True)  # no ties for max pooling
    return [
        ("WSConv2d", WSConv2dFunction.apply,
         (_f64(2, 3, 5, 7, seed=0), _f64(4, 3, 3, 3, seed=1), _f64(4, seed=3), _f64(4, seed=2),
          (1, 1), (1, 1))),
        ("SEAttention", SEFunction.apply,
         (_f64(2, 4, 5, 7, seed=0), _f64(2, 4, seed=1), _f64(2, seed=2), _f64(4, 2, seed=3),
          _f64(4, seed=4))),
        ("SwishBeta", SwishBetaFunction.apply,
         (_f64(2, 3, 5, 7, seed=0), torch.tensor(0.7, dtype=torch.float64, requires_grad=True))),
        ("MixPool2d", MixPoolFunction.apply,
         (distinct, torch.tensor(0.3, dtype=torch.float64, requires_grad=True), 2)),
    ]


def run_gradchecks():
    results = []
    for name, fn, inputs in gradcheck_cases():
        try:
            ok = gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-4)
        except RuntimeError:  # gradcheck raises on a mismatch
            ok = False
        results.append({"layer": name, "passed": bool(ok), "dtype": "float64",
                        "input_shape": list(inputs[0].shape)})
    return results


def pairs(channels=32):
    """(custom, standard analogue, what they do) at the width of SimpleCNN's second stage."""
    return [
        ("WSConv2d", WSConv2d(channels, 2 * channels, 3, padding=1),
         "nn.Conv2d", nn.Conv2d(channels, 2 * channels, 3, padding=1)),
        ("SEAttention", SEAttention(channels), "no attention", nn.Identity()),
        ("SwishBeta", SwishBeta(), "nn.ReLU", nn.ReLU()),
        ("MixPool2d", MixPool2d(2), "nn.MaxPool2d", nn.MaxPool2d(2)),
    ]


def time_layers(layers, x, device, reps=50, warmup=3):
    """{name: (median seconds of a forward pass, of forward + backward)} on batch x, the layers
    taking turns pass by pass, in reversed order every other pass (none always goes first):
    what a shared machine's load does to one it does to the others, so their ratios hold where
    each alone would move (a layer timed after another once read 7.6× in one study and 16.8× in
    the next)."""
    turns = [(name, layer.to(device)) for name, layer in layers.items()]
    fwd, both = ({name: [] for name in layers} for _ in range(2))
    for i in range(warmup + reps):
        for name, layer in turns if i % 2 == 0 else turns[::-1]:
            xi = x.detach().requires_grad_(True)
            with Timer(device) as t_fwd:
                out = layer(xi)
            with Timer(device) as t_bwd:
                out.backward(torch.ones_like(out))
            if i >= warmup:
                fwd[name].append(t_fwd.seconds)
                both[name].append(t_fwd.seconds + t_bwd.seconds)
    return {name: (statistics.median(fwd[name]), statistics.median(both[name]))
            for name in layers}


class TwinLayer(nn.Module):
    """A custom layer's parameters run through its pure-autograd twin (the same maths with
    autograd's backward), for timing and memory against the hand-written backward."""

    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def forward(self, x):
        m = self.layer
        if isinstance(m, WSConv2d):
            return twin.ws_conv2d(x, m.weight, m.gain, m.bias, m.stride, m.padding)
        if isinstance(m, SEAttention):
            return twin.se_attention(x, m.fc1.weight, m.fc1.bias, m.fc2.weight, m.fc2.bias)
        if isinstance(m, SwishBeta):
            return twin.swish_beta(x, m.beta)
        return twin.mix_pool(x, m.mix_logit, m.kernel_size)


def saved_bytes(layer, x):
    """Bytes of the tensors a forward pass keeps for backward (what a training step holds in
    memory between forward and backward), counted with saved-tensor hooks; a tensor saved
    twice counts once."""
    seen = {}

    def pack(t):
        seen[(t.untyped_storage().data_ptr(), t.dtype)] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        layer(x.detach().requires_grad_(True))
    return sum(seen.values())


def run_benchmarks(device, batch=128, channels=32, size=14, reps=50):
    x = torch.randn(batch, channels, size, size, device=device)
    rows = []
    for custom_name, custom, std_name, std in pairs(channels):
        variants = {"custom": custom, "twin": TwinLayer(custom), "standard": std}
        row = {"custom": custom_name, "standard": std_name,
               "custom_params": count_params(custom), "standard_params": count_params(std)}
        for label, (fwd, both) in time_layers(variants, x, device, reps).items():
            row.update({f"{label}_forward_ms": fwd * 1e3, f"{label}_fwd_bwd_ms": both * 1e3,
                        f"{label}_saved_mb": saved_bytes(variants[label].to(device), x) / 2 ** 20})
        rows.append(row)
    return {"input_shape": [batch, channels, size, size], "reps": reps, "interleaved": True,
            "rows": rows}


def run_examples():
    """The simple cases the tests check, measured, for the report: (check, expected, measured)."""
    torch.manual_seed(0)
    x = torch.linspace(-3, 3, 61)
    grid = torch.randn(2, 3, 6, 6)
    conv = WSConv2d(4, 6, 3)
    u = standardise(conv.weight.detach())[0].flatten(1)
    constant = torch.full((1, 8, 5, 5), 0.5)
    se_out = SEAttention(8, reduction=2)(constant)
    rows = [
        ("SwishBeta(β=1) − SiLU, max |difference| on [−3, 3]", 0.0,
         (SwishBeta(1.0)(x) - F.silu(x)).abs().max().item()),
        ("SwishBeta(β=50) − ReLU, max |difference| on [−3, 3]", 0.0,
         (SwishBeta(50.0)(x) - F.relu(x)).abs().max().item()),
        ("MixPool2d at α = 1 (logit 30) − max pooling, max |difference|", 0.0,
         (MixPool2d(2, init_logit=30.0)(grid) - F.max_pool2d(grid, 2)).abs().max().item()),
        ("MixPool2d at α = 0 (logit −30) − average pooling, max |difference|", 0.0,
         (MixPool2d(2, init_logit=-30.0)(grid) - F.avg_pool2d(grid, 2)).abs().max().item()),
        ("WSConv2d standardised kernel: largest |mean| over output channels", 0.0,
         u.mean(1).abs().max().item()),
        ("WSConv2d standardised kernel: variance (mean over output channels)", 1.0,
         u.var(1, unbiased=False).mean().item()),
        ("SEAttention on a constant input: largest spread within a channel", 0.0,
         (se_out.amax((2, 3)) - se_out.amin((2, 3))).abs().max().item()),
    ]
    return [{"check": c, "expected": e, "measured": m} for c, e, m in rows]


# Version 2 added the autograd twins' time and memory and the simple examples; version 4 times
# a layer, its twin and its standard analogue in turn, pass by pass, the order reversed every
# other pass (3 kept one order); an older file is remeasured (seconds of work, no training).
STUDY_VERSION = 4


def layers_digest():
    """The measured code: a digest of models/custom_layers.py, so that a study of layers whose
    backward passes have changed since is measured again instead of standing for the new ones."""
    with open(custom_layers.__file__, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:16]


def layer_study(results_dir, section, device, force=False, reps=50):
    path = os.path.join(results_dir, section, STUDY_FILE)
    if os.path.exists(path):
        # Never replaced in place: a bad or older file moves aside (kept) before the new one.
        try:
            stored = read_result(path, STUDY_SCHEMA)
            version = stored["version"]
        except BadResult as err:
            print(f"layer study: {err}; moved aside to {set_aside(path)}; measuring again")
        else:
            current = stored.get("layers_digest") == layers_digest()
            if version >= STUDY_VERSION and current and not force:
                print(f"layer study: finished, skipped ({path})")
                return path
            why = ("remeasured with --force" if force else f"version {version}, older"
                   if version < STUDY_VERSION else "the custom layers changed since")
            print(f"layer study: {why}; the old file moved aside to "
                  f"{set_aside(path, 'older' if version < STUDY_VERSION else 'replaced')}")
    print("layer study: gradcheck of every custom backward, and timing against the autograd "
          "twins and the standard layers")
    write_json_atomic(path, {"version": STUDY_VERSION, "layers_digest": layers_digest(),
                             "gradcheck": run_gradchecks(),
                             "benchmark": run_benchmarks(device, reps=reps),
                             "examples": run_examples(), "environment": environment(device)})
    return path
