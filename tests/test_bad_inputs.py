"""What the study does with bad input (docs/TROUBLESHOOTING.md): each case ends in one
line that says what is wrong and what to do, or in a recovery the user is told about, never in a
traceback, and every finished result file is byte-identical afterwards."""
import json
import os
import shutil
import subprocess
import sys
import urllib.parse

import pytest
import torch

import homework_cnn_architecture_analysis as task2
import homework_cnn_vs_fc_comparison as task1
import homework_custom_layers_experiments as task3
from tests.conftest import ROOT, result_record, write_fake_mnist
from utils.train import cli
from utils.train.data import DatasetUnavailable, load_split, packed_path
from utils.train.execution import Execution
from utils.train.locks import run_lock
from utils.train.runner import CheckpointError, Run, RunSpec


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


def present_datasets(root):
    """A data folder in which both datasets look present (what require_data checks)."""
    (root / "MNIST" / "raw").mkdir(parents=True)
    (root / "MNIST" / "raw" / "train-images-idx3-ubyte").write_bytes(b"")
    (root / "cifar10-packed.pt").write_bytes(b"")
    return str(root)


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

def spoiled(change):
    """A finished result's JSON text with `change(result)` applied: the wrong shapes a result
    file can take (a hand edit, another tool, an older version of the study)."""
    def make(real):
        result = json.loads(real)
        change(result)
        return json.dumps(result)
    return make


WRONG_SHAPES = {  # what the file is -> (its content from the real file, the field named)
    "truncated": (lambda real: real[:40], "is not readable JSON"),
    "empty": (lambda real: "", "is not readable JSON"),
    "a list": (lambda real: "[]", "holds a list"),
    "an empty object": (lambda real: "{}", "lacks name"),
    "accuracy as a string": (spoiled(lambda r: r["final"].update(test_acc="0.98")),
                             "final.test_acc is str, not a number"),
    "history null": (spoiled(lambda r: r.update(history=None)), "history is null, not a list"),
    "history empty": (spoiled(lambda r: r.update(history=[])), "has an empty history"),
    "an older version without spec": (spoiled(lambda r: r.pop("spec")), "lacks spec"),
    "final empty": (spoiled(lambda r: r.update(final={})), "lacks final.test_acc"),
    "no environment": (spoiled(lambda r: r.pop("environment")), "lacks environment"),
}


@pytest.mark.parametrize("shape", WRONG_SHAPES)
def test_a_result_file_of_the_wrong_shape_is_skipped_by_the_report_and_set_aside_by_a_run(
        shape, study, fake_mnist_root, capsys):
    bad = study / "results" / "mnist_comparison" / "FCNet__seed0.json"
    make, field = WRONG_SHAPES[shape]
    content = make(bad.read_text())
    bad.write_text(content)
    good = snapshot(study / "results" / "mnist_comparison")
    good.pop(str(bad))
    assert run_task1("--report-only", *dirs(study)) == 0
    err = capsys.readouterr().err
    assert f"warning: skipped {bad} {field}" in err and "Traceback" not in err
    assert bad.read_text() == content  # the report leaves it where it is

    assert run_task1("--only", "FCNet", "--data-dir", fake_mnist_root, *dirs(study)) == 0
    out = capsys.readouterr().out
    assert f"{field}" in out and "moved aside to" in out
    assert (study / "results" / "mnist_comparison" / "FCNet__seed0.json.bad-1").read_text() \
        == content  # kept, byte for byte
    assert json.loads(bad.read_text())["run_id"] == "FCNet__seed0"  # retrained
    after = snapshot(study / "results" / "mnist_comparison")
    assert all(after[p] == b for p, b in good.items())


def test_seeds_trained_with_different_recipes_are_never_pooled(tmp_path, capsys):
    from utils.results import load_section, write_json_atomic

    for seed, epochs in ((0, 1), (1, 3), (2, 1)):
        write_json_atomic(str(tmp_path / "sec" / f"FCNet__seed{seed}.json"), result_record(
            "FCNet", seed, spec={"name": "FCNet", "seed": seed, "epochs": epochs, "lr": 0.001}))
    assert [r["seed"] for r in load_section(str(tmp_path), "sec")] == [0, 2]
    err = capsys.readouterr().err
    assert "sec/FCNet__seed1" in err and "(epochs 3 vs 1)" in err


def test_the_profile_of_a_results_folder_is_kept_apart_from_every_other(study, capsys):
    results = study / "results"
    assert (results / "PROFILE").read_text() == "smoke\n"
    before = snapshot(results)
    report = (results / "REPORT.md").read_bytes()
    for mode in ([], ["--report-only"]):
        assert run_task1(*mode, "--profile", "quick", *dirs(study)) == 2
        assert "holds the smoke profile's results" in one_line_error(capsys)
    assert snapshot(results) == before and (results / "REPORT.md").read_bytes() == report


