"""Markdown building blocks and the analyses the task sections share (utils/report/build.py
assembles REPORT.md from the sections).

The report is a pure function of the result JSON: regenerating it from unchanged files gives
the same bytes.
"""
import os
import statistics
import urllib.parse
from types import SimpleNamespace

from utils.markdown import md_table
from utils.report.gradient_flow import (flow_ratio, largest_step, layer_names,
                                        signal_ratio)
from utils.report.runs import final, gap_of
from utils.report.verdicts import (FLOW_FACTOR, NOT_RECORDED, STEP_LIMIT,
                                   flow_verdict)
from utils.report.overfitting import trends


def interval_text(value, low, high, signed=True, digits=4, size_only=False):
    """'+0.0084 [+0.0071, +0.0096]': a number and its 95 % interval, as every table and
    sentence of the report prints them (signed for differences, plain for accuracies;
    size_only: the difference's size where a verb gives its direction, "fell by 0.0084 [...]",
    the bounds still signed)."""
    # + 0.0 turns a value that rounds to -0 into 0, so a tie never prints as "-0.0000"
    value, low, high = (round(x, digits) + 0.0 for x in (value, low, high))
    f = "{:%s.%df}" % ("+" if signed else "", digits)
    shown = f"{abs(value):.{digits}f}" if size_only else f.format(value)
    return f"{shown} [{f.format(low)}, {f.format(high)}]"


# How a comparison of another measure than test accuracy names it (utils/report/verdicts.py
# MEASURES).
MEASURE_NAMES = {"shifted": "on shifted images"}


def comparison_name(c):
    """'A − B', with the measure where it is not test accuracy."""
    measure = MEASURE_NAMES.get(c.get("measure"))
    return f"{c['a']} − {c['b']}" + (f" ({measure})" if measure else "")


def mean_std(values, fmt="{:.4f}", with_n=True):
    """'m' for one value, 'm ± s (n=k)' for several (sample std; without the count where the
    table has a seeds column)."""
    if len(values) == 1:
        return fmt.format(values[0])
    return (f"{fmt.format(statistics.mean(values))} ± {fmt.format(statistics.stdev(values))}"
            + (f" (n={len(values)})" if with_n else ""))


def seeds_note(runs):
    """' (mean of k seeds)' where several seeds ran, else ''."""
    return f" (mean of {len(runs)} seeds)" if len(runs) > 1 else ""


def one_seed_note(runs):
    """' (seed s)' where several seeds ran and a statement uses only one of them, else ''."""
    return f" (seed {runs[0]['seed']})" if len(runs) > 1 else ""


def count(n, noun):
    """"1 epoch", "2 epochs": a count with its noun in the right number."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def fmt_int(n):
    return f"{n:,}"


def fmt_macs(n):
    return f"{n / 1e6:.2f} M"


def image(plots_dir, report_dir, rel_path, alt):
    """A markdown image whose path works from the report's folder: computed between the real
    folders (a symlinked results or plots folder is followed, as the file system does for
    '..'), and percent-encoded (a space or a '(' would end a markdown link)."""
    path = os.path.relpath(os.path.realpath(os.path.join(plots_dir, rel_path)),
                           os.path.realpath(report_dir))
    return f"![{alt}]({urllib.parse.quote(path.replace(os.sep, '/'))})"


def environment_lines(runs):
    """One line per distinct (device, torch, threads) the runs were measured on."""
    seen = {}
    for r in runs:
        e = r["environment"]
        key = (e["device_name"], e["torch"], e["threads"])
        seen.setdefault(key, []).append(r["run_id"])
    return [f"- {name}, torch {torch}, {count(threads, 'thread')}: {len(ids)} run(s)"
            for (name, torch, threads), ids in seen.items()]


# --- analyses shared by the tasks: sentences computed from the numbers ---------------------

def full_profile(groups):
    """Whether every run of the groups trained on the full profile: only those compare with the
    reference's accuracies and times (a reduced profile's tables leave them out)."""
    return all(r["profile"] == "full" for runs in groups.values() for r in runs)


def reference_note(groups, text="the reference's numbers beside ours"):
    """' (the reference's numbers beside ours)' for a table that shows them, else ''."""
    return f" ({text})" if full_profile(groups) else ""


def reference_cell(acc, epochs=None, params=None):
    """The reference's accuracy as a table cell, with how its net trained or was built unlike
    ours where its numbers say: '0.7975 (20 epochs, 304,810 params)'; '—' without one."""
    if acc is None:
        return "—"
    unlike = [f"{epochs} epochs"] if epochs else []
    if params:
        unlike.append(f"{fmt_int(params)} params")
    return f"{acc}" + (f" ({', '.join(unlike)})" if unlike else "")


# --- the one table renderer: a table is its rows and a list of columns -----------------------

