"""Task 1: CNN versus fully connected networks on MNIST (1.1) and CIFAR-10 (1.2).

Declares the runs as data; utils/ trains them, writes one JSON per run under
results/{mnist_comparison,cifar_comparison}/, draws plots/ and regenerates results/REPORT.md.

    python homework_cnn_vs_fc_comparison.py --profile quick      # ~4 min on a 2-core CPU
    python homework_cnn_vs_fc_comparison.py --section 1.1        # the assignment's settings
"""
import sys

from utils.cli import main
from utils.profiles import CIFAR_CONV, for_profile
from utils.report_task1 import CIFAR, MNIST, draw
from utils.runner import RunSpec


def mnist_specs(args):
    """1.1: same hyperparameters for all: batch 128, 10 epochs, Adam lr 1e-3, no augmentation."""
    common = dict(section=MNIST, dataset="mnist", batch_size=128, optimizer="adam", lr=1e-3)
    specs = [RunSpec(name="FCNet", model="FCNet", **common),
             RunSpec(name="SimpleCNN", model="SimpleCNN", channels_last=True, **common),
             RunSpec(name="ResNetLike", model="ResNetLike", channels_last=True, **common)]
    return for_profile(specs, args)


def cifar_specs(args):
    """1.2: batch 128, 10 epochs, random shifts + flips for all. DeepFCNet: Adam lr 1e-3 and
    dropout 0.3; the ResNets: SGD (momentum 0.9, peak lr 0.1 annealed over the epochs) with weight
    decay 1e-4; the regularised one adds dropout 0.3."""
    fc = {**CIFAR_CONV, "optimizer": "adam", "lr": 1e-3, "weight_decay": 0.0,
          "channels_last": False}
    specs = [RunSpec(name="DeepFCNet", section=CIFAR, model="DeepFCNet",
                     model_kwargs={"dropout": 0.3}, **fc),
             RunSpec(name="ResNetCIFAR", section=CIFAR, model="ResNetCIFAR", **CIFAR_CONV),
             RunSpec(name="ResNetCIFARRegularized", section=CIFAR,
                     model="ResNetCIFARRegularized", model_kwargs={"dropout": 0.3},
                     **CIFAR_CONV)]
    return for_profile(specs, args)


SECTIONS = {"1.1": mnist_specs, "1.2": cifar_specs}


if __name__ == "__main__":
    sys.exit(main(__doc__.split("\n\n")[0], SECTIONS, draw))
