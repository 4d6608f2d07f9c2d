"""Convolutional nets for Task 1: SimpleCNN and ResNetLike (MNIST), ResNetCIFAR(+Regularized)."""
import torch
from torch import nn

from models.residual_blocks import BasicBlock


class SimpleCNN(nn.Module):
    """Three conv3x3+ReLU+maxpool stages (32, 64, 128 channels), then fc 1152 -> 128 -> 10.

    On 28x28 MNIST the pools give 14, 7 and 3 pixels: 241,546 parameters, the reference's count.
    """

    def __init__(self, in_channels=1, num_classes=10, widths=(32, 64, 128), image_size=28,
                 hidden=128):
        super().__init__()
        layers, c, size = [], in_channels, image_size
        for w in widths:
            layers += [nn.Conv2d(c, w, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            c, size = w, size // 2
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(c * size * size, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


class ResNetLike(nn.Module):
    """One conv layer + two residual blocks + adaptive average pooling + fc 128 -> 10.

    The stem is a plain conv3x3(1->32)+ReLU; both blocks are BasicBlocks with biases and stride 2
    (28 -> 14 -> 7), which cuts compute ~10x against stride 1 at the same 290,058 parameters.
    """

    def __init__(self, in_channels=1, num_classes=10, widths=(32, 64, 128), stride=2):
        super().__init__()
        c0, c1, c2 = widths
        self.stem = nn.Sequential(nn.Conv2d(in_channels, c0, 3, padding=1), nn.ReLU(inplace=True))
        self.block1 = BasicBlock(c0, c1, stride=stride, bias=True)
        self.block2 = BasicBlock(c1, c2, stride=stride, bias=True)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c2, num_classes)

    def forward(self, x):
        x = self.block2(self.block1(self.stem(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


class ResNetCIFAR(nn.Module):
    """A small CIFAR ResNet: conv3x3 stem, three stages of BasicBlocks (32, 64, 128 channels,
    strides 1, 2, 2), global average pooling, optional dropout, fc.

    One block per stage (~0.3 M parameters, ~49 M MACs/image) keeps a 10-epoch run on a
    2-core CPU well under an hour; `blocks_per_stage` scales it up on a GPU.
    """

    def __init__(self, num_classes=10, widths=(32, 64, 128), blocks_per_stage=1, dropout=0.0,
                 block=BasicBlock):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, widths[0], 3, padding=1, bias=False),
                                  nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True))
        stages, c = [], widths[0]
        for i, w in enumerate(widths):
            for j in range(blocks_per_stage):
                stride = 2 if i > 0 and j == 0 else 1
                stages.append(block(c, w, stride=stride))
                c = w * block.expansion
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc = nn.Linear(c, num_classes)

    def forward(self, x):
        x = self.pool(self.stages(self.stem(x)))
        return self.fc(self.dropout(torch.flatten(x, 1)))


class ResNetCIFARRegularized(ResNetCIFAR):
    """ResNetCIFAR plus dropout before the classifier (weight decay comes from the run spec)."""

    def __init__(self, num_classes=10, dropout=0.3, **kwargs):
        super().__init__(num_classes=num_classes, dropout=dropout, **kwargs)