def table(rows, columns):
    """A markdown table from a column list: (header, cell) pairs, cell(row) giving the row's
    cell; a None in the list is a column this table leaves out."""
    columns = [c for c in columns if c]
    return md_table([h for h, _ in columns], [[cell(row) for _, cell in columns] for row in rows])


def nets(groups):
    """A section's {name: runs} as table rows: .name, .runs, .r0 (the first seed's run)."""
    return [SimpleNamespace(name=name, runs=runs, r0=runs[0]) for name, runs in groups.items()]


# Columns every per-net table shares.
NAME, SEEDS = ("model", lambda n: n.name), ("seeds", lambda n: len(n.runs))
PARAMS, MACS = ("params", lambda n: fmt_int(n.r0["params"])), \
    ("MACs/image", lambda n: fmt_macs(n.r0["macs"]))


def spread(key, fmt="{:.4f}"):
    """A column cell: the final `key` over the net's seeds, mean ± sd."""
    return lambda n: mean_std(final(n.runs, key), fmt, with_n=False)


def reference_columns(reference, name=lambda n: n.name):
    """The published solution's train and test accuracy and train time beside ours, or none;
    the epochs it trained, where its numbers record them."""
    epochs = {v.get("epochs") for v in (reference or {}).values()}
    note = f" ({epochs.pop()} epochs)" if len(epochs) == 1 and None not in epochs else ""
    return [] if not reference else [
        (f"ref. {label}{note}", lambda n, k=key: reference.get(name(n), {}).get(k, "—"))
        for key, label in (("train_acc", "train acc"), ("test_acc", "test acc"),
                           ("train_time_s", "train time, s"))]


def accuracy_table(groups, reference=None):
    """Params, train/test accuracy, gap, training time; the reference's numbers beside ours
    (full profile only). (MACs and time per epoch are in speed_table, not repeated here.)"""
    # rows timed on different machines (or thread counts) each say where
    mixed = len({machine_of(r) for runs in groups.values() for r in runs}) > 1
    return table(nets(groups), [
        NAME, SEEDS, PARAMS, ("train acc (last epoch, running)", spread("train_acc")),
        ("train acc (eval)", spread("train_acc_eval")), ("test acc (mean ± sd)", spread("test_acc")),
        ("gap (eval train − test)", lambda n: mean_std([gap_of(r) for r in n.runs], with_n=False)),
        ("train time, s", lambda n: per_machine(n.runs, "train_time_s", with_n=False,
                                                name_machine=mixed)),
        *reference_columns(reference if full_profile(groups) else None)])


def machine_of(run):
    e = run["environment"]
    return f"{e['device_name']} ({count(e['threads'], 'thread')})"


def by_machine(runs):
    """{machine: [runs]}, in the order the runs first name each machine."""
    out = {}
    for r in runs:
        out.setdefault(machine_of(r), []).append(r)
    return out


def main_machine(runs):
    """The machine most of the runs were measured on (the first named, on a tie), or None: where
    one time per model is wanted, it comes from there, never averaged across machines."""
    machines = by_machine(runs)
    return max(machines, key=lambda m: len(machines[m])) if machines else None


def per_machine(runs, key, fmt="{:.1f}", with_n=True, name_machine=False):
    """A final time of `runs` as mean ± std per machine, never averaged across machines: the
    plain mean_std where all ran on one (with its name when `name_machine`: a table whose rows
    ran on different machines), else each machine's value with its name."""
    groups = {m: final(same, key) for m, same in by_machine(runs).items()}
    if len(groups) == 1 and not name_machine:
        return mean_std(next(iter(groups.values())), fmt, with_n)
    return "; ".join(f"{mean_std(v, fmt)} on {m}" for m, v in groups.items())


def speed_table(groups):
    """Compute and time: MACs, seconds per training epoch, inference latency and throughput.
    Times are never averaged across machines: a model whose seeds ran on several gets a row
    per machine (device and threads)."""
    batches = {r["final"]["inference_throughput_batch"] for runs in groups.values() for r in runs}
    one_batch = f" (batch {next(iter(batches))})" if len(batches) == 1 else ""
    rows = [SimpleNamespace(name=name, runs=same, r0=same[0], machine=machine)
            for name, runs in groups.items() for machine, same in by_machine(runs).items()]
    return table(rows, [
        NAME, SEEDS, MACS, ("s/epoch (train)", spread("time_per_epoch_s", "{:.2f}")),
        ("inference latency, ms (batch 1)", spread("inference_latency_ms", "{:.3f}")),
        (f"inference throughput, img/s{one_batch}", lambda n: spread(
            "inference_throughput_img_s", "{:,.0f}")(n) + ("" if one_batch else
            f" (batch {n.r0['final']['inference_throughput_batch']})")),
        ("device", lambda n: n.machine)])


