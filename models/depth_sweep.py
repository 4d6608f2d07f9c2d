"""The depth sweep of Task 2.2: the CIFAR ResNet family of He et al. (2016, section 4.2) at any
depth, with or without its skip connections and with or without BatchNorm, so that depth,
residual connections and normalisation can be varied one at a time."""
import torch
from torch import nn

from models.residual_blocks import BasicBlock, norm


class SweepResNet(nn.Module):
    """conv3x3 stem, three stages of n BasicBlocks (widths 16, 32, 64; strides 1, 2, 2), global
    average pooling and fc: depth = 6n + 2 weight layers (the 1x1 projection shortcuts where a
    stage changes shape are not counted, as in the paper). `residual=False` removes every skip
    connection (a "plain" net of the same layers), `batchnorm=False` every BatchNorm. Weights
    use He initialisation (fan-out, ReLU), as torchvision's resnet.py does."""

    def __init__(self, depth=20, residual=True, batchnorm=True, widths=(16, 32, 64),
                 num_classes=10):
        super().__init__()
        if depth < 8 or (depth - 2) % 6:
            raise ValueError(f"SweepResNet depth must be 6n + 2 with n >= 1 (8, 14, 20, ..., "
                             f"56, ...), not {depth}")
        blocks = (depth - 2) // 6
        self.stem = nn.Sequential(nn.Conv2d(3, widths[0], 3, padding=1, bias=not batchnorm),
                                  norm(widths[0], batchnorm), nn.ReLU(inplace=True))
        layers, c = [], widths[0]
        for i, w in enumerate(widths):
            for j in range(blocks):
                layers.append(BasicBlock(c, w, stride=2 if i > 0 and j == 0 else 1,
                                         skip=residual, batchnorm=batchnorm))
                c = w
        self.stages = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.stages(self.stem(x))), 1))
