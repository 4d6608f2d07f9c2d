"""`--plan`: what a command would train and what it would cost, before it costs anything.

Each run's time per epoch is estimated from a short timed probe: a few training steps at the
run's batch size on random data of the right shape (after one warm-up step), scaled to the
number of batches in an epoch. Evaluation and measurement are not included in the estimate.
Beside it, the arithmetic floor: the time the run's training FLOPs (one forward and backward
pass per image, counted by FlopCounterMode: measure.count_train_flops) would take at this
device's measured matmul peak in the dtype that runs (bfloat16 under --amp, else float32).
Where that matmul rate is the device's ceiling no data path or kernel trains faster, and the
ratio shows how much speed is left to win; on some CPUs the convolution kernels outrun the
matmul (benchmarks/train_throughput.py measures it), and the floor is then no floor. The probe runs under the same autocast.
"""
import os
import statistics

import torch

from models import build_model
from utils.train import measure
from utils.markdown import md_table
from utils.train.data import SHAPES
from utils.train.execution import Execution
from utils.results import read_json, run_path
from utils.train.runner import make_optimizer, training_step
from utils.supersede import missing_evidence

FULL_SIZES = {"mnist": 60_000, "cifar10": 50_000}


def probe_seconds_per_step(spec, device, steps=3, execution=Execution()):
    """Median wall time of one training step (forward, backward, optimizer) of `spec`."""
    torch.manual_seed(0)
    model = build_model(spec.model, **spec.model_kwargs).to(device)
    fmt = torch.channels_last if spec.channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    optimizer = make_optimizer(spec, model)
    x = torch.randn(spec.batch_size, *SHAPES[spec.dataset], device=device).contiguous(
        memory_format=fmt)
    y = torch.randint(0, 10, (spec.batch_size,), device=device)
    times = []
    for i in range(steps + 1):
        with measure.Timer(device) as t:
            training_step(model, optimizer, x, y, execution)
        if i:  # the first step pays one-off costs (allocation, kernel selection)
            times.append(t.seconds)
    return statistics.median(times), model


def arithmetic_floor_seconds(train_flops, images, peak_flops):
    """Seconds `images` training passes of `train_flops` each take at `peak_flops`."""
    return train_flops * images / peak_flops


def will_skip(spec, results_dir, force=False, upgrade=False):
    """Whether the command would keep this run's finished result rather than train it
    (--upgrade-evidence retrains a result that lacks what this version records)."""
    path = run_path(results_dir, spec.section, spec.run_id)
    if force or not os.path.exists(path):
        return False
    return not (upgrade and missing_evidence(read_json(path)))


DAY_S = 24 * 3600


def native_bf16_flags(cpuinfo="/proc/cpuinfo"):
    """The CPU's bf16 instruction sets (amx_bf16, avx512_bf16) as /proc/cpuinfo lists them;
    empty where it has none or the file is not there (not Linux)."""
    try:
        with open(cpuinfo, encoding="utf-8") as f:
            flags = next((line.split(":", 1)[1].split() for line in f
                          if line.startswith("flags")), [])
    except OSError:
        return []
    return [f for f in ("amx_bf16", "avx512_bf16") if f in flags]


def bf16_note(specs, device, results_dir, force, upgrade, fp32_total):
    """On a CPU with native bf16, what --amp on would take instead (the same probe under bf16
    autocast), or '' elsewhere."""
    flags = native_bf16_flags() if torch.device(device).type == "cpu" else []
    if not flags or fp32_total <= 0:
        return ""
    bf16, cache = 0.0, {}
    for spec in specs:
        if will_skip(spec, results_dir, force, upgrade):
            continue
        key = (spec.model, repr(spec.model_kwargs), spec.batch_size, spec.channels_last)
        if key not in cache:
            cache[key] = probe_seconds_per_step(spec, device, execution=Execution(amp=True))[0]
        n = spec.train_subset or FULL_SIZES[spec.dataset]
        bf16 += cache[key] * -(-n // spec.batch_size) * spec.epochs
    return (f"this CPU has native bf16 ({', '.join(flags)}): --amp on would take about "
            f"{bf16 / 60:.1f} min instead ({fp32_total / bf16:.2f}× the float32 speed, same "
            f"probe under bf16 autocast). float32 stays the study's reference: bf16 changes the "
            f"numbers slightly, and bf16 runs are never pooled with float32 seeds.")


def plan(specs, results_dir, device, execution=Execution(), force=False, upgrade=False):
    """Print one row per run and the total; returns the estimated total seconds."""
    rows, total, floor, cache = [], 0.0, 0.0, {}
    dtype = measure.peak_dtype(execution.amp, device)
    peak = measure.matmul_peak_flops(device, dtype=dtype)
    for spec in specs:
        key = (spec.model, repr(spec.model_kwargs), spec.batch_size, spec.channels_last)
        if key not in cache:
            step, model = probe_seconds_per_step(spec, device, execution=execution)
            cache[key] = (step, measure.count_params(model),
                          measure.count_macs(model, SHAPES[spec.dataset]),
                          measure.count_train_flops(model, SHAPES[spec.dataset]))
        step, params, macs, train_flops = cache[key]
        n = spec.train_subset or FULL_SIZES[spec.dataset]
        per_epoch = step * -(-n // spec.batch_size)
        done = will_skip(spec, results_dir, force, upgrade)
        cost = 0.0 if done else per_epoch * spec.epochs
        run_floor = 0.0 if done else arithmetic_floor_seconds(train_flops, n * spec.epochs, peak)
        total, floor = total + cost, floor + run_floor
        rows.append([spec.run_id, spec.section, f"{params:,}", f"{macs / 1e6:.1f} M",
                     f"{n:,} × {spec.epochs}", f"{per_epoch:.1f}",
                     "finished (skipped)" if done else f"{cost / 60:.1f}",
                     "" if done else f"{run_floor / 60:.1f}"])
    print(md_table(["run", "section", "params", "MACs/image", "train images × epochs",
                    "est. s/epoch", "est. min", "floor min at peak"], rows))
    print(f"\nestimated training time still to do on {device} "
          f"({torch.get_num_threads()} threads): {total / 60:.1f} min "
          f"(+ evaluation and measurements, typically 10–25 % more)")
    print(f"arithmetic floor at this device's measured {str(dtype).removeprefix('torch.')} "
          f"matmul peak "
          f"({peak / 1e9:.0f} GFLOP/s): {floor / 60:.1f} min (a floor only where that rate is "
          f"the device's ceiling: on some CPUs convolutions outrun the matmul; "
          f"python -m benchmarks.train_throughput shows it)")
    note = "" if execution.amp else bf16_note(specs, device, results_dir, force, upgrade, total)
    if note:
        print(note)
    if total > DAY_S:
        print(f"note: that is {total / DAY_S:.1f} days of training on this device; check "
              f"--epochs and the selection (--section, --only) before starting it")
    return total
