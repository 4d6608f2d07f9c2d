"""Task 3 networks and measures: the swappable custom net, residual variants, stability."""
import pytest
import torch

from models import build_model
from models.residual_blocks import BasicBlock, Bottleneck, WideBlock
from utils.train.layer_study import run_benchmarks, run_gradchecks
from utils.train.measure import count_params
from utils.train.param_search import widths_for_budget
from utils.spec import deviation
from utils.report.stability import rolling_mean


def test_3_1s_nets_are_simplecnn_with_its_layer_options():
    # The swap runs were recorded under the model name "SwappableCNN": it must still build the
    # same net, and the all-standard baseline is SimpleCNN itself (the reference's 241,546).
    from models import SimpleCNN
    assert count_params(build_model("StandardCNN")) == count_params(build_model("SimpleCNN")) \
        == 241_546
    for name in ("SwappableCNN", "StandardCNN", "CNNWithCustomLayers"):
        assert isinstance(build_model(name), SimpleCNN)
    torch.manual_seed(0)
    a = build_model("SwappableCNN")
    torch.manual_seed(0)
    b = build_model("StandardCNN")
    x = torch.randn(2, 1, 28, 28)
    assert torch.equal(a(x), b(x))  # same seed, same initial weights, same function


@pytest.mark.parametrize("swap", [{"conv": "custom"}, {"attention": True}, {"act": "swish"},
                                  {"pool": "mix"}])
def test_each_swap_changes_only_its_layer_type(swap):
    from models.custom_layers import MixPool2d, SEAttention, SwishBeta, WSConv2d
    kinds = {"conv": WSConv2d, "attention": SEAttention, "act": SwishBeta, "pool": MixPool2d}
    model = build_model("SwappableCNN", **swap)
    present = {k for k, cls in kinds.items() if any(isinstance(m, cls) for m in model.modules())}
    assert present == set(swap)
    assert model(torch.randn(1, 1, 28, 28)).shape == (1, 10)


def test_cnn_with_custom_layers_uses_all_four_and_trains_a_step():
    model = build_model("CNNWithCustomLayers")
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    x, y = torch.randn(8, 1, 28, 28), torch.randint(0, 10, (8,))
    losses = []
    for _ in range(5):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        assert all(p.grad is not None for p in model.parameters())
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_bottleneck_expands_by_four_and_projects_only_when_shapes_change():
    assert Bottleneck(64, 16).shortcut is None  # 64 -> 16*4 = 64 at stride 1: identity
    assert Bottleneck(16, 16).shortcut is not None
    assert BasicBlock(16, 16).shortcut is None and BasicBlock(16, 16, stride=2).shortcut
    assert Bottleneck(16, 16)(torch.randn(1, 16, 8, 8)).shape == (1, 64, 8, 8)
    assert WideBlock(16, 32, stride=2, dropout=0.3)(torch.randn(1, 16, 8, 8)).shape == \
        (1, 32, 4, 4)


