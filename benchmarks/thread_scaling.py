"""Thread scaling: does this CPU train more images per second as one run on every core or as one
single-thread run per core? It is what decides whether `--workers N` (one thread a run) can beat
the sequential study (every core on one run), whatever the launcher does.

For each case, a committed quick-profile run's spec (model, batch size, augmentation,
channels_last, optimizer) trains on its real training split with the project's data path for at
least --seconds after warm-up, in fresh processes:
  (a) one process with as many torch threads as this machine has cores;
  (b) one single-thread process per core at once, their timed windows started together (a file
      barrier), images/s summed.
The ratio (b)/(a) is the most any scheduling of such runs on these cores can gain by running
them side by side; near 1 means the run already fills the cores with threads. The float32 matmul
peak is measured in the same command, before the cases.

    python -m benchmarks.thread_scaling              # writes results/benchmarks/thread_scaling.json
    python -m benchmarks.thread_scaling --seconds 1 --only FCNet --out /tmp/ts.json
"""
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from utils.train.cli import OneLineParser, int_in  # noqa: E402
from utils.train.measure import environment, matmul_peak_flops  # noqa: E402
from utils.markdown import md_table  # noqa: E402
from utils.results import read_json, write_json_atomic  # noqa: E402

DEFAULT_OUT = os.path.join("results", "benchmarks", "thread_scaling.json")
# Committed quick runs whose specs stand for the quick study's kinds of net, smallest first:
# dense MNIST, small convs, a thin deep plain net, hand-written layers, the deep CIFAR convs.
CASES = {"FCNet": "mnist_comparison/FCNet__seed0",
         "SimpleCNN": "mnist_comparison/SimpleCNN__seed0",
         "CNN_3x3": "kernel_size/CNN_3x3__seed0",
         "Plain20": "depth_sweep/Plain20__seed0",
         "CNNWithCustomLayers": "custom_layers/CNNWithCustomLayers__seed0",
         "DeepCNN": "depth/DeepCNN__seed0",
         "ResNetCIFAR": "cifar_comparison/ResNetCIFAR__seed0"}


def committed_spec(case, root=ROOT):
    return read_json(os.path.join(root, "results", "quick", CASES[case] + ".json"))["spec"]


def child(spec_json, threads, seconds, barrier, parties, data_dir):
    """Train the spec for `seconds` after warm-up with `threads` torch threads; print images/s.
    With a barrier folder, wait until `parties` processes are warm before timing."""
    import torch

    torch.set_num_threads(threads)
    from models import build_model
    from utils.train.data import STATS, TensorLoader, load_split
    from utils.train.runner import RunSpec, make_optimizer, training_step

    spec = RunSpec(**json.loads(spec_json))
    torch.manual_seed(0)
    model = build_model(spec.model, **spec.model_kwargs)
    if spec.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = make_optimizer(spec, model)
    mean, std = STATS[spec.dataset]
    loader = TensorLoader(load_split(spec.dataset, data_dir, True), spec.batch_size, mean, std,
                          shuffle=True, augment=spec.augment, channels_last=spec.channels_last)
    model.train()

    def batches():
        while True:
            yield from loader

    it = batches()
    for _ in range(5):
        training_step(model, optimizer, *next(it))
    if barrier:
        open(os.path.join(barrier, f"ready.{os.getpid()}"), "w").close()
        while len(os.listdir(barrier)) < parties:
            time.sleep(0.005)
    start, images = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        x, y = next(it)
        training_step(model, optimizer, x, y)
        images += len(y)
    print(json.dumps({"img_s": images / (time.perf_counter() - start)}), flush=True)


def _spawn(spec, threads, seconds, data_dir, barrier=None, parties=1):
    cmd = [sys.executable, "-m", "benchmarks.thread_scaling", "--child", json.dumps(spec),
           "--threads", str(threads), "--seconds", str(seconds), "--data-dir", data_dir]
    if barrier:
        cmd += ["--barrier", barrier, "--parties", str(parties)]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)


def _img_s(proc):
    out, _ = proc.communicate()
    if proc.returncode:
        raise RuntimeError(f"a benchmark process exited with {proc.returncode}")
    return json.loads(out.strip().splitlines()[-1])["img_s"]


def measure_case(spec, cores, seconds, data_dir):
    together = _img_s(_spawn(spec, cores, seconds, data_dir))
    with tempfile.TemporaryDirectory(prefix="barrier.") as barrier:
        procs = [_spawn(spec, 1, seconds, data_dir, barrier, cores) for _ in range(cores)]
        apart = [_img_s(p) for p in procs]
    return {"one_run_img_s": together, "single_thread_runs_img_s": apart,
            "ratio": sum(apart) / together}


def table(record):
    cores = record["cores"]
    rows = [[c["case"], c["batch_size"], f"{c['one_run_img_s']:,.0f}",
             f"{sum(c['single_thread_runs_img_s']):,.0f}", f"{c['ratio']:.2f}×"]
            for c in record["cases"]]
    return md_table(["net (quick spec)", "batch", f"one run, {cores} threads (img/s)",
                     f"{cores} one-thread runs at once (img/s, summed)", "ratio"], rows)


def main(argv=None):
    from utils.train.data import default_data_root

    p = OneLineParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", default=default_data_root())
    p.add_argument("--seconds", type=float, default=6.0, help="timed seconds per process")
    p.add_argument("--only", nargs="+", choices=list(CASES), metavar="NET",
                   help=f"cases to measure ({', '.join(CASES)}); needs --out")
    p.add_argument("--out", default=None, help=f"where the JSON goes (default {DEFAULT_OUT}, "
                                               f"only for every case at the default length)")
    # the per-process side, started by the parent
    p.add_argument("--child", metavar="SPEC_JSON", help="(internal) train this spec in this process")
    p.add_argument("--threads", type=int_in(1), default=1)
    p.add_argument("--barrier", default=None)
    p.add_argument("--parties", type=int_in(1), default=1)
    args = p.parse_args(argv)
    if args.child:
        child(args.child, args.threads, args.seconds, args.barrier, args.parties, args.data_dir)
        return 0
    if args.out is None:
        if args.only or args.seconds < 6.0:
            p.error(f"--only or a shorter --seconds measures less than {DEFAULT_OUT} holds: "
                    f"give --out PATH for this run's record")
        args.out = DEFAULT_OUT
    cores = len(os.sched_getaffinity(0))
    record = {"cores": cores, "seconds": args.seconds, "environment": environment("cpu"),
              "matmul_peak_gflops": matmul_peak_flops("cpu") / 1e9, "cases": []}
    for case in args.only or CASES:
        spec = committed_spec(case)
        record["cases"].append({"case": case, "run": CASES[case], "batch_size":
                                spec["batch_size"], **measure_case(spec, cores, args.seconds,
                                                                   args.data_dir)})
        c = record["cases"][-1]
        print(f"{case}: {c['one_run_img_s']:,.0f} img/s on {cores} threads, "
              f"{sum(c['single_thread_runs_img_s']):,.0f} as {cores} one-thread runs "
              f"({c['ratio']:.2f}×)", flush=True)
    write_json_atomic(args.out if os.path.isabs(args.out) else os.path.join(ROOT, args.out),
                      record)
    print(table(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
