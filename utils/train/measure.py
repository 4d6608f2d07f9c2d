"""What the runner measures besides accuracy: size, compute, speed, gradients, environment."""
import copy
import datetime
import math
import os
import platform
import statistics
import subprocess
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from utils.train import devices


def count_params(model):
    return sum(p.numel() for p in model.parameters())


def param_breakdown(model):
    """Parameters of every module that owns some directly, in definition order."""
    rows = []
    for name, module in model.named_modules():
        n = sum(p.numel() for p in module.parameters(recurse=False))
        if n:
            rows.append({"name": name, "type": type(module).__name__, "params": n})
    return rows


def count_macs(model, input_shape):
    """Multiply-accumulates of one forward pass on one image (FlopCounterMode counts 2 per MAC)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, *input_shape, device=device))
    model.train(was_training)
    return counter.get_total_flops() // 2


def count_train_flops(model, input_shape):
    """FLOPs of one training pass (forward and backward) per image, counted by FlopCounterMode
    on a copy of the model in training mode (batch 2: BatchNorm needs two values a channel).
    Unlike 6 x MACs it knows that no gradient is computed for the input images, so the first
    layer's backward costs one product, not two (FCNet: about 0.76 x 6 x MACs)."""
    clone = copy.deepcopy(model).train()
    device = next(clone.parameters()).device
    x = torch.zeros(2, *input_shape, device=device)
    with FlopCounterMode(display=False) as counter:
        clone(x).float().sum().backward()
    return counter.get_total_flops() // 2


def synchronize(device):
    devices.synchronize(device)


class Timer:
    """Wall-clock seconds of a region, with the device synchronised on entry and exit."""

    def __init__(self, device):
        self.device = device
        self.seconds = 0.0

    def __enter__(self):
        synchronize(self.device)
        self.start = time.perf_counter()
        return self

    def elapsed(self):
        """Seconds so far, with the device synchronised (a deliberate host wait)."""
        synchronize(self.device)
        return time.perf_counter() - self.start

    def __exit__(self, *exc):
        self.seconds = self.elapsed()


@torch.inference_mode()
def inference_speed(model, input_shape, device, channels_last=False, latency_reps=30,
                    throughput_batch=1024, throughput_reps=3):
    """Latency of one image (median ms over `latency_reps` after a warm-up) and throughput at a
    large batch (images/s, median of `throughput_reps`), in eval mode on `device`."""
    model.eval()
    fmt = torch.channels_last if channels_last else torch.contiguous_format

    def timed(batch, reps, warmup):
        x = torch.randn(batch, *input_shape, device=device).contiguous(memory_format=fmt)
        for _ in range(warmup):
            model(x)
        times = []
        for _ in range(reps):
            with Timer(device) as t:
                model(x)
            times.append(t.seconds)
        return statistics.median(times)

    latency = timed(1, latency_reps, warmup=5)
    per_batch = timed(throughput_batch, throughput_reps, warmup=1)
    return {"inference_latency_ms": latency * 1e3,
            "inference_throughput_img_s": throughput_batch / per_batch,
            "inference_throughput_batch": throughput_batch}


def matmul_rates(device, n=2048, reps=20, dtype=torch.float32):
    """FLOP/s of each of `reps` timed n x n matmuls in `dtype`, after a warm-up."""
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    rates = []
    for _ in range(reps):
        with Timer(device) as t:
            a @ b
        rates.append(2 * n ** 3 / t.seconds)
    return rates


def matmul_peak_flops(device, n=2048, reps=20, dtype=torch.float32):
    """This device's peak in `dtype` as one large matmul reaches it: the fastest of `reps`
    timed products. The fastest, not the median, because other processes only ever slow a
    repeat down; the peak is what the hardware can do. (Set beside a training rate measured at
    another moment, it can flatter the hardware: benchmarks/train_throughput.py interleaves.)"""
    return max(matmul_rates(device, n, reps, dtype))


