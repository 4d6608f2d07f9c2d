"""Pure-autograd twins of the custom layers: the same maths written with differentiable torch
ops only, so autograd derives their backward. The tests use them as the reference the
hand-written backward passes must match; the 3.1 layer study times them against the custom
layers (what writing the backward by hand buys in time and in memory kept for backward)."""
import torch
from torch.nn import functional as F

from models.custom_layers import scaled_kernel, standardise


def ws_conv2d(x, weight, gain, bias, stride, padding):
    return F.conv2d(x, scaled_kernel(standardise(weight)[0], gain), bias, stride, padding)


def se_attention(x, w1, b1, w2, b2):
    gate = torch.sigmoid(F.linear(F.relu(F.linear(x.mean((2, 3)), w1, b1)), w2, b2))
    return x * gate[:, :, None, None]


def swish_beta(x, beta):
    return x * torch.sigmoid(beta * x)


def mix_pool(x, mix_logit, k):
    alpha = torch.sigmoid(mix_logit)
    return alpha * F.max_pool2d(x, k) + (1 - alpha) * F.avg_pool2d(x, k)
