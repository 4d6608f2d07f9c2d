"""Device-dependent execution choices, checked without a GPU."""
import os
import time

import pytest
import torch

from utils.train.cli import UserError, resolve_device
from utils.train.execution import Execution, configure_backends, resolve_amp
from utils.train.runner import Run, RunSpec


def test_amp_auto_is_off_on_the_cpu_and_on_for_a_bf16_gpu():
    assert resolve_amp("auto", "cpu") is False
    assert resolve_amp("auto", "cuda", bf16_supported=True) is True
    assert resolve_amp("auto", "cuda", bf16_supported=False) is False
    assert resolve_amp("on", "cpu") is True and resolve_amp("off", "cuda") is False


def test_amp_autocasts_matmuls_to_bf16_and_off_leaves_float32():
    a = torch.randn(4, 4)
    with Execution(amp=True).autocast("cpu"):
        assert (a @ a).dtype == torch.bfloat16
    with Execution(amp=False).autocast("cpu"):
        assert (a @ a).dtype == torch.float32


def test_auto_device_falls_back_to_cpu_and_cuda_request_is_checked(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu"
    with pytest.raises(UserError, match="--device cpu"):
        resolve_device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda" and resolve_device("cuda") == "cuda"


def test_compile_wraps_only_the_training_forward(synthetic_mnist, tmp_path):
    spec = RunSpec(name="FCNet", section="s", model="FCNet", dataset="mnist", epochs=1)
    run = Run(spec, synthetic_mnist, "cpu", str(tmp_path), str(tmp_path),
              execution=Execution(compile=True))
    assert run.forward is not run.model and run.forward._orig_mod is run.model
    plain = Run(spec, synthetic_mnist, "cpu", str(tmp_path), str(tmp_path))
    assert plain.forward is plain.model


def test_a_result_records_how_it_executed(synthetic_mnist, tmp_path):
    spec = RunSpec(name="FCNet", section="s", model="FCNet", dataset="mnist", epochs=1,
                   inference_batch=16)
    result = Run(spec, synthetic_mnist, "cpu", str(tmp_path / "r"), str(tmp_path / "c"),
                 progress=False, execution=Execution(amp=True)).execute()
    assert result["execution"] == {"amp": True, "compile": False, "deterministic": False}
    # The synthetic bands are learnt in one epoch even in bf16.
    assert result["final"]["test_acc"] > 0.5


def test_deterministic_turns_off_autotuning_and_turns_on_deterministic_kernels(monkeypatch):
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    try:
        configure_backends("cuda", deterministic=True)
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.backends.cudnn.benchmark is False and torch.backends.cudnn.deterministic
        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
        configure_backends("cuda", deterministic=False)
        assert torch.backends.cudnn.benchmark is True
    finally:
        torch.use_deterministic_algorithms(False)
        configure_backends("cpu", deterministic=False)
    assert torch.backends.cudnn.benchmark is False


def test_compile_time_is_kept_out_of_the_epoch_time(synthetic_mnist, tmp_path, monkeypatch):
    """On a fake clock (a busy machine cannot move it): every step takes 10 ms of it, and the
    first compiled call 0.5 s more, as compiling would."""
    now = [0.0]

    def clock():
        now[0] += 1e-6  # every reading moves it a little, as a real clock does
        return now[0]

    def fake_compile(model):
        calls = []

        def forward(x):
            now[0] += 0.01 + (0.5 if not calls else 0.0)
            calls.append(1)
            return model(x)
        return forward

    monkeypatch.setattr(torch, "compile", fake_compile)
    monkeypatch.setattr(time, "perf_counter", clock)
    spec = RunSpec(name="FCNet", section="s", model="FCNet", dataset="mnist", epochs=2,
                   batch_size=60, inference_batch=16)
    result = Run(spec, synthetic_mnist, "cpu", str(tmp_path / "r"), str(tmp_path / "c"),
                 progress=False, execution=Execution(compile=True)).execute()
    first, second = (h["epoch_time_s"] for h in result["history"])
    assert result["final"]["compile_time_s"] == pytest.approx(0.5, abs=1e-3)
    assert first == pytest.approx(second, abs=1e-3)  # uncorrected, it would be second + 0.5
    assert second == pytest.approx(0.01 * 10, abs=1e-3)  # 600 images, batch 60: 10 steps
