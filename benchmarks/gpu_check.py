"""The GPU check: one prepared script that shows the cuda path works end to end and how fast it is.

On the GPU machine (one call; the data travel in a git-ignored folder, see README):

    python -m benchmarks.gpu_check --data-dir gpu_data --out $OUT

Here first, in its small mode (the CPU, tiny sizes, about three minutes on 2 cores):

    python -m benchmarks.gpu_check --small --device cpu --data-dir ../shared/data --out /tmp/gc

Steps in order of value, each recorded in summary.json / summary.md as soon as it ends (a
failing step is recorded, not fatal; one that would start past --budget-seconds is recorded as
skipped, so the check ends within its budget by construction):
  1. every task script's smoke profile, with --amp on and with --amp off;
  2. two --deterministic runs of one spec, compared number for number, and the same spec
     killed (SIGKILL) after its first checkpoint and resumed, compared with them;
  3. training throughput of every model on synthetic images of its dataset's shape, in float32
     and under bf16 autocast, as img/s and % of the matmul peak in each dtype;
  4. the quick study (all three scripts, --profile quick; smoke in the small mode) from
     nothing, its wall time, and its agreement with the committed CPU results of that profile:
     each run's test accuracy against the committed one, and the report's verdicts;
  5. one section's runs (2.1) with --workers 2 (--gpus-per-run 0.5 on a GPU: two runs share
     it) against one at a time: wall times and identical accuracies;
  6. the whole full study's time estimated from measured per-step times (`--plan`);
  7. as much of the full study as fits in --study-seconds: the task scripts' full profile in
     order, writing normal result JSON (whose environment names the device) into
     <out>/results, packed as results.tar.gz.

`--stage DIR` (here) writes what the GPU machine needs into DIR: MNIST's raw files gzipped by us
(unpacked there by the check) and a real CIFAR-10 subset as packed tensors (utils/train/data.py).
"""
import glob
import gzip
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import torch  # noqa: E402

from models import MODELS, build_model  # noqa: E402
from utils.train.cli import OneLineParser, int_in  # noqa: E402
from utils.train.data import (FOLDERS, SHAPES, STATS, DatasetUnavailable, Split,  # noqa: E402
                              TensorLoader, pack, require_data)
from utils.train.execution import Execution  # noqa: E402
from utils.train.measure import count_macs, environment, peak_dtype  # noqa: E402
from utils.markdown import md_table  # noqa: E402
from utils.sections import SCRIPTS  # noqa: E402
from utils.results import (BadResult, read_result, write_json_atomic,  # noqa: E402
                           write_text_atomic)

# The check's whole time on a lent GPU (a window of about 10 minutes), and what it keeps back
# at the end for writing the summary and packing the results.
BUDGET_S = 420
SMALL_BUDGET_S = 270  # the CPU dry run: under 5 minutes with the margin
PACK_MARGIN_S = 30

MNIST_MODELS = {"FCNet", "SimpleCNN", "ResNetLike", "SwappableCNN", "StandardCNN",
                "CNNWithCustomLayers"}
# The spec the determinism and resume checks train: a conv net with augmentation-free MNIST.
PROBE_RUN = ["homework_cnn_vs_fc_comparison.py", "--section", "1.1", "--only", "SimpleCNN",
             "--profile", "smoke", "--epochs", "3", "--deterministic"]


def script(args, argv, out_dir, timeout):
    """Run a task script as a user would; returns (exit status, seconds, last output line)."""
    cmd = [sys.executable, argv[0], "--no-progress", "--device", args.device,
           "--data-dir", args.data_dir, "--results-dir", os.path.join(out_dir, "results"),
           "--plots-dir", os.path.join(out_dir, "plots"), *argv[1:]]
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})
        lines = (proc.stdout + proc.stderr).strip().splitlines() or [""]
        return proc.returncode, time.perf_counter() - start, lines[-1]
    except subprocess.TimeoutExpired:
        return "timeout", time.perf_counter() - start, f"stopped after {timeout} s"


