"""The results table reads each result file of a results folder once for a whole report build:
the plots of a script's sections, every section of REPORT.md, the findings and departures."""
import builtins
import collections
import os
import shutil

from tests.conftest import ROOT
from utils.sections import TASK1


def counting_opens(monkeypatch):
    opens = collections.Counter()
    real_open = builtins.open

    def counting(file, *args, **kwargs):
        if str(file).endswith(".json"):
            opens[os.path.realpath(str(file))] += 1
        return real_open(file, *args, **kwargs)
    monkeypatch.setattr(builtins, "open", counting)
    return opens


def test_a_report_build_opens_each_result_file_once(tmp_path, monkeypatch):
    from utils.report import build as report

    results = tmp_path / "results"
    shutil.copytree(os.path.join(ROOT, "results", "quick"), results,
                    ignore=shutil.ignore_patterns("logs", ".checkpoints"))
    files = [os.path.realpath(p) for p in map(str, results.glob("*/*.json"))]
    opens = counting_opens(monkeypatch)
    report.build(TASK1, str(results), str(tmp_path / "plots"))
    assert len(files) >= 50 and (results / "REPORT.md").exists()
    assert {opens[f] for f in files} == {1}


def test_runs_group_by_name_over_seeds_in_the_registry_order_unknown_names_last():
    from utils.report.runs import group_by_name

    runs = [{"name": n, "seed": s} for n, s in
            [("Zeta", 1), ("Beta", 2), ("Alpha", 0), ("Beta", 0), ("Zeta", 0), ("Gamma", 0)]]
    groups = group_by_name(runs, order=["Gamma", "Zeta"])
    assert list(groups) == ["Gamma", "Zeta", "Alpha", "Beta"]
    assert [r["seed"] for r in groups["Zeta"]] == [0, 1]
    assert [r["seed"] for r in groups["Beta"]] == [0, 2]
    assert list(group_by_name(runs)) == ["Alpha", "Beta", "Gamma", "Zeta"]
    assert group_by_name([]) == {}


def test_group_runs_sorts_then_groups_by_columns_with_plain_python_keys():
    from utils.report.runs import group_runs

    runs = [{"depth": d, "bn": bn, "seed": s} for d, bn, s in
            [(20, True, 1), (8, False, 0), (20, True, 0), (8, True, 0)]]
    groups = group_runs(runs, {"depth": lambda r: r["depth"], "bn": lambda r: r["bn"]},
                        sort={"depth": lambda r: r["depth"], "seed": lambda r: r["seed"]})
    assert list(groups) == [(8, False), (8, True), (20, True)]
    assert [r["seed"] for r in groups[(20, True)]] == [0, 1]
    assert all(type(d) is int and type(bn) is bool for d, bn in groups)
    # Without a sort the groups keep the order the runs first show them.
    assert list(group_runs(runs, {"bn": lambda r: r["bn"]})) == [True, False]
