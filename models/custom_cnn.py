"""Task 3.1: a SimpleCNN-shaped MNIST net whose layers can be swapped one at a time between the
standard ones and the custom ones of models/custom_layers.py, so each custom layer is compared
with its standard analogue inside the same network."""
from torch import nn

from models.custom_layers import MixPool2d, SEAttention, SwishBeta, WSConv2d


class SwappableCNN(nn.Module):
    """Three conv stages (32, 64, 128 channels) -> fc 128 -> 10, like SimpleCNN, where
    conv:      "standard" (nn.Conv2d) or "custom" (WSConv2d),
    attention: False (none) or True (SEAttention after every conv stage),
    act:       "relu" (nn.ReLU) or "swish" (SwishBeta),
    pool:      "max" (nn.MaxPool2d(2)) or "mix" (MixPool2d(2)).
    """

    def __init__(self, conv="standard", attention=False, act="relu", pool="max",
                 in_channels=1, widths=(32, 64, 128), image_size=28, hidden=128,
                 num_classes=10):
        super().__init__()
        conv_cls = {"standard": nn.Conv2d, "custom": WSConv2d}[conv]

        def activation():
            return {"relu": nn.ReLU, "swish": SwishBeta}[act]()

        def pooling():
            return {"max": lambda: nn.MaxPool2d(2), "mix": lambda: MixPool2d(2)}[pool]()

        layers, c, size = [], in_channels, image_size
        for w in widths:
            layers += [conv_cls(c, w, 3, padding=1), activation()]
            if attention:
                layers.append(SEAttention(w))
            layers.append(pooling())
            c, size = w, size // 2
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(c * size * size, hidden),
                                        activation(), nn.Linear(hidden, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


class StandardCNN(SwappableCNN):
    """Every layer standard: the baseline each swap is measured against."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)


class CNNWithCustomLayers(SwappableCNN):
    """Every layer custom: WSConv2d, SEAttention, SwishBeta, MixPool2d."""

    def __init__(self, **kwargs):
        super().__init__(conv="custom", attention=True, act="swish", pool="mix", **kwargs)
