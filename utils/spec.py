"""A run's spec: plain data saying what to train, on what and how. Shared by both halves of the
study: the training half builds and trains it, and the report reads it back from each result
(a field an older result lacks had its default here when that run was made)."""
import dataclasses
import json
from dataclasses import dataclass, field

@dataclass
class RunSpec:
    name: str                  # the model's name in tables and plots
    section: str               # results/<section>/, plots/<section>/
    model: str                 # a key of models.MODELS
    dataset: str               # "mnist" or "cifar10"
    model_kwargs: dict = field(default_factory=dict)
    epochs: int = 10
    batch_size: int = 128
    optimizer: str = "adam"    # "adam" or "sgd"
    lr: float = 1e-3
    momentum: float = 0.9      # SGD only
    weight_decay: float = 0.0
    schedule: str = "constant"  # "constant", "cosine" (lr to 0, per step) or "onecycle"
    augment: bool = False      # random shift (pad 4 + crop) and horizontal flip
    label_smoothing: float = 0.0  # training loss only; evaluation reports plain cross-entropy
    train_subset: int = None   # None: the whole split
    test_subset: int = None
    # images of the training subset the trained model is evaluated on in eval mode at the end
    # (train_acc_eval, the overfitting gap); None: all of them
    train_eval_subset: int = None
    # >0: hold this many images out of train and evaluate on them instead of the test split
    # (recipe tuning); the test split is then never loaded into the run.
    validation: int = 0
    channels_last: bool = False
    profile: str = "full"
    seed: int = 0
    grad_snapshots: int = 4    # gradient-flow samples, evenly spread over training
    inference_batch: int = 1024  # batch size of the throughput measurement
    analyses: list = field(default_factory=list)  # names in utils.train.analysis.ANALYSES
    meta: dict = field(default_factory=dict)  # facts about how the spec was made (e.g. budget)
    # True where divergence is an outcome under study (the depth and learning-rate sweeps): a
    # non-finite loss then ends training and the result records where; otherwise it is an error.
    divergence_is_result: bool = False
    # Section 1.3 (why convolution wins). The seed of one fixed order of the pixel positions,
    # applied to train and test images alike (None: natural images).
    pixel_permutation: int = None
    # >0: random shifts of up to this many pixels (no flips) as augmentation, apart from
    # `augment` (whose shifts and flips are CIFAR's)
    shift_augment: int = 0
    # images an epoch draws from the training subset (repeated passes): a small subset then
    # trains as many steps as the whole split (None: one pass over the subset)
    epoch_images: int = None

    def as_dict(self):
        """The spec as it reads back from JSON (tuples become lists), for comparisons."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    def changes(self, stored):
        """{field: (stored value, this spec's value)} where a spec read back from a result or
        checkpoint differs from this one ({} for this same run; fields added to RunSpec since it
        was written take their defaults), or None where it has a field this version no longer
        knows."""
        try:
            old = RunSpec(**stored).as_dict()
        except TypeError:
            return None
        return {k: (old[k], v) for k, v in self.as_dict().items() if old[k] != v}

    def matches(self, stored):
        """Whether a spec read back from a result or checkpoint describes this same run."""
        return self.changes(stored) == {}

    @property
    def run_id(self):
        return f"{self.name}__seed{self.seed}"

    def hyperparameters(self):
        return {"epochs": self.epochs, "batch_size": self.batch_size,
                "optimizer": self.optimizer, "lr": self.lr,
                "momentum": self.momentum if self.optimizer == "sgd" else None,
                "weight_decay": self.weight_decay, "schedule": self.schedule,
                "dropout": self.model_kwargs.get("dropout", 0.0),
                "augmentation": "random shift (pad 4 + crop), horizontal flip"
                if self.augment else (f"random shift of up to {self.shift_augment} pixels"
                                      if self.shift_augment else "none"),
                "train_subset": self.train_subset, "test_subset": self.test_subset,
                **({"train_eval_subset": self.train_eval_subset}
                   if self.train_eval_subset else {}),
                "channels_last": self.channels_last,
                "loss": "CrossEntropyLoss" + (f" (label smoothing {self.label_smoothing})"
                                              if self.label_smoothing else ""),
                **({"validation_held_out": self.validation} if self.validation else {}),
                **({"pixel_permutation_seed": self.pixel_permutation}
                   if self.pixel_permutation is not None else {}),
                **({"epoch_images": self.epoch_images} if self.epoch_images else {})}


# The translation test (section 1.3): the test images moved by each of these pixel counts in
# each direction, zero-filled, at the end of every run on a dataset named here.
SHIFT_PIXELS = tuple(range(7))
SHIFT_DIRECTIONS = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}
SHIFT_DATASETS = ("mnist",)

# Test images the effective receptive field is averaged over (utils/train/analysis.py); results record
# it since it became an option, and a result without it used this number.
ERF_IMAGES = 64


def deviation(params, budget):
    """How far a parameter count is from the budget, as a fraction of it."""
    return (params - budget) / budget
