"""Training throughput: the usual published pipeline against this project's data path.

In one process, on the same machine, the same model is trained with the same optimizer (Adam,
lr 1e-3) and batch size 128 for at least --steps steps and --min-seconds seconds under
  (a) the usual pipeline: torchvision.datasets + per-sample transforms (CIFAR-10:
      RandomCrop(32, padding=4), RandomHorizontalFlip, ToTensor, Normalize; MNIST: ToTensor,
      Normalize) + DataLoader(batch_size=128, shuffle=True), NCHW float32, num_workers 0 and 2;
  (b) the project's path: the split as one uint8 tensor, batched shuffling/augmentation/
      normalisation (utils/train/data.py), channels_last for conv nets.
Images/s is the median over repeats of (steps done x 128) / wall time, after warm-up steps. The
achieved arithmetic rate, training FLOPs per image (one forward and backward pass, counted by
FlopCounterMode: utils/train/measure.py count_train_flops) x images/s, is compared
with this machine's matmul rate in the dtype that runs (float32, or bfloat16 with --amp),
measured in short bursts alternating with the timed repeats (medians of both; every repeat is
recorded): a best-of-many burst taken apart from the training can catch a quiet moment of a
shared machine that the training never saw, and flatter the ratio.

    python -m benchmarks.train_throughput                 # writes results/benchmarks/...
    python -m benchmarks.train_throughput --steps 10 --repeats 1 --out /tmp/look.json
"""
import json
import os
import statistics
import sys
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from models import build_model  # noqa: E402
from utils.train.cli import OneLineParser, int_in  # noqa: E402
from utils.train.data import (STATS, DatasetUnavailable, TensorLoader,  # noqa: E402
                              default_data_root, load_split, require_data)
from utils.train.execution import Execution  # noqa: E402
from utils.train.measure import (count_macs, count_params, count_train_flops,  # noqa: E402
                                 environment, matmul_rates, peak_dtype, synchronize)
from utils.markdown import md_table  # noqa: E402
from utils.results import write_json_atomic  # noqa: E402
from utils.train.runner import RunSpec, make_optimizer, training_step  # noqa: E402

# (model, dataset, augment, channels_last in the project's path)
CASES = [("FCNet", "mnist", False, False), ("SimpleCNN", "mnist", False, True),
         ("ResNetCIFAR", "cifar10", True, True), ("ResidualCNN", "cifar10", True, True)]
BATCH = 128
DEFAULT_OUT = os.path.join("results", "benchmarks", "train_throughput.json")
# Adam, lr 1e-3, as in Task 1 (fused on CUDA, like every run of the study)
BENCH_SPEC = RunSpec(name="bench", section="", model="", dataset="", optimizer="adam", lr=1e-3)


def usual_loader(dataset, root, augment, workers):
    import torchvision
    from torchvision import transforms as T

    mean, std = STATS[dataset]
    steps = ([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip()] if augment else [])
    tf = T.Compose(steps + [T.ToTensor(), T.Normalize(mean, std)])
    cls = {"mnist": torchvision.datasets.MNIST, "cifar10": torchvision.datasets.CIFAR10}[dataset]
    ds = cls(root, train=True, download=False, transform=tf)  # parse() checked it is there
    return torch.utils.data.DataLoader(ds, batch_size=BATCH, shuffle=True, num_workers=workers,
                                       persistent_workers=workers > 0)


def project_loader(dataset, root, augment, channels_last, device):
    mean, std = STATS[dataset]
    return TensorLoader(load_split(dataset, root, True), BATCH, mean, std, shuffle=True,
                        augment=augment, device=device, channels_last=channels_last)


def train_rates(model_name, loader, device, steps, warmup, repeats, channels_last,
                min_seconds=2.0, execution=Execution(), peak_dtype=torch.float32):
    """Images/s of `repeats` timed runs of at least `steps` training steps and `min_seconds`
    each, and, alternating with them, a short burst of matmuls before each repeat (FLOP/s,
    median of the burst): on a shared machine the peak then sees the same moments as the
    training it is compared with."""
    torch.manual_seed(0)
    model = build_model(model_name).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = make_optimizer(BENCH_SPEC, model)
    model.train()

    def batches():
        while True:
            for x, y in loader:
                yield x.to(device, non_blocking=True), y.to(device, non_blocking=True)

    def train_step():
        training_step(model, opt, *next(it), execution)

    it = batches()
    rates, peaks = [], []
    for _ in range(repeats):
        peaks.append(statistics.median(matmul_rates(device, reps=5, dtype=peak_dtype)))
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
    return rates, peaks


