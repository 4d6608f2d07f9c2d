"""The report's findings are computed comparisons: the right interval for the seeds there are,
and unresolved wherever the interval includes zero."""
import json
import os

import pytest

from tests.conftest import result_record
from utils.report.stats import MEAN_OF_SEEDS
from utils.report.findings import render
from utils.report.verdicts import comparisons
from utils.report.table import Results


def write(root, folder, name, seed, acc, params=1000):
    path = root / folder
    path.mkdir(parents=True, exist_ok=True)
    (path / f"{name}__seed{seed}.json").write_text(json.dumps(result_record(
        name, seed, acc, params=params, profile="full", hyperparameters={"epochs": 10},
        model_kwargs={}, final={"train_acc_eval": min(1.0, acc + 0.005)},
        spec={"name": name, "seed": seed, "optimizer": "adam", "lr": 0.001},
        environment={"device_name": "X", "threads": 2},
        history=[{"epoch": 1, "train_loss": 0.1, "test_loss": 0.1, "train_acc": acc,
                  "test_acc": acc}])))


def test_findings_use_seeds_where_both_sides_have_them_and_test_images_otherwise(tmp_path):
    for seed, (fc, cnn) in enumerate([(0.9853, 0.9937), (0.9846, 0.9930), (0.9860, 0.9944)]):
        write(tmp_path, "mnist_comparison", "FCNet", seed, fc, params=567_434)
        write(tmp_path, "mnist_comparison", "SimpleCNN", seed, cnn, params=241_546)
    write(tmp_path, "mnist_comparison", "ResNetLike", 0, 0.9940)
    rows = {(c["a"], c["b"]): c for c in comparisons(Results(str(tmp_path)))}
    cnn_fc = rows[("SimpleCNN", "FCNet")]
    assert cnn_fc["over"] == "seeds" and cnn_fc["resolved"]
    assert abs(cnn_fc["difference"] - 0.0084) < 1e-9
    one_seed = rows[("ResNetLike", "SimpleCNN")]
    assert one_seed["over"] == "test images" and not one_seed["resolved"]
    # Holm over the three: the smallest p times 3, and never below a test's own p
    ps = sorted(c["p"] for c in rows.values())
    assert min(c["p_holm"] for c in rows.values()) == pytest.approx(min(1.0, 3 * ps[0]))
    assert all(c["p_holm"] >= c["p"] for c in rows.values()) and cnn_fc["resolved_holm"]
    part = render(Results(str(tmp_path)))
    # the findings table of DETAILS.md: one row per comparison, with its Holm verdict
    rows = [line for line in part.splitlines() if line.startswith("| 1.1 |")]
    assert len(rows) == 3 and "SimpleCNN − FCNet" in rows[0] and "| resolved (p" in rows[0]


def test_agreement_counts_the_findings_a_quick_run_resolves_the_same_way(tmp_path):
    from utils.report.findings import agreement
    from utils.report.verdicts import comparisons

    full, quick = tmp_path / "results", tmp_path / "results" / "quick"
    for seed in range(3):
        write(full, "mnist_comparison", "FCNet", seed, 0.985 + 0.0005 * seed)
        write(full, "mnist_comparison", "SimpleCNN", seed, 0.993 + 0.0005 * seed)
        write(full, "mnist_comparison", "ResNetLike", seed, 0.9931 + 0.0005 * seed)
    write(quick, "mnist_comparison", "FCNet", 0, 0.97)
    write(quick, "mnist_comparison", "SimpleCNN", 0, 0.96)     # resolved the other way
    write(quick, "mnist_comparison", "ResNetLike", 0, 0.9705)  # same sign, inside its interval
    result = agreement(comparisons(Results(str(quick))), comparisons(Results(str(full))))
    # Resolved in full: SimpleCNN − FCNet and ResNetLike − FCNet (ResNetLike − SimpleCNN is
    # within the seed spread, so it does not count). A same sign that the quick interval does
    # not resolve is no agreement.
    assert (result["agree"], result["unresolved"], result["flipped"], result["total"]) == \
        (0, 1, 1, 2)
    assert result["by_section"] == {"1.1": (0, 2)}
    flip, = [p for p in result["pairs"] if p["outcome"] == "flipped"]
    assert (flip["a"], flip["b"]) == ("SimpleCNN", "FCNet")
    assert flip["full"] == pytest.approx(0.008) and flip["reduced"] == pytest.approx(-0.01)


