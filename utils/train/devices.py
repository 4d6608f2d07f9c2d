"""Which device a run trains on, and the few calls that differ between them, through torch's
device-neutral API (torch.accelerator) where it has one: CUDA, Apple's MPS, Intel's XPU, or the
CPU. Nothing else on the training path names a device type.

Measured here: the CPU. CUDA is exercised by benchmarks/gpu_check.py when a GPU is lent; MPS and
XPU are accepted and use the same calls, but have not been measured by this project."""
import torch

KINDS = ("cpu", "cuda", "mps", "xpu")
# The autocast dtype per device type (--amp on): bf16 where the hardware has it; MPS autocasts
# to float16 (its bf16 support depends on the macOS version).
AMP_DTYPE = {"cpu": torch.bfloat16, "cuda": torch.bfloat16, "xpu": torch.bfloat16,
             "mps": torch.float16}


def available(kind):
    """Whether this torch can train on a device of `kind` here."""
    if kind == "cpu":
        return True
    if kind == "cuda":
        return torch.cuda.is_available()
    if kind == "mps":
        return torch.backends.mps.is_available()
    if kind == "xpu":
        return hasattr(torch, "xpu") and torch.xpu.is_available()
    return False


def auto():
    """The accelerator this torch finds (CUDA, MPS, XPU, ...), else the CPU."""
    if torch.accelerator.is_available():
        return torch.accelerator.current_accelerator().type
    return "cpu"


def synchronize(device):
    """Wait for the device's queued work (a timed region must not end before its work does)."""
    kind = torch.device(device).type
    if kind != "cpu":
        torch.accelerator.synchronize(torch.device(device))


def device_name(device):
    """The accelerator's name, or None for the CPU."""
    kind = torch.device(device).type
    if kind == "cuda":
        return torch.cuda.get_device_name(device)
    if kind == "xpu":
        return torch.xpu.get_device_name(device)
    if kind == "mps":
        return "Apple GPU (MPS)"
    return None


def amp_dtype(device):
    return AMP_DTYPE.get(torch.device(device).type, torch.bfloat16)