def parse(argv):
    p = OneLineParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", default=default_data_root())
    p.add_argument("--device", choices=("cpu", "cuda"),
                   default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--amp", action="store_true",
                   help="bf16 autocast for training, and the peak measured in bf16")
    p.add_argument("--steps", type=int_in(1), default=20,
                   help="timed steps per repeat (at least)")
    p.add_argument("--min-seconds", type=float, default=2.0, help="timed seconds per repeat "
                   "(at least)")
    p.add_argument("--warmup", type=int_in(0), default=3)
    p.add_argument("--repeats", type=int_in(1), default=3)
    p.add_argument("--workers", type=int_in(0), nargs="*", default=[0, 2],
                   help="DataLoader num_workers settings of the usual pipeline (none: skip it)")
    p.add_argument("--only", nargs="+", choices=[c[0] for c in CASES], metavar="MODEL",
                   help=f"models to benchmark ({', '.join(c[0] for c in CASES)}); needs --out")
    p.add_argument("--out", default=None,
                   help=f"where the JSON goes (default {DEFAULT_OUT}, only for a complete run)")
    args = p.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        p.error("--device cuda was asked for but this torch sees no CUDA GPU; use --device cpu")
    if args.out is None:
        if args.only or args.repeats < 3 or args.steps < 20:
            # A partial or shortened run must never replace the committed complete record.
            p.error(f"--only, or fewer --repeats/--steps than the defaults, measures less than "
                    f"{DEFAULT_OUT} holds: give --out PATH for this run's record")
        args.out = DEFAULT_OUT
    folder = os.path.dirname(os.path.abspath(args.out))
    if os.path.exists(folder) and not os.path.isdir(folder) or os.path.isdir(args.out):
        p.error(f"--out {args.out} is not a file path in a folder")
    try:  # before any step: never a download, nor a folder made at a mistyped path
        require_data(args.data_dir, sorted({c[1] for c in CASES
                                            if not args.only or c[0] in args.only}))
    except DatasetUnavailable as err:
        p.error(str(err))
    if os.path.exists(args.out) and not is_throughput_record(args.out):
        p.error(f"--out {args.out} exists and is not a record of this benchmark; it is left "
                f"as it is: choose another path")
    return args


def is_throughput_record(path):
    """Whether `path` holds what this benchmark writes (the only file it may replace)."""
    try:
        with open(path) as f:
            record = json.load(f)
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(record, dict) and set(record) == {"records", "environment"}


def main(argv=None):
    args = parse(argv)
    device = args.device
    execution = Execution(amp=args.amp)
    dtype = peak_dtype(args.amp)
    records = []
    for model_name, dataset, augment, cl in CASES:
        if args.only and model_name not in args.only:
            continue
        common = dict(device=device, steps=args.steps, warmup=args.warmup,
                      repeats=args.repeats, min_seconds=args.min_seconds,
                      execution=execution, peak_dtype=dtype)
        try:
            baseline = {w: statistics.median(train_rates(
                model_name, usual_loader(dataset, args.data_dir, augment, w),
                channels_last=False, **common)[0]) for w in args.workers}
            rates, peaks = train_rates(
                model_name, project_loader(dataset, args.data_dir, augment, cl, device),
                channels_last=cl, **common)
        except DatasetUnavailable as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        ours, peak = statistics.median(rates), statistics.median(peaks)
        shape = (1, 28, 28) if dataset == "mnist" else (3, 32, 32)
        macs = count_macs(build_model(model_name), shape)
        flops = count_train_flops(build_model(model_name), shape)
        best = max(baseline.values()) if baseline else None
        rec = {"model": model_name, "dataset": dataset, "augmentation": augment,
               # the net as benchmarked: its class's defaults, which a section may not use
               "params": count_params(build_model(model_name)),
               "baseline_img_s": best,
               "baseline_img_s_by_workers": {str(k): v for k, v in baseline.items()},
               "project_img_s": ours, "ratio": ours / best if best else None, "macs": macs,
               "train_flops": flops, "achieved_gflop_s": flops * ours / 1e9,
               "pct_of_peak": 100 * flops * ours / peak, "device": device,
               "peak_gflop_s": peak / 1e9, "peak_dtype": str(dtype).removeprefix("torch."),
               # the spread the medians hide: every repeat's training rate and matmul burst
               "project_img_s_repeats": rates, "peak_gflop_s_repeats": [q / 1e9 for q in peaks],
               "amp": args.amp, "batch_size": BATCH, "min_steps": args.steps,
               "min_seconds": args.min_seconds, "repeats": args.repeats}
        records.append(rec)
        print(f"{model_name:12s} {dataset:8s} usual {best or 0:8.0f} img/s (workers "
              f"{ {k: round(v) for k, v in baseline.items()} }), project {ours:8.0f} img/s "
              f"({min(rates):.0f}-{max(rates):.0f}), {rec['pct_of_peak']:.0f}% of the "
              f"{rec['peak_dtype']} matmul peak measured alongside ({peak / 1e9:.0f} GFLOP/s, "
              f"{min(peaks) / 1e9:.0f}-{max(peaks) / 1e9:.0f})")
    try:
        write_json_atomic(args.out, {"records": records, "environment": environment(device)})
    except OSError as err:
        print(f"error: cannot write {args.out} ({err.strerror}); choose another --out",
              file=sys.stderr)
        return 2
    print(f"written to {args.out}")
    return 0


