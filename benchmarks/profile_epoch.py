"""Where the time of a training epoch goes: torch.profiler over training steps of one model,
through the project's data path, printed as a table of the most expensive operators.

    python -m benchmarks.profile_epoch --model ResidualCNN --steps 60
"""
import argparse
import os
import sys

import torch
from torch.profiler import ProfilerActivity, profile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from models import build_model  # noqa: E402
from utils.train.data import STATS, TensorLoader, default_data_root, load_split  # noqa: E402
from utils.train.runner import training_step  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="ResidualCNN")
    p.add_argument("--dataset", default="cifar10", choices=("mnist", "cifar10"))
    p.add_argument("--steps", type=int, default=60, help="profiled steps (an epoch is 391)")
    p.add_argument("--no-channels-last", action="store_true")
    p.add_argument("--data-dir", default=default_data_root())
    p.add_argument("--rows", type=int, default=15)
    args = p.parse_args(argv)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    cl = not args.no_channels_last
    mean, std = STATS[args.dataset]
    loader = TensorLoader(load_split(args.dataset, args.data_dir, True), 128, mean, std,
                          shuffle=True, augment=args.dataset == "cifar10", device=device,
                          channels_last=cl)
    model = build_model(args.model).to(device)
    if cl:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    batches = iter(loader)

    def step():
        training_step(model, opt, *next(batches))

    for _ in range(3):  # warm-up
        step()
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device == "cuda" else [])
    with profile(activities=activities) as prof:
        for _ in range(args.steps):
            step()
    sort = "cuda_time_total" if device == "cuda" else "self_cpu_time_total"
    print(f"{args.model}, {args.steps} steps of batch 128, {device}, channels_last={cl}")
    print(prof.key_averages().table(sort_by=sort, row_limit=args.rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
