"""Every model of the study, by the name the assignment gives it.

Run specs name a model and its keyword arguments; `build_model` turns that into a module, so a
spec stays plain data that can be written into the result JSON.
"""
from models.cnn_models import (CNN_3x3, CNN_5x5, CNN_7x7, CNN_Combo, DeepCNN,
                               LocallyConnectedCNN, MediumCNN,
                               ResidualCNN, ResNetCIFAR, ResNetCIFARRegularized, ResNetLike,
                               ShallowCNN, SimpleCNN)
from models.depth_sweep import SweepResNet
from models.custom_cnn import CNNWithCustomLayers, StandardCNN
from models.fc_models import DeepFCNet, FCNet
from models.residual_nets import BasicResNet, BottleneckResNet, WideResNet

MODELS = {cls.__name__: cls for cls in (
    FCNet, SimpleCNN, ResNetLike, LocallyConnectedCNN, DeepFCNet, ResNetCIFAR,
    ResNetCIFARRegularized,
    CNN_3x3, CNN_5x5, CNN_7x7, CNN_Combo, ShallowCNN, MediumCNN, DeepCNN, ResidualCNN,
    StandardCNN, CNNWithCustomLayers, BasicResNet, BottleneckResNet, WideResNet, SweepResNet)}
# 3.1's single-swap runs name their net "SwappableCNN" (its name when it was a class of its own):
# SimpleCNN with one layer option set.
MODELS["SwappableCNN"] = SimpleCNN


def build_model(name, **kwargs):
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(sorted(MODELS))}")
    return MODELS[name](**kwargs)
