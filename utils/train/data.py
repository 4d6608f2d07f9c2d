"""Datasets as whole uint8 tensors, and a loader that batches, shuffles, augments and normalises
them with tensor operations: no per-sample Python in the training loop.

torchvision's per-sample DataLoader made FCNet 12x slower on a 2-core CPU than slicing batches
from a tensor (measured), so datasets are read once through `torchvision.datasets` and kept
whole, on the training device.
"""
import os
from dataclasses import dataclass

import torch

# Train-split statistics (checked against ../shared/data/README.md).
STATS = {
    "mnist": ((0.1307,), (0.3081,)),
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
}
CLASSES = {
    "mnist": [str(i) for i in range(10)],
    "cifar10": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                "truck"],
}


class DatasetUnavailable(RuntimeError):
    """The dataset is not under the root (and could not be downloaded), or its files there are
    not the dataset's."""


@dataclass
class Split:
    images: torch.Tensor  # uint8, N x C x H x W
    labels: torch.Tensor  # int64, N


def default_data_root():
    return os.environ.get("DATA_ROOT", "./data")


FOLDERS = {"mnist": "MNIST/raw", "cifar10": "cifar-10-batches-py"}
SHAPES = {"mnist": (1, 28, 28), "cifar10": (3, 32, 32)}
NUM_CLASSES = 10


def require_data(root, names):
    """One sentence (DatasetUnavailable) when a dataset of `names` is not under `root`, in
    torchvision's layout or as a packed subset: for tools that check before any step runs and
    must never download or create folders there."""
    for name in names:
        folder = os.path.join(root, FOLDERS[name])
        if not (os.path.isdir(folder) and os.listdir(folder)) and \
                not os.path.exists(packed_path(name, root)):
            where = ("that folder does not exist" if not os.path.isdir(root) else
                     f"neither {FOLDERS[name]}/ nor {os.path.basename(packed_path(name, root))} "
                     f"is there")
            raise DatasetUnavailable(f"{name.upper()} is not under {os.path.abspath(root)} "
                                     f"({where}); point --data-dir or DATA_ROOT at a folder "
                                     f"holding it (for example ../shared/data).")


def _torchvision_split(name, root, train):
    import torchvision  # imported here: tests on synthetic data never pay for it

    folder = FOLDERS[name]
    hint = (f"point --data-dir or DATA_ROOT at a folder holding {folder}/ "
            f"(for example ../shared/data)")
    if not os.path.isdir(root):
        # Not even the root: a typo. torchvision would create MNIST/raw/ there; don't.
        raise DatasetUnavailable(f"{name.upper()} is not under {os.path.abspath(root)}: that "
                                 f"folder does not exist; {hint}.")
    present = os.path.isdir(os.path.join(root, folder)) and os.listdir(os.path.join(root, folder))
    cls = {"mnist": torchvision.datasets.MNIST, "cifar10": torchvision.datasets.CIFAR10}[name]
    try:
        # download=True is a no-op when the files are present, and fetches them when online.
        return cls(root, train=train, download=True)
    except Exception as err:  # URLError, RuntimeError, OSError, ... all mean the same here
        if present:
            detail = (str(err).splitlines() or [""])[0][:120]
            raise DatasetUnavailable(
                f"{name.upper()} files are under {os.path.join(os.path.abspath(root), folder)} "
                f"but do not load ({type(err).__name__}{': ' + detail if detail else ''}): "
                f"they are damaged or not the official files; replace them, or delete the "
                f"folder to download it again.") from err
        raise DatasetUnavailable(
            f"{name.upper()} is not under {os.path.abspath(root)!s} and could not be downloaded "
            f"({type(err).__name__}); {hint}.") from err


def describe_values(tensor):
    """'float32 values 0.0..1.0 (3 NaN)': what a tensor holds, for a one-line error."""
    values = tensor if tensor.dtype.is_floating_point else tensor.float()
    bad = ~torch.isfinite(values)
    finite = values[~bad]
    span = (f"{finite.min().item():g}..{finite.max().item():g}" if finite.numel()
            else "no finite value")
    holes = f" ({int(torch.isnan(values).sum())} NaN, {int(torch.isinf(values).sum())} inf)" \
        if bad.any() else ""
    return f"{str(tensor.dtype).replace('torch.', '')} values {span}{holes}"


