"""How far a rerun of a committed run lands from it: the float-level drift README promises about.

Retrains a few committed runs from their stored specs (same code, same seeds, same data) under a
torch thread count of choice and compares every epoch's test loss and accuracy with the
committed history. A different thread count changes the order of floating-point sums the way
another CPU model or torch build does, so `--threads 1` against runs committed at 2 threads
stands for "another machine"; the committed thread count on the committed machine checks the
promise that a rerun there is identical. Nothing committed is touched: reruns go to a temporary
folder.

    python -m benchmarks.rerun_drift                  # writes results/benchmarks/rerun_drift.json
    python -m benchmarks.rerun_drift --profile quick --threads 2 --out /tmp/d.json
"""
import os
import sys
import tempfile

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from utils.train.cli import OneLineParser, cached_dataset, int_in  # noqa: E402
from utils.train.data import default_data_root  # noqa: E402
from utils.train.measure import environment  # noqa: E402
from utils.markdown import md_table  # noqa: E402
from utils.report.common import count  # noqa: E402
from utils.results import read_json, run_path, write_json_atomic  # noqa: E402
from utils.train.runner import Run, RunSpec  # noqa: E402

# Cheap runs that still train for several epochs: the drift a profile shows on them is what its
# other runs show, and rerunning them costs minutes (MNIST and CIFAR-10, MLP, CNN and ResNet).
CASES = {"quick": ["mnist_comparison/SimpleCNN__seed0", "kernel_size/CNN_3x3__seed0",
                   "depth/MediumCNN__seed0", "residual_blocks/BasicResNet__seed0"],
         "full": ["mnist_comparison/FCNet__seed0", "kernel_size/CNN_Combo__seed0"]}
RESULTS = {"quick": os.path.join(ROOT, "results", "quick"), "full": os.path.join(ROOT, "results")}
DEFAULT_OUT = os.path.join(ROOT, "results", "benchmarks", "rerun_drift.json")


def compare(committed, rerun):
    """Per-run drift: the first epoch's test loss both ways, and the test accuracy at the last
    epoch and the largest gap over all epochs."""
    old, new = committed["history"], rerun["history"]
    gaps = [abs(a["test_acc"] - b["test_acc"]) for a, b in zip(old, new)]
    return {"run": committed["run_id"], "section": committed["section"],
            "committed": {"test_acc": committed["final"]["test_acc"],
                          "epoch1_test_loss": old[0]["test_loss"],
                          "cpu": committed["environment"]["cpu"],
                          "threads": committed["environment"]["threads"]},
            "rerun": {"test_acc": rerun["final"]["test_acc"],
                      "epoch1_test_loss": new[0]["test_loss"]},
            "epoch1_test_loss_diff": abs(old[0]["test_loss"] - new[0]["test_loss"]),
            "final_test_acc_diff": abs(committed["final"]["test_acc"]
                                       - rerun["final"]["test_acc"]),
            "max_test_acc_diff": max(gaps),
            "identical": [(a["test_loss"], a["test_acc"]) for a in old]
            == [(b["test_loss"], b["test_acc"]) for b in new]}


def rerun(path, data_dir, work):
    committed = read_json(path)
    spec = RunSpec(**committed["spec"])
    result = Run(spec, cached_dataset(spec.dataset, data_dir), "cpu", work,
                 os.path.join(work, ".checkpoints"), progress=False).execute()
    return compare(committed, result)


def replaced(row):
    """What became of the committed run a row compared with: "retrained" (its file now holds
    another history), "removed", or None (still the run measured against)."""
    path = run_path(RESULTS[row["profile"]], row["section"], row["run"])
    if not os.path.exists(path):
        return "removed"
    now = read_json(path)
    return "retrained" if (now["final"]["test_acc"], now["history"][0]["test_loss"]) != (
        row["committed"]["test_acc"], row["committed"]["epoch1_test_loss"]) else None


def table(path):
    """README's table of a recorded drift measurement (a row whose committed run was retrained
    since says so: its committed numbers are the ones it was measured against)."""
    record = read_json(path)
    fate = [replaced(r) for r in record["runs"]]
    rows = [[r["profile"], r["run"], f"{r['committed']['cpu']}, "
             f"{r['committed']['threads']} threads" + (f" (since {then})" if then else ""),
             f"{r['committed']['test_acc']:.4f}",
             f"{r['rerun']['test_acc']:.4f}", f"{r['final_test_acc_diff']:.4f}",
             f"{r['max_test_acc_diff']:.4f}", f"{r['epoch1_test_loss_diff']:.1e}",
             "yes" if r["identical"] else "no"] for r, then in zip(record["runs"], fate)]
    env = record["environment"]
    return (f"Reruns on {env['cpu']}, {count(record['threads'], 'thread')}, from the committed "
            f"specs (`python -m benchmarks.rerun_drift`, {env['date'][:10]}); differences are "
            "absolute, against the run committed then:\n\n"
            + md_table(["profile", "run", "committed on", "committed acc", "rerun acc",
                        "difference at the last epoch", "largest difference over epochs",
                        "epoch-1 test loss difference", "identical"], rows))


def main(argv=None):
    p = OneLineParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--profile", choices=list(CASES), nargs="+", default=list(CASES))
    p.add_argument("--threads", type=int_in(1, 1024), default=1,
                   help="torch CPU threads of the reruns (the committed runs used 2)")
    p.add_argument("--data-dir", default=default_data_root())
    p.add_argument("--out", default=DEFAULT_OUT)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    runs = []
    for profile in args.profile:
        for case in CASES[profile]:
            section, run_id = case.split("/")
            with tempfile.TemporaryDirectory() as work:
                runs.append({"profile": profile,
                             **rerun(run_path(RESULTS[profile], section, run_id), args.data_dir,
                                     work)})
            r = runs[-1]
            print(f"{profile} {run_id}: committed {r['committed']['test_acc']:.4f}, rerun "
                  f"{r['rerun']['test_acc']:.4f}, identical: {r['identical']}", flush=True)
    write_json_atomic(args.out, {"threads": args.threads, "environment": environment("cpu"),
                                 "profile": "+".join(args.profile), "runs": runs})
    return 0


if __name__ == "__main__":
    sys.exit(main())
