"""Convolutional nets: SimpleCNN (1.1, and 3.1's net whose layers can be swapped), ResNetLike
(MNIST), ResNetCIFAR(+Regularized) (CIFAR-10), and Task 2's kernel and depth variants."""
import torch
from torch import nn

from models.custom_layers import MixPool2d, SEAttention, SwishBeta, WSConv2d
from models.locally_connected import LocallyConnected2d
from models.residual_blocks import BasicBlock
from models.residual_nets import ResNetVariant


def _conv3x3(kind, in_channels, out_channels, size):
    """SimpleCNN's 3x3 'same' convolution of one kind on size x size inputs."""
    if kind == "local":  # section 1.3: the same layout with a filter per position
        return LocallyConnected2d(in_channels, out_channels, 3, size, padding=1)
    return {"standard": nn.Conv2d, "custom": WSConv2d}[kind](in_channels, out_channels, 3,
                                                               padding=1)


class SimpleCNN(nn.Module):
    """Three conv3x3 + activation + pool stages (32, 64, 128 channels), then fc 1152 -> 128 -> 10.

    On 28x28 MNIST the pools give 14, 7 and 3 pixels: 241,546 parameters, the reference's count.
    Task 3.1 swaps its layers one at a time for the custom ones of models/custom_layers.py:
    conv:      "standard" (nn.Conv2d) or "custom" (WSConv2d) (or "local": LocallyConnectedCNN),
    attention: False (none) or True (SEAttention after every conv stage's activation),
    act:       "relu" (nn.ReLU) or "swish" (SwishBeta),
    pool:      "max" (nn.MaxPool2d(2)) or "mix" (MixPool2d(2)).
    """

    def __init__(self, conv="standard", attention=False, act="relu", pool="max",
                 in_channels=1, num_classes=10, widths=(32, 64, 128), image_size=28,
                 hidden=128):
        super().__init__()
        activation = {"relu": nn.ReLU, "swish": SwishBeta}[act]
        pooling = {"max": nn.MaxPool2d, "mix": MixPool2d}[pool]
        layers, c, size = [], in_channels, image_size
        for w in widths:
            layers += [_conv3x3(conv, c, w, size), activation()]
            if attention:
                layers.append(SEAttention(w))
            layers.append(pooling(2))
            c, size = w, size // 2
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(c * size * size, hidden), activation(),
            nn.Linear(hidden, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


class LocallyConnectedCNN(SimpleCNN):
    """SimpleCNN's layout with untied weights: every 3x3 conv a LocallyConnected2d (a filter per
    output position), the pools and classifier as they are. Section 1.3's step between FCNet and
    SimpleCNN."""

    def __init__(self, **kwargs):
        super().__init__(conv="local", **kwargs)


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


class ResNetCIFAR(ResNetVariant):
    """A small CIFAR ResNet: conv3x3 stem, three stages of BasicBlocks (32, 64, 128 channels,
    strides 1, 2, 2), global average pooling, optional dropout, fc.

    One block per stage is ~0.3 M parameters and ~49 M MACs/image; `blocks_per_stage` deepens
    every stage (Task 1.2 picks it on a validation split: see its script).
    """

    def __init__(self, num_classes=10, widths=(32, 64, 128), blocks_per_stage=1, dropout=0.0):
        super().__init__(BasicBlock, widths, blocks_per_stage, dropout=dropout,
                         num_classes=num_classes)


class ResNetCIFARRegularized(ResNetCIFAR):
    """ResNetCIFAR plus dropout before the classifier (weight decay comes from the run spec)."""

    def __init__(self, num_classes=10, dropout=0.3, **kwargs):
        super().__init__(num_classes=num_classes, dropout=dropout, **kwargs)


# --- Task 2.1: kernel size at an equal parameter budget ----------------------------------------

class MixedConv(nn.Module):
    """Inception-style mix: a 1x1 branch and a 3x3 branch side by side, outputs concatenated.

    A quarter of the output channels come from the 1x1 branch (cheap channel mixing), the rest
    from the 3x3 branch; the layer has the depth of one conv, so the net's layout is unchanged.
    """

    def __init__(self, in_channels, out_channels, one_by_one_share=0.25):
        super().__init__()
        c1 = max(1, round(out_channels * one_by_one_share))
        self.branch1 = nn.Conv2d(in_channels, c1, 1, bias=False)
        self.branch3 = nn.Conv2d(in_channels, out_channels - c1, 3, padding=1, bias=False)
        self.kernel_size = (3, 3)  # the larger branch bounds the receptive field

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch3(x)], 1)


