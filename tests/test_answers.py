"""REPORT.md, the answers page: each item leads with the net of highest mean accuracy and whom it
beats after Holm, states every comparison with its interval and what it means in test images,
and shows one table of every net of the section; a net added to a section's results joins its
table and changes no sentence about the others."""
import json

from tests.conftest import result_record
from utils.report import answers, compute
from utils.report.table import Results
from utils.report.verdicts import comparisons

# 2.2's nets, three seeds each: (test accuracy per seed, parameters)
DEPTH = {"ShallowCNN": ((0.600, 0.601, 0.599), 20_138),
         "MediumCNN": ((0.753, 0.752, 0.754), 104_042),
         "DeepCNN": ((0.872, 0.874, 0.871), 492_010),
         "ResidualCNN": ((0.873, 0.875, 0.872), 502_634)}


def write(root, name, seed, acc, params, schedule="onecycle", **more):
    folder = root / "depth"
    folder.mkdir(parents=True, exist_ok=True)
    history = [{"epoch": e, "train_loss": 1.0 / e, "test_loss": 1.1 / e, "train_acc": acc,
                "test_acc": acc} for e in range(1, 5)]
    (folder / f"{name}__seed{seed}.json").write_text(json.dumps(result_record(
        name, seed, acc, section="depth", params=params, macs=params * 150, profile="full",
        history=history, hyperparameters={"epochs": 4, "schedule": schedule}, model_kwargs={},
        spec={"name": name, "seed": seed, "optimizer": "sgd", "lr": 0.1},
        final={"train_acc_eval": acc + 0.01}, environment={"device_name": "X", "threads": 2},
        **more)))


def page(root):
    results = Results(str(root))
    return answers.numbers(results, comparisons(results)), \
        answers.render(results, comparisons(results), str(root / "plots"))


def depth_study(root):
    for name, (accs, params) in DEPTH.items():
        for seed, acc in enumerate(accs):
            write(root, name, seed, acc, params)


def test_an_answer_leads_with_the_best_net_and_whom_it_beats_after_holm(tmp_path):
    depth_study(tmp_path)
    numbers, text = page(tmp_path)
    (item,) = numbers["items"]
    assert item["best"]["name"] == "ResidualCNN"
    # its one comparison (with DeepCNN) does not resolve: a tie, not a win
    assert item["beats"] == [] and item["ties"] == ["DeepCNN"]
    # unresolved before any correction: no "after the correction" (that is for one resolved alone)
    assert "ResidualCNN has the highest mean accuracy (0.8733) but cannot be told from " \
        "DeepCNN." in text
    # a resolved difference with its test errors in the order of a − b: MediumCNN − ShallowCNN,
    # Welch over 3 seeds a side (sd 0.001 each: 0.153 ± t(0.975, 4 df) 2.776 × 0.000816)
    assert "MediumCNN − ShallowCNN **+0.1530 [+0.1507, +0.1553]** (test error 24.70 % against " \
        "40.00 %)" in text
    # the size the nets spoken of span, smallest and largest by parameters
    assert (item["smallest"]["params"], item["largest"]["params"]) == (20_138, 502_634)
    table = [line for line in text.splitlines() if line.startswith("| DeepCNN |")]
    # the reference's test accuracy beside ours (a full-profile run)
    assert table == ["| DeepCNN | 3 | 492,010 | 73.80 M | 0.8723 ± 0.0015 | +0.0100 | 0.6872 |"]


def test_a_net_added_by_its_result_file_joins_the_table_and_no_sentence_about_the_others(
        tmp_path):
    depth_study(tmp_path)
    _, before = page(tmp_path)
    write(tmp_path, "MyNet", 0, 0.95, 1_000)  # better and smaller than every declared net
    numbers, after = page(tmp_path)
    assert [line for line in after.splitlines() if line.startswith("| MyNet |")] == \
        ["| MyNet | 1 | 1,000 | 0.15 M | 0.9500 | +0.0100 | — |"]
    # in the section's plot of accuracy against compute
    assert "MyNet" in compute.points(Results(str(tmp_path)).section("depth"))[1]
    prose = [line for line in before.splitlines() if not line.startswith("|")]
    assert prose == [line for line in after.splitlines() if not line.startswith("|")]
    assert numbers["items"][0]["best"]["name"] == "ResidualCNN"


def test_the_report_code_names_no_net_the_registry_declares():
    """Nets reach the report through the registry (utils/sections.py: orders, roles,
    comparisons), so a renamed or added net never leaves a sentence behind."""
    import glob
    import os
    import re

    import models
    from tests.conftest import ROOT
    from utils.sections import SECTIONS

    names = set(models.MODELS) | {n for s in SECTIONS for n in s.order}
    word = re.compile(r"\b(" + "|".join(sorted(map(re.escape, names), key=len, reverse=True))
                      + r")\b")
    report = os.path.join(ROOT, "utils", "report")
    found = [f"{os.path.relpath(path, ROOT)}:{i}: {m}"
             for path in sorted(glob.glob(os.path.join(report, "*.py"))
                                + glob.glob(os.path.join(report, "templates", "*")))
             for i, line in enumerate(open(path, encoding="utf-8"), 1)
             if not line.lstrip().startswith("#") for m in word.findall(line)]
    assert found == []