def param_table(groups):
    """Where each model keeps its parameters: the largest layer and the conv/linear split."""
    def share(kind):
        return lambda n: f"{sum(p['params'] for p in n.parts if kind(p['type'])) / n.total:.1%}"
    rows = [SimpleNamespace(name=n.name, parts=n.r0["param_breakdown"],
                            total=sum(p["params"] for p in n.r0["param_breakdown"]),
                            biggest=max(n.r0["param_breakdown"], key=lambda p: p["params"]))
            for n in nets(groups) if n.r0.get("param_breakdown")]
    return table(rows, [
        NAME, ("parameters", lambda n: fmt_int(n.total)),
        ("largest layer", lambda n: f"`{n.biggest['name']}` ({n.biggest['type']})"),
        ("its parameters (share)",
         lambda n: f"{fmt_int(n.biggest['params'])} ({n.biggest['params'] / n.total:.0%})"),
        ("in linear layers", share(lambda t: t == "Linear")),
        ("in convolutions", share(lambda t: t.startswith("Conv")))])


def overfitting_table(groups):
    """The overfitting table (utils/report/overfitting.py): per model the generalisation gap at
    the last epoch in loss and accuracy, the loss gap's trend over the last half of training
    with its interval over seeds, its verdict, and where the test loss was lowest."""
    def trend(t):
        m, low, high = t["loss_slope"]
        return ("—" if t["verdict"] == "too few epochs" else f"{m:+.4f}"
                if t["verdict"] == "one seed" else interval_text(m, low, high))
    return table(trends(groups).items(), [
        ("model", lambda nt: nt[0] + seeds_note(groups[nt[0]])),
        ("test − train loss, last epoch", lambda nt: f"{nt[1]['loss_gap']:+.4f}"),
        ("train − test acc (running)", lambda nt: f"{nt[1]['acc_gap']:+.4f}"),
        ("loss gap per epoch, last half [95 % CI]", lambda nt: trend(nt[1])),
        ("gap", lambda nt: nt[1]["verdict"]),
        ("lowest test loss", lambda nt: "last epoch" if nt[1]["lowest_loss_at_end"]
         else "earlier")])


def flow_cell(snapshot, lr):
    """A gradient-flow table cell: the flow ratio and its verdict, the step size beside it when
    that alone makes it exploding (verdicts.flow_verdict)."""
    layers = snapshot["layers"]
    verdict = flow_verdict(layers, lr)
    if verdict == NOT_RECORDED:
        return verdict
    if len(layer_names(layers)) < 3:  # the input layer and one more: nothing to compare
        return "— (one layer after the input layer: no first/last ratio; see the plot)"
    ratio, step = flow_ratio(layers), largest_step(layers, lr)
    text = "—" if ratio is None else f"{ratio:.3g}"
    if step is not None and step >= STEP_LIMIT:
        text += f", step {step:.3g} × ‖w‖"
    return f"{text} ({verdict})"


def signal_cell(run, init):
    """The backpropagated signal at initialisation, first over last hidden layer (RMS of the
    gradient at each layer's output) with its verdict by the flow factor, or 'not recorded'."""
    entry = init.get(f"{run.get('section')}/{run.get('run_id')}")
    if entry is None and run.get("output_gradients"):
        entry = dict(run["output_gradients"][0], batch=run["spec"]["batch_size"])
    ratio = signal_ratio(entry, entry.get("batch", 1)) if entry else None
    if ratio is None:
        return "not recorded"
    verdict = ("vanishing" if ratio < 1 / FLOW_FACTOR else
               "exploding" if ratio > FLOW_FACTOR else "steady")
    return f"{ratio:.3g} ({verdict})"


def gradient_flow_table(groups, init=None):
    """Per model: the backpropagated signal at initialisation (the gradient at each layer's
    output, first over last hidden layer), then the relative update size ‖g‖/‖w‖ (first over
    last main-path layer) at the first, middle and last sampled step, each with its verdict;
    one rule for every section."""
    def at(pick):
        return lambda n: flow_cell(pick(n.r0["gradient_flow"]), n.r0["spec"]["lr"])
    return table([n for n in nets(groups) if n.r0["gradient_flow"]], [
        ("model", lambda n: n.name + one_seed_note(n.runs)),
        ("weight layers", lambda n: len(layer_names(n.r0["gradient_flow"][0]["layers"]))),
        ("backprop signal at init, first / last layer", lambda n: signal_cell(n.r0, init or {})),
        ("relative update size, first sampled step", at(lambda s: s[0])),
        ("middle", at(lambda s: s[len(s) // 2])), ("last", at(lambda s: s[-1]))])


def extent_in_image(centre, rf, size):
    """Pixels of an analytic field of `rf` pixels centred at `centre` (input-pixel coordinate)
    that fall inside an image of `size` pixels, along one axis: a unit off the image's centre
    loses more on one side than the other."""
    low, high = centre - (rf - 1) / 2, centre + (rf - 1) / 2
    return max(0, int(min(size - 1, high) - max(0, low) + 1))
