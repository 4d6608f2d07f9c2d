"""The launcher's side of a run's life: under --force a retry of the same command resumes what
that command started (a Ray worker that died), while a new command starts over."""
import pytest
import torch

from tests.test_runner import interrupt_in_epoch
from utils.train.launch import Job, train_job
from utils.train.runner import Run, RunSpec


def job(tmp_path, launch_id):
    s = RunSpec(name="FCNet", section="sec", model="FCNet", dataset="mnist", epochs=3,
                batch_size=64, profile="smoke", inference_batch=32)
    return Job(s, "cpu", str(tmp_path / "ckpt"), progress=False, restart=True,
               launch_id=launch_id)


def test_force_retries_of_one_command_resume_and_a_new_command_starts_over(
        synthetic_mnist, tmp_path, monkeypatch, capsys):
    original = interrupt_in_epoch(monkeypatch, 3)  # the worker dies as epoch 3 starts
    with pytest.raises(KeyboardInterrupt):
        train_job(job(tmp_path, "first"), synthetic_mnist)
    ckpt = tmp_path / "ckpt" / "sec" / "FCNet__seed0.pt"
    assert torch.load(ckpt, weights_only=True)["launch"] == "first"
    monkeypatch.setattr(Run, "train_epoch", original)

    capsys.readouterr()
    result = train_job(job(tmp_path, "first"), synthetic_mnist)  # the retry
    assert "resumed from its checkpoint after epoch 2" in capsys.readouterr().out
    assert len(result["history"]) == 3

    interrupt_in_epoch(monkeypatch, 3)
    with pytest.raises(KeyboardInterrupt):
        train_job(job(tmp_path, "second"), synthetic_mnist)  # --force again, a new command
    assert "resumed" not in capsys.readouterr().out


def test_a_result_is_checked_again_only_on_the_machine_that_drives(tmp_path, monkeypatch):
    """A node with its own checkout at the same path holds its own copy of the results: its
    file's time says nothing about the driver's, so the run is not skipped there."""
    import socket

    from utils.train.launch import result_mtime, written_meanwhile

    result = tmp_path / "FCNet__seed0.json"
    j = job(tmp_path, "x")
    j = type(j)(**{**j.__dict__, "result_path": str(result), "seen_mtime": None,
                   "driver_host": socket.gethostname()})
    assert not written_meanwhile(j)          # nothing written yet
    result.write_text("{}")
    assert written_meanwhile(j)              # another driver wrote it meanwhile
    assert not written_meanwhile(type(j)(**{**j.__dict__, "seen_mtime": result_mtime(result)}))
    monkeypatch.setattr(socket, "gethostname", lambda: "another-node")
    assert not written_meanwhile(j)
