"""What the study does with bad input (README, "When something is wrong"): each case ends in one
line that says what is wrong and what to do, or in a recovery the user is told about, never in a
traceback, and every finished result file is byte-identical afterwards."""
import json
import os
import shutil
import subprocess
import sys

import pytest
import torch

import homework_cnn_architecture_analysis as task2
import homework_cnn_vs_fc_comparison as task1
import homework_custom_layers_experiments as task3
from tests.conftest import ROOT, write_fake_mnist
from utils import cli
from utils.data import DatasetUnavailable, load_split
from utils.locks import run_lock
from utils.runner import CheckpointError, Run, RunSpec


def run_task1(*argv):
    return cli.main("task 1", task1.SECTIONS,
                    ["--no-progress", "--section", "1.1", "--profile", "smoke", *argv])


def dirs(root):
    return ["--results-dir", str(root / "results"), "--plots-dir", str(root / "plots")]


def one_line_error(capsys):
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def snapshot(folder):
    return {p: open(p, "rb").read() for p in sorted(map(str, folder.rglob("*.json")))}


@pytest.fixture(scope="module")
def finished_fcnet(fake_mnist_root, tmp_path_factory):
    """Section 1.1's FCNet finished once in the smoke profile."""
    root = tmp_path_factory.mktemp("finished")
    assert run_task1("--only", "FCNet", "--data-dir", fake_mnist_root, *dirs(root)) == 0
    return root


@pytest.fixture
def study(finished_fcnet, tmp_path):
    for sub in ("results", "plots"):
        shutil.copytree(finished_fcnet / sub, tmp_path / sub)
    return tmp_path


# --- result files ---------------------------------------------------------------------------

@pytest.mark.parametrize("content", ['{"run_id": "FCNet__se', "", "[]", "{}"])
def test_a_bad_result_file_is_skipped_by_the_report_and_set_aside_by_a_run(
        content, study, fake_mnist_root, capsys):
    bad = study / "results" / "mnist_comparison" / "SimpleCNN__seed0.json"
    bad.write_text(content)
    good = snapshot(study / "results" / "mnist_comparison")
    good.pop(str(bad))
    assert run_task1("--report-only", *dirs(study)) == 0
    err = capsys.readouterr().err
    assert f"warning: skipped {bad}" in err and "Traceback" not in err
    assert bad.read_text() == content  # the report leaves it where it is

    assert run_task1("--only", "SimpleCNN", "--data-dir", fake_mnist_root, *dirs(study)) == 0
    out = capsys.readouterr().out
    assert "moved aside to" in out
    assert (study / "results" / "mnist_comparison" / "SimpleCNN__seed0.json.bad-1").read_text() \
        == content
    assert json.loads(bad.read_text())["run_id"] == "SimpleCNN__seed0"  # retrained
    after = snapshot(study / "results" / "mnist_comparison")
    assert all(after[p] == b for p, b in good.items())


# --- checkpoints ----------------------------------------------------------------------------

def spec(**kw):
    return RunSpec(**{**dict(name="FCNet", section="sec", model="FCNet", dataset="mnist",
                             epochs=1, batch_size=100, inference_batch=16), **kw})


def fresh_run(data, tmp_path, **kw):
    return Run(spec(**kw), data, "cpu", str(tmp_path / "r"), str(tmp_path / "c"), progress=False)


@pytest.mark.parametrize("payload", [torch.zeros(3), {"model": {}}, {"spec": 1, "state": 2}])
def test_a_checkpoint_that_is_not_ours_is_one_clear_error(payload, synthetic_mnist, tmp_path):
    r = fresh_run(synthetic_mnist, tmp_path)
    os.makedirs(os.path.dirname(r.checkpoint_path))
    torch.save(payload, r.checkpoint_path)
    with pytest.raises(CheckpointError, match="not one of this study's checkpoints; delete it"):
        r.try_resume()


def test_weights_of_another_architecture_under_the_same_spec_are_one_clear_error(
        synthetic_mnist, tmp_path):
    r = fresh_run(synthetic_mnist, tmp_path)
    r.state["epoch"] = 1
    r.save_checkpoint()
    ckpt = torch.load(r.checkpoint_path, weights_only=True)
    ckpt["model"] = torch.nn.Linear(3, 2).state_dict()
    torch.save(ckpt, r.checkpoint_path)
    with pytest.raises(CheckpointError, match="does not fit this model"):
        fresh_run(synthetic_mnist, tmp_path).try_resume()


def test_a_checkpoint_of_other_settings_restarts_and_says_so(synthetic_mnist, tmp_path, capsys):
    first = fresh_run(synthetic_mnist, tmp_path)
    first.state["epoch"] = 1
    first.save_checkpoint()
    assert fresh_run(synthetic_mnist, tmp_path, lr=0.5).try_resume() == 0
    assert "its checkpoint is of other settings" in capsys.readouterr().out


# --- the file system after start-up -----------------------------------------------------------

