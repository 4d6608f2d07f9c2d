"""The CIFAR ResNet builder, and Task 3.2's three residual nets of the same depth (blocks per
stage) that differ in their block: BasicBlock, Bottleneck (1x1-3x3-1x1, expansion 4) or
WideBlock (WRN, widening factor k)."""
import torch
from torch import nn

from models.residual_blocks import BasicBlock, Bottleneck, WideBlock, norm


class ResNetVariant(nn.Module):
    """conv3x3 stem -> three stages of `blocks_per_stage` blocks (strides 1, 2, 2) -> global
    average pooling -> optional dropout -> fc: the one CIFAR ResNet builder, used by 1.2's
    ResNetCIFAR, 3.2's three variants and 2.2's depth sweep. `widths` are the blocks' inner
    widths; a stage outputs width * block.expansion channels. `batchnorm=False` drops every
    BatchNorm (stem and BasicBlocks; the convs then get biases), `he_init` re-initialises the
    convs as torchvision's resnet.py does; other keywords go to every block."""

    def __init__(self, block, widths=(16, 32, 64), blocks_per_stage=1, stem_width=None,
                 dropout=0.0, batchnorm=True, he_init=False, num_classes=10, **block_kwargs):
        super().__init__()
        stem_width = stem_width or widths[0]
        if not batchnorm:
            block_kwargs["batchnorm"] = False  # only BasicBlock takes it
        self.preactivation = block is WideBlock  # WRN blocks end without BN-ReLU
        self.stem = nn.Sequential(nn.Conv2d(3, stem_width, 3, padding=1, bias=not batchnorm),
                                  *([] if self.preactivation else
                                    [norm(stem_width, batchnorm), nn.ReLU(inplace=True)]))
        layers, c = [], stem_width
        for i, w in enumerate(widths):
            for j in range(blocks_per_stage):
                layers.append(block(c, w, stride=2 if i > 0 and j == 0 else 1, **block_kwargs))
                c = w * block.expansion
        self.stages = nn.Sequential(*layers)
        self.head = (nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=True))
                     if self.preactivation else nn.Identity())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc = nn.Linear(c, num_classes)
        if he_init:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.pool(self.head(self.stages(self.stem(x))))
        return self.fc(self.dropout(torch.flatten(x, 1)))


class BasicResNet(ResNetVariant):
    def __init__(self, widths=(16, 32, 64), blocks_per_stage=1, num_classes=10):
        super().__init__(BasicBlock, widths, blocks_per_stage, num_classes=num_classes)


class BottleneckResNet(ResNetVariant):
    """Inner widths are a quarter of the stage outputs (expansion 4)."""

    def __init__(self, widths=(16, 32, 64), blocks_per_stage=1, num_classes=10):
        super().__init__(Bottleneck, widths, blocks_per_stage, num_classes=num_classes)


class WideResNet(ResNetVariant):
    """WRN-style: the base widths times the widening factor k, dropout between the convs."""

    def __init__(self, widths=(16, 32, 64), blocks_per_stage=1, k=2, dropout=0.0,
                 num_classes=10):
        super().__init__(WideBlock, tuple(w * k for w in widths), blocks_per_stage,
                         stem_width=widths[0], num_classes=num_classes, dropout=dropout)