def comparable(folder):
    """Every number a run learned (histories without times, traces, final accuracies)."""
    out = {}
    for path in sorted(glob.glob(os.path.join(folder, "results", "*", "*.json"))):
        try:
            r = read_result(path, {"history": list, "trace": dict, "final": dict})
        except BadResult:  # measurements that are not training runs (layer_study.json)
            continue
        out[os.path.basename(path)] = (
            [{k: v for k, v in h.items() if not k.endswith("time_s")} for h in r["history"]],
            r["trace"], r["final"]["test_acc"], r["final"]["train_acc_eval"])
    return out


def step_smoke(args, work, progress=lambda partial: None):
    """Each script's smoke profile with amp on and off. The small mode (a CPU, where bf16 is
    5-15x slower) keeps amp on for Task 3.1 only, the section the custom autograd Functions
    broke under autocast."""
    rows = []
    cases = [(name, amp, []) for name in SCRIPTS for amp in ("on", "off")]
    if args.small:
        cases = [(name, "off", []) for name in SCRIPTS] + [(SCRIPTS[2], "on", ["--section", "3.1"])]
    for name, amp, extra in cases:
        code, seconds, last = script(args, [name, "--profile", "smoke", "--amp", amp, *extra],
                                     os.path.join(work, f"smoke_{name[:-3]}_{amp}"), 900)
        rows.append({"script": " ".join([name, *extra]), "amp": amp, "exit": code,
                     "seconds": round(seconds, 1), "last_line": last[:160]})
        # a kill before the step ends still leaves the scripts it finished
        progress({"ok": all(r["exit"] == 0 for r in rows), "runs": list(rows),
                  "partial": f"{len(rows)} of {len(cases)} scripts"})
    return {"ok": all(r["exit"] == 0 for r in rows), "runs": rows}


def step_determinism_and_resume(args, work):
    runs = {}
    for label in ("first", "second"):
        runs[label] = script(args, PROBE_RUN, os.path.join(work, f"det_{label}"), 600)
    same = comparable(os.path.join(work, "det_first")) == comparable(os.path.join(work,
                                                                                  "det_second"))
    # Kill -9 as soon as the first checkpoint lands, then the same command again.
    folder = os.path.join(work, "resume")
    checkpoint = os.path.join(folder, "results", ".checkpoints", "mnist_comparison",
                              "SimpleCNN__seed0.pt")
    cmd = [sys.executable, PROBE_RUN[0], "--no-progress", "--device", args.device, "--data-dir",
           args.data_dir, "--results-dir", os.path.join(folder, "results"), "--plots-dir",
           os.path.join(folder, "plots"), *PROBE_RUN[1:]]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline, killed = time.time() + 300, False
    while time.time() < deadline and proc.poll() is None:
        if os.path.exists(checkpoint):
            proc.send_signal(signal.SIGKILL)
            killed = True
            break
        time.sleep(0.05)
    proc.wait()
    resumed = script(args, PROBE_RUN, folder, 600)
    return {"ok": same and killed and resumed[0] == 0
            and comparable(folder) == comparable(os.path.join(work, "det_first")),
            "deterministic_runs_identical": same, "killed_after_first_checkpoint": killed,
            "resumed_equals_uninterrupted": comparable(folder) == comparable(
                os.path.join(work, "det_first")),
            "exits": [runs["first"][0], runs["second"][0], resumed[0]]}


def synthetic_loader(dataset, device, channels_last):
    shape = SHAPES[dataset]
    g = torch.Generator().manual_seed(0)
    split = Split(torch.randint(0, 256, (4096, *shape), generator=g, dtype=torch.uint8),
                  torch.randint(0, 10, (4096,), generator=g))
    mean, std = STATS[dataset]
    return TensorLoader(split, 128, mean, std, shuffle=True, augment=dataset == "cifar10",
                        device=device, channels_last=channels_last)


