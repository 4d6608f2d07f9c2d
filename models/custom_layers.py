"""Four custom layers, each a torch.autograd.Function with a hand-written backward, wrapped in an
nn.Module that owns its parameters. Tests check every backward with torch.autograd.gradcheck
(float64) and against a pure-autograd twin (models/autograd_twins.py).

- WSConv2d:     convolution with scaled weight standardisation (per output channel: zero mean,
                unit variance over the fan-in, times gain / sqrt(fan-in)), the "extra logic";
                grads for input, weight, gain and bias.
- SEAttention:  squeeze-and-excitation channel attention (global average pool -> FC -> ReLU ->
                FC -> sigmoid -> rescale the channels).
- SwishBeta:    x * sigmoid(beta * x) with a learnable beta.
- MixPool2d:    alpha * maxpool + (1 - alpha) * avgpool, alpha = sigmoid(a) learnable.
"""
import math

import torch
from torch import nn
from torch.autograd.function import once_differentiable
from torch.nn import functional as F
from torch.nn.modules.utils import _pair

EPS = 1e-5


# --- mixed precision and memory format ----------------------------------------------------------
# Under autocast the inputs of a Function can mix bfloat16 activations with float32 parameters,
# and autocast stays active inside forward: the hand-written maths would then see a different
# dtype in backward than it saved in forward. Each Function therefore turns autocast off inside,
# computes in float32 (or float64 for gradcheck), returns its output in the dtype of its input x
# and each gradient in the dtype of the tensor it belongs to. The backward passes are written for
# first derivatives only (`once_differentiable`): a second derivative raises instead of coming
# out wrong.

def compute_dtype(*tensors):
    """float32, or wider when any input is wider (float64 in gradcheck)."""
    dtype = torch.float32
    for t in tensors:
        if t is not None:
            dtype = torch.promote_types(dtype, t.dtype)
    return dtype


def no_autocast(x):
    return torch.autocast(x.device.type, enabled=False)


def as_dtype(tensor, dtype):
    return None if tensor is None else tensor.to(dtype)


def memory_format_of(x):
    """channels_last when x is laid out that way (and not also plain contiguous), else NCHW."""
    if x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last) \
            and not x.is_contiguous():
        return torch.channels_last
    return torch.contiguous_format


# --- weight-standardised convolution ------------------------------------------------------------

def standardise(weight, eps=EPS):
    """u = (w - mean) / sqrt(var + eps) over each output channel's fan-in; returns (u, sigma)."""
    flat = weight.flatten(1)
    mean = flat.mean(1, keepdim=True)
    sigma = (flat.var(1, unbiased=False, keepdim=True) + eps).sqrt()
    return ((flat - mean) / sigma).view_as(weight), sigma


# Gain that keeps the second moment of conv+ReLU stacks steady with zero-mean kernels:
# sqrt(2 / (1 - 1/pi)) (Brock et al., 2021). He's sqrt(2) is not enough here, because a zero-mean
# kernel also removes the (positive) mean of its ReLU-ed input.
RELU_GAIN = (2 / (1 - 1 / math.pi)) ** 0.5


def scaled_kernel(u, gain):
    """gain_c * u / sqrt(fan_in): a unit-variance kernel rescaled so that its output keeps the
    scale of its input."""
    fan_in = u[0].numel()
    return u * (gain / fan_in ** 0.5).view(-1, 1, 1, 1)


class WSConv2dFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, gain, bias, stride, padding):
        ctx.dtypes = [t.dtype if t is not None else None for t in (x, weight, gain, bias)]
        dtype = compute_dtype(x, weight, gain, bias)
        with no_autocast(x):
            x, weight, gain, bias = (as_dtype(t, dtype) for t in (x, weight, gain, bias))
            u, sigma = standardise(weight)
            w_hat = scaled_kernel(u, gain)
            ctx.save_for_backward(x, u, sigma, gain, w_hat)
            ctx.stride, ctx.padding, ctx.has_bias = stride, padding, bias is not None
            return F.conv2d(x, w_hat, bias, stride, padding).to(ctx.dtypes[0])

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        x, u, sigma, gain, w_hat = ctx.saved_tensors
        with no_autocast(x):
            grads = WSConv2dFunction._grads(ctx, grad_out.to(x.dtype), x, u, sigma, gain, w_hat)
        return (*(as_dtype(g, d) for g, d in zip(grads, ctx.dtypes)), None, None)

    @staticmethod
    def _grads(ctx, grad_out, x, u, sigma, gain, w_hat):
        grad_x = grad_w = grad_gain = grad_b = None
        if ctx.needs_input_grad[0]:
            # The transposed convolution of grad_out with the kernel actually used.
            grad_x = torch.nn.grad.conv2d_input(x.shape, w_hat, grad_out, ctx.stride,
                                                ctx.padding)
        if ctx.needs_input_grad[1] or ctx.needs_input_grad[2]:
            # Correlation of the input with grad_out gives dL/d w_hat ...
            g = torch.nn.grad.conv2d_weight(x, w_hat.shape, grad_out, ctx.stride,
                                            ctx.padding).flatten(1)
            uf, root_fan_in = u.flatten(1), u[0].numel() ** 0.5
            grad_gain = (g * uf).sum(1) / root_fan_in
            # ... the scaling gives dL/du = g * gain / sqrt(fan_in), and the standardisation's
            # Jacobian carries it to w: dL/dw = (du - mean(du) - u * mean(du * u)) / sigma,
            # per output channel.
            du = g * (gain / root_fan_in)[:, None]
            grad_w = ((du - du.mean(1, keepdim=True) - uf * (du * uf).mean(1, keepdim=True))
                      / sigma).view_as(u)
        if ctx.has_bias and ctx.needs_input_grad[3]:
            grad_b = grad_out.sum((0, 2, 3))
        if grad_x is not None:
            grad_x = grad_x.contiguous(memory_format=memory_format_of(x))
        return grad_x, grad_w, grad_gain, grad_b


