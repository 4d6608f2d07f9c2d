"""Every model trains under bf16 autocast (the cuda default with --amp auto), tested on the CPU:
the custom Functions must compute in one dtype inside and hand back gradients in their inputs'
dtypes; they keep their input's memory format and refuse second derivatives."""
import pytest
import torch
from torch.nn import functional as F

from homework_custom_layers_experiments import SWAPS
from models import MODELS, build_model
from models.custom_layers import MixPool2d, SEAttention, SwishBeta, WSConv2d

MNIST_MODELS = {"FCNet", "SimpleCNN", "ResNetLike", "SwappableCNN", "StandardCNN",
                "CNNWithCustomLayers", "LocallyConnectedCNN"}
CASES = [(name, {}) for name in MODELS] + [(f"SwappableCNN/{n}", kw) for n, kw in SWAPS.items()]


def one_bf16_step(model, shape):
    torch.manual_seed(0)
    x, y = torch.randn(4, *shape), torch.randint(0, 10, (4,))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = F.cross_entropy(model(x).float(), y)
    loss.backward()
    return loss


@pytest.mark.parametrize("name, kwargs", CASES, ids=[c[0] for c in CASES])
def test_every_model_and_swap_trains_one_step_under_bf16_autocast(name, kwargs):
    model_name = name.split("/")[0]
    model = build_model(model_name, **kwargs).train()
    shape = (1, 28, 28) if model_name in MNIST_MODELS else (3, 32, 32)
    loss = one_bf16_step(model, shape)
    assert torch.isfinite(loss)
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None for g in grads)
    for p in model.parameters():  # gradients come back in the parameters' own dtype
        assert p.grad.dtype == p.dtype == torch.float32
        assert torch.isfinite(p.grad).all()


LAYERS = {"WSConv2d": lambda: WSConv2d(4, 4, 3, padding=1), "SEAttention": lambda: SEAttention(4, 2),
          "SwishBeta": SwishBeta, "MixPool2d": lambda: MixPool2d(2)}


@pytest.mark.parametrize("layer", LAYERS)
def test_a_bf16_input_gets_a_bf16_gradient_close_to_the_float32_one(layer):
    torch.manual_seed(0)
    module = LAYERS[layer]()
    x32 = torch.randn(2, 4, 8, 8, requires_grad=True)
    x16 = x32.detach().bfloat16().requires_grad_(True)
    module(x32).square().sum().backward()
    module.zero_grad()
    out16 = module(x16)
    assert out16.dtype == torch.bfloat16
    out16.float().square().sum().backward()
    assert x16.grad.dtype == torch.bfloat16
    # bf16 keeps 8 bits of mantissa: agreement to a few per cent, not to float32 precision.
    err = (x16.grad.float() - x32.grad).norm() / x32.grad.norm()
    assert err < 0.05


@pytest.mark.parametrize("layer", LAYERS)
def test_custom_layers_keep_a_channels_last_input_channels_last(layer):
    module = LAYERS[layer]()
    x = torch.randn(2, 4, 8, 8).contiguous(memory_format=torch.channels_last).requires_grad_(True)
    out = module(x)
    # autograd.grad hands back the Function's own gradient (.grad would be re-laid out to x's).
    (grad,) = torch.autograd.grad(out, x, torch.randn_like(out))
    assert grad.is_contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize("layer", LAYERS)
def test_a_second_derivative_raises_instead_of_coming_out_wrong(layer):
    module = LAYERS[layer]().double()
    x = torch.randn(1, 4, 4, 4, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(module(x).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable|does not require grad"):
        torch.autograd.grad(g.sum(), x)


def test_swish_second_derivative_at_half_was_wrong_and_now_refuses():
    # d2/dx2 of x*sigmoid(x) at 0.5 is 0.4412 (F.silu); the old hand-written backward gave 0.2350.
    x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(F.silu(x), x, create_graph=True)
    (h,) = torch.autograd.grad(g, x)
    assert abs(h.item() - 0.4412) < 1e-4
    (g2,) = torch.autograd.grad(SwishBeta(1.0).double()(x), x, create_graph=True)
    with pytest.raises(RuntimeError):
        torch.autograd.grad(g2, x)


def test_layers_accept_the_argument_forms_of_their_standard_analogues():
    x = torch.randn(1, 3, 9, 9, requires_grad=True)
    same = WSConv2d(3, 5, 3, padding="same")
    assert same(x).shape == torch.nn.Conv2d(3, 5, 3, padding="same")(x).shape
    same(x).sum().backward()
    assert WSConv2d(3, 5, 3, padding="valid")(x).shape == (1, 5, 7, 7)
    with pytest.raises(ValueError, match="padding='same'"):
        WSConv2d(3, 5, 4, padding="same")
    pooled = MixPool2d((3, 2))(x)
    assert pooled.shape == torch.nn.MaxPool2d((3, 2))(x).shape
    pooled.sum().backward()
    with pytest.raises(ValueError, match="kernel_size"):
        MixPool2d(0)