def test_agreement_counts_claims_after_holm_on_both_sides_and_the_claims_only_one_makes():
    from utils.report.findings import agreement

    def row(a, difference, alone, holm):
        return {"section": "1.1", "a": a, "b": "FCNet", "difference": difference,
                "resolved": alone, "resolved_holm": holm}
    full = [row("SimpleCNN", 0.008, True, True), row("ResNetLike", 0.003, True, False),
            row("DeepNet", 0.009, True, True)]
    quick = [row("SimpleCNN", 0.010, True, True), row("ResNetLike", 0.004, True, True),
             row("DeepNet", 0.011, True, False)]
    result = agreement(quick, full)
    # SimpleCNN: claimed in both, the same way. DeepNet: claimed in full, resolved in quick only
    # before its correction, so unresolved there. ResNetLike: resolved in full only before the
    # correction, so no claim to ask again, but a claim of quick's that full does not make.
    assert (result["agree"], result["unresolved"], result["total"]) == (1, 1, 2)
    assert [p["a"] for p in result["pairs"]] == ["SimpleCNN", "DeepNet"]
    assert [c["a"] for c in result["extra"]] == ["ResNetLike"]


def test_paired_section_is_compared_seed_by_seed_and_kept_apart_from_the_constant_rate_one(
        tmp_path):
    # The seed moves both nets together (spread 0.003) while the swap adds 0.0006 on every
    # seed: Welch over seeds could not see it, the differences taken seed by seed do.
    for seed, shared in enumerate([0.990, 0.993, 0.996]):
        write(tmp_path, "custom_layers_paired", "StandardCNN", seed, shared)
        write(tmp_path, "custom_layers_paired", "Swap_SwishBeta", seed, shared + 0.0006)
        write(tmp_path, "custom_layers", "StandardCNN", seed, shared)
        write(tmp_path, "custom_layers", "Swap_SwishBeta", seed, shared + 0.0006)
    write(tmp_path, "custom_layers_paired", "Swap_MixPool2d", 0, 0.999)  # one shared seed: left out
    rows = {(c["section"], c["a"], c["b"]): c for c in comparisons(Results(str(tmp_path)))}
    constant = rows[("3.1", "Swap_SwishBeta", "StandardCNN")]
    paired = rows[("3.1-paired", "Swap_SwishBeta", "StandardCNN")]
    assert constant["over"] == "seeds" and not constant["resolved"]
    assert paired["over"] == "paired seeds" and paired["resolved"]
    assert paired["difference"] == pytest.approx(0.0006)
    assert (paired["seeds_a"], paired["acc_b"]) == (3, pytest.approx(0.993))
    assert ("3.1-paired", "Swap_MixPool2d", "StandardCNN") not in rows
    table = render(Results(str(tmp_path)))
    assert table.count("| 3.1-paired | Swap_SwishBeta − StandardCNN |") == 1


def test_two_paired_seeds_give_no_interval_in_the_findings_nor_in_the_paired_section(tmp_path):
    # Two seeds: one degree of freedom. The swap adds exactly 0.002 on both seeds, which a
    # t-interval would call resolved with no width at all; the report makes no claim instead.
    from utils.report import paired

    folder = tmp_path / "custom_layers_paired"
    folder.mkdir()
    for seed, shared in enumerate([0.990, 0.993]):
        for name, acc in (("StandardCNN", shared), ("Swap_SwishBeta", shared + 0.002)):
            (folder / f"{name}__seed{seed}.json").write_text(json.dumps(result_record(
                name, seed, acc, profile="full", model_kwargs={},
                hyperparameters={"epochs": 1, "schedule": "cosine", "lr": 0.001})))
    results = Results(str(tmp_path))
    row, = [c for c in comparisons(results) if c["section"] == "3.1-paired"]
    assert row["too_few"] and not row["resolved_holm"] and row["p_holm"] == 1
    assert paired.holm_kept(comparisons(results)) is None
    text = paired.render(results, str(tmp_path / "plots"))
    assert "| Swap_SwishBeta | 2 | 0.9935 ± 0.0021 | +0.0020 (2 seeds: no interval) | " \
        "unresolved |" in text


