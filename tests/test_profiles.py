"""Profiles scale a spec; seeds come from --seeds, else the script's per-profile defaults."""
from argparse import Namespace

from utils.profiles import PROFILES, for_profile
from utils.runner import RunSpec


def specs():
    return [RunSpec(name=n, section="s", model=n, dataset="cifar10")
            for n in ("Cheap", "Costly")]


def ids(args, defaults=None):
    return [s.run_id for s in for_profile(specs(), args, defaults)]


def test_default_seeds_apply_per_profile_and_per_name():
    defaults = {"full": {"Cheap": 3}}
    assert ids(Namespace(profile="full", seeds=None), defaults) == [
        "Cheap__seed0", "Cheap__seed1", "Cheap__seed2", "Costly__seed0"]
    assert ids(Namespace(profile="quick", seeds=None), defaults) == [
        "Cheap__seed0", "Costly__seed0"]


def test_the_seeds_option_overrides_every_default():
    assert ids(Namespace(profile="full", seeds=2), {"full": {"Cheap": 3}}) == [
        "Cheap__seed0", "Cheap__seed1", "Costly__seed0", "Costly__seed1"]


def test_a_profile_sets_epochs_and_subsets_and_full_uses_every_image():
    quick = for_profile(specs(), Namespace(profile="quick", seeds=None))[0]
    assert (quick.epochs, quick.train_subset, quick.test_subset) == (
        PROFILES["quick"]["epochs"], PROFILES["quick"]["cifar_train"],
        PROFILES["quick"]["cifar_test"])
    full = for_profile(specs(), Namespace(profile="full", seeds=None))[0]
    assert (full.epochs, full.train_subset, full.test_subset) == (10, None, None)
