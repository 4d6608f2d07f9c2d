"""Learning on the real datasets (skipped when DATA_ROOT holds none)."""
from tests.conftest import needs_cifar, needs_mnist, real_data_root
from utils.train.data import load_split
from utils.train.runner import Run, RunSpec


@needs_mnist
def test_real_mnist_matches_its_published_facts():
    train = load_split("mnist", real_data_root(), train=True)
    assert train.images.shape == (60_000, 1, 28, 28)
    assert train.labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert abs(train.images.float().mean().item() / 255 - 0.1307) < 1e-3


@needs_cifar
def test_real_cifar_matches_its_published_facts():
    train = load_split("cifar10", real_data_root(), train=True)
    assert train.images.shape == (50_000, 3, 32, 32)
    means = train.images.float().mean((0, 2, 3)) / 255
    assert all(abs(m - e) < 1e-3 for m, e in zip(means.tolist(), (0.4914, 0.4822, 0.4465)))


@needs_mnist
def test_fcnet_learns_real_mnist_from_a_few_thousand_images(tmp_path):
    data = (load_split("mnist", real_data_root(), True), load_split("mnist", real_data_root(),
                                                                    False))
    spec = RunSpec(name="FCNet", section="real", model="FCNet", dataset="mnist", epochs=2,
                   train_subset=5000, test_subset=2000, inference_batch=64)
    result = Run(spec, data, "cpu", str(tmp_path / "r"), str(tmp_path / "c"),
                 progress=False).execute()
    assert result["final"]["test_acc"] >= 0.90
