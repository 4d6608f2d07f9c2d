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
from utils.markdown import md_table
from utils.report.common import by_machine, count, main_machine, mean_std
from utils.report.runs import final, group_by_name, mean, wall_time_s
from utils.results import read_json
from utils.report import answers
from utils.report.table import Results
from utils.report.verdicts import comparisons
from utils.sections import SECTIONS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RESULT_DIRS = [("quick", "results/quick"), ("full", "results")]  # (profile, results folder)


def tables_of(root):
    """{profile: its results table}, each folder read once for all of README's blocks."""
    return {profile: Results(os.path.join(root, folder)) for profile, folder in RESULT_DIRS}


def timings(tables):
    """Per section and profile that has runs: the script and section, the number of runs,
    their wall time in minutes (training + evaluation + measuring), the epochs, the slowest
    model (`slowest`) and where the runs were measured; then per profile the totals."""
    rows, totals = [], {}
    # Every section costs time, the recipe ones (scored on validation) and the further studies
    # included; each recipe is listed just before the runs it chose for.
    for section in SECTIONS:
        for profile, _ in RESULT_DIRS:
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
    cells = [[f"`{r['script']}` {r['section']}", r["profile"], r["runs"], f"{r['minutes']:.1f}",
              r["epochs"], _slowest_cell(r["slowest"]), r["machines"]] for r in rows]
    cells += [["**total of the finished runs above**", profile, t["runs"], f"{t['minutes']:.1f}",
               "", "", ""] for profile, t in totals.items()]
    return md_table(["section", "profile", "runs", "wall time, min", "epochs",
                     "slowest model, s/epoch", "measured on"], cells)


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


def _slowest_cell(slowest_model):
    """'<model> 183.0 (AMD EPYC, 2 threads)'."""
    name, seconds, machine = slowest_model
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
                         "target": targets.get(name), "full": accs,
                         "acc": mean(accs) if accs else None,
                         "quick": final(quick.get(name, []), "test_acc")})
        if BEST_KERNEL in targets and full:
            best = max(full, key=lambda n: mean(final(full[n], "test_acc")))
            ref_best = max(reference, key=lambda n: reference[n]["test_acc"])
            rows.append({"section": section.label, "model": BEST_KERNEL, "ours": best,
                         "theirs": ref_best, "reference": reference[ref_best]["test_acc"],
                         "target": targets[BEST_KERNEL], "full": None,
                         "acc": mean(final(full[best], "test_acc")), "quick": None})
    for r in rows:
        r["meets"] = None if r["acc"] is None or r["target"] is None else r["acc"] >= r["target"]
    return rows


def headline_table(root=ROOT, tables=None):
    rows = headline(tables or tables_of(root))
    if not rows:
        return "No finished runs yet."

    def accuracy(accs):
        return mean_std(accs) if accs else "—"
    cells = [[r["section"],
              f"{r['model']} (ours {r['ours']}, the reference's {r['theirs']})" if "ours" in r
              else r["model"],
              "—" if r["reference"] is None else r["reference"],
              f"≥ {r['target']:.3f}" if r["target"] else "—",
              f"{r['acc']:.4f}" if r["full"] is None else accuracy(r["full"]),
              {True: "yes", False: "no", None: "—"}[r["meets"]],
              "—" if r["quick"] is None else accuracy(r["quick"])] for r in rows]
    return md_table(["section", "model", "reference", "target", "full profile",
                     "meets target", "quick profile"], cells)


def benchmark_table(root=ROOT, tables=None):
    from benchmarks.train_throughput import table

    path = os.path.join(root, "results", "benchmarks", "train_throughput.json")
    if not os.path.exists(path):
        return "Not measured yet: run `python -m benchmarks.train_throughput`."
    return table(path)


BUDGET_MIN = 20  # the quick study's wall-time budget on a 2-core CPU (issue 16)


def quick_wall(record, full):
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
           "concurrent": None}
    if side:
        out["concurrent"] = {"workers": side["workers"], "minutes": side["total_wall_s"] / 60,
                             "speedup": side["speedup"],
                             "full_hours": full_study_hours(side, full)}
    return out


def _within(fits):
    return "within" if fits else "over"