def check_split(name, split, where):
    """Images of the dataset's shape and labels 0..9, or one sentence naming what is wrong."""
    if tuple(split.images.shape[1:]) != SHAPES[name] or len(split.images) != len(split.labels):
        raise DatasetUnavailable(
            f"{name.upper()} under {where} has images of shape "
            f"{tuple(split.images.shape[1:])} ({len(split.images)} images, "
            f"{len(split.labels)} labels), not {SHAPES[name]}: the files are not the official "
            f"ones; replace them.")
    if not len(split.labels):
        raise DatasetUnavailable(
            f"{name.upper()} under {where} holds no images in this split: the files are "
            f"empty or cut short; replace them.")
    if split.images.dtype != torch.uint8:
        raise DatasetUnavailable(
            f"{name.upper()} under {where} holds {describe_values(split.images)}, not uint8 "
            f"pixels 0..255 (the scale the study normalises from): the files are already "
            f"normalised, rescaled or not the official ones; replace them.")
    if split.labels.dtype.is_floating_point or split.labels.dtype == torch.bool:
        raise DatasetUnavailable(
            f"{name.upper()} under {where} has labels of type {split.labels.dtype}, not "
            f"integers 0..{NUM_CLASSES - 1}: the files are not the official ones; replace them.")
    if len(split.labels) and (split.labels.min() < 0 or split.labels.max() >= NUM_CLASSES):
        raise DatasetUnavailable(
            f"{name.upper()} under {where} has labels from {split.labels.min().item()} to "
            f"{split.labels.max().item()}, outside 0..{NUM_CLASSES - 1}: the files are not the "
            f"official ones; replace them.")
    return split


def packed_path(name, root):
    return os.path.join(root, f"{name}-packed.pt")


def pack(name, root, out_dir, train_images, test_images):
    """A real subset of a dataset as one file of uint8 tensors, for machines the official files
    cannot travel to (the GPU check's 64 MiB transfer). `load_split` reads it where the
    official folder is absent; results record their train and test sizes either way."""
    splits = {split: subset(load_split(name, root, train=split == "train"), n, seed=0)
              for split, n in (("train", train_images), ("test", test_images))}
    os.makedirs(out_dir, exist_ok=True)
    torch.save({split: {"images": s.images, "labels": s.labels} for split, s in splits.items()},
               packed_path(name, out_dir))
    return packed_path(name, out_dir)


def load_split(name, root, train):
    """The whole split as uint8 NCHW images and int64 labels, on the CPU."""
    if not os.path.isdir(os.path.join(root, FOLDERS[name])) and \
            os.path.exists(packed_path(name, root)):
        part = torch.load(packed_path(name, root), weights_only=True)["train" if train else "test"]
        return check_split(name, Split(part["images"], part["labels"]), packed_path(name, root))
    ds = _torchvision_split(name, root, train)
    try:
        images = torch.as_tensor(ds.data)
        images = images.unsqueeze(1) if images.ndim == 3 else images.permute(0, 3, 1, 2)
        labels = torch.as_tensor(ds.targets, dtype=torch.long)
    except (RuntimeError, ValueError, TypeError) as err:
        raise DatasetUnavailable(f"{name.upper()} under {os.path.abspath(root)} does not form "
                                 f"images and labels ({err}); replace its files.") from err
    return check_split(name, Split(images.contiguous(), labels), os.path.abspath(root))


def subset(split, n, seed=0):
    """The first `n` samples of a fixed random permutation: class balance without bookkeeping."""
    if n is None or n >= len(split.labels):
        return split
    idx = torch.randperm(len(split.labels), generator=torch.Generator().manual_seed(seed))[:n]
    return Split(split.images[idx], split.labels[idx])


# The validation split's own permutation seed: the same held-out images for every run and seed.
HOLDOUT_SEED = 20_261_128


def holdout(split, n):
    """(train, validation): `n` images held out of `split` by a fixed permutation, the rest kept.

    Recipes are tuned on the validation part, so the test split is never looked at to choose.
    """
    if not 0 < n < len(split.labels):
        raise ValueError(f"cannot hold out {n} of {len(split.labels)} images")
    idx = torch.randperm(len(split.labels), generator=torch.Generator().manual_seed(HOLDOUT_SEED))
    keep, held = idx[:-n], idx[-n:]
    return (Split(split.images[keep], split.labels[keep]),
            Split(split.images[held], split.labels[held]))


def permutation_of_pixels(seed, shape):
    """One fixed random order of an image's H x W pixel positions (the same for every channel),
    from its own seed: the same order for train and test, for every run that names the seed."""
    return torch.randperm(shape[-2] * shape[-1], generator=torch.Generator().manual_seed(seed))


def permute_pixels(split, order):
    """`split` with every image's pixel positions rearranged by `order` (from
    permutation_of_pixels): image content kept, spatial neighbourhood destroyed."""
    n, c, h, w = split.images.shape
    flat = split.images.reshape(n, c, h * w)[:, :, order.to(split.images.device)]
    return Split(flat.reshape(n, c, h, w).contiguous(), split.labels)


