"""The speed tools run end to end on a tiny fake MNIST and write what the README table needs."""
import json
import os

import pytest
import torch

from benchmarks import profile_epoch, thread_scaling, train_throughput
from utils.train.cli import main as cli_main
from utils.train.measure import matmul_peak_flops
from utils.train.plan import arithmetic_floor_seconds


def test_throughput_benchmark_writes_a_record_per_model(fake_mnist_root, tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert train_throughput.main(["--data-dir", fake_mnist_root, "--device", "cpu", "--only",
                                  "FCNet", "--steps", "2", "--warmup", "1", "--repeats", "2",
                                  "--min-seconds", "0.01", "--workers", "0", "--out",
                                  str(out)]) == 0
    records = json.loads(out.read_text())["records"]
    assert [r["model"] for r in records] == ["FCNet"]
    r = records[0]
    assert r["baseline_img_s"] > 0 and r["project_img_s"] > 0
    assert abs(r["ratio"] - r["project_img_s"] / r["baseline_img_s"]) < 1e-9
    assert r["macs"] == 566_528 and r["params"] == 567_434
    # The peak is measured alongside every repeat, and the ratio uses the medians of both.
    assert len(r["project_img_s_repeats"]) == len(r["peak_gflop_s_repeats"]) == 2
    median_peak = sorted(r["peak_gflop_s_repeats"])[0] / 2 + sorted(r["peak_gflop_s_repeats"])[1] / 2
    assert r["peak_gflop_s"] == pytest.approx(median_peak)
    assert r["train_flops"] == 2_596_352  # counted; 6 x MACs would be 3,399,168
    assert r["pct_of_peak"] == pytest.approx(
        100 * r["train_flops"] * r["project_img_s"] / (r["peak_gflop_s"] * 1e9))
    assert r["peak_dtype"] == "float32" and r["amp"] is False
    # the net as benchmarked, its size named (a class default may differ from a section's net)
    assert "| FCNet (567,434 params) | mnist |" in train_throughput.table(str(out))


def test_thread_scaling_sums_the_one_thread_runs_and_divides_by_the_all_core_run(
        fake_mnist_root, tmp_path, capsys):
    out = tmp_path / "scaling.json"
    assert thread_scaling.main(["--data-dir", fake_mnist_root, "--seconds", "0.3", "--only",
                                "FCNet", "--out", str(out)]) == 0
    record = json.loads(out.read_text())
    (case,) = record["cases"]
    # one process on every core, then one single-thread process per core, timed together
    assert case["case"] == "FCNet" and len(case["single_thread_runs_img_s"]) == record["cores"]
    assert case["one_run_img_s"] > 0 and min(case["single_thread_runs_img_s"]) > 0
    assert case["ratio"] == pytest.approx(sum(case["single_thread_runs_img_s"])
                                          / case["one_run_img_s"])
    # the committed quick spec's batch size, not a benchmark's own
    assert case["batch_size"] == thread_scaling.committed_spec("FCNet")["batch_size"] == 128


def test_a_partial_thread_scaling_run_never_replaces_the_committed_record(capsys):
    with pytest.raises(SystemExit):
        thread_scaling.main(["--only", "FCNet"])
    assert "--out" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--only", "FCNet"], ["--repeats", "1"], ["--steps", "5"]])
def test_a_partial_benchmark_never_replaces_the_committed_record(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        train_throughput.parse(argv)
    assert exit_info.value.code == 2 and "--out" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--repeats", "0"], ["--steps", "0"], ["--device", "bogus"],
                                  ["--workers", "-1"], ["--only", "NoSuchModel"]])
def test_bad_benchmark_options_are_rejected_before_any_work(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        train_throughput.parse([*argv, "--out", "/tmp/unused.json"])
    assert exit_info.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_benchmark_cuda_without_cuda_and_an_out_under_a_file_are_one_line(tmp_path, capsys,
                                                                           monkeypatch):
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    with pytest.raises(SystemExit):
        train_throughput.parse(["--device", "cuda"])
    assert "no CUDA GPU" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(SystemExit):
        train_throughput.parse(["--out", str(blocker / "bench.json")])
    assert "not a file path" in capsys.readouterr().err


def test_benchmark_with_a_missing_data_folder_is_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:  # refused while parsing, before any step
        train_throughput.main(["--data-dir", str(tmp_path / "nothing"), "--only", "FCNet",
                               "--workers", "--out", str(tmp_path / "b.json")])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.startswith("error: MNIST") and "Traceback" not in err
    assert "that folder does not exist" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "b.json").exists() and not (tmp_path / "nothing").exists()


