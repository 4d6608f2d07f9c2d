"""TensorBoard: a run trained with --tensorboard writes event files as it trains, and the
exporter writes the same tags and values from a finished run's JSON; both read back here."""
import os

import pytest

from utils.train.runner import Run, RunSpec

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402


def scalars(folder):
    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: [(e.step, round(e.value, 5)) for e in acc.Scalars(tag)]
            for tag in acc.Tags()["scalars"]}


def test_a_live_run_and_the_export_of_its_json_give_the_same_scalars(synthetic_mnist, tmp_path):
    from utils.train.export_tensorboard import main as export_main

    spec = RunSpec(name="SimpleCNN", section="mnist_comparison", model="SimpleCNN",
                   dataset="mnist", epochs=2, batch_size=32, profile="smoke", inference_batch=32,
                   grad_snapshots=3)
    result = Run(spec, synthetic_mnist, "cpu", str(tmp_path / "results"), str(tmp_path / "c"),
                 progress=False, tensorboard_dir=str(tmp_path / "live")).execute()
    live = scalars(tmp_path / "live" / "mnist_comparison" / "SimpleCNN" / "seed0")
    assert live["accuracy/test"] == [(1, round(result["history"][0]["test_acc"], 5)),
                                     (2, round(result["history"][1]["test_acc"], 5))]
    assert [s for s, _ in live["step_loss"]] == list(range(0, 2 * 19, 10))  # 600 / 32: 19 a epoch
    assert {"loss/train", "loss/test", "accuracy/train", "lr"} <= set(live)
    assert any(t.startswith("grad_norm/") for t in live)
    assert any(t.startswith("output_grad/") for t in live)

    assert export_main(["--results-dir", str(tmp_path / "results"), "--out",
                        str(tmp_path / "export")]) == 0
    exported = scalars(tmp_path / "export" / "mnist_comparison" / "SimpleCNN" / "seed0")
    assert exported == live


def test_export_of_a_folder_that_does_not_exist_is_one_line(tmp_path, capsys):
    from utils.train.export_tensorboard import main as export_main

    assert export_main(["--results-dir", str(tmp_path / "nope"), "--out", str(tmp_path)]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert not os.listdir(tmp_path)
