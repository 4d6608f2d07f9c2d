"""The depth sweep's verdicts are numbers computed from the JSON: relative gradient ratios,
accuracy differences with their intervals, and which of them are resolved."""
import os

import pytest

from tests.conftest import ROOT
from utils.report.gradient_flow import flow_ratio
from utils.report.verdicts import flow_verdict
from utils.report.sweep import sweep_verdicts


def layer(norm, weight_norm):
    return {"norm": norm, "weight_norm": weight_norm, "mean_abs": 0.0, "max_abs": 0.0,
            "numel": 9}


def run(depth, residual, bn, acc, snapshot=None):
    return {"model_kwargs": {"depth": depth, "residual": residual, "batchnorm": bn}, "seed": 0,
            "test_size": 10_000, "final": {"test_acc": acc}, "classes": list("0123456789"),
            "gradient_flow": [{"layers": snapshot or {}}], "diverged": None, "spec": {"lr": 0.1},
            "name": f"{'R' if residual else 'P'}{depth}{'' if bn else 'n'}"}


def test_flow_ratio_is_relative_gradient_after_the_stem_over_the_last_conv():
    snap = {"stem.0.weight": layer(50.0, 1.0),  # the stem is left out
            "stages.0.conv1.weight": layer(1e-6, 2.0),
            "stages.0.shortcut.0.weight": layer(9.0, 1.0),  # off the main path
            "stages.1.conv2.weight": layer(2e-2, 4.0), "fc.weight": layer(7.0, 1.0)}
    assert flow_ratio(snap) == pytest.approx((1e-6 / 2.0) / (2e-2 / 4.0))
    assert flow_verdict(snap, lr=0.1) == "vanishing"
    snap["stages.0.conv1.weight"] = layer(0.2, 2.0)      # ratio 20
    assert flow_verdict(snap, lr=0.1) == "exploding"
    snap["stages.0.conv1.weight"] = layer(5e-3, 2.0)     # ratio 0.5
    assert flow_verdict(snap, lr=0.1) == "steady"
    snap["stages.1.conv2.weight"] = layer(None, 4.0)
    assert flow_ratio(snap) is None and flow_verdict(snap, lr=0.1) == "not measurable"


def test_a_uniform_explosion_is_exploding_on_the_absolute_scale():
    from utils.report.gradient_flow import largest_step

    # Every layer's step is 1,000 times its weights: the ratio is 1, one step at lr 0.1 is 100x.
    snap = {"stem.0.weight": layer(1e3, 1.0), "stages.0.conv1.weight": layer(1e4, 1.0),
            "stages.2.conv2.weight": layer(2e4, 2.0), "fc.weight": layer(1.0, 1.0)}
    assert flow_ratio(snap) == pytest.approx(1.0)
    assert largest_step(snap, lr=0.1) == pytest.approx(1e3)
    assert flow_verdict(snap, lr=0.1) == "exploding"
    # The same gradients at lr 1e-5 move the weights by a tenth of their size: steady.
    assert flow_verdict(snap, lr=1e-5) == "steady"


def test_the_committed_residual56_without_batchnorm_explodes_at_its_first_step():
    import json

    from utils.report.gradient_flow import largest_step

    path = os.path.join(ROOT, "results", "depth_sweep", "Residual56_noBN__seed0.json")
    with open(path) as f:
        r = json.load(f)
    layers = r["gradient_flow"][0]["layers"]
    assert 0.1 < flow_ratio(layers) < 10       # the ratio alone would call it steady
    assert largest_step(layers, r["spec"]["lr"]) > 100
    assert flow_verdict(layers, r["spec"]["lr"]) == "exploding" and r["diverged"]


def test_older_results_without_weight_norms_get_no_flow_verdict():
    from utils.report.verdicts import NOT_RECORDED

    snap = {"net.1.weight": {"mean_abs": 8.0, "norm": 3.0},
            "net.5.weight": {"mean_abs": 2.0, "norm": 1.0},
            "net.9.weight": {"mean_abs": 0.1, "norm": 2.0}}
    # mean |grad| shrinks as a layer grows: its ratio would compare layer sizes, so none is given
    assert flow_ratio(snap) is None
    assert flow_verdict(snap, lr=0.1) == NOT_RECORDED