def test_profiler_prints_the_most_expensive_operators(fake_mnist_root, capsys):
    assert profile_epoch.main(["--model", "SimpleCNN", "--dataset", "mnist", "--steps", "2",
                               "--data-dir", fake_mnist_root, "--rows", "5"]) == 0
    assert "aten::" in capsys.readouterr().out


def test_plan_estimates_without_training(fake_mnist_root, tmp_path, capsys):
    code = cli_main("plan", {"1.1": __import__("homework_cnn_vs_fc_comparison").mnist_specs},
                    ["--plan", "--profile", "smoke", "--data-dir",
                                      fake_mnist_root, "--results-dir", str(tmp_path / "r"),
                                      "--plots-dir", str(tmp_path / "p")])
    out = capsys.readouterr().out
    assert code == 0 and "FCNet__seed0" in out and "estimated training time" in out
    assert "arithmetic floor at this device's measured float32 matmul peak" in out
    assert not (tmp_path / "r" / "mnist_comparison").exists()


def test_arithmetic_floor_is_the_training_flops_at_the_peak():
    # 6 M training FLOPs x 1,000 images = 6 GFLOP of work; at 3 GFLOP/s that is 2 s.
    assert arithmetic_floor_seconds(6e6, 1_000, 3e9) == pytest.approx(2.0)


def test_fcnets_training_flops_are_counted_not_six_times_its_macs():
    """By hand: forward 2 x MACs; weight gradients 2 x MACs; input gradients 2 x MACs of every
    layer but the first (the images need none)."""
    from models import build_model
    from utils.train.measure import count_macs, count_train_flops

    model = build_model("FCNet")
    macs = count_macs(model, (1, 28, 28))
    first = 784 * 512
    assert macs == 566_528
    assert count_train_flops(model, (1, 28, 28)) == 2 * macs + 2 * macs + 2 * (macs - first)
    assert count_train_flops(model, (1, 28, 28)) / (6 * macs) == pytest.approx(0.764, abs=1e-3)


def test_counting_training_flops_leaves_the_model_as_it_was():
    import torch

    from models import build_model
    from utils.train.measure import count_train_flops

    model = build_model("DeepFCNet").eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    count_train_flops(model, (3, 32, 32))
    assert not model.training and all(p.grad is None for p in model.parameters())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_matmul_peak_is_two_n_cubed_over_the_fastest_timed_product(monkeypatch):
    import itertools

    from utils.train import measure

    # A clock whose timed regions take 0.5 s, 0.25 s, 0.5 s, ...: the fastest is 0.25 s.
    ticks = itertools.accumulate(itertools.cycle([1.0, 0.5, 1.0, 0.25]))
    monkeypatch.setattr(measure.time, "perf_counter", lambda: next(ticks))
    rates = measure.matmul_rates("cpu", n=64, reps=4)
    assert sorted(rates) == pytest.approx(sorted([2 * 64 ** 3 / 0.5, 2 * 64 ** 3 / 0.25] * 2))
    assert matmul_peak_flops("cpu", n=64, reps=4) == pytest.approx(2 * 64 ** 3 / 0.25)


def test_gpu_check_stages_mnist_and_a_cifar_subset_that_load_there(fake_mnist_root, tmp_path,
                                                                    monkeypatch):
    from benchmarks import gpu_check
    from utils.train import data

    # The fake root has no CIFAR: stand a packed one in for the official files.
    monkeypatch.setattr(gpu_check, "pack", lambda *args: None)
    gpu_check.stage(str(tmp_path / "travel"), fake_mnist_root, 10, 5)
    staged = sorted(p.name for p in (tmp_path / "travel" / "mnist-raw-gz").iterdir())
    assert staged == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
                      "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    gpu_check.unstage(str(tmp_path / "travel"))  # what the check does on the GPU machine
    there = data.load_split("mnist", str(tmp_path / "travel"), train=True)
    here = data.load_split("mnist", fake_mnist_root, train=True)
    assert torch.equal(there.images, here.images) and torch.equal(there.labels, here.labels)