def test_a_folder_of_results_from_before_the_marker_is_recognised_by_its_results(study,
                                                                                  capsys):
    (study / "results" / "PROFILE").unlink()
    assert run_task1("--report-only", "--profile", "full", *dirs(study)) == 2
    assert "holds the smoke profile's results" in one_line_error(capsys)
    assert run_task1("--report-only", *dirs(study)) == 0
    assert (study / "results" / "PROFILE").read_text() == "smoke\n"


# --- the layer study ------------------------------------------------------------------------

@pytest.fixture
def cheap_study(monkeypatch):
    """layer_study() with its measurements replaced by constants (the file logic is tested)."""
    from utils.train import layer_study as ls

    monkeypatch.setattr(ls, "run_gradchecks", lambda: [{"layer": "x"}])
    monkeypatch.setattr(ls, "run_benchmarks", lambda device, reps: {"rows": []})
    monkeypatch.setattr(ls, "run_examples", lambda: [])
    return ls


@pytest.mark.parametrize("content", ['{"version": 2, "gr', "[]", '{"version": 2}'])
def test_a_bad_layer_study_file_is_skipped_by_the_report_and_measured_again_by_a_run(
        content, cheap_study, tmp_path, capsys):
    from utils.results import STUDY_FILE, load_study

    path = tmp_path / "custom_layers" / STUDY_FILE
    path.parent.mkdir(parents=True)
    path.write_text(content)
    assert load_study(str(tmp_path), "custom_layers") is None
    assert f"warning: skipped {path}" in capsys.readouterr().err
    cheap_study.layer_study(str(tmp_path), "custom_layers", "cpu")
    assert (path.parent / "layer_study.json.bad-1").read_text() == content
    assert load_study(str(tmp_path), "custom_layers")["version"] == cheap_study.STUDY_VERSION


def test_an_older_layer_study_moves_aside_before_it_is_measured_again(cheap_study, tmp_path):
    from utils.results import STUDY_FILE

    path = tmp_path / "custom_layers" / STUDY_FILE
    path.parent.mkdir(parents=True)
    older = json.dumps({"version": 1, "gradcheck": [], "benchmark": {"rows": []},
                        "environment": {}})
    path.write_text(older)
    cheap_study.layer_study(str(tmp_path), "custom_layers", "cpu")
    assert (path.parent / "layer_study.json.older-1").read_text() == older
    assert json.loads(path.read_text())["version"] == cheap_study.STUDY_VERSION



def test_a_layer_study_of_changed_layers_is_measured_again_and_a_current_one_kept(
        cheap_study, tmp_path, monkeypatch):
    # The study records which code it measured; after the backward passes change it no longer
    # stands for them (the committed one was measured before a rewrite and went unnoticed).
    from utils.results import STUDY_FILE

    path = tmp_path / "custom_layers" / STUDY_FILE
    path.parent.mkdir(parents=True)
    cheap_study.layer_study(str(tmp_path), "custom_layers", "cpu")
    measured = path.read_text()
    assert json.loads(measured)["layers_digest"] == cheap_study.layers_digest()
    cheap_study.layer_study(str(tmp_path), "custom_layers", "cpu")
    assert path.read_text() == measured
    assert not (path.parent / "layer_study.json.replaced-1").exists()
    monkeypatch.setattr(cheap_study, "layers_digest", lambda: "0123456789abcdef")
    cheap_study.layer_study(str(tmp_path), "custom_layers", "cpu")
    assert (path.parent / "layer_study.json.replaced-1").read_text() == measured
    assert json.loads(path.read_text())["layers_digest"] == "0123456789abcdef"

# --- checkpoints ----------------------------------------------------------------------------

def spec(**kw):
    return RunSpec(**{**dict(name="FCNet", section="sec", model="FCNet", dataset="mnist",
                             epochs=1, batch_size=100, inference_batch=16), **kw})


def fresh_run(data, tmp_path, execution=Execution(), **kw):
    return Run(spec(**kw), data, "cpu", str(tmp_path / "r"), str(tmp_path / "c"), progress=False,
               execution=execution)


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