def step_throughput(args):
    """Every model's training rate in float32 and under bf16 autocast, each beside the matmul
    peak of its dtype measured alternately with it."""
    from benchmarks.train_throughput import train_rates

    names = list(MODELS) if not args.small else ["FCNet", "ResNetCIFAR"]
    rows = []
    for name in names:
        dataset = "mnist" if name in MNIST_MODELS else "cifar10"
        cl = name != "FCNet" and name != "DeepFCNet"
        macs = count_macs(build_model(name), SHAPES[dataset])
        row = {"model": name, "macs": macs}
        for label, amp in (("fp32", False), ("bf16", True)):
            rates, peaks = train_rates(
                name, synthetic_loader(dataset, args.device, cl), args.device,
                steps=2 if args.small else 30, warmup=1 if args.small else 5, repeats=3,
                channels_last=cl, min_seconds=0.05 if args.small else 0.5,
                execution=Execution(amp=amp), peak_dtype=peak_dtype(amp, args.device))
            rate, peak = statistics.median(rates), statistics.median(peaks)
            row.update({f"img_s_{label}": rate, f"pct_of_peak_{label}": 100 * macs * 6 * rate
                        / peak, f"img_s_range_{label}": [min(rates), max(rates)]})
        row["bf16_speedup"] = row["img_s_bf16"] / row["img_s_fp32"]
        rows.append(row)
    return {"ok": True, "rows": rows}


def _accuracies(folder):
    """{run id: (test accuracy, test images)} of the training runs under a results folder."""
    out = {}
    for path in glob.glob(os.path.join(folder, "*", "*__seed*.json")):
        try:
            r = read_result(path, {"run_id": str, "final": dict, "test_size": int})
        except BadResult:
            continue
        out[f"{os.path.basename(os.path.dirname(path))}/{r['run_id']}"] = (
            r["final"]["test_acc"], r["test_size"])
    return out


def agreement_with(folder, committed):
    """Each run trained here against the committed run of the same id: the accuracy difference
    and whether it lies within the 95 % interval of two independent accuracies on its test
    images; then the report's verdicts, here against there (utils/report/findings.agreement)."""
    from utils.report.findings import agreement
    from utils.report.table import Results
    from utils.report.verdicts import comparisons

    here, there = _accuracies(folder), _accuracies(committed)
    runs = []
    for run in sorted(set(here) & set(there)):
        (a, n), (b, _) = here[run], there[run]
        half = 1.96 * ((a * (1 - a) + b * (1 - b)) / n) ** 0.5
        runs.append({"run": run, "here": a, "committed": b, "difference": a - b,
                     "within_interval": abs(a - b) <= half})
    verdicts = agreement(comparisons(Results(folder)), comparisons(Results(committed)))
    return {"runs_compared": len(runs), "within_interval": sum(r["within_interval"] for r in runs),
            "largest_difference": max((abs(r["difference"]) for r in runs), default=None),
            "verdicts": {k: verdicts[k] for k in ("agree", "unresolved", "flipped", "total")},
            "runs": runs}


def step_quick(args, work):
    """The quick study from nothing (smoke in the small mode), timed, and compared with the
    committed CPU results of the same profile where the repository holds them."""
    profile = "smoke" if args.small else "quick"
    folder = os.path.join(work, "quick")
    start, rows = time.perf_counter(), []
    for name in SCRIPTS:
        code, seconds, last = script(args, [name, "--profile", profile], folder, 1200)
        rows.append({"script": name, "exit": code, "seconds": round(seconds, 1),
                     "last_line": last[:160]})
    out = {"ok": all(r["exit"] == 0 for r in rows), "profile": profile,
           "wall_s": time.perf_counter() - start, "scripts": rows}
    committed = os.path.join(ROOT, "results", profile)
    if glob.glob(os.path.join(committed, "*", "*__seed*.json")):
        out["agreement"] = agreement_with(os.path.join(folder, "results"), committed)
    else:
        out["agreement"] = {"skipped": f"no committed results of the {profile} profile"}
    return out


