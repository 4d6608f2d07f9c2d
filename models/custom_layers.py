"""Four custom layers, each a torch.autograd.Function with a hand-written backward, wrapped in an
nn.Module that owns its parameters. Tests check every backward with torch.autograd.gradcheck
(float64) and against a pure-autograd twin (tests/autograd_twins.py).

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
from torch.nn import functional as F

EPS = 1e-5


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
        u, sigma = standardise(weight)
        w_hat = scaled_kernel(u, gain)
        ctx.save_for_backward(x, u, sigma, gain, w_hat)
        ctx.stride, ctx.padding, ctx.has_bias = stride, padding, bias is not None
        return F.conv2d(x, w_hat, bias, stride, padding)

    @staticmethod
    def backward(ctx, grad_out):
        x, u, sigma, gain, w_hat = ctx.saved_tensors
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
        return grad_x, grad_w, grad_gain, grad_b, None, None


class WSConv2d(nn.Module):
    """Conv2d whose kernels are standardised on every forward pass (Qiao et al., 2019) and
    rescaled by a learnable per-channel gain over sqrt(fan-in) (the "scaled WS" of Brock et al.,
    2021), which keeps activations at a steady scale without a normalisation layer."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True,
                 gain=RELU_GAIN):
        super().__init__()
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
        squeezed = x.mean((2, 3))                      # N x C
        hidden_pre = squeezed @ w1.t() + b1            # N x R
        hidden = hidden_pre.clamp_min(0)
        scale = torch.sigmoid(hidden @ w2.t() + b2)    # N x C
        ctx.save_for_backward(x, squeezed, hidden_pre, hidden, scale, w1, w2)
        return x * scale[:, :, None, None]

    @staticmethod
    def backward(ctx, grad_out):
        x, squeezed, hidden_pre, hidden, scale, w1, w2 = ctx.saved_tensors
        hw = x.shape[2] * x.shape[3]
        d_scale = (grad_out * x).sum((2, 3))           # N x C
        d_logit = d_scale * scale * (1 - scale)        # through the sigmoid
        grad_w2, grad_b2 = d_logit.t() @ hidden, d_logit.sum(0)
        d_hidden = (d_logit @ w2) * (hidden_pre > 0)   # through the ReLU
        grad_w1, grad_b1 = d_hidden.t() @ squeezed, d_hidden.sum(0)
        d_squeezed = d_hidden @ w1                     # N x C, spread evenly by the mean
        grad_x = grad_out * scale[:, :, None, None] + (d_squeezed / hw)[:, :, None, None]
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
        s = torch.sigmoid(beta * x)
        ctx.save_for_backward(x, beta, s)
        return x * s

    @staticmethod
    def backward(ctx, grad_out):
        x, beta, s = ctx.saved_tensors
        ds = s * (1 - s)                                 # sigmoid'(beta x)
        grad_x = grad_out * (s + beta * x * ds)
        grad_beta = (grad_out * x * x * ds).sum().reshape(beta.shape)
        return grad_x, grad_beta


class SwishBeta(nn.Module):
    """x * sigmoid(beta x) (Ramachandran et al., 2017): beta = 1 is SiLU, beta -> inf is ReLU."""

    def __init__(self, beta=1.0):
        super().__init__()
        self.beta = nn.Parameter(torch.tensor(float(beta)))

    def forward(self, x):
        return SwishBetaFunction.apply(x, self.beta)


# --- learnable max/average pooling --------------------------------------------------------------

class MixPoolFunction(torch.autograd.Function):
    """Non-overlapping k x k pooling (stride k, floor mode, like nn.MaxPool2d(k))."""

    @staticmethod
    def forward(ctx, x, mix_logit, k):
        mx, idx = F.max_pool2d(x, k, k, return_indices=True)
        av = F.avg_pool2d(x, k, k)
        alpha = torch.sigmoid(mix_logit)
        ctx.save_for_backward(idx, mx, av, alpha)
        ctx.k, ctx.in_shape = k, x.shape
        return alpha * mx + (1 - alpha) * av

    @staticmethod
    def backward(ctx, grad_out):
        idx, mx, av, alpha = ctx.saved_tensors
        k, (n, c, h, w) = ctx.k, ctx.in_shape
        # Max branch: each window's gradient goes to its arg-max pixel.
        to_max = torch.zeros(n, c, h * w, dtype=grad_out.dtype, device=grad_out.device)
        to_max.scatter_add_(2, idx.flatten(2), (alpha * grad_out).flatten(2))
        # Average branch: each window's gradient is shared by its k*k pixels; rows and columns
        # that floor mode dropped get none.
        to_avg = ((1 - alpha) * grad_out / (k * k)).repeat_interleave(k, 2).repeat_interleave(k, 3)
        to_avg = F.pad(to_avg, (0, w - to_avg.shape[3], 0, h - to_avg.shape[2]))
        grad_x = to_max.view(n, c, h, w) + to_avg
        grad_logit = ((grad_out * (mx - av)).sum() * alpha * (1 - alpha)).reshape(alpha.shape)
        return grad_x, grad_logit, None


class MixPool2d(nn.Module):
    """alpha * max-pool + (1 - alpha) * average-pool with a learnable alpha = sigmoid(logit);
    starts at alpha = sigmoid(2) = 0.88, close to max pooling."""

    def __init__(self, kernel_size=2, init_logit=2.0):
        super().__init__()
        self.kernel_size = kernel_size
        self.mix_logit = nn.Parameter(torch.tensor(float(init_logit)))

    @property
    def alpha(self):
        return torch.sigmoid(self.mix_logit).item()

    def forward(self, x):
        return MixPoolFunction.apply(x, self.mix_logit, self.kernel_size)
