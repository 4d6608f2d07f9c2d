"""Regenerates the blocks of README.md and the guides it links to that hold measured numbers, from the result JSON.

    python -m utils.report.readme          # rewrite them in place
    python -m utils.report.readme --check  # exit 1 if either is out of date (used by the tests)

A block sits between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`; everything
outside the markers is hand-written prose.
"""
import argparse
import os
import re
import statistics
import sys
from collections import Counter

from utils.reference import BEST_KERNEL
from utils.report.common import (by_machine, count, main_machine, mean_std,
                                 reference_cell, table)
from utils.report.runs import final, group_by_name, mean, wall_time_s
from utils.results import read_json
from utils.report import answers, words
from utils.report.table import Results
from utils.report.verdicts import comparisons
from utils.sections import SECTIONS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Where each profile's results are unless --results / --quick-results say otherwise.
DEFAULT_FOLDERS = {"quick": os.path.join("results", "quick"), "full": "results"}


def tables_of(root, folders=None):
    """{profile: its results table}, each folder read once for all of README's blocks; folders
    ({profile: path}, relative to root) default to DEFAULT_FOLDERS."""
    folders = {**DEFAULT_FOLDERS, **(folders or {})}
    return {profile: Results(os.path.join(root, folders[profile])) for profile in ("quick", "full")}


def timings(tables):
    """Per section and profile that has runs: the script and section, the number of runs,
    their wall time in minutes (training + evaluation + measuring), the epochs, the slowest
    model (`slowest`) and where the runs were measured; then per profile the totals."""
    rows, totals = [], {}
    # Every section costs time, the recipe ones (scored on validation) and the further studies
    # included; each recipe is listed just before the runs it chose for.
    for section in SECTIONS:
        for profile in ("quick", "full"):
            runs = tables[profile].section(section.folder)
            if not runs:
                continue
            wall = sum(map(wall_time_s, runs))
            n_runs, minutes = totals.get(profile, (0, 0.0))
            totals[profile] = (n_runs + len(runs), minutes + wall / 60)
            rows.append({"script": section.script, "section": section.label,
                         "profile": profile, "runs": len(runs), "minutes": wall / 60,
                         "epochs": runs[0]["hyperparameters"]["epochs"],
                         "slowest": slowest(group_by_name(runs, section.order)),
                         "machines": machines(runs)})
    return rows, {p: {"runs": n, "minutes": m} for p, (n, m) in totals.items()}


def timing_table(root=ROOT, tables=None):
    rows, totals = timings(tables or tables_of(root))
    if not rows:
        return "No finished runs yet."
    rows += [{"script": None, "profile": p, **t} for p, t in totals.items()]
    return table(rows, [
        ("section", lambda r: f"`{r['script']}` {r['section']}" if r["script"] else
         "**total of the finished runs above**"), ("profile", lambda r: r["profile"]),
        ("runs", lambda r: r["runs"]), ("wall time, min", lambda r: f"{r['minutes']:.1f}"),
        ("epochs", lambda r: r.get("epochs", "")),
        ("slowest model, s/epoch", lambda r: _slowest_cell(*r["slowest"]) if r["script"] else ""),
        ("measured on", lambda r: r.get("machines", ""))])


def slowest(groups):
    """(model, s/epoch, machine): the model with the longest mean epoch, each model's mean
    taken on one machine only (the one most of the section's runs used; the report's speed
    tables give every model on every machine); the machine is None where all ran on one."""
    everyone = [r for rs in groups.values() for r in rs]
    machine = main_machine(everyone)
    times = {n: statistics.mean(final(same, "time_per_epoch_s")) for n, rs in groups.items()
             if (same := by_machine(rs).get(machine))}
    name = max(times, key=times.get)
    return name, times[name], machine if len(by_machine(everyone)) > 1 else None


def _slowest_cell(name, seconds, machine):
    """'<model> 183.0 (AMD EPYC, 2 threads)'."""
    return f"{name} {seconds:.1f}" + (f" ({machine})" if machine else "")


def machines(runs):
    """Where the runs were measured: the machine, or each machine with its number of runs when
    a section was finished on another one (its times per epoch then mix the two)."""
    counts = Counter(f"{e['device_name']}, {count(e['threads'], 'thread')}"
                     for e in (r["environment"] for r in runs))
    if len(counts) == 1:
        return next(iter(counts))
    return "; ".join(f"{machine} ({count(n, 'run')})" for machine, n in counts.items())