def quick_wall_block(root=ROOT, tables=None):
    """The quick study's measured wall time from nothing, and what a slower machine would take."""
    path = os.path.join(root, "results", "benchmarks", "quick_wall.json")
    if not os.path.exists(path):
        return "Not measured yet: run `python -m benchmarks.quick_wall`."
    record = read_json(path)
    q = quick_wall(record, (tables or tables_of(root))["full"])
    env, slower = record["environment"], record["slower_machine"]
    scripts = ", ".join(f"`{s}` {m:.1f}" for s, m in q["script_minutes"].items())
    ratio = record["epoch_time_ratio_to_committed"]
    compared = (f" Its times per epoch were {ratio['median']:.2f}× those of the runs committed "
                f"before it that did the same training work per epoch (median of "
                f"{ratio['runs_compared']}; {ratio['min']:.2f}–{ratio['max']:.2f})."
                if ratio["runs_compared"] else "")
    side = q["concurrent"]
    concurrent = (f" The same study with `--workers {side['workers']}` (one thread a run, right "
                  f"after, same machine) took {side['minutes']:.1f} min: "
                  f"{_speed(side['speedup'])}.{_full_study_sentence(side)}"
                  f"{thread_scaling_sentence(root)}"
                  if side else
                  " Not yet measured with `--workers 2` (`python -m benchmarks.quick_wall "
                  "--workers 2`).")
    return (f"The whole quick study trained from nothing (`python -m benchmarks.quick_wall`: the "
            f"three scripts with `--profile quick` into an empty folder, plots and reports "
            f"included) took **{q['minutes']:.1f} min** for {record['runs']} runs "
            f"on {env['cpu']}, {count(env['threads'], 'thread')} (float32 matmul peak "
            f"{record['matmul_peak_gflops']:.0f} GFLOP/s, measured in the same process); by "
            f"script, in minutes: {scripts}: {_within(q['within_budget'])} the "
            f"{BUDGET_MIN}-minute budget.{compared} On a machine {slower['factor']:g}× slower it "
            f"would take about {q['slower_minutes']:.0f} min, "
            f"{_within(q['slower_within_budget'])} the budget.{concurrent}")


def _speed(ratio):
    """'**1.33×** faster', or, when running side by side did not pay, 'no faster (**0.97×**)'."""
    return f"**{ratio:.2f}×** faster" if ratio >= 1.005 else f"no faster (**{ratio:.2f}×**)"


def full_study_hours(side, full):
    """(sequential, at the --workers ratio): the full study's committed wall time in hours (its
    runs one after another, as recorded) and what it would be at the quick study's measured
    speed-up, an estimate, since the full profile's nets are larger than the quick ones; None
    without committed runs."""
    wall = sum(wall_time_s(r) for section in SECTIONS for r in full.section(section.folder))
    return (wall / 3600, wall / side["speedup"] / 3600) if wall else None


def _full_study_sentence(side):
    if not side["full_hours"]:
        return ""
    sequential, concurrent = side["full_hours"]
    return (f" The full study's committed runs took {sequential:.1f} h one after another; at "
            f"this ratio `--workers {side['workers']}` would take about "
            f"{concurrent:.1f} h (an estimate from the smaller quick nets).")


def thread_scaling_sentence(root=ROOT):
    """What bounds the --workers speed-up on a CPU: the thread-scaling record's ratio per net (images/s
    of one-thread runs at once over one run on every core), which bounds what any launcher can
    gain for such runs on these cores."""
    path = os.path.join(root, "results", "benchmarks", "thread_scaling.json")
    if not os.path.exists(path):
        return ""
    record = read_json(path)
    cores, env = record["cores"], record["environment"]
    ratios = ", ".join(f"{c['case']} {c['ratio']:.2f}×" for c in record["cases"])
    return (f" What running side by side can gain is bounded net by net: {cores} one-thread runs "
            f"at once train {ratios} the images per second of one {cores}-thread run of the "
            f"same quick spec (`python -m benchmarks.thread_scaling`, {env['cpu']}, "
            f"{env['date'][:10]}).")


def drift_block(root=ROOT, tables=None):
    from benchmarks.rerun_drift import table

    path = os.path.join(root, "results", "benchmarks", "rerun_drift.json")
    if not os.path.exists(path):
        return "Not measured yet: run `python -m benchmarks.rerun_drift`."
    return table(path)


def amp_block(root=ROOT, tables=None):
    """The quick study under --amp on (bf16 autocast) against float32, from its record."""
    path = os.path.join(root, "results", "benchmarks", "amp_quick.json")
    if not os.path.exists(path):
        return ("bf16 against float32 on a whole study: not measured yet (`python -m "
                "benchmarks.quick_wall --amp-compare`).")
    r = read_json(path)
    v, env = r["verdicts"], r["environment"]
    return (f"The quick study from nothing under `--amp on` (bf16 autocast) took "
            f"**{r['bf16_over_fp32']:.2f}×** the float32 wall time on {env['cpu']}, "
            f"{count(env['threads'], 'thread')} ({r['wall_s']['bf16'] / 60:.1f} min against "
            f"{r['wall_s']['fp32'] / 60:.1f} min, the two run script by script in turn: "
            f"`python -m benchmarks.quick_wall --amp-compare`), and reached the float32 study's "
            f"verdict on **{v['agree']} of {v['compared']}** comparisons (resolved after Holm "
            f"and which way, or unresolved; {v['resolved_fp32']} resolved in float32, "
            f"{v['resolved_bf16']} in bf16). float32 stays the study's reference.")


def answers_block(root=ROOT, tables=None):
    """The plain answers of the full study (utils/report/answers.py), from its results."""
    results = Results(os.path.join(root, "results"))
    return answers.readme_block(results, comparisons(results))


BLOCKS = {"answers": answers_block, "amp": amp_block, "timings": timing_table, "headline": headline_table, "benchmark": benchmark_table,
          "quick_wall": quick_wall_block, "drift": drift_block}


def render(text, root=ROOT):
    tables = tables_of(root)
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
    args = args.parse_args(argv)
    stale = []
    for name in DOCUMENTS:
        path = os.path.join(ROOT, name)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        new = render(text)
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