class KernelCNN(nn.Module):
    """Three conv-BN-ReLU stages with 2x2 max pooling after the first two, global average
    pooling and a linear classifier. Only the conv kernels differ between the variants:
    `kernel` is 3, 5, 7 or "combo" (MixedConv 1x1 + 3x3); `widths` are set by the
    equal-parameter search in utils/train/param_search.py."""

    def __init__(self, kernel=3, widths=(16, 32, 64), num_classes=10, in_channels=3):
        super().__init__()
        layers, c = [], in_channels
        for i, w in enumerate(widths):
            conv = (MixedConv(c, w) if kernel == "combo"
                    else nn.Conv2d(c, w, kernel, padding=kernel // 2, bias=False))
            layers += [conv, nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
            if i < len(widths) - 1:
                layers.append(nn.MaxPool2d(2))
            c = w
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, num_classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.features(x)), 1))

    # For utils/train/analysis.py: the conv trunk, and its stages (conv-BN-ReLU[-pool]) in order.
    def trunk(self):
        return self.features

    def feature_layers(self):
        # A pool opens the next stage, so the first stage's output is the first layer's activation.
        stages, current = [], []
        for m in self.features:
            current.append(m)
            if isinstance(m, nn.ReLU):
                stages.append((f"conv{len(stages) + 1}", nn.Sequential(*current)))
                current = []
        return stages

    def first_conv_weight(self):
        first = self.features[0]
        if isinstance(first, MixedConv):  # show the 1x1 kernels zero-padded to 3x3
            w1 = nn.functional.pad(first.branch1.weight, (1, 1, 1, 1))
            return torch.cat([w1, first.branch3.weight])
        return first.weight


# --- Task 2.2: depth, with and without residual connections -------------------------------------

class DepthCNN(nn.Module):
    """Plain or residual CNN of a given number of 3x3 conv layers over three resolutions.

    A stem conv, then `depth - 1` conv layers split as evenly as possible over three stages
    (32, 16, 8 pixels; widths doubling from `width`). With `residual=True` consecutive pairs of
    convs after the stem
    become BasicBlocks; with `residual=False` the identical layers run without the skips
    (BasicBlock(skip=False)), so the two differ in the skip connections alone. Every conv is
    followed by BatchNorm; weights use PyTorch's default (Kaiming-uniform) initialisation.
    """

    def __init__(self, depth=8, width=32, residual=False, num_classes=10):
        super().__init__()
        if depth < 2:
            raise ValueError("depth must be at least 2")
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(width), nn.ReLU(inplace=True))
        remaining, stages, c = depth - 1, [], width
        # Leftover convs go to the middle stage first, then the last: a shallow net then still
        # reaches 64 channels instead of stacking its few convs at full resolution.
        rank = {1: 0, 2: 1, 0: 2}
        per_stage = [remaining // 3 + (1 if rank[i] < remaining % 3 else 0) for i in range(3)]
        for i, n_convs in enumerate(per_stage):
            w = width * 2 ** i
            layers = []
            stride = 1 if i == 0 else 2
            while n_convs >= 2:
                layers.append(BasicBlock(c, w, stride=stride, skip=residual))
                c, stride, n_convs = w, 1, n_convs - 2
            if n_convs == 1:  # an odd conv out: a single conv layer, no skip possible
                layers.append(nn.Sequential(
                    nn.Conv2d(c, w, 3, stride=stride, padding=1, bias=False),
                    nn.BatchNorm2d(w), nn.ReLU(inplace=True)))
                c, stride = w, 1
            if stride == 2:  # a stage with no conv still halves the resolution
                layers.append(nn.MaxPool2d(2))
            stages.append(nn.Sequential(*layers))
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, num_classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.stages(self.stem(x))), 1))

    # For utils/train/analysis.py.
    def trunk(self):
        return nn.Sequential(self.stem, self.stages)

    def feature_layers(self):
        layers = [("stem", self.stem)]
        for i, stage in enumerate(self.stages):
            for j, layer in enumerate(stage):
                layers.append((f"stage{i + 1}.{j}", layer))
        return layers

    def first_conv_weight(self):
        return self.stem[0].weight


# --- The assignment's names for the Task 2 variants ---------------------------------------------

def _kernel_variant(name, kernel):
    def __init__(self, widths=(16, 32, 64), num_classes=10):
        KernelCNN.__init__(self, kernel=kernel, widths=widths, num_classes=num_classes)
    return type(name, (KernelCNN,), {"__init__": __init__,
                                     "__doc__": f"KernelCNN with kernel {kernel}."})


CNN_3x3 = _kernel_variant("CNN_3x3", 3)
CNN_5x5 = _kernel_variant("CNN_5x5", 5)
CNN_7x7 = _kernel_variant("CNN_7x7", 7)
CNN_Combo = _kernel_variant("CNN_Combo", "combo")


class ShallowCNN(DepthCNN):
    """2 conv layers."""

    def __init__(self, width=32, num_classes=10):
        super().__init__(depth=2, width=width, residual=False, num_classes=num_classes)


class MediumCNN(DepthCNN):
    """4 conv layers."""

    def __init__(self, width=32, num_classes=10):
        super().__init__(depth=4, width=width, residual=False, num_classes=num_classes)


class DeepCNN(DepthCNN):
    """10 conv layers, no skips: ResidualCNN with its skip connections removed."""

    def __init__(self, width=32, depth=10, num_classes=10):
        super().__init__(depth=depth, width=width, residual=False, num_classes=num_classes)


class ResidualCNN(DepthCNN):
    """10 conv layers with skip connections around each pair after the stem."""

    def __init__(self, width=32, depth=10, num_classes=10):
        super().__init__(depth=depth, width=width, residual=True, num_classes=num_classes)