def peak_dtype(amp, device="cpu"):
    """The dtype the matmuls of a run actually use: the device's autocast dtype under --amp
    (bf16; float16 on MPS), else float32."""
    return devices.amp_dtype(device) if amp else torch.float32


def gradient_snapshot(model):
    """Mean |grad|, max |grad| and L2 norm of every weight tensor (biases and BN shifts omitted:
    they say little about flow through depth), keyed by parameter name, in forward order, with
    the weight's own L2 norm and size: ||g|| grows with the square root of the number of weights,
    so layers of different size compare by mean |g|, ||g|| / sqrt(numel) or ||g|| / ||w||."""
    snap = {}
    for name, p in model.named_parameters():
        if p.grad is None or p.ndim < 2:
            continue
        g = p.grad.detach().abs()
        values = {"mean_abs": g.mean().item(), "max_abs": g.max().item(),
                  "norm": torch.linalg.vector_norm(g).item(),
                  "weight_norm": torch.linalg.vector_norm(p.detach()).item(),
                  "numel": p.numel()}
        # JSON has no NaN or inf: a diverging net's gradients are recorded as None.
        snap[name] = {k: v if math.isfinite(v) else None for k, v in values.items()}
    return snap


class OutputGradients:
    """Records, over one forward and backward, the L2 norm of the loss's gradient with respect
    to the output of every layer that holds a weight matrix or kernel (Linear, conv, custom
    conv), in forward order: the backpropagated signal itself, first layer to last. (Unlike
    ||g||/||w|| of a layer's weights, which in a BatchNorm net is a relative update size.)

        with OutputGradients(model) as grads:
            loss = ...; loss.backward()
        grads.norms  # {module name: norm}; grads.sizes: {module name: values per image}

    A tensor hook on each output: it reads the gradient and changes nothing, and it holds
    through an in-place activation after the layer."""

    def __init__(self, model):
        self.model, self.norms, self.sizes, self.handles = model, {}, {}, []

    def _hook(self, name):
        def on_forward(module, inputs, output):
            if torch.is_tensor(output) and output.requires_grad:
                self.norms[name] = None  # its place in forward order
                # values per image: layers of different sizes compare by norm / sqrt(size)
                self.sizes[name] = output[0].numel()
                output.register_hook(lambda g: self._store(name, g))
        return on_forward

    def _store(self, name, grad):
        value = torch.linalg.vector_norm(grad.detach().float()).item()
        self.norms[name] = value if math.isfinite(value) else None

    def __enter__(self):
        for name, module in self.model.named_modules():
            weight = getattr(module, "weight", None)
            if isinstance(weight, torch.Tensor) and weight.ndim >= 2 and name:
                self.handles.append(module.register_forward_hook(self._hook(name)))
        return self

    def __exit__(self, *exc):
        for handle in self.handles:
            handle.remove()
        self.handles = []


def calibration_error(confidence, correct, bins=15):
    """Expected calibration error: over `bins` equal-width confidence bins, the image-weighted
    mean of |accuracy - mean confidence| in each bin (Guo et al., 2017)."""
    confidence, correct = confidence.double(), correct.double()
    which = (confidence * bins).long().clamp(0, bins - 1)
    conf_sum = torch.zeros(bins, dtype=torch.float64).index_add_(0, which, confidence)
    acc_sum = torch.zeros(bins, dtype=torch.float64).index_add_(0, which, correct)
    return ((acc_sum - conf_sum).abs().sum() / len(correct)).item()


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git_commit():
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, cwd=os.path.dirname(os.path.abspath(__file__)), timeout=5)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def environment(device):
    device = torch.device(device)
    name = devices.device_name(device) or _cpu_model()
    return {"torch": torch.__version__, "device": device.type, "device_name": name,
            "cpu": _cpu_model(), "threads": torch.get_num_threads(),
            "python": platform.python_version(), "git_commit": _git_commit(),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            # the GPUs a launcher gave this run (Ray sets it per task); absent when unset
            **({"cuda_visible_devices": os.environ["CUDA_VISIBLE_DEVICES"]}
               if "CUDA_VISIBLE_DEVICES" in os.environ else {})}
