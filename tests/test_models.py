import pytest
import torch

from models import MODELS, build_model
from utils.train.measure import count_macs, count_params

MNIST_SHAPE, CIFAR_SHAPE = (1, 28, 28), (3, 32, 32)


@pytest.mark.parametrize("name, expected", [
    ("FCNet", 567_434), ("SimpleCNN", 241_546), ("ResNetLike", 290_058)])
def test_task1_mnist_models_have_the_reference_parameter_counts(name, expected):
    assert count_params(build_model(name)) == expected


@pytest.mark.parametrize("name, shape", [
    ("FCNet", MNIST_SHAPE), ("SimpleCNN", MNIST_SHAPE), ("ResNetLike", MNIST_SHAPE),
    ("DeepFCNet", CIFAR_SHAPE), ("ResNetCIFAR", CIFAR_SHAPE),
    ("ResNetCIFARRegularized", CIFAR_SHAPE)])
@pytest.mark.parametrize("batch", [1, 3])
def test_every_model_maps_a_batch_to_ten_logits(name, shape, batch):
    model = build_model(name).eval()
    assert model(torch.randn(batch, *shape)).shape == (batch, 10)


def test_resnetlike_strided_blocks_keep_the_parameters_and_cut_compute_about_tenfold():
    strided = count_macs(build_model("ResNetLike"), MNIST_SHAPE)
    full_res = count_macs(build_model("ResNetLike", stride=1), MNIST_SHAPE)
    assert count_params(build_model("ResNetLike", stride=1)) == 290_058
    assert 8 < full_res / strided < 12


def test_macs_of_a_linear_layer_equal_its_weight_count():
    assert count_macs(torch.nn.Linear(100, 10), (100,)) == 1000


def test_regularized_resnet_differs_only_by_dropout():
    plain, reg = build_model("ResNetCIFAR"), build_model("ResNetCIFARRegularized")
    assert count_params(plain) == count_params(reg)
    assert isinstance(reg.dropout, torch.nn.Dropout) and reg.dropout.p == 0.3


def test_unknown_model_name_is_a_clear_key_error():
    with pytest.raises(KeyError, match="unknown model"):
        build_model("NoSuchNet")
    assert "FCNet" in MODELS
