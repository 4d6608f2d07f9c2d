"""The hand-written backward passes against their autograd twins, where it costs: SwishBeta and
MixPool2d forward + backward at SimpleCNN's three stage shapes (batch 128: 32 x 28 x 28,
64 x 14 x 14, 128 x 7 x 7), in NCHW and channels_last, one process, the two timed in turn
(interleaved) so that whatever else the machine does falls on both alike; medians of the
repeats. The ratio custom / twin is the number: at most 1.1 is the project's bar.

    python -m benchmarks.custom_backward                       # writes results/benchmarks/...
    python -m benchmarks.custom_backward --reps 3 --out /tmp/look.json
"""
import argparse
import os
import statistics
import sys

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from models.custom_layers import MixPool2d, SwishBeta  # noqa: E402
from utils.results import write_json_atomic  # noqa: E402
from utils.train.layer_study import TwinLayer  # noqa: E402
from utils.train.measure import Timer, environment  # noqa: E402

SHAPES = [(32, 28, 28), (64, 14, 14), (128, 7, 7)]
LAYERS = {"SwishBeta": SwishBeta, "MixPool2d": lambda: MixPool2d(2)}
OUT = os.path.join(ROOT, "results", "benchmarks", "custom_backward.json")


def fwd_bwd_seconds(layer, x):
    xi = x.detach().requires_grad_(True)
    with Timer(x.device) as t:
        out = layer(xi)
        out.backward(torch.ones_like(out))
    return t.seconds


def measure(name, shape, channels_last, batch=128, reps=15, warmup=3, device="cpu"):
    """{custom_ms, twin_ms, ratio}: medians of `reps` interleaved forward + backward passes."""
    custom = LAYERS[name]().to(device)
    twin = TwinLayer(custom)
    x = torch.randn(batch, *shape, device=device)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    times = {"custom": [], "twin": []}
    for i in range(warmup + reps):
        for label, layer in (("custom", custom), ("twin", twin)) if i % 2 else \
                (("twin", twin), ("custom", custom)):
            seconds = fwd_bwd_seconds(layer, x)
            if i >= warmup:
                times[label].append(seconds)
    c, t = statistics.median(times["custom"]), statistics.median(times["twin"])
    return {"custom_ms": c * 1e3, "twin_ms": t * 1e3, "ratio": c / t}


def run(reps=15, batch=128, device="cpu"):
    rows = []
    for name in LAYERS:
        for shape in SHAPES:
            for channels_last in (False, True):
                row = {"layer": name, "shape": list(shape), "channels_last": channels_last,
                       **measure(name, shape, channels_last, batch, reps, device=device)}
                rows.append(row)
                print(f"{name:10s} {'x'.join(map(str, shape)):10s} "
                      f"{'channels_last' if channels_last else 'NCHW':13s} custom "
                      f"{row['custom_ms']:7.2f} ms, twin {row['twin_ms']:7.2f} ms: "
                      f"{row['ratio']:.2f}x", flush=True)
    return {"batch": batch, "reps": reps, "rows": rows, "environment": environment(device)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, default=15)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--out", default=OUT)
    args = p.parse_args(argv)
    record = run(args.reps, args.batch)
    worst = max(r["ratio"] for r in record["rows"])
    print(f"largest ratio {worst:.2f}x (bar: 1.1x)")
    write_json_atomic(args.out, record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
