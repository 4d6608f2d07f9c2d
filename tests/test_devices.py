"""Device selection and the device-neutral calls, on the CPU with the accelerators' presence
mocked: auto takes whatever accelerator torch finds, an absent one asked for by name is one
line, and MPS autocasts to float16."""
import pytest
import torch

from utils.train import cli, devices
from utils.train.execution import Execution, resolve_amp


@pytest.mark.parametrize("found", ["cuda", "mps", "xpu"])
def test_auto_prefers_the_accelerator_torch_finds(monkeypatch, found):
    monkeypatch.setattr(torch.accelerator, "is_available", lambda: True)
    monkeypatch.setattr(torch.accelerator, "current_accelerator", lambda: torch.device(found))
    assert cli.resolve_device("auto") == found


def test_auto_is_the_cpu_without_an_accelerator(monkeypatch):
    monkeypatch.setattr(torch.accelerator, "is_available", lambda: False)
    assert cli.resolve_device("auto") == "cpu"


@pytest.mark.parametrize("kind", ["cuda", "mps", "xpu"])
def test_an_absent_device_asked_for_by_name_is_one_line(monkeypatch, kind):
    monkeypatch.setattr(devices, "available", lambda k: k == "cpu")
    with pytest.raises(cli.UserError, match=f"--device {kind} was asked for"):
        cli.resolve_device(kind)


def test_every_kind_is_an_option_and_a_present_one_is_used(monkeypatch):
    args = cli.build_parser("", {"x": None}).parse_args(["--device", "mps"])
    monkeypatch.setattr(devices, "available", lambda k: k in ("cpu", "mps"))
    assert cli.resolve_device(args.device) == "mps"


def test_autocast_dtype_per_device_and_auto_amp_only_on_cuda():
    assert devices.amp_dtype("mps") == torch.float16
    assert devices.amp_dtype("cuda") == devices.amp_dtype("cpu") == torch.bfloat16
    assert resolve_amp("auto", "cuda", bf16_supported=True)
    assert not resolve_amp("auto", "mps") and not resolve_amp("auto", "cpu")
    with Execution(amp=True).autocast("cpu"):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.bfloat16


def test_synchronize_goes_through_torch_accelerator_and_the_cpu_waits_for_nothing(monkeypatch):
    calls = []
    monkeypatch.setattr(torch.accelerator, "synchronize", lambda d=None: calls.append(d))
    devices.synchronize("cpu")
    devices.synchronize(torch.device("mps"))
    assert calls == [torch.device("mps")]
    assert devices.device_name("mps") == "Apple GPU (MPS)" and devices.device_name("cpu") is None
