"""Task 3.1's layer-level measurements: gradcheck of every hand-written backward, and each custom
layer against its standard analogue (parameters, forward and forward+backward time per batch).
Written to results/custom_layers/layers/layer_study.json; the report reads it from there."""
import os
import statistics

import torch
from torch import nn
from torch.autograd import gradcheck

from models.custom_layers import (MixPool2d, MixPoolFunction, SEAttention, SEFunction, SwishBeta,
                                  SwishBetaFunction, WSConv2d, WSConv2dFunction)
from utils.measure import Timer, count_params, environment
from utils.results import write_json_atomic

STUDY_FILE = os.path.join("layers", "layer_study.json")


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


def time_layer(layer, x, device, reps=20, warmup=3):
    """Median seconds of a forward pass, and of forward + backward, on batch x."""
    layer = layer.to(device)
    fwd, both = [], []
    for i in range(warmup + reps):
        xi = x.detach().requires_grad_(True)
        with Timer(device) as t_fwd:
            out = layer(xi)
        with Timer(device) as t_bwd:
            out.backward(torch.ones_like(out))
        if i >= warmup:
            fwd.append(t_fwd.seconds)
            both.append(t_fwd.seconds + t_bwd.seconds)
    return statistics.median(fwd), statistics.median(both)


def run_benchmarks(device, batch=128, channels=32, size=14, reps=20):
    x = torch.randn(batch, channels, size, size, device=device)
    rows = []
    for custom_name, custom, std_name, std in pairs(channels):
        c_fwd, c_both = time_layer(custom, x, device, reps)
        s_fwd, s_both = time_layer(std, x, device, reps)
        rows.append({"custom": custom_name, "standard": std_name,
                     "custom_params": count_params(custom), "standard_params": count_params(std),
                     "custom_forward_ms": c_fwd * 1e3, "custom_fwd_bwd_ms": c_both * 1e3,
                     "standard_forward_ms": s_fwd * 1e3, "standard_fwd_bwd_ms": s_both * 1e3})
    return {"input_shape": [batch, channels, size, size], "reps": reps, "rows": rows}


def layer_study(results_dir, section, device, force=False, reps=20):
    path = os.path.join(results_dir, section, STUDY_FILE)
    if os.path.exists(path) and not force:
        print(f"layer study: finished, skipped ({path})")
        return path
    print("layer study: gradcheck of every custom backward, and timing against the standard "
          "layers")
    write_json_atomic(path, {"gradcheck": run_gradchecks(),
                             "benchmark": run_benchmarks(device, reps=reps),
                             "environment": environment(device)})
    return path
