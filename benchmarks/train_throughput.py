"""Training throughput: the usual published pipeline against this project's data path.

In one process, on the same machine, the same model is trained with the same optimizer (Adam,
lr 1e-3) and batch size 128 for at least --steps steps and --min-seconds seconds under
  (a) the usual pipeline: torchvision.datasets + per-sample transforms (CIFAR-10:
      RandomCrop(32, padding=4), RandomHorizontalFlip, ToTensor, Normalize; MNIST: ToTensor,
      Normalize) + DataLoader(batch_size=128, shuffle=True), NCHW float32, num_workers 0 and 2;
  (b) the project's path: the split as one uint8 tensor, batched shuffling/augmentation/
      normalisation (utils/data.py), channels_last for conv nets.
Images/s is the median over repeats of (steps done x 128) / wall time, after warm-up steps. The
achieved arithmetic rate, MACs x 2 (FLOPs) x 3 (forward + backward) x images/s, is compared
with this machine's float32 matmul peak (a large torch.mm).

    python -m benchmarks.train_throughput                 # writes results/benchmarks/...
    python -m benchmarks.train_throughput --steps 10 --repeats 1   # a quick look
"""
import argparse
import os
import statistics
import sys
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from models import build_model  # noqa: E402
from utils.data import STATS, TensorLoader, default_data_root, load_split  # noqa: E402
from utils.measure import (count_macs, environment, matmul_peak_flops,  # noqa: E402
                           synchronize)
from utils.reporting import md_table  # noqa: E402
from utils.results import write_json_atomic  # noqa: E402
from utils.runner import training_step  # noqa: E402

# (model, dataset, augment, channels_last in the project's path)
CASES = [("FCNet", "mnist", False, False), ("SimpleCNN", "mnist", False, True),
         ("ResNetCIFAR", "cifar10", True, True), ("ResidualCNN", "cifar10", True, True)]
BATCH = 128


def usual_loader(dataset, root, augment, workers):
    import torchvision
    from torchvision import transforms as T

    mean, std = STATS[dataset]
    steps = ([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip()] if augment else [])
    tf = T.Compose(steps + [T.ToTensor(), T.Normalize(mean, std)])
    cls = {"mnist": torchvision.datasets.MNIST, "cifar10": torchvision.datasets.CIFAR10}[dataset]
    ds = cls(root, train=True, download=True, transform=tf)
    return torch.utils.data.DataLoader(ds, batch_size=BATCH, shuffle=True, num_workers=workers,
                                       persistent_workers=workers > 0)


def project_loader(dataset, root, augment, channels_last, device):
    mean, std = STATS[dataset]
    return TensorLoader(load_split(dataset, root, True), BATCH, mean, std, shuffle=True,
                        augment=augment, device=device, channels_last=channels_last)


def train_rate(model_name, loader, device, steps, warmup, repeats, channels_last,
               min_seconds=2.0):
    """Median images/s over `repeats` timed runs of at least `steps` training steps and at least
    `min_seconds` each (a fast model needs many steps for a stable figure)."""
    torch.manual_seed(0)
    model = build_model(model_name).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()

    def batches():
        while True:
            for x, y in loader:
                yield x.to(device, non_blocking=True), y.to(device, non_blocking=True)

    def train_step():
        training_step(model, opt, *next(it))

    it = batches()
    rates = []
    for _ in range(repeats):
        for _ in range(warmup):
            train_step()
        synchronize(device)
        start, done = time.perf_counter(), 0
        while done < steps or time.perf_counter() - start < min_seconds:
            train_step()
            done += 1
            if done % 10 == 0:
                synchronize(device)
        synchronize(device)
        rates.append(done * BATCH / (time.perf_counter() - start))
    return statistics.median(rates)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", default=default_data_root())
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--steps", type=int, default=20, help="timed steps per repeat (at least)")
    p.add_argument("--min-seconds", type=float, default=2.0, help="timed seconds per repeat "
                   "(at least)")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--workers", type=int, nargs="+", default=[0, 2],
                   help="DataLoader num_workers settings of the usual pipeline")
    p.add_argument("--only", nargs="+", help="models to benchmark")
    p.add_argument("--out", default=os.path.join("results", "benchmarks",
                                                  "train_throughput.json"))
    args = p.parse_args(argv)
    device = args.device
    peak = matmul_peak_flops(device)
    print(f"float32 matmul peak on {device}: {peak / 1e9:.1f} GFLOP/s")
    records = []
    for model_name, dataset, augment, cl in CASES:
        if args.only and model_name not in args.only:
            continue
        common = dict(device=device, steps=args.steps, warmup=args.warmup,
                      repeats=args.repeats, min_seconds=args.min_seconds)
        baseline = {w: train_rate(model_name, usual_loader(dataset, args.data_dir, augment, w),
                                  channels_last=False, **common) for w in args.workers}
        ours = train_rate(model_name, project_loader(dataset, args.data_dir, augment, cl, device),
                          channels_last=cl, **common)
        macs = count_macs(build_model(model_name), (1, 28, 28) if dataset == "mnist"
                          else (3, 32, 32))
        best = max(baseline.values())
        rec = {"model": model_name, "dataset": dataset, "augmentation": augment,
               "baseline_img_s": best,
               "baseline_img_s_by_workers": {str(k): v for k, v in baseline.items()},
               "project_img_s": ours, "ratio": ours / best, "macs": macs,
               "achieved_gflop_s": macs * 6 * ours / 1e9,
               "pct_of_peak": 100 * macs * 6 * ours / peak, "device": device,
               "peak_gflop_s": peak / 1e9, "batch_size": BATCH, "min_steps": args.steps,
               "min_seconds": args.min_seconds, "repeats": args.repeats}
        records.append(rec)
        print(f"{model_name:12s} {dataset:8s} usual {best:8.0f} img/s (workers "
              f"{ {k: round(v) for k, v in baseline.items()} }), project {ours:8.0f} img/s, "
              f"ratio {rec['ratio']:.1f}x, {rec['pct_of_peak']:.0f}% of matmul peak")
    write_json_atomic(args.out, {"records": records, "environment": environment(device)})
    print(f"written to {args.out}")
    return 0


def table(path):
    """The README's benchmark table, from the JSON."""
    import json
    with open(path) as f:
        data = json.load(f)
    env = data["environment"]
    rows = [[r["model"], r["dataset"] + (" + aug" if r["augmentation"] else ""),
             f"{r['baseline_img_s']:,.0f}", f"{r['project_img_s']:,.0f}", f"{r['ratio']:.1f}×",
             f"{r['macs'] / 1e6:.1f} M", f"{r['pct_of_peak']:.0f} %"] for r in data["records"]]
    return (md_table(["model", "data", "usual pipeline, img/s (best num_workers)",
                      "project, img/s", "ratio", "MACs/image", "% of fp32 matmul peak"], rows)
            + f"\n\nMeasured on {env['device_name']} ({env['threads']} threads), torch "
            f"{env['torch']}, batch {data['records'][0]['batch_size']}, matmul peak "
            f"{data['records'][0]['peak_gflop_s']:.0f} GFLOP/s." if rows else "")


if __name__ == "__main__":
    sys.exit(main())