def test_an_epoch_time_range_names_its_machine_its_seeds_and_the_nets_timed_elsewhere(tmp_path):
    # Times are compared on one machine only (the one most runs used): a net with fewer of its
    # seeds there says so, a net timed only elsewhere is named instead of silently dropped, and
    # the largest seed-to-seed ratio there says what a difference of means is worth.
    depth_study(tmp_path)
    timing = {("ShallowCNN", s): ("Y", 20.0) for s in range(3)}          # elsewhere only
    timing |= {("MediumCNN", 0): ("X", 170.0), ("MediumCNN", 1): ("Y", 50.0),
               ("MediumCNN", 2): ("Y", 60.0)}
    timing |= {("DeepCNN", s): ("X", t) for s, t in enumerate((200.0, 300.0, 250.0))}
    timing |= {("ResidualCNN", s): ("X", 210.0) for s in range(3)}
    for path in (tmp_path / "depth").glob("*.json"):
        record = json.loads(path.read_text())
        machine, seconds = timing[(record["name"], record["seed"])]
        record["environment"]["device_name"] = machine
        record["final"]["time_per_epoch_s"] = seconds
        path.write_text(json.dumps(record))
    numbers, text = page(tmp_path)
    times = numbers["items"][0]["times"]
    assert times["machine"] == "X (2 threads)" and times["elsewhere"] == ["ShallowCNN"]
    assert times["nets"] == {"MediumCNN": 170.0, "DeepCNN": 250.0, "ResidualCNN": 210.0}
    assert times["seeds"]["MediumCNN"] == (1, 3) and times["seeds"]["DeepCNN"] == (3, 3)
    assert times["spread"] == ("DeepCNN", 1.5)
    # a seed that diverged in its first epoch records 0 s: no ratio is taken with it
    zero = tmp_path / "depth" / "DeepCNN__seed2.json"
    record = json.loads(zero.read_text())
    record["final"]["time_per_epoch_s"] = 0.0
    zero.write_text(json.dumps(record))
    assert page(tmp_path)[0]["items"][0]["times"]["spread"] == ("DeepCNN", 1.5)
    assert "170.0 s per epoch (MediumCNN, 1 of its 3 seeds ran there) to 250.0 s (DeepCNN)" \
        in text and "ShallowCNN was timed only on another device or thread count" in text


def test_a_lowest_test_loss_at_the_last_epoch_means_still_improving_only_at_a_constant_rate(
        tmp_path):
    # Every net's test loss falls to its last epoch (1.1 / epoch). Under onecycle the smallest
    # steps come last, so that says nothing; at a constant rate it says the net still improved.
    depth_study(tmp_path)
    numbers, text = page(tmp_path)
    assert numbers["items"][0]["still_improving"] == [] and "still improving" not in text
    for seed, acc in enumerate(DEPTH["DeepCNN"][0]):
        write(tmp_path, "DeepCNN", seed, acc, DEPTH["DeepCNN"][1], schedule="constant")
    numbers, text = page(tmp_path)
    assert numbers["items"][0]["still_improving"] == ["DeepCNN"]
    assert "1 of 1 nets were still improving (lowest test loss at the last of 4 epochs, at a " \
        "constant learning rate)." in text


def test_the_page_counts_the_results_replaced_after_their_test_accuracy_was_seen(tmp_path):
    depth_study(tmp_path)
    (tmp_path / "superseded").mkdir()
    (tmp_path / "superseded" / "index.json").write_text(json.dumps({"runs": [
        {"file": "a.json"}, {"file": "b.json"}, {"file": "c.json", "kind": "rerun"}]}))
    numbers, text = page(tmp_path)
    assert numbers["replaced"] == 2
    assert "the\n2 final results replaced after their test accuracy was seen" in text


def test_the_reference_column_says_where_the_references_net_was_built_or_trained_unlike_ours():
    def runs(name, params):
        return [result_record(name, seed, 0.80, params=params, hyperparameters={"epochs": 10},
                              spec={"optimizer": "sgd", "lr": 0.1}) for seed in range(3)]
    reference = {"BasicResNet": {"test_acc": 0.7975, "params": 304_810, "epochs": 20},
                 "FCNet": {"test_acc": 0.9806, "params": 567_434, "epochs": 10}}
    nets = [answers._net("BasicResNet", runs("BasicResNet", 78_042), reference),
            answers._net("FCNet", runs("FCNet", 567_434), reference)]
    cells = [line.rsplit("|", 2)[1].strip() for line in
             answers.item_table({"nets": nets}).splitlines()[2:]]
    # a larger net trained twice as long; the same net at the same epochs needs no note
    assert cells == ["0.7975 (20 epochs, 304,810 params)", "0.9806"]


def test_the_skips_effect_names_the_depth_it_was_measured_at_from_the_plain_nets_layers(
        tmp_path):
    depth_study(tmp_path)
    _, text = page(tmp_path)
    assert "the\nskips' effect at this depth. Keep" in text  # no layer record: no depth said
    layers = [{"name": f"conv{i}", "type": "Conv2d", "params": 10} for i in range(3)] + \
        [{"name": "fc", "type": "Linear", "params": 10}]
    for seed, acc in enumerate(DEPTH["DeepCNN"][0]):
        write(tmp_path, "DeepCNN", seed, acc, DEPTH["DeepCNN"][1], param_breakdown=layers)
    _, text = page(tmp_path)
    assert "the\nskips' effect at this depth (3 conv layers). Keep" in text
