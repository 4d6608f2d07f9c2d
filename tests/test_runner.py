import json
import os

import numpy as np
import pytest
import torch

import models
from utils.train import measure
from utils import predictions
from utils.results import read_json
from utils.train.runner import (CheckpointError, NonFiniteLoss, Run, RunSpec, evaluate,
                                snapshot_steps)

REQUIRED_FIELDS = ["name", "model", "dataset", "profile", "seed", "params", "macs",
                   "hyperparameters", "history", "final", "gradient_flow", "confusion_matrix",
                   "environment"]
HYPER_FIELDS = ["epochs", "batch_size", "optimizer", "lr", "weight_decay", "dropout",
                "augmentation"]
HISTORY_FIELDS = ["train_loss", "train_acc", "test_loss", "test_acc", "epoch_time_s"]
FINAL_FIELDS = ["train_acc", "test_acc", "train_time_s", "inference_latency_ms",
                "inference_throughput_img_s"]
ENV_FIELDS = ["torch", "device_name", "cpu", "threads", "git_commit", "date"]


def spec(**kw):
    base = dict(name="SimpleCNN", section="sec", model="SimpleCNN", dataset="mnist", epochs=2,
                batch_size=64, profile="smoke", inference_batch=32, channels_last=True)
    return RunSpec(**{**base, **kw})


def run(s, data, tmp_path, sub=""):
    return Run(s, data, "cpu", str(tmp_path / sub / "results"), str(tmp_path / sub / "ckpt"),
               progress=False)


def comparable(result):
    """A result without its wall-clock measurements and environment."""
    return {"history": [{k: v for k, v in h.items() if not k.endswith("time_s")}
                        for h in result["history"]],
            "gradient_flow": result["gradient_flow"], "trace": result["trace"],
            "acc": (result["final"]["train_acc_eval"], result["final"]["test_acc"]),
            "confusion": result["confusion_matrix"]}


def test_a_run_writes_one_json_with_every_field_the_report_needs(synthetic_mnist, tmp_path):
    result = run(spec(), synthetic_mnist, tmp_path).execute()
    path = tmp_path / "results" / "sec" / "SimpleCNN__seed0.json"
    on_disk = read_json(path)
    assert on_disk == json.loads(json.dumps(result))
    for key in REQUIRED_FIELDS:
        assert key in on_disk, key
    assert all(k in on_disk["hyperparameters"] for k in HYPER_FIELDS)
    assert len(on_disk["history"]) == 2
    assert all(k in h for h in on_disk["history"] for k in HISTORY_FIELDS)
    assert all(k in on_disk["final"] for k in FINAL_FIELDS)
    assert all(k in on_disk["environment"] for k in ENV_FIELDS)
    assert on_disk["params"] == 241_546 and on_disk["macs"] > 7e6
    cm = on_disk["confusion_matrix"]
    assert len(cm) == 10 and sum(map(sum, cm)) == 200
    snaps = on_disk["gradient_flow"]
    assert len(snaps) == 4 and "features.0.weight" in snaps[0]["layers"]
    first = snaps[0]["layers"]["features.0.weight"]
    assert set(first) == {"mean_abs", "max_abs", "norm", "weight_norm", "numel"}
    assert first["numel"] == 32 * 9
    # mean |g| <= ||g|| / sqrt(n) (the quadratic mean bounds the mean)
    assert first["mean_abs"] <= first["norm"] / first["numel"] ** 0.5 + 1e-12
    assert len(on_disk["trace"]["loss"]) == 2 * 10  # 600 images / 64 per batch = 10 steps