def step_workers(args, work):
    """2.1's runs with two workers sharing the device against one at a time."""
    profile = "smoke" if args.small else "quick"
    argv = [SCRIPTS[1], "--section", "2.1", "--profile", profile]
    share = ["--gpus-per-run", "0.5"] if args.device == "cuda" else []
    timed = {}
    for label, extra in (("one at a time", []), ("two workers", ["--workers", "2", *share])):
        folder = os.path.join(work, f"workers_{len(timed)}")
        code, seconds, last = script(args, [*argv, *extra], folder, 900)
        timed[label] = {"exit": code, "seconds": round(seconds, 1), "last_line": last[:160],
                        "accuracies": _accuracies(os.path.join(folder, "results"))}
    one, two = timed["one at a time"], timed["two workers"]
    return {"ok": one["exit"] == 0 and two["exit"] == 0, "share": share, **timed,
            "speedup": one["seconds"] / two["seconds"] if two["seconds"] else None,
            "same_accuracies": one["accuracies"] == two["accuracies"]}


def step_plan(args):
    """The whole full study's training time from measured per-step times on this device."""
    import contextlib
    import importlib
    import io

    from utils.train.cli import build_parser
    from utils.train.plan import plan

    specs = []
    for name in SCRIPTS:
        module = importlib.import_module(name[:-3])
        parsed = build_parser("", module.SECTIONS, getattr(module, "options", None)).parse_args(
            ["--profile", "full"])
        specs += [s for section in module.SECTIONS.values() for s in section(parsed)]
    if args.small:
        specs = [s for s in specs if s.section == "mnist_comparison"]
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        total = plan(specs, "/nonexistent", args.device, Execution(amp=args.device == "cuda"),
                     force=True)
    return {"ok": True, "runs": len(specs), "estimated_training_s": total,
            "table": text.getvalue()}


def step_study(args, work):
    """The full profile, script by script, until --study-seconds are spent."""
    folder = os.path.join(work, "study")
    profile = "smoke" if args.small else "full"
    order = [[SCRIPTS[0], "--section", "1.1"], [SCRIPTS[2], "--section", "3.1"],
             [SCRIPTS[0], "--section", "1.2"], [SCRIPTS[1], "--section", "2.1"],
             [SCRIPTS[1], "--section", "2.2"], [SCRIPTS[2], "--section", "3.2"],
             [SCRIPTS[1], "--section", "2.2-sweep"]]
    start, rows = time.perf_counter(), []
    for argv in order:
        left = args.study_seconds - (time.perf_counter() - start)
        if left < 10:
            break
        code, seconds, last = script(args, [*argv, "--profile", profile], folder, int(left))
        rows.append({"run": " ".join(argv), "exit": code, "seconds": round(seconds, 1),
                     "last_line": last[:160]})
    finished = []
    for path in glob.glob(os.path.join(folder, "results", "*", "*.json")):
        try:
            finished.append(read_result(path, {"run_id": str, "section": str, "final": dict,
                                               "environment": dict}))
        except BadResult:  # measurements that are not training runs (layer_study.json)
            continue
    return {"ok": all(r["exit"] in (0, "timeout") for r in rows), "profile": profile,
            "steps": rows, "finished_runs": [
                {"run": r["run_id"], "section": r["section"], "test_acc": r["final"]["test_acc"],
                 "s_per_epoch": r["final"]["time_per_epoch_s"],
                 "device": r["environment"]["device_name"]} for r in finished]}


def status(step):
    return "skipped" if "skipped" in step else "ok" if step.get("ok") else "FAILED"


