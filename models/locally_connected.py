"""Locality without weight sharing: a convolution whose every output position has its own filter.

Section 1.3 places it between the fully connected net (no locality, no sharing) and the CNN
(both): FC -> locally connected is what locality buys, locally connected -> CNN what sharing the
filter across positions buys. Written with unfold + einsum, so autograd derives the backward; the
tests check it against the same map written as one dense matrix.
"""
import math

import torch
from torch import nn
from torch.nn import functional as F


class LocallyConnected2d(nn.Module):
    """Like nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding) on `size` x `size`
    inputs, stride 1, but with untied weights: out_channels x in_channels x k x k parameters at
    every one of the size x size output positions, and a bias per channel and position."""

    def __init__(self, in_channels, out_channels, kernel_size, size, padding=0):
        super().__init__()
        self.kernel_size, self.padding = kernel_size, padding
        self.out_size = size + 2 * padding - kernel_size + 1
        positions = self.out_size ** 2
        fan_in = in_channels * kernel_size ** 2
        bound = 1 / math.sqrt(fan_in)  # nn.Conv2d's default initialisation, per position
        self.weight = nn.Parameter(
            torch.empty(positions, out_channels, fan_in).uniform_(-bound, bound))
        self.bias = nn.Parameter(
            torch.empty(out_channels, self.out_size, self.out_size).uniform_(-bound, bound))

    def forward(self, x):
        cols = F.unfold(x, self.kernel_size, padding=self.padding)  # N x fan_in x positions
        out = torch.einsum("ndp,pod->nop", cols, self.weight)
        return out.reshape(len(x), -1, self.out_size, self.out_size) + self.bias

    def dense_matrix(self, in_channels, size):
        """The same linear map as one (out_channels * positions) x (in_channels * size * size)
        matrix, built by pushing the identity through it: the tests' reference."""
        eye = torch.eye(in_channels * size * size, dtype=self.weight.dtype)
        basis = eye.reshape(-1, in_channels, size, size)
        return (self(basis) - self.bias).reshape(len(basis), -1).T
