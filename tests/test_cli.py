"""The Task 1 script as a user runs it: end to end, resumable, and clear about bad inputs."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
import torch

from tests.conftest import ROOT, needs_cifar, needs_mnist, real_data_root

SCRIPT = os.path.join(ROOT, "homework_cnn_vs_fc_comparison.py")


def cli(*args, env=None):
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run([sys.executable, SCRIPT, "--no-progress", *args], capture_output=True,
                          text=True, cwd=ROOT, env=full_env, timeout=600)


def dirs(tmp_path):
    return ["--results-dir", str(tmp_path / "results"), "--plots-dir", str(tmp_path / "plots")]


def assert_clean_error(proc, *phrases):
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ")
    for phrase in phrases:
        assert phrase in proc.stderr


def test_help_lists_the_common_options():
    out = cli("--help").stdout
    for option in ("--section", "--profile", "--device", "--data-dir", "--results-dir",
                   "--plots-dir", "--seeds", "--only", "--force", "--report-only"):
        assert option in out


@pytest.fixture(scope="module")
def smoke_mnist_once(fake_mnist_root, tmp_path_factory):
    """Section 1.1 run once in the smoke profile on a fake MNIST in torchvision's layout."""
    tmp_path = tmp_path_factory.mktemp("smoke_mnist")
    proc = cli("--section", "1.1", "--profile", "smoke", "--data-dir", fake_mnist_root,
               *dirs(tmp_path))
    assert proc.returncode == 0, proc.stderr
    return tmp_path


@pytest.fixture
def smoke_mnist(smoke_mnist_once, tmp_path):
    """A private copy of that finished run, for tests that change it."""
    for sub in ("results", "plots"):
        shutil.copytree(smoke_mnist_once / sub, tmp_path / sub)
    return tmp_path


def test_smoke_run_writes_json_plots_and_report(smoke_mnist):
    results, plots = smoke_mnist / "results", smoke_mnist / "plots"
    assert sorted(os.listdir(results / "mnist_comparison")) == [
        "FCNet__seed0.json", "ResNetLike__seed0.json", "SimpleCNN__seed0.json"]
    for name in ("train_acc", "test_acc", "train_loss", "test_loss"):
        assert (plots / "mnist_comparison" / f"{name}.png").stat().st_size > 10_000
    report = (results / "REPORT.md").read_text()
    assert "### 1.1 MNIST" in report and "| SimpleCNN | 1 | 241,546 |" in report  # 1 seed
    details = (results / "DETAILS.md").read_text()
    assert "../plots/mnist_comparison/test_acc.png" in details


def test_a_second_run_skips_finished_runs_and_report_only_is_byte_identical(smoke_mnist):
    report = (smoke_mnist / "results" / "REPORT.md").read_bytes()
    json_before = (smoke_mnist / "results" / "mnist_comparison" / "FCNet__seed0.json").read_bytes()
    again = cli("--section", "1.1", "--profile", "smoke", "--data-dir", "/nonexistent",
                *dirs(smoke_mnist))
    # Nothing retrained: the data directory is not even read.
    assert again.returncode == 0 and "epoch" not in again.stdout
    # One line says nothing was trained and how to retrain, instead of a line per run.
    assert again.stdout.count("all 3 runs of this selection are finished") == 1
    assert "--force" in again.stdout and "--plan --force" in again.stdout
    redraw = cli("--report-only", "--profile", "smoke", "--data-dir", "/nonexistent",
                 *dirs(smoke_mnist))
    assert redraw.returncode == 0
    assert (smoke_mnist / "results" / "REPORT.md").read_bytes() == report
    assert (smoke_mnist / "results" / "mnist_comparison" / "FCNet__seed0.json").read_bytes() \
        == json_before


def test_report_only_redraws_deleted_plots_without_training(smoke_mnist):
    plot = smoke_mnist / "plots" / "mnist_comparison" / "test_acc.png"
    plot.unlink()
    proc = cli("--report-only", "--profile", "smoke", *dirs(smoke_mnist))
    assert proc.returncode == 0 and plot.exists()
    assert "epoch" not in proc.stdout