def shift_images(images, dy, dx):
    """Every image moved by (dy, dx) pixels (down and right positive), zero-filled where the
    image left: a translation of the content, not a roll."""
    h, w = images.shape[-2:]
    out = torch.zeros_like(images)
    if abs(dy) >= h or abs(dx) >= w:
        return out
    out[..., max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        images[..., max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def random_shift(images, shifts, pad):
    """Zero-pad each image by `pad` and crop back at offset `shifts` (N x 2, dy/dx in [-pad, pad]).

    The batched equivalent of torchvision's RandomCrop(size, padding=pad) on raw pixels.
    """
    n, c, h, w = images.shape
    padded = torch.nn.functional.pad(images, (pad, pad, pad, pad))
    rows = (torch.arange(h, device=images.device) + pad + shifts[:, :1])  # N x H
    cols = (torch.arange(w, device=images.device) + pad + shifts[:, 1:])  # N x W
    batch = torch.arange(n, device=images.device)[:, None, None, None]
    chan = torch.arange(c, device=images.device)[None, :, None, None]
    return padded[batch, chan, rows[:, None, :, None], cols[:, None, None, :]]


def random_flip(images, flip_mask):
    return torch.where(flip_mask[:, None, None, None], images.flip(3), images)


class TensorLoader:
    """Iterates (normalised float batch, labels) over a uint8 split held on `device`.

    Each pass draws a fresh permutation from its own generator, so the order depends only on the
    seed and the number of passes so far (`state_dict` saves both for an exact resume).
    Augmentation (random shift by padding + crop, horizontal flip unless `flip` is False) runs on
    the uint8 batch. `epoch_images`: a pass yields that many images, drawn as successive
    permutations of the split (a small subset then trains as many steps as the whole split).
    """

    def __init__(self, split, batch_size, mean, std, shuffle=False, augment=False, pad=4,
                 seed=0, device="cpu", channels_last=False, flip=True, epoch_images=None):
        self.images = split.images.to(device)
        self.labels = split.labels.to(device)
        self.batch_size, self.shuffle, self.augment, self.pad = batch_size, shuffle, augment, pad
        self.flip, self.epoch_images = flip, epoch_images
        self.device = torch.device(device)
        self.mean = torch.tensor(mean, device=device).view(1, -1, 1, 1) * 255
        self.std = torch.tensor(std, device=device).view(1, -1, 1, 1) * 255
        self.channels_last = channels_last
        # Generators live on the CPU so that CPU and CUDA runs see the same order.
        self.generator = torch.Generator().manual_seed(seed)

    @property
    def epoch_size(self):
        """Images one pass yields."""
        return self.epoch_images or len(self.labels)

    def __len__(self):
        return (self.epoch_size + self.batch_size - 1) // self.batch_size

    def epoch_indices(self):
        n = len(self.labels)
        if not self.epoch_images:
            return torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        passes = -(-self.epoch_images // n)
        return torch.cat([torch.randperm(n, generator=self.generator) if self.shuffle
                          else torch.arange(n) for _ in range(passes)])[:self.epoch_images]

    def epoch_augmentation(self, n):
        """Every batch's shifts (n x 2) and flips (n) of one pass, drawn up front in the order
        the batches use them (so the random stream is the one a per-batch draw would give), then
        copied to the device once: no host-to-device copy inside the training step."""
        shifts, flips = [], []
        for start in range(0, n, self.batch_size):
            size = min(self.batch_size, n - start)
            shifts.append(torch.randint(-self.pad, self.pad + 1, (size, 2),
                                        generator=self.generator))
            if self.flip:  # off for digits: a mirrored digit is not the same digit
                flips.append(torch.rand(size, generator=self.generator) < 0.5)
        flips = torch.cat(flips) if flips else torch.zeros(n, dtype=torch.bool)
        return torch.cat(shifts).to(self.device), flips.to(self.device)

    def __iter__(self):
        order = self.epoch_indices()
        if self.augment:
            shifts, flips = self.epoch_augmentation(len(order))
        order = order.to(self.device)
        for start in range(0, len(order), self.batch_size):
            batch = slice(start, start + self.batch_size)
            idx = order[batch]
            x = self.images[idx]
            if self.augment:
                x = random_flip(random_shift(x, shifts[batch], self.pad), flips[batch])
            yield self.normalise(x), self.labels[idx]

    def normalise(self, x_uint8):
        x = (x_uint8.float() - self.mean) / self.std
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def state_dict(self):
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state):
        self.generator.set_state(state["generator"])