def markdown(summary):
    env = summary["environment"]
    lines = [f"# GPU check on {env['device_name']} (torch {env['torch']})", ""]
    for name, step in summary["steps"].items():
        lines.append(f"- {name}: {status(step)} ({step.get('seconds', 0):.0f} s)"
                     + (f": {step['skipped']}" if "skipped" in step else "")
                     + (f" (so far: {step['partial']})" if "partial" in step else ""))
    if summary.get("running"):
        lines.append(f"- running when this summary was written: {summary['running']}")
    tp = summary["steps"].get("throughput", {})
    if tp.get("rows"):
        lines += ["", "Training throughput, batch 128, float32 against bf16 autocast:", "",
                  md_table(["model", "MACs/image", "img/s fp32", "img/s bf16", "bf16 speed-up",
                            "% of peak fp32 / bf16"],
                           [[r["model"], f"{r['macs'] / 1e6:.1f} M", f"{r['img_s_fp32']:,.0f}",
                             f"{r['img_s_bf16']:,.0f}", f"{r['bf16_speedup']:.2f}×",
                             f"{r['pct_of_peak_fp32']:.0f} % / {r['pct_of_peak_bf16']:.0f} %"]
                            for r in tp["rows"]])]
    quick = summary["steps"].get("quick", {})
    if "wall_s" in quick:
        a = quick["agreement"]
        lines += ["", f"The {quick['profile']} study from nothing: {quick['wall_s'] / 60:.1f} min"
                  + (f"; against the committed CPU runs, {a['within_interval']} of "
                     f"{a['runs_compared']} test accuracies within their 95 % interval "
                     f"(largest difference {a['largest_difference']:.4f}), verdicts agreeing "
                     f"{a['verdicts']['agree']} of {a['verdicts']['total']}"
                     if a.get("runs_compared") else
                     f" ({a.get('skipped', 'no run to compare with a committed one')})")]
    workers = summary["steps"].get("workers", {})
    if workers.get("speedup"):
        lines += ["", f"2.1 with two workers {' '.join(workers['share'])}: "
                  f"{workers['two workers']['seconds']:.0f} s against "
                  f"{workers['one at a time']['seconds']:.0f} s one at a time "
                  f"({workers['speedup']:.2f}×), accuracies "
                  f"{'identical' if workers['same_accuracies'] else 'different'}"]
    plan_step = summary["steps"].get("plan", {})
    if "estimated_training_s" in plan_step:
        lines += ["", f"Whole study ({plan_step['runs']} runs), estimated training time: "
                  f"{plan_step['estimated_training_s'] / 60:.1f} min"]
    study = summary["steps"].get("study", {})
    if study.get("finished_runs"):
        lines += ["", "Finished runs:", "", md_table(
            ["run", "section", "test acc", "s/epoch"],
            [[r["run"], r["section"], f"{r['test_acc']:.4f}", f"{r['s_per_epoch']:.2f}"]
             for r in study["finished_runs"]])]
    return "\n".join(lines) + "\n"


def stage(out_dir, data_dir, cifar_train, cifar_test):
    """Here: MNIST raw files gzipped, and a packed CIFAR-10 subset, into `out_dir`."""
    raw_out = os.path.join(out_dir, "mnist-raw-gz")
    os.makedirs(raw_out, exist_ok=True)
    raw = os.path.join(data_dir, FOLDERS["mnist"])
    for f in sorted(os.listdir(raw)):
        if not f.endswith(".gz"):
            with open(os.path.join(raw, f), "rb") as src, \
                    gzip.open(os.path.join(raw_out, f + ".gz"), "wb") as dst:
                shutil.copyfileobj(src, dst)
    return pack("cifar10", data_dir, out_dir, cifar_train, cifar_test)


def unstage(data_dir):
    """There: MNIST's gzipped raw files back into torchvision's layout."""
    staged = os.path.join(data_dir, "mnist-raw-gz")
    raw = os.path.join(data_dir, FOLDERS["mnist"])
    if os.path.isdir(staged) and not os.path.isdir(raw):
        os.makedirs(raw)
        for f in os.listdir(staged):
            with gzip.open(os.path.join(staged, f), "rb") as src, \
                    open(os.path.join(raw, f[:-3]), "wb") as dst:
                shutil.copyfileobj(src, dst)