def test_gpu_check_summary_names_every_step_and_the_estimate():
    from benchmarks import gpu_check

    summary = {"environment": {"device_name": "NVIDIA H200", "torch": "2.11.0"},
               "steps": {"smoke": {"ok": True, "seconds": 60},
                         "throughput": {"ok": True, "seconds": 30, "rows": [
                             {"model": "ResNetCIFAR", "macs": 49_120_512, "img_s_fp32": 10000.0,
                              "img_s_bf16": 20000.0, "bf16_speedup": 2.0,
                              "pct_of_peak_fp32": 3.0, "pct_of_peak_bf16": 1.5}]},
                         "quick": {"ok": True, "seconds": 200, "profile": "quick",
                                   "wall_s": 180.0, "agreement": {
                                       "runs_compared": 59, "within_interval": 57,
                                       "largest_difference": 0.031,
                                       "verdicts": {"agree": 17, "total": 19}}},
                         "workers": {"ok": True, "seconds": 40, "share": ["--gpus-per-run", "0.5"],
                                     "one at a time": {"seconds": 30.0},
                                     "two workers": {"seconds": 20.0}, "speedup": 1.5,
                                     "same_accuracies": True},
                         "plan": {"ok": True, "seconds": 5, "runs": 82,
                                  "estimated_training_s": 600.0},
                         "study": {"ok": False, "seconds": 480}}}
    md = gpu_check.markdown(summary)
    assert "| ResNetCIFAR | 49.1 M | 10,000 | 20,000 | 2.00× | 3 % / 2 % |" in md
    assert "estimated training time: 10.0 min" in md and "- study: FAILED (480 s)" in md
    assert ("quick study from nothing: 3.0 min; against the committed CPU runs, 57 of 59 test "
            "accuracies within their 95 % interval (largest difference 0.0310), verdicts "
            "agreeing 17 of 19") in md
    assert "2.1 with two workers --gpus-per-run 0.5: 20 s against 30 s one at a time (1.50×), " \
        "accuracies identical" in md


def _smoke_run(data_root, results_dir, seed=0):
    from utils.train.data import load_split
    from utils.train.runner import Run, RunSpec

    spec = RunSpec(name="FCNet", section="mnist_comparison", model="FCNet", dataset="mnist",
                   epochs=2, train_subset=256, test_subset=128, profile="smoke", seed=seed)
    data = (load_split("mnist", data_root, True), load_split("mnist", data_root, False))
    return Run(spec, data, "cpu", str(results_dir), str(results_dir / ".ck"),
               progress=False).execute()


def test_a_rerun_with_the_same_threads_is_identical_to_the_committed_run(fake_mnist_root,
                                                                         tmp_path):
    from benchmarks import rerun_drift
    from utils.results import run_path

    _smoke_run(fake_mnist_root, tmp_path / "committed")
    path = run_path(str(tmp_path / "committed"), "mnist_comparison", "FCNet__seed0")
    drift = rerun_drift.rerun(path, fake_mnist_root, str(tmp_path / "rerun"))
    assert drift["identical"] is True
    assert drift["final_test_acc_diff"] == drift["max_test_acc_diff"] == 0.0
    assert drift["epoch1_test_loss_diff"] == 0.0


def test_drift_compares_every_epoch_and_reports_the_largest_gap():
    from benchmarks.rerun_drift import compare

    def result(accs, losses):
        return {"run_id": "X__seed0", "section": "s",
                "history": [{"test_acc": a, "test_loss": l} for a, l in zip(accs, losses)],
                "final": {"test_acc": accs[-1]},
                "environment": {"cpu": "cpu A", "threads": 2}}

    drift = compare(result([0.50, 0.60, 0.70], [1.0, 0.9, 0.8]),
                    result([0.50, 0.64, 0.69], [1.0000001, 0.9, 0.8]))
    assert drift["identical"] is False
    assert drift["final_test_acc_diff"] == pytest.approx(0.01)
    assert drift["max_test_acc_diff"] == pytest.approx(0.04)
    assert drift["epoch1_test_loss_diff"] == pytest.approx(1e-7)


