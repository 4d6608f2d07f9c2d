"""The speed tools run end to end on a tiny fake MNIST and write what the README table needs."""
import json

import pytest

from benchmarks import profile_epoch, train_throughput
from utils.cli import main as cli_main
from utils.measure import matmul_peak_flops
from utils.plan import arithmetic_floor_seconds


def test_throughput_benchmark_writes_a_record_per_model(fake_mnist_root, tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert train_throughput.main(["--data-dir", fake_mnist_root, "--device", "cpu", "--only",
                                  "FCNet", "--steps", "2", "--warmup", "1", "--repeats", "1",
                                  "--min-seconds", "0.01", "--workers", "0", "--out",
                                  str(out)]) == 0
    records = json.loads(out.read_text())["records"]
    assert [r["model"] for r in records] == ["FCNet"]
    r = records[0]
    assert r["baseline_img_s"] > 0 and r["project_img_s"] > 0
    assert abs(r["ratio"] - r["project_img_s"] / r["baseline_img_s"]) < 1e-9
    assert r["macs"] == 566_528 and 0 < r["pct_of_peak"]
    assert "| FCNet | mnist |" in train_throughput.table(str(out))


def test_profiler_prints_the_most_expensive_operators(fake_mnist_root, capsys):
    assert profile_epoch.main(["--model", "SimpleCNN", "--dataset", "mnist", "--steps", "2",
                               "--data-dir", fake_mnist_root, "--rows", "5"]) == 0
    assert "aten::" in capsys.readouterr().out


def test_plan_estimates_without_training(fake_mnist_root, tmp_path, capsys):
    code = cli_main("plan", {"1.1": __import__("homework_cnn_vs_fc_comparison").mnist_specs},
                    lambda *a: None, ["--plan", "--profile", "smoke", "--data-dir",
                                      fake_mnist_root, "--results-dir", str(tmp_path / "r"),
                                      "--plots-dir", str(tmp_path / "p")])
    out = capsys.readouterr().out
    assert code == 0 and "FCNet__seed0" in out and "estimated training time" in out
    assert "arithmetic floor at this device's measured float32 matmul peak" in out
    assert not (tmp_path / "r" / "mnist_comparison").exists()


def test_arithmetic_floor_counts_two_flops_per_mac_and_backward_as_twice_forward():
    # 1 M MACs x 1,000 images = 6 GFLOP of training work; at 3 GFLOP/s that is 2 s.
    assert arithmetic_floor_seconds(1e6, 1_000, 3e9) == pytest.approx(2.0)


def test_matmul_peak_is_a_plausible_positive_rate():
    peak = matmul_peak_flops("cpu", n=256, reps=3)
    assert 1e8 < peak < 1e14
