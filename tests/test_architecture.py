"""Task 2 building blocks: equal-parameter search, receptive fields, depth variants."""
import pytest
import torch
from torch import nn

from models import build_model
from models.cnn_models import DepthCNN
from utils.train import receptive_field as rf
from utils.train.measure import count_params
from utils.train.param_search import widths_for_budget
from utils.spec import deviation

KERNELS = ["CNN_3x3", "CNN_5x5", "CNN_7x7", "CNN_Combo"]


@pytest.mark.parametrize("budget", [20_000, 50_000])
def test_every_kernel_variant_is_sized_within_two_percent_of_the_budget(budget):
    for name in KERNELS:
        widths, params = widths_for_budget(lambda w, n=name: build_model(n, widths=w), budget)
        assert count_params(build_model(name, widths=widths)) == params
        assert abs(deviation(params, budget)) <= 0.02, (name, widths, params)
        assert widths[0] < widths[1] <= widths[2] * 1.5  # a sensible widening shape


def test_an_unreachable_budget_is_a_clear_error():
    with pytest.raises(ValueError, match="budget"):
        widths_for_budget(lambda w: build_model("CNN_7x7", widths=w), 50)


def geometry(*layers):
    return [rf.LayerGeometry(f"l{i}", *spec) for i, spec in enumerate(layers)]


def test_three_stacked_3x3_convs_see_7x7():
    rows = rf.analytic(geometry((3, 1, 1), (3, 1, 1), (3, 1, 1)))
    assert [r["rf"] for r in rows] == [3, 5, 7]
    assert all(r["jump"] == 1 and r["start"] == 0 for r in rows)


def test_a_stride_two_pool_doubles_what_later_layers_add():
    # conv3 (3) -> 2x2/2 pool (3 + 1 = 4, jump 2) -> conv3 (4 + 2*2 = 8) -> conv3 (8 + 4 = 12)
    rows = rf.analytic(geometry((3, 1, 1), (2, 2, 0), (3, 1, 1), (3, 1, 1)))
    assert [r["rf"] for r in rows] == [3, 4, 8, 12]
    assert [r["jump"] for r in rows] == [1, 2, 2, 2]
    assert rows[1]["start"] == 0.5  # the first pooled unit is centred between pixels 0 and 1


def test_dilation_and_strided_convs():
    assert rf.analytic(geometry((3, 1, 2, 2)))[-1]["rf"] == 5
    assert [r["rf"] for r in rf.analytic(geometry((3, 2, 1), (3, 1, 1)))] == [3, 7]


def test_geometry_is_read_from_a_model_in_forward_order():
    net = build_model("CNN_5x5", widths=(4, 8, 8))
    layers = rf.geometry_of(net.trunk())
    assert [(g.kernel, g.stride) for g in layers] == [(5, 1), (2, 2), (5, 1), (2, 2), (5, 1)]
    combo = rf.geometry_of(build_model("CNN_Combo", widths=(4, 8, 8)).trunk())
    assert [g.kernel for g in combo] == [3, 2, 3, 2, 3]  # mixed 1x1+3x3 counts as its 3x3


def test_empirical_field_of_a_single_conv_is_exactly_its_kernel():
    conv = nn.Conv2d(1, 1, 3, padding=1, bias=False)
    nn.init.constant_(conv.weight, 1.0)
    grad_map, (cy, cx) = rf.empirical(conv, torch.randn(4, 1, 9, 9))
    rows = rf.analytic(rf.geometry_of(conv))
    centre = (rf.unit_centre(rows, cy), rf.unit_centre(rows, cx))
    assert rf.nonzero_radius(grad_map, centre) == 1 == (rows[-1]["rf"] - 1) / 2
    assert torch.count_nonzero(grad_map) == 9


@pytest.mark.parametrize("name", KERNELS)
def test_empirical_field_never_exceeds_the_analytic_one(name):
    torch.manual_seed(0)
    net = build_model(name, widths=(4, 8, 8)).eval()
    rows = rf.analytic(rf.geometry_of(net.trunk()))
    grad_map, (cy, cx) = rf.empirical(net.trunk(), torch.randn(4, 3, 32, 32))
    centre = (rf.unit_centre(rows, cy), rf.unit_centre(rows, cx))
    assert 0 < rf.nonzero_radius(grad_map, centre) <= (rows[-1]["rf"] - 1) / 2


def test_mass_radius_measures_how_concentrated_a_map_is():
    point = torch.zeros(5, 5)
    point[2, 2] = 1
    assert rf.mass_radius(point, (2, 2)) == 0
    assert rf.mass_radius(torch.ones(5, 5), (2, 2), 0.95) == 2
    assert rf.mass_radius(torch.ones(5, 5), (2, 2), 0.30) == 1  # 9 of 25 pixels = 36 %


def test_depth_variants_have_the_conv_layers_they_claim():
    def convs(model):  # 3x3 convs only: shortcut projections are 1x1
        return sum(1 for m in model.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3))

    assert [convs(build_model(n)) for n in ("ShallowCNN", "MediumCNN", "DeepCNN",
                                            "ResidualCNN")] == [2, 4, 10, 10]


def test_deep_cnn_is_residual_cnn_without_its_skips():
    deep, res = build_model("DeepCNN"), build_model("ResidualCNN")
    deep_params = {k: v.shape for k, v in deep.named_parameters()}
    res_params = {k: v.shape for k, v in res.named_parameters() if "shortcut" not in k}
    assert deep_params == res_params
    assert any("shortcut" in k for k, _ in res.named_parameters())


def test_skips_change_the_function_not_just_the_parameters():
    torch.manual_seed(0)
    res = DepthCNN(depth=6, residual=True).eval()
    plain = DepthCNN(depth=6, residual=False).eval()
    plain.load_state_dict({k: v for k, v in res.state_dict().items() if "shortcut" not in k})
    x = torch.randn(2, 3, 32, 32)
    assert not torch.allclose(res(x), plain(x))


@pytest.mark.parametrize("name", KERNELS + ["ShallowCNN", "DeepCNN", "ResidualCNN"])
def test_feature_layers_chain_to_the_trunk_output(name):
    model = build_model(name).eval()
    x = torch.randn(2, 3, 32, 32)
    y = x
    for _, layer in model.feature_layers():
        y = layer(y)
    assert torch.allclose(y, model.trunk()(x), atol=1e-6)


def test_the_analytic_field_inside_the_image_follows_the_units_actual_centre():
    from utils.report.common import extent_in_image

    # CNN_5x5's central unit of its 8x8 map is centred at 17.5 px with a 32 px field: it spans
    # 2..33, so 30 px of it (2..31) fall inside a 32 px image, not 32.
    assert extent_in_image(17.5, 32, 32) == 30
    assert extent_in_image(15.5, 32, 32) == 32  # a unit at the image centre: 0..31
    assert extent_in_image(16.0, 5, 32) == 5 and extent_in_image(0.0, 5, 32) == 3


def test_the_registrys_deep_depth_is_the_deep_nets_own_default():
    import inspect

    from models import MODELS
    from utils.sections import DEEP_DEPTH

    for name in ("DeepCNN", "ResidualCNN"):
        assert inspect.signature(MODELS[name]).parameters["depth"].default == DEEP_DEPTH