def test_a_drift_row_against_a_run_retrained_since_says_so(tmp_path, monkeypatch):
    from benchmarks import rerun_drift
    from utils.results import run_path, write_json_atomic

    monkeypatch.setitem(rerun_drift.RESULTS, "quick", str(tmp_path))
    row = {"profile": "quick", "run": "A__seed0", "section": "s",
           "committed": {"test_acc": 0.5, "epoch1_test_loss": 1.0}}
    committed = {"final": {"test_acc": 0.5}, "history": [{"test_loss": 1.0}]}
    write_json_atomic(run_path(str(tmp_path), "s", "A__seed0"), committed)
    assert rerun_drift.replaced(row) is None
    committed["history"][0]["test_loss"] = 1.01  # the same accuracy from another run
    write_json_atomic(run_path(str(tmp_path), "s", "A__seed0"), committed)
    assert rerun_drift.replaced(row) == "retrained"
    os.remove(run_path(str(tmp_path), "s", "A__seed0"))
    assert rerun_drift.replaced(row) == "removed"


def test_quick_wall_sets_each_fresh_run_beside_the_committed_run_of_the_same_spec(
        fake_mnist_root, tmp_path):
    import shutil

    from benchmarks.quick_wall import epoch_ratios
    from utils.results import read_json, run_path, write_json_atomic

    _smoke_run(fake_mnist_root, tmp_path / "committed")
    shutil.copytree(tmp_path / "committed", tmp_path / "fresh")
    fresh = run_path(str(tmp_path / "fresh"), "mnist_comparison", "FCNet__seed0")
    record = read_json(fresh)
    record["final"]["time_per_epoch_s"] *= 1.5  # this machine: 1.5x slower per epoch
    write_json_atomic(fresh, record)
    assert epoch_ratios(str(tmp_path / "fresh"), str(tmp_path / "committed")) == \
        pytest.approx([1.5])
    # Evaluated on other images, the epochs did the same work; trained on others, they did not.
    record["spec"]["test_subset"] = 64
    write_json_atomic(fresh, record)
    assert epoch_ratios(str(tmp_path / "fresh"), str(tmp_path / "committed")) == \
        pytest.approx([1.5])
    record["spec"]["train_subset"] = 128
    write_json_atomic(fresh, record)
    assert epoch_ratios(str(tmp_path / "fresh"), str(tmp_path / "committed")) == []


def test_plan_on_a_cpu_with_native_bf16_says_what_amp_on_would_take(tmp_path, monkeypatch):
    from utils.train import plan as plan_module
    from utils.train.runner import RunSpec

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("model name : X\nflags : fpu sse avx512f amx_bf16 avx512_bf16\n")
    assert plan_module.native_bf16_flags(str(cpuinfo)) == ["amx_bf16", "avx512_bf16"]
    cpuinfo.write_text("flags : fpu sse avx2\n")
    assert plan_module.native_bf16_flags(str(cpuinfo)) == []

    spec = RunSpec(name="FCNet", section="s", model="FCNet", dataset="mnist", epochs=2,
                   batch_size=100, train_subset=1_000)
    monkeypatch.setattr(plan_module, "native_bf16_flags", lambda: ["amx_bf16"])
    # a bf16 step of 0.1 s against float32's 0.25 s: 10 steps an epoch, 2 epochs
    monkeypatch.setattr(plan_module, "probe_seconds_per_step",
                        lambda s, d, execution: (0.1 if execution.amp else 0.25, None))
    note = plan_module.bf16_note([spec], "cpu", str(tmp_path), False, False, fp32_total=5.0)
    assert "--amp on would take about 0.0 min" in note and "(2.50× the float32 speed" in note
    monkeypatch.setattr(plan_module, "native_bf16_flags", lambda: [])
    assert plan_module.bf16_note([spec], "cpu", str(tmp_path), False, False, 5.0) == ""


