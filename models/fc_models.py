"""Fully connected baselines: FCNet (MNIST) and DeepFCNet (CIFAR-10)."""
from torch import nn


class FCNet(nn.Module):
    """The assignment's 4-layer MLP: 784 -> 512 -> 256 -> 128 -> 10 (567,434 parameters)."""

    def __init__(self, in_features=28 * 28, hidden=(512, 256, 128), num_classes=10):
        super().__init__()
        layers, width = [nn.Flatten()], in_features
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU(inplace=True)]
            width = h
        layers.append(nn.Linear(width, num_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


class DeepFCNet(nn.Module):
    """A deeper MLP for CIFAR-10: Linear-BN-ReLU-Dropout blocks.

    BatchNorm lets Adam at lr 1e-3 train five layers without a warm-up; dropout (0.3 by default,
    the assignment asks for 0.3-0.5) is the regulariser the assignment names for this net.
    """

    def __init__(self, in_features=3 * 32 * 32, hidden=(1024, 512, 256), num_classes=10,
                 dropout=0.3):
        super().__init__()
        layers, width = [nn.Flatten()], in_features
        for h in hidden:
            layers += [nn.Linear(width, h, bias=False), nn.BatchNorm1d(h), nn.ReLU(inplace=True),
                       nn.Dropout(dropout)]
            width = h
        layers.append(nn.Linear(width, num_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)
