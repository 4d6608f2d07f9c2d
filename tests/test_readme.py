"""README's measured numbers are generated from the committed result files, never typed."""
import pytest

from tests.conftest import result_record
from utils.report import readme


def test_readme_generated_blocks_match_the_result_files():
    assert readme.main(["--check"]) == 0


def test_render_fills_a_marked_block_and_leaves_prose_alone(tmp_path):
    text = "prose\n<!-- generated:headline -->\nstale\n<!-- /generated:headline -->\nmore\n"
    out = readme.render(text, root=str(tmp_path))
    assert out.startswith("prose\n") and out.endswith("more\n")
    assert "stale" not in out and "No finished runs yet." in out


def _write_run(root, folder, name, seed, acc):
    import json
    path = root / folder
    path.mkdir(parents=True, exist_ok=True)
    (path / f"{name}__seed{seed}.json").write_text(
        json.dumps(result_record(name, seed, acc)))


def _write_run_timed(root, folder, name, seed, wall_s):
    import json
    path = root / folder
    path.mkdir(parents=True, exist_ok=True)
    (path / f"{name}__seed{seed}.json").write_text(json.dumps(result_record(
        name, seed, 0.98, final={"wall_time_s": wall_s})))


def test_headline_judges_each_target_on_the_mean_over_seeds(tmp_path):
    # FCNet's target is 0.982: seeds 0.985 and 0.978 average 0.9815, which misses it.
    _write_run(tmp_path / "results", "mnist_comparison", "FCNet", 0, 0.985)
    _write_run(tmp_path / "results", "mnist_comparison", "FCNet", 1, 0.978)
    _write_run(tmp_path / "results", "mnist_comparison", "SimpleCNN", 0, 0.9925)
    _write_run(tmp_path / "results" / "quick", "mnist_comparison", "FCNet", 0, 0.95)
    for name, acc in (("CNN_3x3", 0.58), ("CNN_5x5", 0.61)):
        _write_run(tmp_path / "results", "kernel_size", name, 0, acc)
    rows = {r["model"]: r for r in readme.headline(readme.tables_of(str(tmp_path)))}
    fc, cnn, best = rows["FCNet"], rows["SimpleCNN"], rows["best kernel variant"]
    assert (fc["reference"], fc["target"]) == (0.9806, 0.982)
    assert fc["full"] == [0.985, 0.978] and fc["acc"] == pytest.approx(0.9815)
    assert fc["meets"] is False and fc["quick"] == [0.95]
    assert cnn["acc"] == 0.9925 and cnn["meets"] is True and cnn["quick"] == []
    assert (best["ours"], best["theirs"], best["reference"]) == ("CNN_5x5", "CNN_5x5", 0.5503)
    assert best["acc"] == 0.61 and best["target"] == 0.6 and best["meets"] is True
    # The table prints those numbers, one row a model.
    table = readme.headline_table(root=str(tmp_path))
    assert table.count("\n") == 2 + len(rows) - 1
    # each profile's column says how long its runs trained (here one epoch each)
    assert "| full profile (1 epoch) |" in table and "| quick profile (1 epoch) |" in table


def test_recipe_candidates_count_in_the_timings_but_never_in_the_headline(tmp_path):
    import json
    folder = tmp_path / "results" / "mnist_recipe"
    folder.mkdir(parents=True)
    (folder / "FCNet_cosine__seed0.json").write_text(json.dumps(result_record(
        "FCNet_cosine", 0, 0.99, hyperparameters={"epochs": 10},
        final={"wall_time_s": 120.0, "train_time_s": 100.0, "time_per_epoch_s": 10.0},
        environment={"device_name": "a CPU", "threads": 2})))
    tables = readme.tables_of(str(tmp_path))
    (row,), totals = readme.timings(tables)
    assert (row["section"], row["profile"], row["runs"], row["epochs"]) == \
        ("1.1-recipe (validation)", "full", 1, 10)
    assert row["minutes"] == pytest.approx(2.0) and row["slowest"] == ("FCNet_cosine", 10.0, None)
    assert totals == {"full": {"runs": 1, "minutes": pytest.approx(2.0)}}
    assert readme.headline(tables) == []