def test_a_resume_in_other_execution_settings_starts_over_and_says_so(synthetic_mnist, tmp_path,
                                                                       capsys):
    first = fresh_run(synthetic_mnist, tmp_path, execution=Execution(amp=False))
    first.state["epoch"] = 1
    first.save_checkpoint()
    # One run is trained in one precision: amp on over an amp-off checkpoint starts over.
    assert fresh_run(synthetic_mnist, tmp_path, execution=Execution(amp=True)).try_resume() == 0
    assert "other execution settings (amp False -> True)" in capsys.readouterr().out
    assert fresh_run(synthetic_mnist, tmp_path, execution=Execution(amp=False)).try_resume() == 1


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
    (task1, ["--seeds", "1000000000"]),
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


def write_packed_cifar(root, images):
    labels = torch.zeros(len(images), dtype=torch.long)
    os.makedirs(root, exist_ok=True)
    torch.save({"train": {"images": images, "labels": labels},
                "test": {"images": images, "labels": labels}}, packed_path("cifar10", root))
    return root


@pytest.mark.parametrize("images, found", [
    (torch.rand(8, 3, 32, 32) * 0.5, "float32 values "),                   # already normalised
    (torch.full((8, 3, 32, 32), 1020, dtype=torch.int16), "int16 values 1020..1020"),
    (torch.full((8, 3, 32, 32), float("nan")), "(24576 NaN, 0 inf)"),
])
def test_data_of_the_wrong_scale_or_with_holes_is_one_line_naming_what_it_holds(
        images, found, tmp_path):
    root = write_packed_cifar(str(tmp_path / "data"), images)
    with pytest.raises(DatasetUnavailable, match="not uint8 pixels 0..255") as err:
        load_split("cifar10", root, train=True)
    assert found in str(err.value)


def test_a_packed_subset_with_nan_pixels_stops_the_script_before_any_training(tmp_path, capsys):
    images = torch.rand(50, 3, 32, 32)
    images[0, 0, 0, 0] = float("nan")
    root = write_packed_cifar(str(tmp_path / "data"), images)
    code = cli.main("task 1", task1.SECTIONS, ["--no-progress", "--section", "1.2",
                                               "--profile", "smoke", "--data-dir", root,
                                               *dirs(tmp_path)])
    line = one_line_error(capsys)
    assert code == 2 and "holds float32 values" in line and "(1 NaN, 0 inf)" in line
    assert not list((tmp_path / "results").rglob("*__seed*.json"))


def test_a_recipe_section_on_a_subset_too_small_for_its_holdout_is_one_line(tmp_path, capsys):
    images = torch.zeros(1000, 3, 32, 32, dtype=torch.uint8)
    root = write_packed_cifar(str(tmp_path / "data"), images)
    code = cli.main("task 1", task1.SECTIONS, ["--no-progress", "--section", "1.2-recipe",
                                               "--profile", "full", "--data-dir", root,
                                               *dirs(tmp_path)])
    assert code == 2
    assert "but CIFAR10 under" in one_line_error(capsys)


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
    assert (entry["superseded_by"], entry["kind"]) == ("retrained with --force", "rerun")
    assert (tmp_path / "results" / "superseded" / entry["file"]).read_bytes() == first
    assert json.loads(path.read_text())["run_id"] == "FCNet__seed0"
    # A result of other settings replaced with --force is no rerun of the same spec: the index
    # says what changed, and the report lists it with the results replaced after being seen.
    stored = json.loads(path.read_text())
    lr = stored["spec"]["lr"]
    stored["spec"]["lr"] = 0.5
    path.write_text(json.dumps(stored))
    assert run_task1("--only", "FCNet", "--force", "--data-dir", fake_mnist_root,
                     *dirs(tmp_path)) == 0
    index = json.loads((tmp_path / "results" / "superseded" / "index.json").read_text())
    assert index["runs"][-1]["kind"] == "replaced"
    assert index["runs"][-1]["superseded_by"] == \
        f"replaced with --force by other settings: lr 0.5 → {lr}"


def test_gpu_check_never_deletes_a_work_folder_it_did_not_make(tmp_path, monkeypatch):
    from benchmarks import gpu_check

    mine = tmp_path / "work" / "important.txt"
    mine.parent.mkdir()
    mine.write_text("keep me")
    for step in ("step_smoke", "step_determinism_and_resume", "step_quick", "step_workers",
                 "step_study"):
        monkeypatch.setattr(gpu_check, step, lambda args, work, *progress: {"ok": True})
    for step in ("step_throughput", "step_plan"):
        monkeypatch.setattr(gpu_check, step, lambda args: {"ok": True})
    monkeypatch.setattr(gpu_check, "unstage", lambda data_dir: None)
    data = present_datasets(tmp_path / "data")
    assert gpu_check.main(["--out", str(tmp_path), "--device", "cpu", "--data-dir", data]) == 0
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