def test_skip_and_depth_effects_carry_intervals_and_verdicts():
    runs = [run(20, False, True, 0.80), run(20, True, True, 0.81),
            run(56, False, True, 0.70), run(56, True, True, 0.8050)]
    v = sweep_verdicts(runs)
    at56 = next(e for e in v["skip_effect"] if e["depth"] == 56)
    assert at56["difference"] == pytest.approx(0.105) and at56["resolved"]
    at20 = next(e for e in v["skip_effect"] if e["depth"] == 20)
    # 0.01 apart on 10,000 images: the half-width is ~0.011, so unresolved.
    assert not at20["resolved"] and at20["low"] < 0 < at20["high"]
    plain = next(e for e in v["depth_effect"] if not e["residual"])
    assert (plain["from"], plain["to"]) == (20, 56)
    assert plain["difference"] == pytest.approx(-0.10) and plain["resolved"]
    residual = next(e for e in v["depth_effect"] if e["residual"])
    assert not residual["resolved"]
    # the headline the page and DETAILS share: the deepest depth with BatchNorm, its skips
    assert v["deepest"] == 56 and [e["residual"] for e in v["steps"]] == [False, True]
    assert v["skip"] is at56


def test_a_sweep_whose_deepest_depth_ran_only_without_batchnorm_has_no_headline():
    runs = [run(8, False, True, 0.60), run(8, True, True, 0.62), run(20, False, False, 0.5),
            run(56, False, False, 0.3)]
    v = sweep_verdicts(runs)
    assert v["deepest"] == 56 and v["steps"] == [] and v["skip"] is None
    assert len(v["depth_effect"]) == 1  # plain without BN, 20 -> 56: DETAILS still states it


def test_two_nets_that_both_stayed_at_chance_are_said_to_have_learned_nothing():
    runs = [run(20, False, False, 0.1000), run(56, False, False, 0.1000),
            run(20, True, False, 0.5313), run(56, True, False, 0.0980)]
    v = sweep_verdicts(runs)
    plain = next(e for e in v["depth_effect"] if not e["residual"])
    assert plain["both_at_chance"] and not plain["resolved"]
    residual = next(e for e in v["depth_effect"] if e["residual"])
    assert not residual["both_at_chance"] and residual["resolved"]  # 0.0980 is still chance
    at56 = next(e for e in v["skip_effect"] if e["depth"] == 56)
    assert at56["both_at_chance"]


def lr_run(lr, diverged, accs, seed=0):
    return {"spec": {"lr": lr}, "seed": seed, "diverged": {"epoch": 2} if diverged else None,
            "history": [{"epoch": i + 1, "test_acc": a} for i, a in enumerate(accs)],
            "trace": {"loss": [1.0] * 60 + [5.0] + [1.0] * 10},
            "final": {"test_acc": accs[-1] if accs else 0.1}, "test_size": 10_000,
            "classes": list("0123456789")}


def test_the_stability_test_finds_the_highest_rate_that_trained_on_every_seed():
    from utils.report.stability_rates import block_verdicts

    v = block_verdicts([[lr_run(0.1, False, [0.5, 0.6])], [lr_run(0.4, False, [0.5, 0.3, 0.6])],
                        [lr_run(0.8, True, [0.2])]])
    assert (v["highest_stable_lr"], v["edge_seeds"], v["next_lr"]) == (0.4, 1, 0.8)
    second = v["rows"][1]
    assert second["largest_fall"] == pytest.approx(0.2) and second["fall_epoch"] == 2
    assert second["spikes"] == 1 and second["steps"] == 71
    # A loss that stays finite at a net that learned nothing (0.1005 is chance on 10 classes)
    # is no more stable than a divergence.
    v = block_verdicts([[lr_run(0.1, False, [0.5, 0.6])], [lr_run(0.4, False, [0.1, 0.1005])]])
    assert v["highest_stable_lr"] == 0.1 and v["rows"][1]["trained"] == 0