def explicit_padding(kernel_size, stride, padding):
    """nn.Conv2d's padding forms ("valid", "same", int, pair) as the pair the hand-written
    backward needs; "same" only where it is symmetric (stride 1, odd kernel)."""
    if padding == "valid":
        return (0, 0)
    if padding == "same":
        kernel = _pair(kernel_size)
        if _pair(stride) != (1, 1) or any(k % 2 == 0 for k in kernel):
            raise ValueError("WSConv2d supports padding='same' only with stride 1 and odd "
                             "kernel sizes; give the padding as numbers instead.")
        return tuple(k // 2 for k in kernel)
    if isinstance(padding, str):
        raise ValueError(f"WSConv2d padding must be 'valid', 'same', an int or a pair, "
                         f"not {padding!r}.")
    return _pair(padding)


class WSConv2d(nn.Module):
    """Conv2d whose kernels are standardised on every forward pass (Qiao et al., 2019) and
    rescaled by a learnable per-channel gain over sqrt(fan-in) (the "scaled WS" of Brock et al.,
    2021), which keeps activations at a steady scale without a normalisation layer."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True,
                 gain=RELU_GAIN):
        super().__init__()
        padding = explicit_padding(kernel_size, stride, padding)
        template = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias=bias)
        self.weight = template.weight
        self.gain = nn.Parameter(torch.full((out_channels,), float(gain)))
        self.bias = template.bias
        self.stride, self.padding, self.kernel_size = template.stride, template.padding, \
            template.kernel_size

    def forward(self, x):
        return WSConv2dFunction.apply(x, self.weight, self.gain, self.bias, self.stride,
                                      self.padding)


# --- squeeze-and-excitation attention -----------------------------------------------------------

class SEFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w1, b1, w2, b2):
        ctx.dtypes = [t.dtype for t in (x, w1, b1, w2, b2)]
        dtype = compute_dtype(x, w1, b1, w2, b2)
        with no_autocast(x):
            x, w1, b1, w2, b2 = (t.to(dtype) for t in (x, w1, b1, w2, b2))
            squeezed = x.mean((2, 3))                      # N x C
            hidden_pre = squeezed @ w1.t() + b1            # N x R
            hidden = hidden_pre.clamp_min(0)
            scale = torch.sigmoid(hidden @ w2.t() + b2)    # N x C
            ctx.save_for_backward(x, squeezed, hidden_pre, hidden, scale, w1, w2)
            return (x * scale[:, :, None, None]).to(ctx.dtypes[0])

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        x = ctx.saved_tensors[0]
        with no_autocast(x):
            grads = SEFunction._grads(grad_out.to(x.dtype), *ctx.saved_tensors)
        return tuple(g.to(d) for g, d in zip(grads, ctx.dtypes))

    @staticmethod
    def _grads(grad_out, x, squeezed, hidden_pre, hidden, scale, w1, w2):
        hw = x.shape[2] * x.shape[3]
        d_scale = (grad_out * x).sum((2, 3))           # N x C
        d_logit = d_scale * scale * (1 - scale)        # through the sigmoid
        grad_w2, grad_b2 = d_logit.t() @ hidden, d_logit.sum(0)
        d_hidden = (d_logit @ w2) * (hidden_pre > 0)   # through the ReLU
        grad_w1, grad_b1 = d_hidden.t() @ squeezed, d_hidden.sum(0)
        d_squeezed = d_hidden @ w1                     # N x C, spread evenly by the mean
        grad_x = grad_out * scale[:, :, None, None] + (d_squeezed / hw)[:, :, None, None]
        grad_x = grad_x.contiguous(memory_format=memory_format_of(x))
        return grad_x, grad_w1, grad_b1, grad_w2, grad_b2


class SEAttention(nn.Module):
    """Channel attention (Hu et al., 2018): reweights channels by a gate computed from their
    global averages through a bottleneck of channels // reduction units."""

    def __init__(self, channels, reduction=8):
        super().__init__()
        hidden = max(1, channels // reduction)
        self.fc1, self.fc2 = nn.Linear(channels, hidden), nn.Linear(hidden, channels)

    def forward(self, x):
        return SEFunction.apply(x, self.fc1.weight, self.fc1.bias, self.fc2.weight, self.fc2.bias)


# --- Swish with a learnable beta ----------------------------------------------------------------

class SwishBetaFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, beta):
        ctx.dtypes = (x.dtype, beta.dtype)
        dtype = compute_dtype(x, beta)
        with no_autocast(x):
            x, beta = x.to(dtype), beta.to(dtype)
            s = torch.sigmoid(beta * x)
            ctx.save_for_backward(x, beta, s)
            return (x * s).to(ctx.dtypes[0])

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        x, beta, s = ctx.saved_tensors
        with no_autocast(x):
            grad_out = grad_out.to(x.dtype)
            # y = x s with s = sigmoid(beta x): dy/dx = s + beta x s (1 - s) and
            # dy/dbeta = x x s (1 - s). u = g x s (1 - s) is shared by both; sigmoid_backward
            # computes g' s (1 - s) in one pass over memory (the fewer passes, the faster).
            u = torch.ops.aten.sigmoid_backward(grad_out * x, s)
            grad_x = torch.addcmul(grad_out * s, u, beta)
            grad_beta = torch.sum(u.mul_(x)).reshape(beta.shape)
        return grad_x.to(ctx.dtypes[0]), grad_beta.to(ctx.dtypes[1])


class SwishBeta(nn.Module):
    """x * sigmoid(beta x) (Ramachandran et al., 2017): beta = 1 is SiLU, beta -> inf is ReLU."""

    def __init__(self, beta=1.0):
        super().__init__()
        self.beta = nn.Parameter(torch.tensor(float(beta)))

    def forward(self, x):
        return SwishBetaFunction.apply(x, self.beta)


# --- learnable max/average pooling --------------------------------------------------------------

class MixPoolFunction(torch.autograd.Function):
    """Non-overlapping kh x kw pooling (stride = kernel, floor mode, like nn.MaxPool2d(k))."""

    @staticmethod
    def forward(ctx, x, mix_logit, k):
        ctx.dtypes = (x.dtype, mix_logit.dtype)
        dtype = compute_dtype(x, mix_logit)
        with no_autocast(x):
            x, mix_logit, k = x.to(dtype), mix_logit.to(dtype), _pair(k)
            mx, idx = F.max_pool2d(x, k, k, return_indices=True)
            av = F.avg_pool2d(x, k, k)
            alpha = torch.sigmoid(mix_logit)
            ctx.save_for_backward(x, idx, mx, av, alpha)
            ctx.k = k
            return (alpha * mx + (1 - alpha) * av).to(ctx.dtypes[0])

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        x, idx, mx, av, alpha = ctx.saved_tensors
        k = list(ctx.k)
        with no_autocast(mx):
            grad_out = grad_out.to(mx.dtype)
            # Max branch: alpha g to each window's arg-max pixel; average branch: (1 - alpha) g
            # shared by the window's pixels (rows and columns floor mode dropped get none). Each
            # is the pooling's own backward kernel (memory-format aware), weighted here.
            grad_x = torch.ops.aten.max_pool2d_with_indices_backward(
                alpha * grad_out, x, k, k, [0, 0], [1, 1], False, idx)
            grad_x += torch.ops.aten.avg_pool2d_backward(
                (1 - alpha) * grad_out, x, k, k, [0, 0], False, True, None)
            # d out / d logit = (mx - av) alpha (1 - alpha)
            grad_logit = ((grad_out * (mx - av)).sum() * alpha * (1 - alpha)).reshape(alpha.shape)
        return grad_x.to(ctx.dtypes[0]), grad_logit.to(ctx.dtypes[1]), None


class MixPool2d(nn.Module):
    """alpha * max-pool + (1 - alpha) * average-pool with a learnable alpha = sigmoid(logit);
    starts at alpha = sigmoid(2) = 0.88, close to max pooling."""

    def __init__(self, kernel_size=2, init_logit=2.0):
        super().__init__()
        self.kernel_size = _pair(kernel_size)
        if any(not isinstance(k, int) or k < 1 for k in self.kernel_size):
            raise ValueError(f"MixPool2d kernel_size must be a positive int or a pair of them, "
                             f"not {kernel_size!r}.")
        self.mix_logit = nn.Parameter(torch.tensor(float(init_logit)))

    def forward(self, x):
        return MixPoolFunction.apply(x, self.mix_logit, self.kernel_size)