def test_a_copied_result_under_another_seed_name_is_skipped_with_the_mismatch_named(
        tmp_path, capsys):
    from utils.results import load_section, write_json_atomic

    run = result_record("SimpleCNN", 0, acc=0.0977)
    write_json_atomic(str(tmp_path / "sec" / "SimpleCNN__seed0.json"), run)
    write_json_atomic(str(tmp_path / "sec" / "SimpleCNN__seed1.json"), run)  # a copy, seed 0
    write_json_atomic(str(tmp_path / "sec" / "SimpleCNN__seed2.json"),
                      result_record("SimpleCNN", 2, acc=0.0977))
    runs = load_section(str(tmp_path), "sec")
    assert [r["seed"] for r in runs] == [0, 2]
    assert "holds SimpleCNN seed 0 under the name SimpleCNN__seed1.json" in \
        capsys.readouterr().err


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


# --- the tools around the scripts, and the report's links --------------------------------------

def gpu_check_stopped(tmp_path, monkeypatch, argv, capsys):
    """gpu_check.main on `argv`, every step replaced by one that fails the test if it runs."""
    from benchmarks import gpu_check

    def never(*args):
        raise AssertionError("a step ran")
    for step in ("step_smoke", "step_determinism_and_resume", "step_study", "step_throughput",
                 "step_plan"):
        monkeypatch.setattr(gpu_check, step, never)
    try:
        code = gpu_check.main(argv)
    except SystemExit as stop:
        code = stop.code
    return code, one_line_error(capsys)


def test_gpu_check_refuses_a_missing_data_folder_before_any_step(tmp_path, monkeypatch, capsys):
    code, line = gpu_check_stopped(tmp_path, monkeypatch, [
        "--device", "cpu", "--out", str(tmp_path / "out"), "--data-dir", str(tmp_path / "no")],
        capsys)
    assert code == 2 and "that folder does not exist" in line
    assert not (tmp_path / "no").exists() and not (tmp_path / "out").exists()


@pytest.mark.parametrize("argv, phrase", [
    (["--stage", "{file}"], "is a file, not a folder"),
    (["--stage", "{dir}", "--cifar-train", "0"], "--cifar-train: must be between 1 and 50,000"),
    (["--stage", "{dir}", "--data-dir", "{missing}"], "that folder does not exist"),
])
def test_gpu_check_stage_options_are_one_line(argv, phrase, tmp_path, monkeypatch, capsys):
    (tmp_path / "a_file").write_text("mine")
    names = {"file": str(tmp_path / "a_file"), "dir": str(tmp_path / "stage"),
             "missing": str(tmp_path / "missing")}
    code, line = gpu_check_stopped(tmp_path, monkeypatch,
                                   [a.format(**names) for a in argv], capsys)
    assert code == 2 and phrase in line
    assert (tmp_path / "a_file").read_text() == "mine" and not (tmp_path / "stage").exists()


def test_report_image_links_work_with_spaces_and_through_a_symlinked_folder(tmp_path):
    from utils.report.common import image

    real = tmp_path / "my study"
    (real / "results").mkdir(parents=True)
    (real / "plots (v2)" / "sec").mkdir(parents=True)
    (real / "plots (v2)" / "sec" / "a b.png").write_bytes(b"png")
    (tmp_path / "linked_results").symlink_to(real / "results")
    link = image(str(real / "plots (v2)"), str(tmp_path / "linked_results"), "sec/a b.png", "x")
    assert link == "![x](../plots%20%28v2%29/sec/a%20b.png)"
    # followed the way a viewer does: from the folder REPORT.md really is in
    target = urllib.parse.unquote(link[len("![x]("):-1])
    assert (real / "results" / target).resolve() == (real / "plots (v2)" / "sec" / "a b.png")


def test_plan_past_a_day_of_training_says_so(tmp_path, monkeypatch, capsys):
    from models import build_model
    from utils.train import plan

    monkeypatch.setattr(plan, "probe_seconds_per_step",
                        lambda spec, device, execution: (1.0, build_model("FCNet")))
    total = plan.plan([spec(epochs=1000, batch_size=60)], str(tmp_path), "cpu")
    assert total > plan.DAY_S
    assert f"note: that is {total / plan.DAY_S:.1f} days of training" in capsys.readouterr().out


def test_a_second_ctrl_c_during_the_shutdown_of_the_first_is_ignored(tmp_path, monkeypatch,
                                                                     capsys):
    import signal

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(cli, "train_missing", interrupted)
    default = signal.getsignal(signal.SIGINT)
    try:
        assert run_task1("--data-dir", str(tmp_path), *dirs(tmp_path)) == 130
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, default)
    assert "run the same command again to resume" in capsys.readouterr().err