def test_trained_means_close_to_the_blocks_best_on_every_seed_not_merely_above_chance():
    from utils.report.stability_rates import TRAINED_FRACTION, block_verdicts

    best = 0.60
    rates = [[lr_run(1.6, False, [best], seed) for seed in range(3)],
             # 0.20 is far above chance but far below the block's best; one seed of three
             [lr_run(3.2, False, [a], seed) for seed, a in enumerate([0.58, 0.20, 0.57])],
             [lr_run(6.4, False, [0.20], seed) for seed in range(3)]]
    v = block_verdicts(rates)
    assert v["best_acc"] == pytest.approx(best)
    assert [row["trained"] for row in v["rows"]] == [3, 2, 0]
    assert 0.58 >= TRAINED_FRACTION * best > 0.20
    # 3.2 trained on two seeds of three: the edge is 1.6, backed by three seeds
    assert (v["highest_stable_lr"], v["edge_seeds"], v["next_lr"]) == (1.6, 3, 3.2)


def test_paired_effects_take_differences_seed_by_seed():
    from utils.report.verdicts import paired_effects

    def r(name, seed, acc):
        return {"name": name, "seed": seed, "final": {"test_acc": acc}}

    runs = [r("StandardCNN", s, a) for s, a in enumerate([0.990, 0.992, 0.991])]
    # Seed-to-seed spread 0.001, but the swap is 0.002 better on every seed: resolved.
    runs += [r("Swap_A", s, a + 0.002) for s, a in enumerate([0.990, 0.992, 0.991])]
    runs += [r("Swap_B", s, a) for s, a in enumerate([0.991, 0.990, 0.992])]
    effects = paired_effects(runs)
    assert effects["Swap_A"]["mean"] == pytest.approx(0.002)
    assert effects["Swap_A"]["resolved"] and effects["Swap_A"]["seeds"] == 3
    assert not effects["Swap_B"]["resolved"]
    assert effects["Swap_B"]["low"] < 0 < effects["Swap_B"]["high"]


def test_paired_effects_give_each_net_its_own_interval_and_leave_the_verdict_to_holm():
    from utils.report.paired import holm_kept
    from utils.report.verdicts import paired_effects

    def r(name, seed, acc):
        return {"name": name, "seed": seed, "final": {"test_acc": acc}}

    base = [0.990, 0.992, 0.991]
    runs = [r("StandardCNN", s, a) for s, a in enumerate(base)]
    runs += [r("Swap_A", s, a + 0.002) for s, a in enumerate(base)]  # the same gain every seed
    runs += [r("Swap_B", s, a + d) for s, (a, d) in enumerate(zip(base, [0.0015, 0.002, 0.0025]))]
    runs += [r("Swap_C", s, a) for s, a in enumerate([0.991, 0.990, 0.992])]
    runs += [r("Swap_D", 0, 0.999)]  # one seed: a difference, but no interval over seeds
    effects = paired_effects(runs)
    b = effects["Swap_B"]
    # each alone at 95 % (t = 4.30 on 2 df), with no section-wide widening: one story, Holm's
    assert (b["low"], b["high"]) == (pytest.approx(0.000758, abs=1e-6),
                                     pytest.approx(0.003242, abs=1e-6))
    assert b["resolved"] and not effects["Swap_C"]["resolved"]
    assert not any("family" in key for e in effects.values() for key in e)
    assert effects["Swap_D"]["seeds"] == 1 and not effects["Swap_D"]["resolved"]
    rows = [{"section": "3.1-paired", "a": name, "resolved_holm": name == "Swap_B",
             "resolved": effects[name]["resolved"]} for name in ("Swap_A", "Swap_B", "Swap_C")]
    assert holm_kept(rows) == (["Swap_B"], 3, 2)


