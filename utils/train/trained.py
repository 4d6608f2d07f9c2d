"""Trained nets back from their runs: the final weights every run keeps beside its result
(<results>/weights/<section>/<run id>.pt, git-ignored: a clone has them only for runs it trained).

    from utils.train.trained import load_trained, test_images
    model = load_trained("1.1", "SimpleCNN", seed=1)           # eval mode, on the CPU
    loader = test_images("1.1", "SimpleCNN", seed=1)            # the run's own test images
    from utils.train.runner import evaluate
    evaluate(model, loader).acc                                 # == the result's final.test_acc
"""
import os

import torch

from models import build_model
from utils.results import read_result, run_path, weights_path
from utils.sections import BY_FOLDER, BY_KEY
from utils.spec import RunSpec


class NoWeights(FileNotFoundError):
    """The run finished but its weights are not here (trained on another machine, or before
    weights were kept): retrain it (--force) to get them."""


def _result_path(section, name, seed, results_dir):
    folder = BY_KEY[section].folder if section in BY_KEY else section
    if folder not in BY_FOLDER:
        raise KeyError(f"unknown section {section!r}; known: {', '.join(BY_KEY)}")
    return run_path(results_dir, folder, f"{name}__seed{seed}")


def load_trained(section, name, seed=0, results_dir="results", device="cpu"):
    """The trained model of a finished run (section key "1.1" or folder "mnist_comparison"),
    with its final weights, in eval mode on `device` (channels_last where it trained so)."""
    path = _result_path(section, name, seed, results_dir)
    result = read_result(path)
    spec = RunSpec(**result["spec"])
    weights = weights_path(path)
    if not os.path.exists(weights):
        raise NoWeights(f"{name} seed {seed} has no weights at {weights} (its result is "
                        f"there; it was trained elsewhere or before weights were kept): "
                        f"retrain it with --force --only {name} to keep them.")
    model = build_model(spec.model, **spec.model_kwargs)
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    model = model.to(device)
    if spec.channels_last:
        model = model.to(memory_format=torch.channels_last)
    return model.eval()


def test_images(section, name, seed=0, results_dir="results", data_dir=None, device="cpu",
                data=None):
    """A loader of the finished run's own test images (its subset and pixel order), as the run
    evaluated them. `data`: the dataset's (train, test) splits when already loaded."""
    from utils.train.data import STATS, TensorLoader, default_data_root, load_split
    from utils.train.runner import EVAL_BATCH, run_splits

    spec = RunSpec(**read_result(_result_path(section, name, seed, results_dir))["spec"])
    if data is None:
        root = data_dir or default_data_root()
        data = (load_split(spec.dataset, root, train=True),
                load_split(spec.dataset, root, train=False))
    mean, std = STATS[spec.dataset]
    return TensorLoader(run_splits(spec, data).test, EVAL_BATCH, mean=mean, std=std,
                        device=device, channels_last=spec.channels_last)
