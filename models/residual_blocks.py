"""Residual blocks in torchvision's vocabulary.

`BasicBlock` (two 3x3 convs) and `Bottleneck` (1x1-3x3-1x1, `expansion = 4`) follow
torchvision's resnet.py; `WideBlock` follows Wide ResNets (pre-activation, dropout between the
convs). Every block takes a projection shortcut only when its output shape differs from its input.
"""
from torch import nn


def norm(channels, batchnorm=True):
    """BatchNorm, or nothing (the depth sweep's nets without normalisation)."""
    return nn.BatchNorm2d(channels) if batchnorm else nn.Identity()


def projection(in_channels, out_channels, stride, bias=False, batchnorm=True):
    """1x1 conv + BN shortcut, or None when the identity already has the right shape."""
    if stride == 1 and in_channels == out_channels:
        return None
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=bias),
        norm(out_channels, batchnorm),
    )


class BasicBlock(nn.Module):
    """conv3x3-BN-ReLU-conv3x3-BN, plus the shortcut, then ReLU.

    `skip=False` builds the same block without its shortcut, so a plain deep net and a residual
    one can differ in the skip connection alone; `batchnorm=False` drops every BN (the convs
    then get biases).
    """

    expansion = 1

    def __init__(self, in_channels, channels, stride=1, bias=False, skip=True, batchnorm=True):
        super().__init__()
        out_channels = channels * self.expansion
        bias = bias or not batchnorm
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride=stride, padding=1, bias=bias)
        self.bn1 = norm(channels, batchnorm)
        self.conv2 = nn.Conv2d(channels, out_channels, 3, padding=1, bias=bias)
        self.bn2 = norm(out_channels, batchnorm)
        self.relu = nn.ReLU(inplace=True)
        self.skip = skip
        self.shortcut = (projection(in_channels, out_channels, stride, bias, batchnorm)
                         if skip else None)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.skip:
            out = out + (x if self.shortcut is None else self.shortcut(x))
        return self.relu(out)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (carries the stride), 1x1 expand by `expansion`; torchvision's layout."""

    expansion = 4

    def __init__(self, in_channels, channels, stride=1, bias=False, skip=True):
        super().__init__()
        out_channels = channels * self.expansion
        self.conv1 = nn.Conv2d(in_channels, channels, 1, bias=bias)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, stride=stride, padding=1, bias=bias)
        self.bn2 = nn.BatchNorm2d(channels)
        self.conv3 = nn.Conv2d(channels, out_channels, 1, bias=bias)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.skip = skip
        self.shortcut = projection(in_channels, out_channels, stride, bias) if skip else None

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.skip:
            out = out + (x if self.shortcut is None else self.shortcut(x))
        return self.relu(out)


class WideBlock(nn.Module):
    """Wide ResNet block: BN-ReLU-conv3x3, dropout, BN-ReLU-conv3x3 (pre-activation).

    Width comes from the caller (channels = base width x widening factor k).
    """

    expansion = 1

    def __init__(self, in_channels, channels, stride=1, dropout=0.0, skip=True):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.relu = nn.ReLU(inplace=False)
        self.skip = skip
        # WRN's shortcut is a bare 1x1 conv on the pre-activated input.
        needs_projection = stride != 1 or in_channels != channels
        self.shortcut = (nn.Conv2d(in_channels, channels, 1, stride=stride, bias=False)
                         if skip and needs_projection else None)

    def forward(self, x):
        pre = self.relu(self.bn1(x))
        out = self.conv1(pre)
        out = self.conv2(self.dropout(self.relu(self.bn2(out))))
        if not self.skip:
            return out
        return out + (x if self.shortcut is None else self.shortcut(pre))