def test_force_retrains_only_the_selected_run(smoke_mnist, fake_mnist_root):
    path = smoke_mnist / "results" / "mnist_comparison"
    before = {p: (path / p).stat().st_mtime_ns for p in os.listdir(path)}
    proc = cli("--section", "1.1", "--profile", "smoke", "--only", "FCNet", "--force",
               "--data-dir", fake_mnist_root, *dirs(smoke_mnist))
    assert proc.returncode == 0
    after = {p: (path / p).stat().st_mtime_ns for p in os.listdir(path)}
    assert after["FCNet__seed0.json"] != before["FCNet__seed0.json"]
    assert after["SimpleCNN__seed0.json"] == before["SimpleCNN__seed0.json"]


def test_upgrade_evidence_retrains_only_results_without_predictions_and_keeps_the_old(
        smoke_mnist, fake_mnist_root):
    folder = smoke_mnist / "results" / "mnist_comparison"
    old = json.loads((folder / "FCNet__seed0.json").read_text())
    del old["predictions"]  # as an older version wrote it
    (folder / "FCNet__seed0.json").write_text(json.dumps(old))
    untouched = (folder / "SimpleCNN__seed0.json").read_bytes()
    proc = cli("--section", "1.1", "--profile", "smoke", "--upgrade-evidence",
               "--data-dir", fake_mnist_root, *dirs(smoke_mnist))
    assert proc.returncode == 0, proc.stderr
    assert "predictions" in json.loads((folder / "FCNet__seed0.json").read_text())
    assert (folder / "SimpleCNN__seed0.json").read_bytes() == untouched
    index = json.loads((smoke_mnist / "results" / "superseded" / "index.json").read_text())
    [entry] = index["runs"]
    assert entry["run_id"] == "FCNet__seed0" and entry["kind"] == "rerun"
    kept = json.loads((smoke_mnist / "results" / "superseded" / entry["file"]).read_text())
    assert kept == old


def test_ctrl_c_leaves_a_checkpoint_and_the_same_command_resumes(fake_mnist_root, tmp_path):
    args = [sys.executable, SCRIPT, "--no-progress", "--section", "1.1", "--profile", "smoke",
            "--only", "SimpleCNN", "--epochs", "60", "--data-dir", fake_mnist_root,
            *dirs(tmp_path)]
    checkpoint = (tmp_path / "results" / ".checkpoints" / "mnist_comparison"
                  / "SimpleCNN__seed0.pt")
    # A shell's background job (nohup ... &) starts with SIGINT ignored and its children inherit
    # that; a user's terminal does not. Restore the default so Ctrl-C reaches the script here.
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 120
    while not checkpoint.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert not (tmp_path / "results" / "mnist_comparison" / "SimpleCNN__seed0.json").exists()
    resumed = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0 and "resumed from its checkpoint" in resumed.stdout
    assert (tmp_path / "results" / "mnist_comparison" / "SimpleCNN__seed0.json").exists()


def test_unknown_only_name_is_a_clear_error_and_keeps_results(smoke_mnist):
    json_path = smoke_mnist / "results" / "mnist_comparison" / "FCNet__seed0.json"
    before = json_path.read_bytes()
    proc = cli("--section", "1.1", "--profile", "smoke", "--only", "LeNet", *dirs(smoke_mnist))
    assert_clean_error(proc, "unknown --only name(s) LeNet", "FCNet")
    assert json_path.read_bytes() == before


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_a_clear_error(tmp_path):
    proc = cli("--device", "cuda", "--profile", "smoke", *dirs(tmp_path))
    assert_clean_error(proc, "--device cuda", "--device cpu")


def test_missing_data_without_network_is_a_clear_error(tmp_path):
    # A dead proxy makes the download fail fast even on a machine that has a network.
    dead = "http://127.0.0.1:9"
    proc = cli("--section", "1.1", "--profile", "smoke", "--data-dir", str(tmp_path / "empty"),
               *dirs(tmp_path), env={"http_proxy": dead, "https_proxy": dead,
                                     "HTTP_PROXY": dead, "HTTPS_PROXY": dead})
    assert_clean_error(proc, "MNIST is not under", "DATA_ROOT")