def test_the_gradient_at_initialisation_is_judged_per_run_by_the_one_flow_rule():
    from utils.report.sweep import init_flow
    stem = {"stem.0.weight": layer(1.0, 1.0),  # the input layer: left out of the ratio
            "fc.weight": layer(1.0, 1.0)}      # the classifier: left out too
    steady = {**stem, "stages.0.conv1.weight": layer(1.0, 1.0),
              "stages.1.conv2.weight": layer(1.0, 1.0)}
    growing = {**stem, "stages.0.conv1.weight": layer(50.0, 1.0),
               "stages.1.conv2.weight": layer(1.0, 1.0)}
    flow = init_flow([run(20, True, True, 0.8, steady), run(56, False, True, 0.4, growing),
                      run(56, True, False, 0.1, {})])
    assert flow == {"steady": ["R20"], "exploding": ["P56"], "not measurable": ["R56n"]}


def test_the_sweep_summary_says_whether_any_block_diverged_and_finds_the_largest_fall():
    from utils.report.stability_rates import rate_sweep

    def lr_run(lr, accs, diverged=False):
        return {"spec": {"lr": lr}, "diverged": {"epoch": 1} if diverged else None,
                "history": [{"epoch": i + 1, "test_acc": a} for i, a in enumerate(accs)],
                "trace": {"loss": [1.0] * 10}, "final": {"test_acc": accs[-1]},
                "test_size": 10_000, "classes": list("0123456789")}
    steady = {"A": [[lr_run(0.1, [0.5, 0.6])], [lr_run(0.8, [0.6, 0.5, 0.7])]],
              "B": [[lr_run(0.1, [0.5, 0.2, 0.6])], [lr_run(0.8, [0.5, 0.6])]]}
    s = rate_sweep(steady)
    assert s["lrs"] == [0.1, 0.8] and s["all_trained"]
    block, row = s["largest_fall"]
    assert (block, row["lr"], row["fall_epoch"]) == ("B", 0.1, 2)
    assert row["largest_fall"] == pytest.approx(0.3)
    steady["B"][1] = [lr_run(0.8, [0.2], diverged=True)]
    assert not rate_sweep(steady)["all_trained"]
    steady["B"][1] = [lr_run(0.8, [0.3, 0.1])]  # finite loss, chance accuracy: did not train
    assert not rate_sweep(steady)["all_trained"]


def test_a_paired_section_still_running_names_the_nets_it_has_not_reached(tmp_path):
    import shutil

    from utils.report.paired import CUSTOM_PAIRED, render
    from utils.report.table import Results
    committed = os.path.join(ROOT, "results", "quick", CUSTOM_PAIRED)
    shutil.copytree(committed, tmp_path / CUSTOM_PAIRED)
    def text():  # the section's markdown
        return render(Results(str(tmp_path)), str(tmp_path))

    assert "Not run yet" not in text()
    for net in ("Swap_MixPool2d", "CNNWithCustomLayers"):
        for path in (tmp_path / CUSTOM_PAIRED).glob(f"{net}__seed*.json"):
            path.unlink()
    pending = [line for line in text().splitlines() if line.startswith("Not run yet")]
    assert len(pending) == 1
    assert "Swap_MixPool2d" in pending[0] and "CNNWithCustomLayers" in pending[0]
    assert "Swap_WSConv2d" not in pending[0]


def test_the_accuracy_plot_draws_the_mean_over_seeds_the_table_states():
    """It drew seed 0 with test-image bars (Plain56 at 0.366 against the 3-seed mean 0.3878)."""
    import statistics

    from tests.conftest import ROOT
    from utils.report.sweep import accuracy_points
    from utils.report.table import Results
    from utils.report.sweep import seeds_by_config

    seeded = seeds_by_config(Results(os.path.join(ROOT, "results")).section("depth_sweep"))
    points = {d: (m, lo, hi) for d, m, lo, hi in accuracy_points(seeded, (False, True))}
    plain56 = seeded[(56, False, True)]
    assert len(plain56) == 3
    mean = statistics.mean(r["final"]["test_acc"] for r in plain56)
    assert points[56][0] == pytest.approx(mean) and round(mean, 4) == 0.3878
    assert points[56][1] < mean < points[56][2]