def test_a_checkpoint_dir_that_is_a_file_is_one_line_before_any_work(tmp_path, capsys):
    blocker = tmp_path / "ckpt"
    blocker.write_text("x")
    assert run_task1("--checkpoint-dir", str(blocker), *dirs(tmp_path)) == 2
    assert "--checkpoint-dir" in one_line_error(capsys)


@pytest.mark.parametrize("blocked", ["checkpoint section", "results section"])
def test_a_folder_that_is_a_file_when_a_write_is_due_is_one_line(blocked, study,
                                                                  fake_mnist_root, capsys):
    target = (study / "results" / ".checkpoints" / "mnist_comparison"
              if blocked == "checkpoint section" else study / "results" / "mnist_comparison")
    before = snapshot(study / "results")
    shutil.rmtree(target, ignore_errors=True)
    target.write_text("in the way")
    code = run_task1("--only", "SimpleCNN", "--data-dir", fake_mnist_root, *dirs(study))
    assert code == 2
    assert "cannot write" in one_line_error(capsys)
    if blocked == "checkpoint section":
        assert snapshot(study / "results") == before


def test_a_full_disk_is_one_line(study, fake_mnist_root, capsys, monkeypatch):
    def full_disk(*args, **kwargs):
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 0 vs 64")

    monkeypatch.setattr(torch, "save", full_disk)
    before = snapshot(study / "results")
    assert run_task1("--only", "SimpleCNN", "--data-dir", fake_mnist_root, *dirs(study)) == 2
    assert "cannot write" in one_line_error(capsys)
    assert snapshot(study / "results") == before
    assert not [p for p in (study / "results").rglob("*.tmp")]


def test_a_second_copy_on_the_same_run_stops_with_already_running(study, fake_mnist_root,
                                                                   capsys):
    checkpoint = study / "results" / ".checkpoints" / "mnist_comparison" / "SimpleCNN__seed0.pt"
    with run_lock(str(checkpoint)):  # as the first copy holds it while it trains
        code = run_task1("--only", "SimpleCNN", "--data-dir", fake_mnist_root, *dirs(study))
    assert code == 2
    assert f"being trained by process {os.getpid()}" in one_line_error(capsys)


# --- options ----------------------------------------------------------------------------------

SCRIPT_OPTIONS = [
    (task2, ["--budget", "10"]), (task2, ["--budget", "0"]), (task2, ["--budget", "-5"]),
    (task2, ["--deep-depth", "0"]), (task2, ["--deep-depth", "1"]),
    (task2, ["--deep-depth", "-4"]), (task2, ["--deep-depth", "4"]),
    (task2, ["--deep-depth", "500"]), (task3, ["--residual-budget", "0"]),
    (task3, ["--residual-budget", "10"]), (task1, ["--threads", "-1"]),
    (task1, ["--threads", "0"]), (task1, ["--seeds", "0"]), (task1, ["--epochs", "0"]),
    (task1, ["--epochs", "two"])]


@pytest.mark.parametrize("script, argv", SCRIPT_OPTIONS,
                         ids=[" ".join(a) for _, a in SCRIPT_OPTIONS])
