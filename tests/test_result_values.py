"""Values a result cannot hold are refused where results are read: the report skips the file
with one warning naming the file and the field, a run sets it aside (kept, renamed) and trains
again, and a model left with no usable result is listed as missing."""
import json
import math
import os

import numpy as np
import pytest

from tests.conftest import result_record
from utils import predictions
from utils.results import BadResult, load_section, read_result, write_json_atomic


def write(folder, record, name=None):
    path = folder / (name or f"{record['name']}__seed{record['seed']}.json")
    write_json_atomic(str(path), record)
    return str(path)


@pytest.mark.parametrize("field, value, phrase", [
    ("test_acc", 1.7, "final.test_acc = 1.7, outside 0..1"),
    ("test_acc", 93.5, "outside 0..1"),               # a percentage
    ("train_acc_eval", -0.1, "outside 0..1"),
    ("test_acc", math.nan, "final.test_acc = nan"),
    ("test_loss", math.inf, "final.test_loss = inf"),
])
def test_impossible_final_values_are_refused_naming_the_field(tmp_path, field, value, phrase):
    path = write(tmp_path, result_record("SimpleCNN", 1, final={field: value}))
    with pytest.raises(BadResult, match=phrase.replace(".", r"\.")):
        read_result(path)


def test_nan_written_by_json_is_read_back_and_refused(tmp_path):
    record = result_record("SimpleCNN", 0)
    path = tmp_path / "SimpleCNN__seed0.json"
    text = json.dumps(record)
    final_at = text.index('"final"')
    path.write_text(text[:final_at] + text[final_at:].replace('"test_acc": 0.5',
                                                               '"test_acc": NaN', 1))
    assert "NaN" in path.read_text()
    with pytest.raises(BadResult, match="final.test_acc = nan"):
        read_result(str(path))


def test_a_seed_that_disagrees_with_the_file_name_or_the_spec_is_named(tmp_path):
    record = result_record("FCNet", 1)
    record["seed"] = 0  # the top-level seed edited, the spec still says 1
    with pytest.raises(BadResult, match="says seed 0 but its spec says 1"):
        read_result(write(tmp_path, record, "FCNet__seed1.json"))
    with pytest.raises(BadResult, match="holds FCNet seed 2 under the name FCNet__seed1.json"):
        read_result(write(tmp_path, result_record("FCNet", 2), "FCNet__seed1.json"))


def with_predictions(n, right, test_acc, test_size=None):
    labels = np.zeros(n, dtype=int)
    preds = np.where(np.arange(n) < right, 0, 1)
    return result_record("SimpleCNN", 0, acc=test_acc, test_size=test_size or n,
                         predictions=predictions.encode(labels, preds, np.zeros(n)))


def test_predictions_must_agree_with_the_run_in_count_and_accuracy(tmp_path):
    assert read_result(write(tmp_path, with_predictions(1000, 900, 0.9)))["final"]["test_acc"] \
        == 0.9
    with pytest.raises(BadResult, match="predictions for 900 images, not its 1,000"):
        read_result(write(tmp_path, with_predictions(900, 800, 0.9, test_size=1000)))
    with pytest.raises(BadResult, match="accuracy 0.8000 is not its final.test_acc 0.9000"):
        read_result(write(tmp_path, with_predictions(1000, 800, 0.9)))


def test_a_utf8_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "SimpleCNN__seed0.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(result_record("SimpleCNN", 0)).encode())
    assert read_result(str(path))["name"] == "SimpleCNN"


def test_a_fifo_or_a_huge_file_named_json_is_not_read(tmp_path, capsys, monkeypatch):
    from utils import results

    os.mkfifo(tmp_path / "SimpleCNN__seed0.json")  # open() would block for ever
    write(tmp_path, result_record("SimpleCNN", 1))
    big = tmp_path / "SimpleCNN__seed2.json"
    big.write_text(json.dumps(result_record("SimpleCNN", 2)))
    monkeypatch.setattr(results, "MAX_RESULT_BYTES", 100)
    runs = load_section(str(tmp_path.parent), tmp_path.name)
    assert [r["seed"] for r in runs] == []  # seed 1 and 2 are over the patched 100 bytes too
    err = capsys.readouterr().err
    assert "SimpleCNN__seed0.json is not a regular file" in err
    assert "more than any result" in err


def test_a_skipped_file_warns_once_and_the_report_lists_the_model_as_missing(tmp_path, capsys):
    from utils.report.build import missing_models
    from utils.report.table import Results

    folder = tmp_path / "mnist_comparison"
    for seed in range(3):
        write(folder, result_record("FCNet", seed, acc=0.98, section="mnist_comparison"))
    write(folder, result_record("SimpleCNN", 1, section="mnist_comparison",
                                final={"test_acc": 1.7}))
    results = Results(str(tmp_path))
    assert [r["name"] for r in results.section("mnist_comparison")] == ["FCNet"] * 3
    err = capsys.readouterr().err
    assert err.count("SimpleCNN__seed1.json has final.test_acc = 1.7") == 1
    assert missing_models(results) == {"1.1": ["SimpleCNN", "ResNetLike"]}


def test_bf16_and_float32_runs_are_never_pooled_as_seeds_of_one_configuration(tmp_path, capsys):
    for seed in range(3):
        record = result_record("SimpleCNN", seed, execution={"amp": seed == 2})
        write(tmp_path, record)
    runs = load_section(str(tmp_path.parent), tmp_path.name)
    assert [r["seed"] for r in runs] == [0, 1]
    assert "SimpleCNN__seed2 was trained with another recipe" in capsys.readouterr().err
