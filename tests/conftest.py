"""Shared fixtures: synthetic learnable data, a fake MNIST in torchvision's on-disk layout, and
the real dataset root (tests that need it skip cleanly without it)."""
import os
import struct
import sys

import pytest
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from utils.train.data import FOLDERS, Split  # noqa: E402


def learnable_images(n, channels, size, seed=0):
    """uint8 images whose class (0..9) is which of ten horizontal bands is bright, plus noise:
    easy enough that any of the study's models learns it in one epoch."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 10
    labels = labels[torch.randperm(n, generator=g)]
    images = torch.randint(0, 60, (n, channels, size, size), generator=g, dtype=torch.uint8)
    band = size // 10
    for k in range(10):
        rows = slice(k * band, (k + 1) * band)
        images[labels == k, :, rows, :] = 220
    return Split(images, labels)


@pytest.fixture
def synthetic_mnist():
    return learnable_images(600, 1, 28, seed=0), learnable_images(200, 1, 28, seed=1)


@pytest.fixture
def synthetic_cifar():
    return learnable_images(300, 3, 32, seed=0), learnable_images(100, 3, 32, seed=1)


def _write_idx(path, tensor, magic):
    with open(path, "wb") as f:
        f.write(struct.pack(">I", magic))
        for d in tensor.shape:
            f.write(struct.pack(">I", d))
        f.write(tensor.numpy().tobytes())


def write_fake_mnist(root, image_magic=0x803, label_offset=0):
    """A small MNIST in the exact files torchvision.datasets.MNIST reads (uncompressed IDX)
    under `root`/MNIST/raw; `image_magic` and `label_offset` spoil it on purpose."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, split in (("train", learnable_images(600, 1, 28, 0)),
                          ("t10k", learnable_images(300, 1, 28, 1))):
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", split.images[:, 0].contiguous(),
                   image_magic)
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte",
                   (split.labels + label_offset).to(torch.uint8), 0x801)
    return str(root)


@pytest.fixture(scope="session")
def fake_mnist_root(tmp_path_factory):
    return write_fake_mnist(tmp_path_factory.mktemp("fake_mnist") / "data")


def real_data_root():
    root = os.environ.get("DATA_ROOT")
    return root if root and os.path.isdir(root) else None


def has_real(dataset):
    root = real_data_root()
    folder = FOLDERS[dataset]
    return bool(root) and os.path.isdir(os.path.join(root, folder))


needs_mnist = pytest.mark.skipif(not has_real("mnist"),
                                 reason="DATA_ROOT holds no MNIST (set DATA_ROOT=../shared/data)")
needs_cifar = pytest.mark.skipif(not has_real("cifar10"),
                                 reason="DATA_ROOT holds no CIFAR-10")


def result_record(name, seed=0, acc=0.5, section="sec", final=None, **fields):
    """A run's result as the runner writes it, every field of the result schema present
    (utils/results.py), with `final` and other fields overridden: for tests that write result
    files by hand."""
    return {"name": name, "seed": seed, "run_id": f"{name}__seed{seed}", "section": section,
            "spec": {"name": name, "seed": seed}, "params": 1000, "macs": 10_000,
            "train_size": 60_000, "test_size": 10_000, "history": [{"epoch": 1, "test_acc": acc}],
            "environment": {}, "profile": "full", "evaluated_on": "test",
            "final": {"test_acc": acc, "train_acc_eval": acc, "train_time_s": 1.0,
                      "wall_time_s": 1.0,
                      "time_per_epoch_s": 1.0, "test_loss": 1.0, "train_loss": 1.0,
                      "train_acc": acc, **(final or {})},
            **fields}