def test_two_paired_seeds_with_predictions_pair_over_the_test_images_instead(tmp_path):
    # A fresh quick study's 3.1-paired runs (2 seeds) record their predictions: a seed-paired
    # t-interval has one degree of freedom, but the test images pair, so the difference gets an
    # interval over them (never "no interval"), in the findings and in the paired section alike.
    import numpy as np

    from utils import predictions
    from utils.report import paired

    n = 1000
    base = np.arange(n) % 10 != 0            # 90 % right
    swap = np.arange(n) % 20 != 0            # 95 % right, a superset of the baseline's
    folder = tmp_path / "custom_layers_paired"
    folder.mkdir()
    for seed in range(2):
        for name, correct in (("StandardCNN", base), ("Swap_SwishBeta", swap)):
            (folder / f"{name}__seed{seed}.json").write_text(json.dumps(result_record(
                name, seed, float(correct.mean()), profile="quick", model_kwargs={},
                test_size=n, hyperparameters={"epochs": 1, "schedule": "cosine", "lr": 0.001},
                predictions=predictions.encode(np.zeros(n), (~correct).astype(int),
                                               np.zeros(n)))))
    results = Results(str(tmp_path))
    row, = [c for c in comparisons(results) if c["section"] == "3.1-paired"]
    assert row["over"] == MEAN_OF_SEEDS and not row["too_few"]
    d = swap.astype(float) - base
    half = 1.959964 * d.std(ddof=1) / np.sqrt(n)
    assert (row["difference"], row["low"], row["high"]) == pytest.approx(
        (0.05, 0.05 - half, 0.05 + half), abs=1e-6)
    assert row["resolved_holm"] and paired.holm_kept([row]) == (["Swap_SwishBeta"], 1, 1)
    text = paired.render(results, str(tmp_path / "plots"), [row])
    cells = next(line for line in text.splitlines() if line.startswith("| Swap_SwishBeta"))
    assert cells.strip("| ").split(" | ")[3:6] == [
        f"+0.0500 [{0.05 - half:+.4f}, {0.05 + half:+.4f}] (over {MEAN_OF_SEEDS})", "resolved",
        "resolved"]


def test_one_paired_seed_with_predictions_takes_mcnemar_and_an_unshared_seed_is_said(tmp_path):
    # One seed a side is a one-seed comparison like any other in the report: with predictions it
    # takes the exact McNemar interval; a net whose only seed the baseline never ran has nothing
    # to pair with, and its row says so rather than passing for the baseline.
    import numpy as np
    from scipy import stats

    from utils import predictions
    from utils.report import paired

    n = 1000
    base = np.arange(n) % 10 != 0
    swap = np.arange(n) % 20 != 0           # fixes 50 of the baseline's errors, breaks none
    folder = tmp_path / "custom_layers_paired"
    folder.mkdir()
    for name, seed, correct in (("StandardCNN", 0, base), ("Swap_SwishBeta", 0, swap),
                                ("Swap_WSConv2d", 7, swap)):
        (folder / f"{name}__seed{seed}.json").write_text(json.dumps(result_record(
            name, seed, float(correct.mean()), profile="quick", model_kwargs={}, test_size=n,
            hyperparameters={"epochs": 1, "schedule": "cosine", "lr": 0.001},
            predictions=predictions.encode(np.zeros(n), (~correct).astype(int), np.zeros(n)))))
    results = Results(str(tmp_path))
    row, = [c for c in comparisons(results) if c["section"] == "3.1-paired"]
    assert (row["a"], row["over"], row["too_few"]) == ("Swap_SwishBeta", "paired test images",
                                                       False)
    assert row["p"] == pytest.approx(stats.binomtest(50, 50, 0.5).pvalue)
    text = paired.render(results, str(tmp_path / "plots"), [row])
    assert "| Swap_WSConv2d | 1 | 0.9500 | no seed in common with the baseline |" in text


def test_a_paired_section_with_no_comparison_to_state_draws_and_links_no_figure(tmp_path):
    # one shared seed and no predictions: no interval of any kind, so no row, no figure
    from utils.report import paired

    folder = tmp_path / "custom_layers_paired"
    folder.mkdir()
    for name, acc in (("StandardCNN", 0.99), ("Swap_SwishBeta", 0.991)):
        (folder / f"{name}__seed0.json").write_text(json.dumps(result_record(
            name, 0, acc, model_kwargs={},
            hyperparameters={"epochs": 1, "schedule": "cosine", "lr": 0.001})))
    results = Results(str(tmp_path))
    rows = comparisons(results)
    assert not [c for c in rows if c["section"] == "3.1-paired"]
    assert paired.draw(results, str(tmp_path / "plots"), rows) == []
    text = paired.render(results, str(tmp_path / "plots"), rows)
    assert "| Swap_SwishBeta | 1 |" in text and "paired_effects.png" not in text


def write_with_predictions(root, folder, name, seed, correct):
    """A one-seed result whose per-image predictions say which of the test images it got right
    (label 0 everywhere; a wrong image predicted as 1), its accuracy read from them."""
    import numpy as np
    from utils import predictions

    correct = np.asarray(correct, dtype=bool)
    path = root / folder
    path.mkdir(parents=True, exist_ok=True)
    record = result_record(name, seed, float(correct.mean()), profile="quick",
                           hyperparameters={"epochs": 2}, model_kwargs={},
                           test_size=len(correct),
                           predictions=predictions.encode(np.zeros(len(correct)),
                                                          (~correct).astype(int),
                                                          np.zeros(len(correct))))
    (path / f"{name}__seed{seed}.json").write_text(json.dumps(record))