def test_bad_options_are_one_line_before_any_data_loads(script, argv, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main("task", script.SECTIONS, [*argv, "--data-dir", "/nonexistent", *dirs(tmp_path)],
                 extra_options=getattr(script, "options", None))
    assert exit_info.value.code == 2
    line = one_line_error(capsys)
    assert argv[0] in line
    assert not (tmp_path / "results").exists()  # nothing was even created


# --- the data -----------------------------------------------------------------------------------

def test_labels_outside_0_to_9_are_one_line_naming_them(tmp_path):
    root = write_fake_mnist(tmp_path / "data", label_offset=5)
    with pytest.raises(DatasetUnavailable, match="labels from 5 to 14, outside 0..9"):
        load_split("mnist", root, train=True)


def test_a_file_with_a_wrong_magic_number_says_the_files_are_there_but_damaged(tmp_path):
    root = write_fake_mnist(tmp_path / "data", image_magic=0x1234)
    with pytest.raises(DatasetUnavailable, match="files are under .* but do not load"):
        load_split("mnist", root, train=True)


def test_a_cifar_folder_of_wrong_files_says_they_are_not_the_official_ones(tmp_path):
    folder = tmp_path / "data" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    (folder / "data_batch_1").write_bytes(b"\x80\x04not a pickle of the right shape")
    with pytest.raises(DatasetUnavailable, match="damaged or not the official files"):
        load_split("cifar10", str(tmp_path / "data"), train=True)


def test_a_mistyped_data_dir_creates_nothing_there(tmp_path, capsys):
    typo = tmp_path / "shraed" / "data"
    assert run_task1("--data-dir", str(typo), *dirs(tmp_path)) == 2
    assert "that folder does not exist" in one_line_error(capsys)
    assert not (tmp_path / "shraed").exists()


# --- second round (issue 30): nothing lost to a closed pipe, a console, --force or a tool ---

def script_proc(*args, env=None, **popen):
    return subprocess.Popen([sys.executable, os.path.join(ROOT, "homework_cnn_vs_fc_comparison.py"),
                             "--no-progress", "--section", "1.1", "--profile", "smoke", *args],
                            cwd=ROOT, env={**os.environ, **(env or {})}, **popen)


def test_a_closed_pipe_costs_no_result(fake_mnist_root, tmp_path):
    # as `script ... | head -1`: the reader is gone before the first line
    proc = script_proc("--only", "FCNet", "SimpleCNN", "--data-dir", fake_mnist_root,
                       *dirs(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=600) == 0, err
    assert "Traceback" not in err and "Broken pipe" not in err
    assert sorted(os.listdir(tmp_path / "results" / "mnist_comparison")) == [
        "FCNet__seed0.json", "SimpleCNN__seed0.json"]


def test_an_ascii_console_prints_without_killing_the_plan(fake_mnist_root, tmp_path):
    proc = script_proc("--plan", "--only", "FCNet", "--data-dir", fake_mnist_root,
                       *dirs(tmp_path), env={"PYTHONIOENCODING": "ascii", "LC_ALL": "C"},
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = (s.decode("ascii") for s in proc.communicate(timeout=300))
    assert proc.returncode == 0, err
    assert "FCNet__seed0" in out and "?" in out  # the table's "×" degraded, the rows kept


def test_force_moves_the_old_result_aside_before_writing_the_new(fake_mnist_root, tmp_path,
                                                                 capsys):
    assert run_task1("--only", "FCNet", "--data-dir", fake_mnist_root, *dirs(tmp_path)) == 0
    path = tmp_path / "results" / "mnist_comparison" / "FCNet__seed0.json"
    first = path.read_bytes()
    assert run_task1("--only", "FCNet", "--force", "--data-dir", fake_mnist_root,
                     *dirs(tmp_path)) == 0
    index = json.loads((tmp_path / "results" / "superseded" / "index.json").read_text())
    [entry] = index["runs"]
    assert entry["superseded_by"] == "retrained with --force"
    assert (tmp_path / "results" / "superseded" / entry["file"]).read_bytes() == first
    assert json.loads(path.read_text())["run_id"] == "FCNet__seed0"


def test_gpu_check_never_deletes_a_work_folder_it_did_not_make(tmp_path, monkeypatch):
    from benchmarks import gpu_check

    mine = tmp_path / "work" / "important.txt"
    mine.parent.mkdir()
    mine.write_text("keep me")
    for step in ("step_smoke", "step_determinism_and_resume", "step_study"):
        monkeypatch.setattr(gpu_check, step, lambda args, work: {"ok": True})
    for step in ("step_throughput", "step_plan"):
        monkeypatch.setattr(gpu_check, step, lambda args: {"ok": True})
    monkeypatch.setattr(gpu_check, "unstage", lambda data_dir: None)
    assert gpu_check.main(["--out", str(tmp_path), "--device", "cpu"]) == 0
    assert mine.read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("work")] == ["work"]


@pytest.mark.parametrize("content", ['{"name": "FCNet", "seed": 0, "final": {}}', "my notes"])
def test_train_throughput_never_replaces_a_file_it_did_not_write(tmp_path, content, capsys):
    from benchmarks import train_throughput

    target = tmp_path / "FCNet__seed0.json"
    target.write_text(content)
    with pytest.raises(SystemExit) as stop:
        train_throughput.main(["--out", str(target), "--only", "FCNet", "--device", "cpu"])
    assert stop.value.code == 2 and target.read_text() == content


def test_a_copied_result_under_another_seed_name_counts_once(tmp_path, capsys):
    from utils.results import load_section, write_json_atomic

    run = {"name": "SimpleCNN", "seed": 0, "run_id": "SimpleCNN__seed0",
           "final": {"test_acc": 0.0977}}
    write_json_atomic(str(tmp_path / "sec" / "SimpleCNN__seed0.json"), run)
    write_json_atomic(str(tmp_path / "sec" / "SimpleCNN__seed1.json"), run)  # a copy, seed 0
    write_json_atomic(str(tmp_path / "sec" / "SimpleCNN__seed2.json"),
                      {**run, "seed": 2, "run_id": "SimpleCNN__seed2"})
    runs = load_section(str(tmp_path), "sec")
    assert [r["seed"] for r in runs] == [0, 2]
    assert "counted once" in capsys.readouterr().err


def test_a_rerun_sets_a_copied_file_aside_and_trains_the_run_it_names(fake_mnist_root,
                                                                      tmp_path, capsys):
    assert run_task1("--only", "FCNet", "--data-dir", fake_mnist_root, *dirs(tmp_path)) == 0
    folder = tmp_path / "results" / "mnist_comparison"
    copy = (folder / "FCNet__seed0.json").read_bytes()
    (folder / "FCNet__seed1.json").write_bytes(copy)
    assert run_task1("--only", "FCNet", "--seeds", "2", "--data-dir", fake_mnist_root,
                     *dirs(tmp_path)) == 0
    assert json.loads((folder / "FCNet__seed1.json").read_text())["seed"] == 1
    assert (folder / "FCNet__seed1.json.bad-1").read_bytes() == copy
    assert (folder / "FCNet__seed0.json").read_bytes() == copy