def parse(argv):
    p = OneLineParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", choices=("cuda", "cpu"),
                   default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--small", action="store_true",
                   help="tiny sizes and the smoke profile throughout: a dry run of every step")
    p.add_argument("--data-dir", default="gpu_data")
    p.add_argument("--out", default=os.path.join("results", "gpu_check"))
    p.add_argument("--study-seconds", type=int_in(1, 3600), default=480,
                   help="at most this long for step 6, the full study as far as it gets")
    p.add_argument("--budget-seconds", type=int_in(30, 7200), default=None,
                   help=f"the whole check's time (default {BUDGET_S}, {SMALL_BUDGET_S} with "
                        "--small): a step that would start past it is recorded as skipped, and "
                        "the study gets what is left (less a margin to pack the results)")
    p.add_argument("--stage", metavar="DIR", help="prepare DIR to travel, then exit")
    p.add_argument("--cifar-train", type=int_in(1, 50_000), default=5000,
                   help="--stage: CIFAR train images")
    p.add_argument("--cifar-test", type=int_in(1, 10_000), default=1000,
                   help="--stage: CIFAR test images")
    args = p.parse_args(argv)
    if args.budget_seconds is None:
        args.budget_seconds = SMALL_BUDGET_S if args.small else BUDGET_S
    if args.device == "cuda" and not torch.cuda.is_available():
        p.error("--device cuda was asked for but this torch sees no CUDA GPU; use --device cpu")
    if args.stage and os.path.exists(args.stage) and not os.path.isdir(args.stage):
        p.error(f"--stage {args.stage} is a file, not a folder to stage the data into")
    if not args.stage and os.path.exists(args.out) and not os.path.isdir(args.out):
        p.error(f"--out {args.out} is a file, not a folder for the check's summary")
    return args


def write_summary(out, summary):
    write_json_atomic(os.path.join(out, "summary.json"), summary)
    write_text_atomic(os.path.join(out, "summary.md"), markdown(summary))


def main(argv=None):
    args = parse(argv)
    if not args.stage:
        unstage(args.data_dir)
    try:  # every step needs both datasets: said before the first one runs, nothing created
        require_data(args.data_dir, ["mnist", "cifar10"])
    except DatasetUnavailable as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.stage:
        print(f"staged {stage(args.stage, args.data_dir, args.cifar_train, args.cifar_test)}")
        return 0
    args.data_dir = os.path.abspath(args.data_dir)
    # A folder of its own making, so that removing it at the end can never touch a user's files
    # (a --out that already holds a work/ folder keeps it).
    os.makedirs(args.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="work-", dir=os.path.abspath(args.out))
    summary = {"environment": environment(args.device), "small": args.small, "steps": {}}

    def partial(key):
        def save(outcome):
            summary["steps"][key] = outcome
            write_summary(args.out, summary)
        return save
    steps = {"smoke (amp on/off)": lambda: step_smoke(args, work, partial("smoke")),
             "determinism and kill-resume": lambda: step_determinism_and_resume(args, work),
             "throughput": lambda: step_throughput(args),
             "quick study": lambda: step_quick(args, work),
             "workers": lambda: step_workers(args, work), "plan": lambda: step_plan(args),
             "study": lambda: step_study(args, work)}
    began = time.perf_counter()
    for name, step in steps.items():
        start = time.perf_counter()
        left = args.budget_seconds - (start - began) - PACK_MARGIN_S
        if left <= 0:  # past the budget: said, not silently dropped
            outcome = {"ok": True, "skipped": f"the {args.budget_seconds} s budget was spent"}
        else:
            if name == "study":
                args.study_seconds = min(args.study_seconds, int(left))
            summary["running"] = name  # on disk before the step starts: a kill says where
            write_summary(args.out, summary)
            try:
                outcome = step()
            except Exception as err:  # recorded: the other steps still run
                outcome = {"ok": False, "error": f"{type(err).__name__}: {err}"}
        outcome["seconds"] = time.perf_counter() - start
        summary.pop("running", None)
        summary["steps"][name.split(" ")[0]] = outcome
        # written after every step: a check killed mid-way leaves the steps it finished
        write_summary(args.out, summary)
        print(f"{name}: {status(outcome)} ({outcome['seconds']:.0f} s)", flush=True)
    with tarfile.open(os.path.join(args.out, "results.tar.gz"), "w:gz") as tar:
        study_results = os.path.join(work, "study", "results")
        if os.path.isdir(study_results):
            tar.add(study_results, arcname="results",
                    filter=lambda t: None if ".checkpoints" in t.name else t)
    shutil.rmtree(work, ignore_errors=True)
    print(markdown(summary))
    return 0 if all(s.get("ok") for s in summary["steps"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