def test_one_seed_a_side_with_predictions_gets_a_mcnemar_verdict_not_too_few_seeds(tmp_path):
    """A fresh quick study records predictions: its one-seed comparisons take the exact McNemar
    path and keep their verdicts (they were all set to "too few seeds", p = 1, before)."""
    import numpy as np
    from scipy import stats

    n = 2000
    rng = np.random.default_rng(0)
    fc = rng.random(n) < 0.94
    cnn = fc.copy()
    cnn[np.flatnonzero(~fc)[:80]] = True   # the CNN fixes 80 of the FC net's errors
    cnn[np.flatnonzero(fc)[:20]] = False   # and breaks 20 of its right answers
    write_with_predictions(tmp_path, "mnist_comparison", "FCNet", 0, fc)
    write_with_predictions(tmp_path, "mnist_comparison", "SimpleCNN", 0, cnn)
    row, = comparisons(Results(str(tmp_path)))
    assert row["over"] == "paired test images" and not row["too_few"]
    assert row["difference"] == pytest.approx(60 / n)
    # exact McNemar: 80 of the 100 discordant images favour the CNN
    assert row["p"] == pytest.approx(stats.binomtest(80, 100, 0.5).pvalue)
    assert row["low"] > 0 and row["resolved"] and row["resolved_holm"]


def test_two_seeds_against_three_with_predictions_pair_over_the_test_images(tmp_path):
    import numpy as np

    n = 1000
    base = np.arange(n) % 10 != 0              # 90 % right
    better = np.arange(n) % 20 != 0            # 95 % right, a superset of base's right answers
    for seed in range(3):
        write_with_predictions(tmp_path, "mnist_comparison", "FCNet", seed, base)
    for seed in range(2):
        write_with_predictions(tmp_path, "mnist_comparison", "SimpleCNN", seed, better)
    row, = comparisons(Results(str(tmp_path)))
    assert row["over"] == MEAN_OF_SEEDS and not row["too_few"]
    # per-image differences: 50 images at +1, the rest 0
    d = better.astype(float) - base
    half = 1.959964 * d.std(ddof=1) / np.sqrt(n)
    assert (row["difference"], row["low"], row["high"]) == pytest.approx(
        (0.05, 0.05 - half, 0.05 + half), abs=1e-6)
    assert row["resolved"]


def test_a_reduced_profile_states_its_agreement_with_the_full_study_it_is_given(tmp_path,
                                                                                 monkeypatch):
    """The full study's folder is an argument (--compare-with; for quick and smoke it defaults
    to results/ when that exists), never guessed from the folder's name."""
    import argparse

    from utils.report import answers
    from utils.train.cli import resolve_dirs

    full, quick = tmp_path / "full_study", tmp_path / "anywhere"
    for seed in range(3):
        write(full, "mnist_comparison", "FCNet", seed, 0.985 + 0.0005 * seed)
        write(full, "mnist_comparison", "SimpleCNN", seed, 0.993 + 0.0005 * seed)
    write(quick, "mnist_comparison", "FCNet", 0, 0.90)
    write(quick, "mnist_comparison", "SimpleCNN", 0, 0.96)
    here = Results(str(quick))
    report = answers.render(here, comparisons(here), str(tmp_path / "plots"),
                            full_rows=comparisons(Results(str(full))))
    assert "**Agreement with the full study.** Of the full profile's 1 comparison resolved after Holm" in report
    assert "Agreement" not in answers.render(here, comparisons(here), str(tmp_path / "plots"))
    monkeypatch.chdir(tmp_path)

    def resolved(profile):
        args = argparse.Namespace(profile=profile, results_dir=None, plots_dir=None,
                                  checkpoint_dir=None, compare_with=None)
        resolve_dirs(args)
        return args
    assert resolved("full").compare_with is None
    assert (resolved("quick").compare_with, resolved("quick").results_dir) == \
        ("results", os.path.join("results", "quick"))


def test_the_1_2_answer_points_to_a_validation_search_only_where_one_ran(tmp_path):
    from utils.report import answers

    for seed in range(3):
        write(tmp_path, "cifar_comparison", "DeepFCNet", seed, 0.52 + 0.001 * seed)
        write(tmp_path, "cifar_comparison", "ResNetCIFAR", seed, 0.88 + 0.001 * seed)
    assert answers._item(Results(str(tmp_path)), [], "1.2")["searched"] is False
    write(tmp_path, "cifar_fc_recipe", "DeepFCNet_adam_lr0.003", 0, 0.52)
    assert answers._item(Results(str(tmp_path)), [], "1.2")["searched"] is True