def test_unwritable_results_dir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    proc = cli("--profile", "smoke", "--results-dir", str(blocker / "results"),
               "--plots-dir", str(tmp_path / "plots"))
    assert_clean_error(proc, "cannot create", "--results-dir")


def test_zero_seeds_or_epochs_is_a_clear_error(tmp_path):
    assert_clean_error(cli("--profile", "smoke", "--seeds", "0", *dirs(tmp_path)),
                       "argument --seeds: must be between 1 and 1,000, not 0")
    assert_clean_error(cli("--profile", "smoke", "--epochs", "0", *dirs(tmp_path)),
                       "argument --epochs: must be between 1 and 1,000, not 0")
    assert_clean_error(cli("--profile", "smoke", "--epochs", "1000000000", *dirs(tmp_path)),
                       "argument --epochs: must be between 1 and 1,000, not 1000000000")


def test_bad_profile_is_rejected_by_argparse(tmp_path):
    proc = cli("--profile", "huge", *dirs(tmp_path))
    assert proc.returncode == 2 and "invalid choice" in proc.stderr


@needs_mnist
@needs_cifar
def test_whole_task1_smoke_on_the_real_datasets(tmp_path):
    proc = cli("--profile", "smoke", "--data-dir", real_data_root(), *dirs(tmp_path))
    assert proc.returncode == 0, proc.stderr
    cifar_plots = tmp_path / "plots" / "cifar_comparison"
    for model in ("DeepFCNet", "ResNetCIFAR", "ResNetCIFARRegularized"):
        assert (cifar_plots / f"conf_matrix_{model}.png").exists()
        assert (cifar_plots / f"grad_flow_{model}.png").exists()
    report = (tmp_path / "results" / "DETAILS.md").read_text()
    assert "### 1.2 CIFAR-10" in report and "**Gradient flow**" in report
    # Recipe sections belong to the full profile's `all`; in smoke they run only when named.
    assert not (tmp_path / "results" / "mnist_recipe").exists()
    details = (tmp_path / "results" / "DETAILS.md").read_text()
    assert "**Recipe selection on a validation split.**" not in report + details


def test_recipe_section_tunes_on_held_out_training_images_and_reports_the_choice(
        smoke_mnist, fake_mnist_root):
    proc = cli("--section", "1.1-recipe", "--profile", "smoke", "--data-dir", fake_mnist_root,
               *dirs(smoke_mnist))
    assert proc.returncode == 0, proc.stderr
    names = sorted(os.listdir(smoke_mnist / "results" / "mnist_recipe"))
    assert names == sorted(f"{m}_{r}__seed0.json" for m in ("FCNet", "SimpleCNN", "ResNetLike")
                           for r in ("constant", "cosine"))
    # the recipe table sits with the tables behind section 1.1, in DETAILS.md
    report = (smoke_mnist / "results" / "DETAILS.md").read_text()
    assert "**Recipe selection on a validation split.**" in report
    assert "100 images held out of the training split" in report
    assert "Best mean validation accuracy:" in report


def test_section_all_includes_the_recipe_sections_only_in_the_full_profile():
    from argparse import Namespace

    from utils.train.cli import select_specs
    sections = {"1.1-recipe": lambda a: ["candidate"], "1.1": lambda a: ["final"]}

    def chosen(section, profile):
        return select_specs(Namespace(section=section, profile=profile, seeds=None,
                                      epochs=None, only=None), sections)

    assert chosen("all", "full") == ["candidate", "final"]
    assert chosen("all", "quick") == ["final"] and chosen("all", "smoke") == ["final"]
    assert chosen("1.1-recipe", "quick") == ["candidate"]


def test_every_script_run_keeps_a_plain_text_log_of_what_it_printed(smoke_mnist):
    proc = cli("--report-only", "--profile", "smoke", *dirs(smoke_mnist))
    assert proc.returncode == 0
    logs = sorted((smoke_mnist / "results" / "logs").glob("*.log"))
    assert len(logs) >= 2  # the fixture's training run and this redraw
    trained = next(p.read_text(encoding="utf-8") for p in logs
                   if "epoch 1/1" in p.read_text(encoding="utf-8"))
    assert "settings: " in trained and "profile=smoke" in trained
    assert trained.count(" done: train acc") == 3 and "results in " in trained
