"""How a run executes on its device (not what it learns): mixed precision, compilation and
deterministic kernels.

Kept out of RunSpec: they change speed, and only marginally the numbers, so a finished run is
not retrained because of them; each result records the settings it ran with.
"""
import contextlib
import os
from dataclasses import asdict, dataclass

import torch

from utils.train import devices


@dataclass(frozen=True)
class Execution:
    amp: bool = False       # bf16 autocast around forward passes
    compile: bool = False   # torch.compile the model for training
    # cuDNN autotuning off and deterministic kernels: two runs of a spec on one GPU give the
    # same numbers (the CPU path is deterministic already)
    deterministic: bool = False

    def autocast(self, device):
        if not self.amp:
            return contextlib.nullcontext()
        return torch.autocast(device_type=torch.device(device).type,
                              dtype=devices.amp_dtype(device))

    def as_dict(self):
        return asdict(self)


def resolve_amp(choice, device, bf16_supported=None):
    """--amp auto|on|off -> bool. auto: on for a CUDA GPU with bf16 support; off on the CPU (the
    study's float32 reference; bf16 ran 5-15x slower on CPUs without native bf16) and on MPS and
    XPU (not measured here)."""
    if choice == "on":
        return True
    if choice == "off":
        return False
    if torch.device(device).type != "cuda":
        return False
    if bf16_supported is None:
        bf16_supported = torch.cuda.is_bf16_supported()
    return bool(bf16_supported)


def configure_backends(device, deterministic):
    """cuDNN autotuning (fastest kernels, chosen per shape, not reproducible) unless
    `deterministic`, which also makes cuBLAS and every op with a deterministic variant use it.
    Ops that have none only warn (warn_only): they are rare here and a crash helps no one."""
    if deterministic:
        # cuBLAS needs a fixed workspace to be reproducible; read when CUDA initialises.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = torch.device(device).type == "cuda" and not deterministic
    torch.backends.cudnn.deterministic = deterministic
