"""Task 1: CNN versus fully connected networks on MNIST (1.1) and CIFAR-10 (1.2).

Declares the runs as data; utils/ trains them, writes one JSON per run under
results/{mnist_comparison,cifar_comparison}/, draws plots/ and regenerates results/REPORT.md.

    python homework_cnn_vs_fc_comparison.py --profile quick      # ~4 min on a 2-core CPU
    python homework_cnn_vs_fc_comparison.py --section 1.1        # the assignment's settings
"""
import sys
from dataclasses import replace

from utils.cli import main
from utils.report_task1 import CIFAR, MNIST, draw
from utils.reporting import write_report
from utils.runner import RunSpec

# What each profile changes. full: the assignment's settings. quick: a data subset and fewer
# epochs, keeping every model and every comparison. smoke: seconds, for tests.
PROFILES = {
    "full": dict(epochs=10),
    "quick": dict(epochs=3, mnist_train=12_000, cifar_train=8_000, cifar_test=2_000),
    "smoke": dict(epochs=1, mnist_train=512, cifar_train=256, mnist_test=256, cifar_test=256,
                  inference_batch=64),
}


def _scaled(spec, profile, dataset):
    p = PROFILES[profile]
    return replace(spec, profile=profile, epochs=p["epochs"],
                   train_subset=p.get(f"{dataset}_train"), test_subset=p.get(f"{dataset}_test"),
                   inference_batch=p.get("inference_batch", spec.inference_batch))


def _seeded(specs, seeds):
    return [replace(s, seed=k) for s in specs for k in range(seeds or 1)]


def mnist_specs(profile, seeds=None):
    """1.1: same hyperparameters for all: batch 128, 10 epochs, Adam lr 1e-3, no augmentation."""
    common = dict(section=MNIST, dataset="mnist", batch_size=128, optimizer="adam", lr=1e-3)
    specs = [RunSpec(name="FCNet", model="FCNet", **common),
             RunSpec(name="SimpleCNN", model="SimpleCNN", channels_last=True, **common),
             RunSpec(name="ResNetLike", model="ResNetLike", channels_last=True, **common)]
    return _seeded([_scaled(s, profile, "mnist") for s in specs], seeds)


def cifar_specs(profile, seeds=None):
    """1.2: batch 128, 10 epochs, random shifts + flips for all. DeepFCNet: Adam lr 1e-3 and
    dropout 0.3; the ResNets: SGD (momentum 0.9, peak lr 0.1 annealed over the epochs) with weight
    decay 1e-4; the regularised one adds dropout 0.3."""
    common = dict(section=CIFAR, dataset="cifar10", batch_size=128, augment=True,
                  schedule="onecycle")
    resnet = dict(optimizer="sgd", lr=0.1, momentum=0.9, weight_decay=1e-4, channels_last=True)
    specs = [RunSpec(name="DeepFCNet", model="DeepFCNet", model_kwargs={"dropout": 0.3},
                     optimizer="adam", lr=1e-3, **common),
             RunSpec(name="ResNetCIFAR", model="ResNetCIFAR", **resnet, **common),
             RunSpec(name="ResNetCIFARRegularized", model="ResNetCIFARRegularized",
                     model_kwargs={"dropout": 0.3}, **resnet, **common)]
    return _seeded([_scaled(s, profile, "cifar") for s in specs], seeds)


SECTIONS = {"1.1": mnist_specs, "1.2": cifar_specs}


def redraw(results_dir, plots_dir):
    draw(results_dir, plots_dir)
    write_report(results_dir, plots_dir)


if __name__ == "__main__":
    sys.exit(main(__doc__.split("\n\n")[0], SECTIONS, redraw))
