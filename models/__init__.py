"""Every model of the study, by the name the assignment gives it.

Run specs name a model and its keyword arguments; `build_model` turns that into a module, so a
spec stays plain data that can be written into the result JSON.
"""
from models.cnn_models import ResNetCIFAR, ResNetCIFARRegularized, ResNetLike, SimpleCNN
from models.fc_models import DeepFCNet, FCNet

MODELS = {cls.__name__: cls for cls in (
    FCNet, SimpleCNN, ResNetLike, DeepFCNet, ResNetCIFAR, ResNetCIFARRegularized)}


def build_model(name, **kwargs):
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(sorted(MODELS))}")
    return MODELS[name](**kwargs)