def test_the_clean_train_accuracy_is_measured_on_the_train_eval_subset(synthetic_mnist,
                                                                      tmp_path):
    whole = run(spec(epochs=1), synthetic_mnist, tmp_path, "whole").execute()
    part = run(spec(epochs=1, train_eval_subset=100), synthetic_mnist, tmp_path, "part").execute()
    assert (whole["train_size"], whole["train_eval_size"]) == (600, 600)
    assert (part["train_size"], part["train_eval_size"]) == (600, 100)
    # Training itself is the same run: only the end-of-run measurement looks at fewer images.
    assert part["history"][0]["train_loss"] == whole["history"][0]["train_loss"]
    assert part["hyperparameters"]["train_eval_subset"] == 100
    assert "train_eval_subset" not in whole["hyperparameters"]


def test_the_synthetic_task_is_learned(synthetic_mnist, tmp_path):
    result = run(spec(model="FCNet", name="FCNet", epochs=3), synthetic_mnist, tmp_path).execute()
    assert result["final"]["test_acc"] > 0.9
    assert result["history"][-1]["train_loss"] < result["history"][0]["train_loss"]


def test_same_seed_gives_identical_numbers_and_another_seed_does_not(synthetic_mnist, tmp_path):
    a = run(spec(), synthetic_mnist, tmp_path, "a").execute()
    b = run(spec(), synthetic_mnist, tmp_path, "b").execute()
    c = run(spec(seed=1), synthetic_mnist, tmp_path, "c").execute()
    assert comparable(a) == comparable(b)
    assert comparable(a)["trace"] != comparable(c)["trace"]


def interrupt_in_epoch(monkeypatch, n):
    """Make every Run stop with Ctrl-C as epoch n (1-based) starts; returns the real method."""
    original = Run.train_epoch

    def interrupted(self, epoch):
        if epoch == n - 1:
            raise KeyboardInterrupt
        return original(self, epoch)

    monkeypatch.setattr(Run, "train_epoch", interrupted)
    return original


def test_an_interrupted_run_resumes_to_the_same_result(synthetic_cifar, tmp_path, monkeypatch):
    s = spec(model="ResNetCIFARRegularized", name="Reg", dataset="cifar10", epochs=3,
             augment=True, model_kwargs={"dropout": 0.3}, optimizer="sgd", lr=0.05,
             schedule="onecycle")
    uninterrupted = run(s, synthetic_cifar, tmp_path, "ref").execute()

    original = interrupt_in_epoch(monkeypatch, 3)
    with pytest.raises(KeyboardInterrupt):
        run(s, synthetic_cifar, tmp_path).execute()
    assert not (tmp_path / "results" / "sec" / "Reg__seed0.json").exists()
    assert torch.load(tmp_path / "ckpt" / "sec" / "Reg__seed0.pt",
                      weights_only=True)["state"]["epoch"] == 2

    monkeypatch.setattr(Run, "train_epoch", original)
    resumed_run = run(s, synthetic_cifar, tmp_path)
    assert resumed_run.try_resume() == 2
    resumed = run(s, synthetic_cifar, tmp_path).execute()
    assert comparable(resumed) == comparable(uninterrupted)