def table(path):
    """The README's benchmark table, from the JSON, saying how its peak was measured."""
    import json
    with open(path) as f:
        data = json.load(f)
    env, records = data["environment"], data["records"]
    if not records:
        return ""

    def cell(value, fmt):
        return "—" if value is None else fmt.format(value)

    rows = [[f"{r['model']} ({r['params']:,} params)",
             r["dataset"] + (" + aug" if r["augmentation"] else ""),
             cell(r["baseline_img_s"], "{:,.0f}"), f"{r['project_img_s']:,.0f}",
             cell(r["ratio"], "{:.1f}×"), f"{r['macs'] / 1e6:.1f} M",
             f"{train_flops_of(r) / 1e6:.1f} M",
             f"{pct_of_peak(r):.0f} %"] for r in records]
    first = records[0]
    dtype = first.get("peak_dtype", "float32")
    how = ("matmul bursts alternating with the timed repeats (medians; range "
           f"{min(first['peak_gflop_s_repeats']):.0f}–{max(first['peak_gflop_s_repeats']):.0f})"
           if "peak_gflop_s_repeats" in first else
           "the fastest of 20 matmuls, measured before the training, not alongside it: on a "
           "shared machine this ratio can flatter the hardware")
    fc = next((r for r in records if r["model"] == "FCNet"), None)
    fc_note = (f" Training FLOPs are counted (FlopCounterMode over one forward and backward "
               f"pass), not taken as 6 × MACs: FCNet's are "
               f"{train_flops_of(fc) / (6 * fc['macs']):.2f} × 6 × MACs, its first layer "
               f"computing no input gradient." if fc else "")
    return (md_table(["model", "data", "usual pipeline, img/s (best num_workers)",
                      "project, img/s", "ratio", "MACs/image", "training FLOPs/image",
                      f"% of {dtype} matmul peak"], rows)
            + f"\n\nMeasured on {env['device_name']} ({env['threads']} threads), torch "
            f"{env['torch']}, batch {first['batch_size']}, {dtype} matmul peak "
            f"{first['peak_gflop_s']:.0f} GFLOP/s from {how}." + fc_note
            + (" Above 100 %: on this machine the net trained faster than torch's matmul rate, "
               "so that rate is a yardstick here, not a ceiling."
               if any(pct_of_peak(r) > 100 for r in records) else ""))


def train_flops_of(record):
    """A record's training FLOPs per image: as measured with it, or (a record from before they
    were counted) counted now for its model: the count depends on the model alone."""
    if "train_flops" in record:
        return record["train_flops"]
    shape = (1, 28, 28) if record["dataset"] == "mnist" else (3, 32, 32)
    return count_train_flops(build_model(record["model"]), shape)


def pct_of_peak(record):
    """The training rate in FLOP/s as a percentage of the matmul peak measured alongside."""
    return 100 * train_flops_of(record) * record["project_img_s"] / (
        record["peak_gflop_s"] * 1e9)


if __name__ == "__main__":
    sys.exit(main())
