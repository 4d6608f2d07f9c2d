"""What each profile changes, and the recipes several tasks share.

full: the assignment's settings. quick: a data subset and fewer epochs that keep every model
and every comparison, for CPU users. smoke: seconds, for tests.
"""
from dataclasses import replace

from utils.sections import BY_FOLDER

PROFILES = {
    # validation: images held out of train when a recipe is tuned (utils/train/recipe.py)
    "full": dict(epochs=10, validation=5_000),
    # quick: the study a CPU user runs, within 20 minutes on a 2-core CPU and ordering models as
    # the full profile does (benchmarks/quick_wall.py measures it). Its CIFAR-10 runs are far
    # from converged, so it buys optimisation steps per CPU-second (batch 64) and keeps the
    # evaluation small (DECISIONS.md).
    "quick": dict(epochs=2, mnist_train=12_000, mnist_test=2_000, cifar_epochs=2,
                  cifar_train=6_000, cifar_test=2_000, cifar_batch=64, train_eval=2_000,
                  inference_batch=256, validation=5_000),
    "smoke": dict(epochs=1, mnist_train=512, cifar_train=256, mnist_test=256, cifar_test=256,
                  inference_batch=64, validation=100),
}

# The Task 1 CIFAR-10 recipe for conv nets, reused by Tasks 2 and 3: batch 128, shifts + flips,
# SGD with momentum 0.9 and a one-cycle schedule peaking at lr 0.1, weight decay 1e-4.
CIFAR_CONV = dict(dataset="cifar10", batch_size=128, augment=True, optimizer="sgd", lr=0.1,
                  momentum=0.9, weight_decay=1e-4, schedule="onecycle", channels_last=True)


def scaled(spec, profile):
    """`spec` with the profile's epochs, subsets, batch and measurement sizes (a dataset's own
    `<dataset>_epochs` / `_batch` where the profile sets one)."""
    p = PROFILES[profile]
    dataset = "mnist" if spec.dataset == "mnist" else "cifar"
    return replace(spec, profile=profile, epochs=p.get(f"{dataset}_epochs", p["epochs"]),
                   batch_size=p.get(f"{dataset}_batch", spec.batch_size),
                   train_subset=p.get(f"{dataset}_train"), test_subset=p.get(f"{dataset}_test"),
                   train_eval_subset=p.get("train_eval"),
                   inference_batch=p.get("inference_batch", spec.inference_batch))


def seeded(specs, seeds, profile):
    """One spec per seed 0..n-1: n = `seeds` (the --seeds option) when given, else the seed
    policy of the spec's section in the registry (utils/sections.py)."""
    return [replace(s, seed=k) for s in specs
            for k in range(seeds or BY_FOLDER[s.section].default_seeds(profile, s.name))]


def for_profile(specs, args):
    """`specs` scaled to the profile and seeded."""
    return seeded([scaled(s, args.profile) for s in specs], args.seeds, args.profile)