def test_a_resume_on_another_device_loads_everything_through_the_cpu(synthetic_cifar, tmp_path,
                                                                    monkeypatch):
    # CI has no GPU: the "meta" device stands in for cuda. A resume that mapped the checkpoint
    # onto the run's device would hand the loader's generator a non-CPU state (cuda: TypeError
    # "RNG state must be a torch.ByteTensor") and copy device tensors into the model.
    s = spec(model="ResNetCIFAR", name="R", dataset="cifar10", epochs=2, augment=True,
             optimizer="sgd", lr=0.05)
    interrupt_in_epoch(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        run(s, synthetic_cifar, tmp_path).execute()
    reference = run(s, synthetic_cifar, tmp_path)
    assert reference.try_resume() == 1
    moved = run(s, synthetic_cifar, tmp_path)
    moved.device = torch.device("meta")
    assert moved.try_resume() == 1
    assert torch.equal(moved.train_loader.generator.get_state(),
                       reference.train_loader.generator.get_state())
    for a, b in zip(moved.model.state_dict().values(), reference.model.state_dict().values()):
        assert a.device.type == "cpu" and torch.equal(a, b)
    momentum = [st["momentum_buffer"] for st in moved.optimizer.state.values()]
    assert momentum and all(m.device.type == "cpu" for m in momentum)


def test_a_checkpoint_of_other_settings_is_not_resumed(synthetic_mnist, tmp_path):
    run(spec(epochs=1), synthetic_mnist, tmp_path).execute()
    assert run(spec(epochs=2), synthetic_mnist, tmp_path).try_resume() == 0


def test_a_corrupt_checkpoint_is_a_clear_error(synthetic_mnist, tmp_path):
    r = run(spec(), synthetic_mnist, tmp_path)
    os.makedirs(os.path.dirname(r.checkpoint_path))
    with open(r.checkpoint_path, "wb") as f:
        f.write(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="delete it"):
        r.execute()


class ExplodingNet(torch.nn.Module):
    """Returns NaN logits from its third forward pass in training mode."""

    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(28 * 28, 10)
        self.calls = 0

    def forward(self, x):
        self.calls += self.training
        out = self.fc(x.flatten(1))
        return out * float("nan") if self.calls >= 3 else out


def test_a_nan_loss_stops_the_run_with_a_clear_message(synthetic_mnist, tmp_path, monkeypatch):
    monkeypatch.setitem(models.MODELS, "ExplodingNet", ExplodingNet)
    with pytest.raises(NonFiniteLoss, match="loss became nan at epoch 1, batch 3"):
        run(spec(model="ExplodingNet", name="Boom", channels_last=False), synthetic_mnist,
            tmp_path).execute()
    assert not (tmp_path / "results" / "sec" / "Boom__seed0.json").exists()


def test_a_sweep_records_divergence_as_its_result(synthetic_mnist, tmp_path, monkeypatch):
    monkeypatch.setitem(models.MODELS, "ExplodingNet", ExplodingNet)
    result = run(spec(model="ExplodingNet", name="Boom", channels_last=False,
                      divergence_is_result=True), synthetic_mnist, tmp_path).execute()
    assert result["diverged"] == {"epoch": 1, "batch": 3, "step": 2}
    assert result["history"] == [] and result["final"]["train_acc"] is None
    assert result["trace"]["loss"][:2] == [pytest.approx(v) for v in result["trace"]["loss"][:2]]
    assert result["trace"]["loss"][2] is None and len(result["trace"]["loss"]) == 3
    on_disk = (tmp_path / "results" / "sec" / "Boom__seed0.json").read_text()
    assert "NaN" not in on_disk and "Infinity" not in on_disk


def test_gradient_snapshots_span_first_to_last_step():
    assert snapshot_steps(100, 4) == [0, 33, 66, 99]
    assert snapshot_steps(1, 4) == [0]


def test_label_smoothing_changes_the_training_loss_only(synthetic_mnist, tmp_path):
    plain = run(spec(model="FCNet", name="FCNet", epochs=1), synthetic_mnist, tmp_path,
                "a").execute()
    smooth = run(spec(model="FCNet", name="FCNet", epochs=1, label_smoothing=0.1),
                 synthetic_mnist, tmp_path, "b").execute()
    # Step 0 sees the same weights and batch: only the loss definition differs.
    assert smooth["trace"]["loss"][0] != plain["trace"]["loss"][0]
    assert smooth["hyperparameters"]["loss"] == "CrossEntropyLoss (label smoothing 0.1)"
    assert plain["hyperparameters"]["loss"] == "CrossEntropyLoss"
    # Evaluation is plain cross-entropy whatever the training loss was.
    r = run(spec(model="FCNet", name="FCNet", epochs=1, label_smoothing=0.1), synthetic_mnist,
            tmp_path, "c")
    loss = evaluate(r.model, r.test_loader).loss
    x, y = next(iter(r.test_loader))
    with torch.no_grad():
        plain_ce = torch.nn.functional.cross_entropy(r.model.eval()(x), y).item()
    assert loss == pytest.approx(plain_ce, rel=1e-5)


def test_a_run_records_each_test_image_prediction_compactly(synthetic_mnist, tmp_path):
    result = run(spec(epochs=1), synthetic_mnist, tmp_path).execute()
    stored = predictions.decode(result["predictions"])
    labels = synthetic_mnist[1].labels.numpy()
    assert stored["label"].tolist() == labels.tolist()  # the split's order (no test subset)
    # the per-image record reproduces the run's own accuracy, confusion matrix and loss
    assert stored["correct"].mean() == pytest.approx(result["final"]["test_acc"], abs=1e-12)
    cm = np.zeros((10, 10), dtype=int)
    np.add.at(cm, (stored["label"], stored["pred"]), 1)
    assert cm.tolist() == result["confusion_matrix"]
    nll = -stored["log_p_true"].astype(np.float64).mean()
    assert nll == pytest.approx(result["final"]["test_loss"], rel=2e-3, abs=1e-4)
    assert 0 <= result["final"]["test_ece"] <= 1


def test_predictions_of_a_full_test_split_fit_in_50_kb():
    g = np.random.default_rng(0)
    labels = g.integers(0, 10, 10_000)
    preds = np.where(g.random(10_000) < 0.9, labels, g.integers(0, 10, 10_000))
    entry = predictions.encode(labels, preds, np.log(g.uniform(0.05, 1, 10_000)))
    assert len(json.dumps(entry)) <= 50_000
    back = predictions.decode(entry)
    assert back["pred"].tolist() == preds.tolist() and back["correct"].mean() > 0.85


def test_calibration_error_of_a_known_case():
    # bin [0.8, 0.867): confidences 0.8 (x2), right once -> |0.5 - 0.8| = 0.3, weight 2/4;
    # bin [0.933, 1]: confidences 1.0 (x2), right twice -> 0, weight 2/4
    ece = measure.calibration_error(torch.tensor([0.8, 0.8, 1.0, 1.0]),
                                    torch.tensor([True, False, True, True]))
    assert ece == pytest.approx(0.15)


def test_a_run_keeps_weights_that_load_back_to_its_test_accuracy(synthetic_mnist, tmp_path):
    from utils.results import weights_path
    from utils.train.trained import load_trained, test_images

    s = spec(section="inductive_bias", name="SimpleCNN_permuted", pixel_permutation=3)
    result = run(s, synthetic_mnist, tmp_path).execute()
    path = tmp_path / "results" / "inductive_bias" / "SimpleCNN_permuted__seed0.json"
    assert "_weights" not in read_json(path)
    assert os.path.exists(weights_path(str(path)))
    model = load_trained("1.3", "SimpleCNN_permuted", 0, results_dir=str(tmp_path / "results"))
    assert not model.training
    loader = test_images("inductive_bias", "SimpleCNN_permuted", 0,
                         results_dir=str(tmp_path / "results"), data=synthetic_mnist)
    assert evaluate(model, loader).acc == result["final"]["test_acc"]


def test_a_finished_run_without_weights_is_still_finished_and_says_how_to_get_them(
        synthetic_mnist, tmp_path):
    from utils.results import weights_path
    from utils.train.cli import finished_result
    from utils.train.trained import NoWeights, load_trained

    s = spec(section="mnist_comparison")
    run(s, synthetic_mnist, tmp_path).execute()
    path = tmp_path / "results" / "mnist_comparison" / "SimpleCNN__seed0.json"
    os.remove(weights_path(str(path)))
    assert finished_result(str(path), s, "label") is not None
    with pytest.raises(NoWeights, match="--force --only SimpleCNN"):
        load_trained("1.1", "SimpleCNN", 0, results_dir=str(tmp_path / "results"))
