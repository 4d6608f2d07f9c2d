"""Profiles scale a spec; seeds come from --seeds, else the seed policy of the spec's section in
the registry."""
from argparse import Namespace

import pytest

from utils import sections
from utils.profiles import PROFILES, for_profile
from utils.train.runner import RunSpec


@pytest.fixture(autouse=True)
def a_section(monkeypatch):
    """A registered section "s" whose policy gives Cheap 3 seeds in the full profile, and every
    run 2 in the quick one."""
    section = sections.Section("x", "s", "s", "x", "x.py",
                               seeds={"full": {"Cheap": 3}, "quick": 2})
    monkeypatch.setitem(sections.BY_FOLDER, "s", section)


def specs():
    return [RunSpec(name=n, section="s", model=n, dataset="cifar10")
            for n in ("Cheap", "Costly")]


def ids(profile, seeds=None):
    return [s.run_id for s in for_profile(specs(), Namespace(profile=profile, seeds=seeds))]


def test_the_section_seed_policy_applies_per_profile_and_per_name():
    assert ids("full") == ["Cheap__seed0", "Cheap__seed1", "Cheap__seed2", "Costly__seed0"]
    assert ids("quick") == ["Cheap__seed0", "Cheap__seed1", "Costly__seed0", "Costly__seed1"]
    assert ids("smoke") == ["Cheap__seed0", "Costly__seed0"]  # no policy: one seed


def test_the_seeds_option_overrides_every_default():
    assert ids("full", seeds=2) == [
        "Cheap__seed0", "Cheap__seed1", "Costly__seed0", "Costly__seed1"]


def test_every_registered_section_has_a_policy_for_known_profiles_only():
    for section in sections.SECTIONS:
        assert set(section.seeds) <= set(PROFILES)


def test_a_profile_sets_epochs_and_subsets_and_full_uses_every_image():
    quick = for_profile(specs(), Namespace(profile="quick", seeds=None))[0]
    assert (quick.epochs, quick.train_subset, quick.test_subset, quick.batch_size) == (
        2, 6_000, 2_000, 64)
    full = for_profile(specs(), Namespace(profile="full", seeds=None))[0]
    assert (full.epochs, full.train_subset, full.test_subset, full.batch_size) == (
        10, None, None, 128)


def test_quick_keeps_mnist_at_its_own_epochs_and_the_spec_batch():
    mnist = RunSpec(name="Cheap", section="s", model="Cheap", dataset="mnist", batch_size=128)
    quick = for_profile([mnist], Namespace(profile="quick", seeds=1))[0]
    assert (quick.epochs, quick.train_subset, quick.test_subset, quick.batch_size) == (
        2, 12_000, 2_000, 128)
