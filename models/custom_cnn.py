"""Task 3.1's two named nets: SimpleCNN (models/cnn_models.py) with every layer standard and
with every layer custom. The single-swap nets are SimpleCNN with one option set; their runs
name the model "SwappableCNN" (models/__init__.py maps that name to SimpleCNN)."""
from models.cnn_models import SimpleCNN


class StandardCNN(SimpleCNN):
    """Every layer standard: the baseline each swap is measured against."""


class CNNWithCustomLayers(SimpleCNN):
    """Every layer custom: WSConv2d, SEAttention, SwishBeta, MixPool2d."""

    def __init__(self, **kwargs):
        super().__init__(conv="custom", attention=True, act="swish", pool="mix", **kwargs)
