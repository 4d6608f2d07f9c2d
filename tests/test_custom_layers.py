"""Every custom layer's hand-written backward: gradcheck in float64, and equal outputs and
gradients against its pure-autograd twin on several shapes (batch 1, odd spatial sizes)."""
import pytest
import torch
from torch.autograd import gradcheck

from models.custom_layers import (MixPool2d, MixPoolFunction, SEAttention, SEFunction, SwishBeta,
                                  SwishBetaFunction, WSConv2d, WSConv2dFunction, standardise)
from models import autograd_twins as twin

SHAPES = [(1, 3, 5, 5), (2, 4, 7, 9), (3, 2, 8, 6)]


def f64(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64).requires_grad_(True)


def ws_case(shape, stride=1, padding=1):
    n, c, h, w = shape
    return (f64(*shape), f64(5, c, 3, 3, seed=1), f64(5, seed=3), f64(5, seed=2),
            (stride, stride), (padding, padding))


def se_case(shape):
    n, c, h, w = shape
    r = max(1, c // 2)
    return f64(*shape), f64(r, c, seed=1), f64(r, seed=2), f64(c, r, seed=3), f64(c, seed=4)


def swish_case(shape):
    return f64(*shape), torch.tensor(0.7, dtype=torch.float64, requires_grad=True)


def mixpool_case(shape):
    # Distinct values in every window: max pooling is differentiable away from ties.
    x = (torch.randperm(torch.Size(shape).numel(), generator=torch.Generator().manual_seed(0))
         .double().view(shape) / 10).requires_grad_(True)
    return x, torch.tensor(0.3, dtype=torch.float64, requires_grad=True), 2


CASES = {
    "WSConv2d": (WSConv2dFunction.apply, twin.ws_conv2d, ws_case),
    "SEAttention": (SEFunction.apply, twin.se_attention, se_case),
    "SwishBeta": (SwishBetaFunction.apply, twin.swish_beta, swish_case),
    "MixPool2d": (MixPoolFunction.apply, twin.mix_pool, mixpool_case),
}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("layer", CASES)
def test_hand_written_backward_passes_gradcheck(layer, shape):
    fn, _, make = CASES[layer]
    assert gradcheck(fn, make(shape), eps=1e-6, atol=1e-5, rtol=1e-4)


def test_ws_conv_gradcheck_with_stride_two_and_no_padding():
    assert gradcheck(WSConv2dFunction.apply, ws_case((2, 3, 9, 7), stride=2, padding=0),
                     eps=1e-6, atol=1e-5)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("layer", CASES)
def test_outputs_and_gradients_equal_the_autograd_twin(layer, shape):
    fn, reference, make = CASES[layer]
    inputs = make(shape)
    twin_inputs = [t.detach().clone().requires_grad_(True) if torch.is_tensor(t) else t
                   for t in inputs]
    out, ref = fn(*inputs), reference(*twin_inputs)
    assert torch.allclose(out, ref, atol=1e-10)
    upstream = torch.randn_like(out)
    grads = torch.autograd.grad(out, [t for t in inputs if torch.is_tensor(t)], upstream)
    ref_grads = torch.autograd.grad(ref, [t for t in twin_inputs if torch.is_tensor(t)],
                                    upstream)
    for g, r in zip(grads, ref_grads):
        assert torch.allclose(g, r, atol=1e-9), layer


def test_modules_own_their_parameters_and_match_standard_shapes():
    conv = WSConv2d(3, 8, 3, padding=1)
    assert [n for n, _ in conv.named_parameters()] == ["weight", "gain", "bias"]
    assert conv(torch.randn(2, 3, 7, 7)).shape == (2, 8, 7, 7)
    se = SEAttention(16, reduction=4)
    assert sum(p.numel() for p in se.parameters()) == 16 * 4 + 4 + 4 * 16 + 16
    assert se(torch.randn(1, 16, 5, 5)).shape == (1, 16, 5, 5)
    assert [n for n, _ in SwishBeta().named_parameters()] == ["beta"]
    pool = MixPool2d(2)
    assert pool(torch.randn(2, 3, 7, 9)).shape == (2, 3, 3, 4)  # floor mode, like MaxPool2d
    assert abs(torch.sigmoid(pool.mix_logit).item() - torch.sigmoid(torch.tensor(2.0)).item()) < 1e-6
    assert MixPool2d((2, 3))(torch.randn(1, 2, 6, 7)).shape == (1, 2, 3, 2)


def test_standardised_kernels_have_zero_mean_and_unit_variance():
    conv = WSConv2d(4, 6, 3)
    w_hat, _ = standardise(conv.weight.detach())
    flat = w_hat.flatten(1)
    assert torch.allclose(flat.mean(1), torch.zeros(6), atol=1e-6)
    # eps = 1e-5 against an initial kernel variance of ~0.01 leaves the variance 0.1 % short of 1.
    assert torch.allclose(flat.var(1, unbiased=False), torch.ones(6), atol=3e-3)


def test_scaled_ws_conv_keeps_the_activation_scale_through_a_deep_stack():
    torch.manual_seed(0)
    x = torch.randn(8, 16, 16, 16)
    for _ in range(8):
        x = torch.relu(WSConv2d(16, 16, 3, padding=1, bias=False)(x))
    # With the ReLU gain the second moment stays near 1 after 8 conv+ReLU layers (with plain
    # unit-variance kernels it would grow ~ (fan-in / 2)^8; with gain sqrt(2), shrink 0.65^8).
    assert 0.3 < x.pow(2).mean().item() < 3


def test_swish_beta_limits():
    x = torch.linspace(-3, 3, 13)
    assert torch.allclose(SwishBeta(1.0)(x), torch.nn.functional.silu(x), atol=1e-6)
    assert torch.allclose(SwishBeta(50.0)(x), torch.relu(x), atol=1e-3)


def test_mix_pool_spans_max_and_average_pooling():
    x = torch.randn(2, 3, 6, 6)
    assert torch.allclose(MixPool2d(2, init_logit=30.0)(x), torch.nn.functional.max_pool2d(x, 2),
                          atol=1e-6)
    assert torch.allclose(MixPool2d(2, init_logit=-30.0)(x),
                          torch.nn.functional.avg_pool2d(x, 2), atol=1e-6)


def test_the_layer_study_measures_twins_memory_and_the_simple_examples():
    from utils.train.layer_study import TwinLayer, run_examples, saved_bytes

    x = torch.randn(2, 4, 6, 6)
    for layer in (WSConv2d(4, 4, 3, padding=1), SEAttention(4, 2), SwishBeta(), MixPool2d(2)):
        assert torch.allclose(TwinLayer(layer)(x), layer(x), atol=1e-5)
    assert saved_bytes(torch.nn.ReLU(), x) == x.numel() * 4  # ReLU keeps its output
    assert saved_bytes(torch.nn.Identity(), x) == 0
    examples = {e["check"]: e for e in run_examples()}
    assert len(examples) == 7
    for e in examples.values():  # eps = 1e-5 leaves the kernel variance 0.1 % short of 1
        assert abs(e["measured"] - e["expected"]) < 3e-3, e["check"]