@pytest.mark.parametrize("name", ["BasicResNet", "BottleneckResNet", "WideResNet"])
def test_residual_variants_can_be_matched_to_one_budget(name):
    widths, params = widths_for_budget(lambda w: build_model(name, widths=w), 150_000,
                                       first_widths=range(4, 65))
    assert abs(deviation(params, 150_000)) <= 0.02
    assert build_model(name, widths=widths)(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_residual_variants_as_built_differ_in_size_in_the_expected_order():
    sizes = [count_params(build_model(n)) for n in ("BasicResNet", "BottleneckResNet",
                                                    "WideResNet")]
    assert sizes[0] < sizes[1] < sizes[2]


def test_rolling_mean():
    assert rolling_mean([1.0, 3.0, 5.0, 7.0], 2) == [1.0, 2.0, 4.0, 6.0]


def test_layer_study_gradchecks_pass_and_timings_are_positive():
    assert all(g["passed"] for g in run_gradchecks())
    bench = run_benchmarks("cpu", batch=4, channels=8, size=6, reps=2)
    assert len(bench["rows"]) == 4
    assert all(r["custom_fwd_bwd_ms"] > 0 and r["standard_fwd_bwd_ms"] >= 0
               for r in bench["rows"])


def test_layer_timings_take_turns_so_a_busy_moment_falls_on_every_layer_alike():
    import torch
    from torch import nn

    from utils.train.layer_study import time_layers

    calls = []

    class Logged(nn.Module):
        def __init__(self, name):
            super().__init__()
            self.name = name

        def forward(self, x):
            calls.append(self.name)
            return x * 2

    timed = time_layers({"a": Logged("a"), "b": Logged("b")}, torch.ones(2, 3), "cpu", reps=4,
                        warmup=1)
    # pass by pass, in turn, the order reversed every other pass: warm-up, then 4 timed passes
    assert calls == ["a", "b", "b", "a"] * 2 + ["a", "b"]
    assert set(timed) == {"a", "b"} and all(f > 0 for f, _ in timed.values())


def _traced_run(loss, seed=0):
    return {"seed": seed, "final": {"test_acc": 0.8}, "history": [],
            "trace": {"loss": loss, "grad_norm": [1.0 + 0.01 * (i % 3) for i in range(len(loss))]}}


def test_stability_counts_robust_spikes_and_the_largest_fall_in_test_accuracy():
    from utils.report.stability_rates import stability_measures
    steady = [1.0] * 120
    spiky = [1.0] * 60 + [3.0] + [1.0] * 59  # one step far above the recent median
    falling = _traced_run(steady)
    falling["history"] = [{"epoch": 1, "test_acc": 0.40}, {"epoch": 2, "test_acc": 0.59},
                          {"epoch": 3, "test_acc": 0.42}, {"epoch": 4, "test_acc": 0.70}]
    m = stability_measures({"Steady": [_traced_run(steady)], "Spiky": [_traced_run(spiky)],
                            "Falling": [falling]})
    assert m["Steady"]["spikes"] == [0] and m["Spiky"]["spikes"] == [1]
    f = m["Falling"]["largest_fall"]
    assert f["fall"] == pytest.approx(0.17) and (f["epoch"], f["from"], f["to"]) == (3, 0.59, 0.42)
    assert m["Steady"]["largest_fall"] is None


def _receptive_field_width(name, **kwargs):
    """Columns of a 64x64 input that reach the central unit of the last stage (empirically)."""
    from torch import nn

    from utils.train.receptive_field import empirical
    torch.manual_seed(0)
    model = build_model(name, **kwargs)
    grad_map, _ = empirical(nn.Sequential(model.stem, model.stages, model.head),
                            torch.randn(2, 3, 64, 64))
    columns = (grad_map.sum(0) > 0).nonzero().flatten()
    return (columns.max() - columns.min() + 1).item()


def test_a_bottleneck_net_sees_as_far_as_the_basic_one_only_at_two_blocks_per_stage():
    # One 3x3 convolution a bottleneck block against two a basic or wide block: the 3.2-recipe
    # study's two blocks per stage is what evens the receptive fields out.
    assert _receptive_field_width("BasicResNet") == _receptive_field_width("WideResNet") == 25
    assert _receptive_field_width("BottleneckResNet") == 11
    assert _receptive_field_width("BottleneckResNet", blocks_per_stage=2) == 25


def test_the_report_reads_each_variants_depth_from_its_runs():
    from utils.report.task3 import depths

    def runs(model, **kwargs):
        return [{"model": model, "model_kwargs": kwargs}]
    assert depths({"BasicResNet": runs("BasicResNet"),
                   "BottleneckResNet": runs("BottleneckResNet", blocks_per_stage=2),
                   "WideResNet_matched": runs("WideResNet", widths=[8, 16, 32])}) == \
        {"BasicResNet": 1, "BottleneckResNet": 2, "WideResNet": 1}


def _acc_runs(*accs, test_size=10_000):
    return [{"seed": i, "params": 1000, "macs": 2e6, "test_size": test_size,
             "final": {"test_acc": a}} for i, a in enumerate(accs)]


def test_the_residual_ranking_judges_each_neighbour_pair_by_its_own_interval():
    from utils.report.stability_rates import ranking
    order, pairs = ranking({"Small": _acc_runs(0.80, 0.81), "Big": _acc_runs(0.83, 0.85),
                            "One": _acc_runs(0.70)})
    assert order == [("Big", pytest.approx(0.84)), ("Small", pytest.approx(0.805)),
                     ("One", pytest.approx(0.70))]
    close, apart = pairs
    # Two seeds a side: Welch over seeds, wide (t with ~1.6 degrees of freedom).
    assert (close["better"], close["worse"], close["over"]) == ("Big", "Small", "seeds")
    assert close["difference"] == pytest.approx(0.035)
    assert close["low"] < 0 < close["high"] and not close["resolved"]
    # One seed on a side: over the 10,000 test images, z * sqrt(p(1-p)/n + q(1-q)/n).
    half = 1.959964 * ((0.805 * 0.195 + 0.70 * 0.30) / 10_000) ** 0.5
    assert (apart["better"], apart["worse"], apart["over"]) == ("Small", "One", "test images")
    assert (apart["low"], apart["high"]) == (pytest.approx(0.105 - half),
                                             pytest.approx(0.105 + half))
    assert apart["resolved"]


def test_a_swaps_effect_is_a_difference_with_its_95_percent_interval():
    from utils.report.task3 import swap_effect
    effect = swap_effect(_acc_runs(0.990, 0.992, 0.991), _acc_runs(0.991, 0.993, 0.992))
    assert effect["over"] == "seeds" and effect["difference"] == pytest.approx(-0.001)
    # Welch with equal spreads (std 0.001, n = 3 a side): t(4 dof) = 2.776 × sqrt(2/3) × 0.001.
    assert effect["high"] - effect["difference"] == pytest.approx(2.776 * (2 / 3) ** 0.5 * 0.001,
                                                                  rel=1e-3)
    assert not effect["resolved"]
    assert swap_effect(None, _acc_runs(0.99)) is None


def test_late_movement_is_the_mean_over_seeds_of_the_last_epochs_test_accuracy_span():
    from utils.report.task3 import late_movement

    def run(accs, schedule="constant"):
        return {"hyperparameters": {"schedule": schedule},
                "history": [{"epoch": i + 1, "test_acc": a} for i, a in enumerate(accs)]}
    flat_start = [0.5] * 5
    custom = {"Net": [run(flat_start + [0.99, 0.98, 0.99, 0.97, 0.99]),    # span 0.02
                      run(flat_start + [0.99, 0.99, 0.99, 0.98, 0.99])],   # span 0.01
              "Short": [run([0.9, 0.9])]}                                  # too short: left out
    baseline = {"SimpleCNN": [run(flat_start + [0.99] * 5, "cosine")]}
    assert late_movement(custom, baseline) == {
        "Net": (pytest.approx(0.015), "constant"), "SimpleCNN (Task 1)": (0.0, "cosine")}