def headline(tables):
    """Per model of the assignment's sections: the reference's test accuracy, the project's
    target, the full profile's last-epoch test accuracies over seeds and their mean, whether
    that mean meets the target (None without a target or a run), the quick profile's
    accuracies; and per kernel study the best variant, ours against the reference's ("ours",
    "theirs"), judged on its mean."""
    rows = []
    # The assignment's own sections: recipes score on validation, studies have no reference.
    for section in (s for s in SECTIONS if s.kind == "final"):
        full = group_by_name(tables["full"].section(section.folder), section.order)
        quick = group_by_name(tables["quick"].section(section.folder), section.order)
        targets, reference = section.targets, section.reference
        for name in [*full, *(n for n in quick if n not in full)]:
            accs = final(full.get(name, []), "test_acc")
            rows.append({"section": section.label, "model": name,
                         "reference": reference.get(name, {}).get("test_acc"),
                         "reference_epochs": reference.get(name, {}).get("epochs"),
                         "target": targets.get(name), "full": accs,
                         "acc": mean(accs) if accs else None,
                         "quick": final(quick.get(name, []), "test_acc")})
        if BEST_KERNEL in targets and full:
            best = max(full, key=lambda n: mean(final(full[n], "test_acc")))
            ref_best = max(reference, key=lambda n: reference[n]["test_acc"])
            rows.append({"section": section.label, "model": BEST_KERNEL, "ours": best,
                         "theirs": ref_best, "reference": reference[ref_best]["test_acc"],
                         "reference_epochs": reference[ref_best].get("epochs"),
                         "target": targets[BEST_KERNEL], "full": None,
                         "acc": mean(final(full[best], "test_acc")), "quick": None})
    for r in rows:
        r["meets"] = None if r["acc"] is None or r["target"] is None else r["acc"] >= r["target"]
    return rows


def headline_table(root=ROOT, tables=None):
    tables = tables or tables_of(root)
    rows = headline(tables)
    if not rows:
        return "No finished runs yet."

    def epochs(profile):  # what the profile's columns are after: the epochs its runs trained
        e = sorted({len(r["history"]) for s in SECTIONS if s.kind == "final"
                    for r in tables[profile].section(s.folder)})
        return f" ({count(e[0], 'epoch')})" if len(e) == 1 else \
            f" ({'/'.join(map(str, e))} epochs)" if e else ""

    def accuracy(accs):
        return "—" if accs is None else mean_std(accs) if accs else "—"
    return table(rows, [
        ("section", lambda r: r["section"]),
        ("model", lambda r: f"{r['model']} (ours {r['ours']}, the reference's {r['theirs']})"
         if "ours" in r else r["model"]),
        ("reference", lambda r: reference_cell(r["reference"], r["reference_epochs"])),
        ("target", lambda r: f"≥ {r['target']:.3f}" if r["target"] else "—"),
        ("full profile" + epochs("full"),
         lambda r: f"{r['acc']:.4f}" if r["full"] is None else accuracy(r["full"])),
        ("meets target", lambda r: {True: "yes", False: "no", None: "—"}[r["meets"]]),
        ("quick profile" + epochs("quick"), lambda r: accuracy(r["quick"]))])


def benchmark_table(root=ROOT, tables=None):
    from benchmarks.train_throughput import table

    path = os.path.join(root, "results", "benchmarks", "train_throughput.json")
    if not os.path.exists(path):
        return "Not measured yet: run `python -m benchmarks.train_throughput`."
    return table(path)


BUDGET_MIN = 20  # the quick study's wall-time budget on a 2-core CPU (issue 16)


def quick_wall(record, full, quick=None):
    """The quick-wall record's numbers as README states them: minutes in all and per script,
    whether the study and its slower-machine estimate fit the budget, and with a --workers
    measurement its minutes and the full study's committed hours, sequential and at that
    speed-up (`full_study_hours`)."""
    slower, side = record["slower_machine"], record.get("concurrent")
    out = {"minutes": record["total_wall_s"] / 60,
           "script_minutes": {s["script"]: s["wall_s"] / 60 for s in record["scripts"]},
           "within_budget": record["total_wall_s"] <= BUDGET_MIN * 60,
           "slower_minutes": slower["estimated_wall_s"] / 60,
           "slower_within_budget": slower["estimated_wall_s"] <= BUDGET_MIN * 60,
           "concurrent": None,
           # the quick profile's runs now: a record of fewer predates some of them
           "now_runs": sum(len(quick.section(s.folder)) for s in SECTIONS) if quick else None}
    if side:
        out["concurrent"] = {"workers": side["workers"], "minutes": side["total_wall_s"] / 60,
                             "speedup": side["speedup"],
                             "full_hours": full_study_hours(side, full)}
    return out