def test_quick_wall_block_states_the_measured_time_and_the_slower_machine_estimate(tmp_path):
    from utils.results import write_json_atomic

    assert "Not measured yet" in readme.quick_wall_block(str(tmp_path))
    write_json_atomic(str(tmp_path / "results" / "benchmarks" / "quick_wall.json"), {
        "total_wall_s": 600.0, "runs": 40, "matmul_peak_gflops": 150.0,
        "environment": {"cpu": "cpu A", "threads": 2, "date": "2026-12-02T06:00:00+00:00"},
        "scripts": [{"script": "a.py", "wall_s": 240.0}, {"script": "b.py", "wall_s": 360.0}],
        "epoch_time_ratio_to_committed": {"runs_compared": 3, "median": 1.2, "min": 1.1,
                                          "max": 1.4},
        "slower_machine": {"factor": 1.8, "estimated_wall_s": 1080.0}})
    record = readme.read_json(str(tmp_path / "results" / "benchmarks" / "quick_wall.json"))
    full = readme.tables_of(str(tmp_path))["full"]
    q = readme.quick_wall(record, full)
    assert q["minutes"] == 10.0 and q["script_minutes"] == {"a.py": 4.0, "b.py": 6.0}
    assert q["within_budget"] and q["slower_minutes"] == 18.0 and q["slower_within_budget"]
    assert q["concurrent"] is None
    assert "Not yet measured with `--workers 2`" in readme.quick_wall_block(str(tmp_path))
    record["concurrent"] = {"workers": 2, "total_wall_s": 450.0, "speedup": 600 / 450}
    side = readme.quick_wall(record, full)["concurrent"]
    assert side["minutes"] == 7.5 and side["speedup"] == pytest.approx(1.333, abs=1e-3)
    assert side["full_hours"] is None  # no committed full-profile runs yet
    # The full study's estimate: its committed runs' wall time (here 2 h + 1 h) over the speed-up.
    for seed, hours in ((0, 2.0), (1, 1.0)):
        _write_run_timed(tmp_path / "results", "mnist_comparison", "FCNet", seed, hours * 3600)
    full = readme.tables_of(str(tmp_path))["full"]
    assert readme.quick_wall(record, full)["concurrent"]["full_hours"] == \
        (pytest.approx(3.0), pytest.approx(2.25))
    record["concurrent"]["speedup"] = 0.97  # side by side did not pay on that machine
    write_json_atomic(str(tmp_path / "results" / "benchmarks" / "quick_wall.json"), record)
    assert "took 7.5 min: no faster (**0.97×**)" in readme.quick_wall_block(str(tmp_path))
    # With a thread-scaling record the block gives the bound, net by net, from that record.
    assert "bounded net by net" not in readme.quick_wall_block(str(tmp_path))
    write_json_atomic(str(tmp_path / "results" / "benchmarks" / "thread_scaling.json"), {
        "cores": 2, "environment": {"cpu": "cpu A", "date": "2026-12-03T06:00:00+00:00"},
        "cases": [{"case": "FCNet", "ratio": 1.154}, {"case": "ResNetCIFAR", "ratio": 0.987}]})
    assert ("bounded net by net: 2 one-thread runs at once train FCNet 1.15×, ResNetCIFAR 0.99× "
            "the images per second of one 2-thread run" in readme.quick_wall_block(str(tmp_path)))
    # A record of fewer runs than the quick profile has now predates some of them and says so.
    assert "before the quick profile became" not in readme.quick_wall_block(str(tmp_path))
    for seed in range(2):
        _write_run_timed(tmp_path / "results" / "quick", "mnist_comparison", "FCNet", seed, 60.0)
    assert readme.quick_wall(record, full, readme.tables_of(str(tmp_path))["quick"])[
        "now_runs"] == 2
    assert ("took **10.0 min** for 40 runs (before the quick profile became the 2 runs it is "
            "now" in readme.quick_wall_block(str(tmp_path)))


def test_a_section_finished_on_two_machines_names_both_with_their_runs():
    def run(machine):
        return {"environment": {"device_name": machine, "threads": 2}}
    assert readme.machines([run("AMD EPYC")] * 2) == "AMD EPYC, 2 threads"
    assert readme.machines([run("AMD EPYC")] * 2 + [run("Intel Xeon")]) == (
        "AMD EPYC, 2 threads (2 runs); Intel Xeon, 2 threads (1 run)")


def test_readme_reads_the_results_folders_it_is_given(tmp_path):
    """The folders come from arguments (--results, --quick-results), never from a name guessed
    inside: runs in another folder count only when that folder is named."""
    _write_run(tmp_path / "elsewhere", "mnist_comparison", "FCNet", 0, 0.985)
    _write_run(tmp_path / "elsewhere", "mnist_comparison", "FCNet", 1, 0.987)
    assert readme.headline(readme.tables_of(str(tmp_path))) == []
    rows = readme.headline(readme.tables_of(str(tmp_path), {"full": "elsewhere"}))
    assert [(r["model"], r["full"]) for r in rows] == [("FCNet", [0.985, 0.987])]