def test_gpu_check_writes_its_summary_after_every_step_and_skips_what_the_budget_leaves_out(
        tmp_path, monkeypatch):
    """On a fake clock: each step takes 100 s of a 250 s budget (30 s kept to pack), so the
    third step is the last to start; a kill after any step leaves the summary of those before."""
    import json

    from benchmarks import gpu_check

    now = [0.0]
    monkeypatch.setattr(gpu_check.time, "perf_counter", lambda: now[0])
    seen = []

    def step(name):
        def run(*args):
            summary = tmp_path / "out" / "summary.json"
            seen.append((name, json.loads(summary.read_text())["steps"] if summary.exists()
                         else {}))
            now[0] += 100
            return {"ok": True}
        return run

    for name in ("step_smoke", "step_determinism_and_resume", "step_throughput", "step_quick",
                 "step_workers", "step_plan", "step_study"):
        monkeypatch.setattr(gpu_check, name, step(name))
    monkeypatch.setattr(gpu_check, "unstage", lambda data_dir: None)
    monkeypatch.setattr(gpu_check, "require_data", lambda root, names: None)
    assert gpu_check.main(["--out", str(tmp_path / "out"), "--device", "cpu",
                           "--budget-seconds", "250"]) == 0
    assert [name for name, _ in seen] == ["step_smoke", "step_determinism_and_resume",
                                          "step_throughput"]
    assert list(seen[2][1]) == ["smoke", "determinism"]  # on disk before the third began
    steps = json.loads((tmp_path / "out" / "summary.json").read_text())["steps"]
    assert "250 s budget" in steps["plan"]["skipped"] and "skipped" in steps["study"]
    assert all("skipped" in steps[k] for k in ("quick", "workers"))
    assert "plan: skipped" in (tmp_path / "out" / "summary.md").read_text()


def test_custom_backward_benchmark_times_both_layers_at_every_stage_shape_and_layout():
    """What it measures, not how fast (a busy machine moves the times, never the rows)."""
    from benchmarks import custom_backward

    record = custom_backward.run(reps=1, batch=2)
    rows = record["rows"]
    assert [(r["layer"], tuple(r["shape"]), r["channels_last"]) for r in rows] == [
        (name, shape, cl) for name in ("SwishBeta", "MixPool2d")
        for shape in custom_backward.SHAPES for cl in (False, True)]
    assert all(r["ratio"] == pytest.approx(r["custom_ms"] / r["twin_ms"]) for r in rows)


def test_gpu_check_compares_each_run_with_the_committed_one_within_its_interval(tmp_path):
    """On 10,000 test images 0.90 against 0.91 lies outside the 95 % interval of two
    independent accuracies (±0.0081), 0.985 against 0.986 inside it (±0.0033)."""
    import json

    from benchmarks import gpu_check
    from tests.conftest import result_record

    for folder, (fc, cnn) in (("here", (0.985, 0.90)), ("there", (0.986, 0.91))):
        path = tmp_path / folder / "mnist_comparison"
        path.mkdir(parents=True)
        for name, acc in (("FCNet", fc), ("SimpleCNN", cnn)):
            (path / f"{name}__seed0.json").write_text(json.dumps(result_record(
                name, 0, acc, section="mnist_comparison", params=1000)))
    a = gpu_check.agreement_with(str(tmp_path / "here"), str(tmp_path / "there"))
    runs = {r["run"]: r for r in a["runs"]}
    assert a["runs_compared"] == 2 and a["within_interval"] == 1
    assert runs["mnist_comparison/FCNet__seed0"]["within_interval"]
    assert not runs["mnist_comparison/SimpleCNN__seed0"]["within_interval"]
    assert abs(a["largest_difference"] - 0.01) < 1e-12


