"""The depth sweep of Task 2.2: the CIFAR ResNet family of He et al. (2016, section 4.2) at any
depth, with or without its skip connections and with or without BatchNorm, so that depth,
residual connections and normalisation can be varied one at a time."""
from models.residual_blocks import BasicBlock
from models.residual_nets import ResNetVariant


class SweepResNet(ResNetVariant):
    """conv3x3 stem, three stages of n BasicBlocks (widths 16, 32, 64; strides 1, 2, 2), global
    average pooling and fc: depth = 6n + 2 weight layers (the 1x1 projection shortcuts where a
    stage changes shape are not counted, as in the paper). `residual=False` removes every skip
    connection (a "plain" net of the same layers), `batchnorm=False` every BatchNorm. Weights
    use He initialisation (fan-out, ReLU), as torchvision's resnet.py does."""

    def __init__(self, depth=20, residual=True, batchnorm=True, widths=(16, 32, 64),
                 num_classes=10):
        if depth < 8 or (depth - 2) % 6:
            raise ValueError(f"SweepResNet depth must be 6n + 2 with n >= 1 (8, 14, 20, ..., "
                             f"56, ...), not {depth}")
        super().__init__(BasicBlock, widths, (depth - 2) // 6, batchnorm=batchnorm,
                         he_init=True, num_classes=num_classes, skip=residual)