# --- two drivers on one results folder ---------------------------------------------------------

def test_a_run_finished_by_another_driver_while_this_one_waited_is_not_trained_again(
        fake_mnist_root, tmp_path, monkeypatch, capsys):
    """Driver B decided to train FCNet; before it took the run's lock, driver A finished it (here:
    the other driver's whole run happens inside B's lock acquisition). B skips it, so nothing is
    measured twice and nothing is superseded."""
    from utils.train import launch

    real_lock = launch.run_lock
    other_driver_done = []

    def lock_after_the_other_driver(path):
        if not other_driver_done:
            other_driver_done.append(True)
            with monkeypatch.context() as m:
                m.setattr(launch, "run_lock", real_lock)
                assert run_task1("--only", "FCNet", "--data-dir", fake_mnist_root,
                                 *dirs(tmp_path)) == 0
        return real_lock(path)

    monkeypatch.setattr(launch, "run_lock", lock_after_the_other_driver)
    assert run_task1("--only", "FCNet", "--data-dir", fake_mnist_root, *dirs(tmp_path)) == 0
    assert "finished by another process" in capsys.readouterr().out
    assert not (tmp_path / "results" / "superseded").exists()


def test_a_driver_that_starts_after_another_finished_skips_the_run_from_the_start(
        study, fake_mnist_root, capsys):
    assert run_task1("--only", "FCNet", "--data-dir", fake_mnist_root, *dirs(study)) == 0
    assert "nothing was trained" in capsys.readouterr().out
    assert not (study / "results" / "superseded").exists()


def test_an_empty_training_split_is_one_line_before_anything_trains(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    empty = {"images": torch.zeros(0, 3, 32, 32, dtype=torch.uint8),
             "labels": torch.zeros(0, dtype=torch.long)}
    full = {"images": torch.zeros(10, 3, 32, 32, dtype=torch.uint8),
            "labels": torch.zeros(10, dtype=torch.long)}
    torch.save({"train": empty, "test": full}, packed_path("cifar10", str(data)))
    code = cli.main("task 1", task1.SECTIONS, ["--no-progress", "--section", "1.2", "--profile",
                                               "smoke", "--only", "DeepFCNet", "--data-dir",
                                               str(data), *dirs(tmp_path)])
    assert code == 2
    assert "holds no images in this split" in one_line_error(capsys)


def test_an_ascii_console_still_writes_the_report_in_utf8(study, fake_mnist_root):
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0",
           "PYTHONIOENCODING": ""}
    out = subprocess.run([sys.executable, "homework_cnn_vs_fc_comparison.py", "--profile",
                          "smoke", "--section", "1.1", "--report-only", *dirs(study)],
                         cwd=ROOT, env=env, capture_output=True, timeout=300)
    assert out.returncode == 0, out.stderr[-1000:]
    assert "−".encode() in (study / "results" / "REPORT.md").read_bytes()


def test_a_plot_no_result_draws_any_more_is_removed(study, capsys):
    stale = study / "plots" / "mnist_comparison" / "conf_matrix_OldModel.png"
    stale.write_bytes(b"png")
    kept = sorted(p.name for p in (study / "plots" / "mnist_comparison").glob("*.png"))
    assert run_task1("--report-only", *dirs(study)) == 0
    after = sorted(p.name for p in (study / "plots" / "mnist_comparison").glob("*.png"))
    assert after == [n for n in kept if n != stale.name]
    assert "removed 1 plot(s)" in capsys.readouterr().out


def test_ten_thousand_junk_files_give_ten_warnings_and_one_count(tmp_path, capsys):
    from utils.results import MAX_WARNINGS, load_section

    folder = tmp_path / "sec"
    folder.mkdir()
    for i in range(2_000):
        (folder / f"junk{i}.json").write_text("{}")
    assert load_section(str(tmp_path), "sec") == []
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == MAX_WARNINGS + 1
    assert "skipped 1,990 more files" in lines[-1] and "(2,000 in all)" in lines[-1]


def test_bars_only_on_a_terminal_and_a_warning_for_more_workers_than_cores(monkeypatch, capsys):
    args = cli.build_parser("", task1.SECTIONS).parse_args(["--workers", "64"])
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert not cli.show_progress(args)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert cli.show_progress(args)
    monkeypatch.setattr(cli, "usable_cores", lambda: 2)
    cli.warn_oversubscription(args)
    assert "--workers 64 on 2 core(s)" in capsys.readouterr().err