def quick_wall_block(root=ROOT, tables=None):
    """The quick study's measured wall time from nothing, and what a slower machine would take."""
    record, tables = _record(root, "quick_wall.json"), tables or tables_of(root)
    if record is None:
        return "Not measured yet: run `python -m benchmarks.quick_wall`."
    return words.macro("readme_blocks.md.j2", "quick_wall", r=record, budget=BUDGET_MIN,
                       q=quick_wall(record, tables["full"], tables["quick"]),
                       thread_scaling=_record(root, "thread_scaling.json"))


def _record(root, name):
    """A benchmark's record (results/benchmarks/), or None where it has not been measured."""
    path = os.path.join(root, "results", "benchmarks", name)
    return read_json(path) if os.path.exists(path) else None


def full_study_hours(side, full):
    """(sequential, at the --workers ratio): the full study's committed wall time in hours (its
    runs one after another, as recorded) and what it would be at the quick study's measured
    speed-up, an estimate, since the full profile's nets are larger than the quick ones; None
    without committed runs."""
    wall = sum(wall_time_s(r) for section in SECTIONS for r in full.section(section.folder))
    return (wall / 3600, wall / side["speedup"] / 3600) if wall else None


def drift_block(root=ROOT, tables=None):
    from benchmarks.rerun_drift import table

    path = os.path.join(root, "results", "benchmarks", "rerun_drift.json")
    if not os.path.exists(path):
        return "Not measured yet: run `python -m benchmarks.rerun_drift`."
    return table(path)


def amp_block(root=ROOT, tables=None):
    """The quick study under --amp on (bf16 autocast) against float32, from its record."""
    return words.macro("readme_blocks.md.j2", "amp", r=_record(root, "amp_quick.json"))


def answers_block(root=ROOT, tables=None):
    """The plain answers of the full study (utils/report/answers.py), from its results."""
    results = (tables or tables_of(root))["full"]
    return answers.readme_block(results, comparisons(results))


BLOCKS = {"answers": answers_block, "amp": amp_block, "timings": timing_table,
          "headline": headline_table, "benchmark": benchmark_table,
          "quick_wall": quick_wall_block, "drift": drift_block}


def render(text, root=ROOT, tables=None):
    tables = tables or tables_of(root)
    for name, make in BLOCKS.items():
        pattern = re.compile(rf"(<!-- generated:{name} -->\n).*?(<!-- /generated:{name} -->)",
                             re.S)
        text = pattern.sub(lambda m: m.group(1) + make(root, tables) + "\n" + m.group(2), text)
    return text


# The files whose generated blocks this module keeps current: README and the guides it links
# to (the options' details with the drift table; the speed benchmark with its table).
DOCUMENTS = ["README.md", os.path.join("docs", "USAGE.md"),
             os.path.join("docs", "PERFORMANCE.md")]


def main(argv=None):
    args = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    args.add_argument("--check", action="store_true", help="only say whether it is current")
    args.add_argument("--results", help=f"the full profile's results folder (default: the "
                                        f"repository's {DEFAULT_FOLDERS['full']}/)")
    args.add_argument("--quick-results", help=f"the quick profile's results folder (default: "
                                              f"the repository's {DEFAULT_FOLDERS['quick']}/)")
    args = args.parse_args(argv)
    tables = tables_of(ROOT, {profile: os.path.abspath(folder) for profile, folder in
                              (("full", args.results), ("quick", args.quick_results)) if folder})
    stale = []
    for name in DOCUMENTS:
        path = os.path.join(ROOT, name)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        new = render(text, tables=tables)
        if new == text:
            continue
        stale.append(name)
        if not args.check:
            with open(path, "w", encoding="utf-8") as f:
                f.write(new)
    if args.check and stale:
        print(f"{', '.join(stale)} out of date: run python -m utils.report.readme",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