def test_amp_compare_times_both_studies_in_turn_and_counts_the_verdicts_they_share(
        tmp_path, monkeypatch):
    """The scripts are stood in for by result files: float32 resolves SimpleCNN − FCNet and
    ResNetLike − SimpleCNN, bf16 neither; ResNetLike − FCNet is unresolved in both."""
    import json

    from benchmarks import quick_wall
    from tests.conftest import result_record
    from utils.report import readme

    order = []

    def fake_script(script, results, plots, data_dir, extra=()):
        amp = extra[extra.index("--amp") + 1]
        order.append((script, amp))
        folder = os.path.join(results, "mnist_comparison")
        os.makedirs(folder, exist_ok=True)
        cnn = [0.993, 0.994, 0.992] if amp == "off" else [0.985, 0.988, 0.982]
        for seed in range(3):
            for name, acc in (("FCNet", [0.985, 0.986, 0.984][seed]), ("SimpleCNN", cnn[seed]),
                              ("ResNetLike", [0.985, 0.986, 0.984][seed])):
                with open(os.path.join(folder, f"{name}__seed{seed}.json"), "w") as f:
                    json.dump(result_record(name, seed, acc, section="mnist_comparison"), f)
        return {"script": script, "wall_s": 10.0 if amp == "off" else 25.0, "exit_code": 0}

    monkeypatch.setattr(quick_wall, "run_script", fake_script)
    monkeypatch.setattr(quick_wall, "native_bf16_flags", lambda: ["amx_bf16", "avx512_bf16"])
    record = quick_wall.amp_compare(str(tmp_path / "work"), "unused")
    # in turn: each script float32 then bf16
    assert order == [(s, amp) for s in quick_wall.SCRIPTS for amp in ("off", "on")]
    assert record["bf16_over_fp32"] == 2.5 and record["wall_s"]["fp32"] == 30.0
    v = record["verdicts"]
    assert (v["compared"], v["agree"], v["resolved_fp32"], v["resolved_bf16"]) == (3, 1, 2, 0)
    assert v["differ"] == [{"comparison": "1.1 ResNetLike − SimpleCNN", "fp32": -1, "bf16": 0},
                           {"comparison": "1.1 SimpleCNN − FCNet", "fp32": 1, "bf16": 0}]
    os.makedirs(tmp_path / "results" / "benchmarks")
    (tmp_path / "results" / "benchmarks" / "amp_quick.json").write_text(json.dumps(record))
    text = readme.amp_block(str(tmp_path))
    assert "**2.50×** the float32 wall time" in text and "**1 of 3** comparisons" in text
    assert record["bf16_instructions"] == ["amx_bf16", "avx512_bf16"]


def test_gpu_check_quick_and_workers_steps_time_their_scripts_and_compare_results(
        tmp_path, monkeypatch):
    """The scripts are stood in for: each writes one result file where the real one would."""
    import json
    import types

    from benchmarks import gpu_check
    from tests.conftest import result_record

    calls = []

    def fake_script(args, argv, out_dir, timeout):
        calls.append(argv)
        folder = os.path.join(out_dir, "results", "kernel_size")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "CNN_3x3__seed0.json"), "w") as f:
            json.dump(result_record("CNN_3x3", 0, 0.5, section="kernel_size"), f)
        return 0, 2.0 if "--workers" in argv else 3.0, "done"

    monkeypatch.setattr(gpu_check, "script", fake_script)
    args = types.SimpleNamespace(small=True, device="cpu")
    quick = gpu_check.step_quick(args, str(tmp_path))
    assert quick["ok"] and quick["profile"] == "smoke" and len(quick["scripts"]) == 3
    assert all(argv[1:] == ["--profile", "smoke"] for argv in calls)
    assert "no committed results of the smoke profile" in quick["agreement"]["skipped"]
    workers = gpu_check.step_workers(args, str(tmp_path))
    assert workers["ok"] and workers["same_accuracies"] and workers["speedup"] == 1.5
    assert calls[-1][-2:] == ["--workers", "2"]  # no GPU share on a CPU
    args.device = "cuda"
    gpu_check.step_workers(args, str(tmp_path))
    assert calls[-1][-4:] == ["--workers", "2", "--gpus-per-run", "0.5"]


def test_quick_wall_writes_no_record_when_the_data_is_missing_or_a_script_fails(
        tmp_path, monkeypatch, capsys):
    """A study that did not run measures nothing: a missing dataset stops it before any script
    (exit 2), and a failed script leaves no record (exit 1) instead of a '0 of 0' agreement."""
    from benchmarks import quick_wall

    out = tmp_path / "amp.json"
    assert quick_wall.main(["--amp-compare", "--data-dir", str(tmp_path / "nowhere"),
                            "--out", str(out)]) == 2
    assert "MNIST is not under" in capsys.readouterr().err and not out.exists()

    monkeypatch.setattr(quick_wall, "require_data", lambda root, names: None)
    monkeypatch.setattr(quick_wall, "run_script", lambda script, *a, **k: {
        "script": script, "wall_s": 1.0, "exit_code": 1})
    assert quick_wall.main(["--amp-compare", "--work", str(tmp_path / "w"),
                            "--out", str(out)]) == 1
    assert not out.exists() and "no record written" in capsys.readouterr().err
