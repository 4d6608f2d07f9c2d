"""Tasks 2 and 3 as a user runs them, in the smoke profile (real CIFAR-10 needed for 2 and 3.2;
3.1 runs on a fake MNIST in torchvision's layout)."""
import json
import os
import subprocess
import sys

from tests.conftest import ROOT, needs_cifar, real_data_root

TASK2 = os.path.join(ROOT, "homework_cnn_architecture_analysis.py")
TASK3 = os.path.join(ROOT, "homework_custom_layers_experiments.py")


def run(script, tmp_path, *args):
    proc = subprocess.run(
        [sys.executable, script, "--no-progress", "--profile", "smoke",
         "--results-dir", str(tmp_path / "results"), "--plots-dir", str(tmp_path / "plots"),
         *args], capture_output=True, text=True, cwd=ROOT, timeout=900,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc


def test_both_scripts_share_the_common_options():
    for script, own in ((TASK2, "--budget"), (TASK3, "--residual-budget")):
        out = subprocess.run([sys.executable, script, "--help"], capture_output=True, text=True,
                             cwd=ROOT).stdout
        for option in ("--section", "--profile", "--device", "--seeds", "--only", "--force",
                       "--report-only", own):
            assert option in out


def test_task3_custom_layers_smoke_on_fake_mnist(fake_mnist_root, tmp_path):
    run(TASK3, tmp_path, "--section", "3.1", "--data-dir", fake_mnist_root)
    results = tmp_path / "results" / "custom_layers"
    assert sorted(p.name for p in results.glob("*.json")) == sorted(
        f"{n}__seed0.json" for n in ("CNNWithCustomLayers", "StandardCNN", "Swap_WSConv2d",
                                     "Swap_SEAttention", "Swap_SwishBeta", "Swap_MixPool2d"))
    study = json.loads((results / "layers" / "layer_study.json").read_text())
    assert [g["passed"] for g in study["gradcheck"]] == [True] * 4
    report = (tmp_path / "results" / "REPORT.md").read_text()
    details = (tmp_path / "results" / "DETAILS.md").read_text()
    assert "### 3.1 custom layers" in report  # the answer's table
    assert "### 3.1 Custom layers" in details and "| WSConv2d | passed |" in details
    assert (tmp_path / "plots" / "custom_layers" / "test_acc.png").exists()


@needs_cifar
def test_task2_smoke_writes_every_named_plot_and_the_report(tmp_path):
    run(TASK2, tmp_path, "--data-dir", real_data_root())
    plots = tmp_path / "plots" / "architecture_analysis"
    for v in ("3x3", "5x5", "7x7", "Combo"):
        assert (plots / f"act_CNN_{v}.png").exists() and (plots / f"erf_CNN_{v}.png").exists()
    for m in ("ShallowCNN", "MediumCNN", "DeepCNN", "ResidualCNN"):
        assert (plots / f"fmap_{m}.png").exists() and (plots / f"grad_norm_{m}.png").exists()
    report = (tmp_path / "results" / "DETAILS.md").read_text()
    assert "### 2.1 Kernel size" in report and "### 2.2 Depth" in report
    # The depth sweep: every depth plain and residual, with and without BN.
    sweep = [json.loads(p.read_text()) for p in (tmp_path / "results" / "depth_sweep").glob("*.json")]
    assert sorted((r["model_kwargs"]["depth"], r["model_kwargs"]["residual"],
                   r["model_kwargs"]["batchnorm"]) for r in sweep) == sorted(
        (d, res, bn) for d in (8, 14) for res in (False, True) for bn in (False, True))
    assert "### 2.2 (sweep)" in report and (plots / "sweep_grad_init.png").exists()
    runs = [json.loads(p.read_text()) for p in (tmp_path / "results" / "kernel_size").glob("*.json")]
    assert len(runs) == 4 and all(abs(r["params"] - 20_000) <= 400 for r in runs)
    erf = runs[0]["analyses"]["receptive_field"]
    assert erf["nonzero_radius"] <= erf["analytic_radius"]


@needs_cifar
def test_task3_residual_smoke(tmp_path):
    run(TASK3, tmp_path, "--section", "3.2", "--data-dir", real_data_root(), "--only",
        "BasicResNet", "WideResNet_matched")
    names = sorted(p.name for p in (tmp_path / "results" / "residual_blocks").glob("*.json"))
    assert names == ["BasicResNet__seed0.json", "WideResNet_matched__seed0.json"]
    details = (tmp_path / "results" / "DETAILS.md").read_text()
    assert "matched parameter count" in details and "**Training stability:**" in details


@needs_cifar
def test_task3_stability_sweep_records_each_peak_rate(tmp_path):
    run(TASK3, tmp_path, "--section", "3.2-stability", "--data-dir", real_data_root(), "--only",
        "BasicResNet_lr0.1", "BasicResNet_lr0.8")
    runs = [json.loads(p.read_text())
            for p in (tmp_path / "results" / "residual_stability").glob("*.json")]
    assert sorted(r["spec"]["lr"] for r in runs) == [0.1, 0.8]
    assert all(r["spec"]["divergence_is_result"] for r in runs)
    from utils.report.stability_rates import block_verdicts, by_block
    from utils.report.table import Results

    # Neither rate diverged (the smoke profile's one short epoch may leave them at chance).
    blocks = by_block(Results(str(tmp_path / "results")).section("residual_stability"))
    rows = block_verdicts(blocks["BasicResNet"])["rows"]
    assert [(row["lr"], row["seeds"], row["diverged"]) for row in rows] == \
        [(0.1, 1, 0), (0.8, 1, 0)]
    assert "| BasicResNet | 0.1 | 1 | 0 of 1 |" in (tmp_path / "results" / "DETAILS.md").read_text()


def test_task3_compares_every_block_type_at_one_depth_and_keeps_the_bottleneck_search_a_study():
    import argparse

    import homework_custom_layers_experiments as task3
    from models import build_model
    args = argparse.Namespace(profile="full", seeds=None, residual_budget=150_000)
    candidates = task3.residual_recipe_specs(args)
    # The depth search that ran (the Bottleneck's), on held-out training images.
    assert [c.name for c in candidates] == ["BottleneckResNet_one_block",
                                            "BottleneckResNet_two_blocks"]
    assert {c.validation for c in candidates} == {5_000}
    assert [c.model_kwargs["blocks_per_stage"] for c in candidates] == [1, 2]
    finals = task3.residual_specs(args)
    # Like for like: every final run at the constructors' one block per stage (the net the
    # one_block candidate trained); 3 seeds of every variant as built.
    assert all("blocks_per_stage" not in s.model_kwargs for s in finals)
    def size(model, **kwargs):
        return sum(p.numel() for p in build_model(model, **kwargs).parameters())
    assert size("BottleneckResNet") == size("BottleneckResNet", **candidates[0].model_kwargs)
    assert sorted(s.run_id for s in finals if not s.name.endswith("_matched")) == sorted(
        f"{m}__seed{k}" for m in task3.RESIDUAL_VARIANTS for k in range(3))

def test_task3_paired_runs_the_baseline_first_and_the_all_custom_net_last():
    import argparse

    import homework_custom_layers_experiments as task3
    specs = task3.paired_specs(argparse.Namespace(profile="full", seeds=None))
    names = list(dict.fromkeys(s.name for s in specs))
    assert names == ["StandardCNN", *task3.SWAPS, "CNNWithCustomLayers"]
    # Every net on the same five seeds, under the cosine schedule.
    assert {s.name: sorted(x.seed for x in specs if x.name == s.name) for s in specs} == {
        n: [0, 1, 2, 3, 4] for n in names}
    assert {s.schedule for s in specs} == {"cosine"}
