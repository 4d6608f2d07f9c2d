"""The command line every task script shares, and the driver that runs its specs.

A task script supplies its sections (name -> function(profile) -> list of RunSpec) and the
function that redraws its plots; this module parses the options, resolves the device, trains
what is missing, and regenerates plots and the report. Every user error ends in one sentence
on stderr and exit code 2; nothing finished is touched.
"""
import argparse
import dataclasses
import datetime
import glob
import os
import signal
import socket
import sys
import uuid
from functools import lru_cache

import torch
from tqdm.auto import tqdm

from utils.train import console, devices
from utils.train.data import DatasetUnavailable, default_data_root, load_split
from utils.train.execution import Execution, configure_backends, resolve_amp
from utils.results import (BadResult, read_json, read_result, run_path, set_aside,
                           write_text_atomic)
from utils.train.locks import RunLocked
from utils.profiles import PROFILES
from utils.train.launch import (Job, LaunchError, Sequential, result_mtime, stop_on_sigterm,
                                was_terminated)
from utils.train.runner import CheckpointError, write_result
from utils.sections import BY_KEY
from utils.supersede import EVIDENCE, missing_evidence, supersede



# A bound on --epochs: the longest run of the study trains 30; a thousand is days of CPU time
# for the smallest net, and a typo of a few extra zeros must not start a run that never ends.
MAX_EPOCHS = 1000
# A bound on --seeds, for the same reason: the study uses 3 (5 in 3.1-paired).
MAX_SEEDS = 1000

# Which profile's results a results folder holds: written on first use, checked on every run,
# so that no profile trains into, or draws its report and plots from, another's folder.
PROFILE_MARKER = "PROFILE"


class UserError(Exception):
    """A problem the user can fix; printed as one sentence, no traceback."""


class _DefaultsHelp(argparse.ArgumentDefaultsHelpFormatter):
    """Shows '(default: X)' only for real values: an option whose default is None or a flag's
    False already says in its help what happens without it."""

    def _get_help_string(self, action):
        if action.default in (None, False):
            return action.help
        return super()._get_help_string(action)


class OneLineParser(argparse.ArgumentParser):
    """argparse whose errors are one line on stderr (exit status 2), like every other error."""

    def error(self, message):
        self.exit(2, f"error: {message} (see --help)\n")


def int_in(low, high=None):
    """An argparse type: an integer in [low, high] (no upper bound when high is None)."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low or (high is not None and value > high):
            bound = f"at least {low}" if high is None else f"between {low:,} and {high:,}"
            raise argparse.ArgumentTypeError(f"must be {bound}, not {value}")
        return value
    parse.__name__ = "integer"
    return parse


def gpu_share(text):
    """An argparse type: a GPU count per run, more than 0 and at most 8."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value <= 8:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 8, not {text}")
    return value


def build_parser(description, sections, extra_options=None):
    p = OneLineParser(description=description, formatter_class=_DefaultsHelp)
    p.add_argument("--section", choices=[*sections, "all"], default="all",
                   help="which part of the task to run")
    p.add_argument("--profile", choices=list(PROFILES), default="full",
                   help="full: the assignment's settings; quick: a documented reduction "
                        "(data subset, fewer epochs) for CPUs; smoke: seconds, for tests")
    p.add_argument("--device", choices=("auto", *devices.KINDS), default="auto",
                   help="auto picks the accelerator torch finds (CUDA, Apple MPS, Intel XPU), "
                        "else the CPU; MPS and XPU have not been measured by this project")
    p.add_argument("--data-dir", default=default_data_root(),
                   help="dataset root in torchvision's layout (env DATA_ROOT)")
    p.add_argument("--results-dir", default=None,
                   help="where result JSON and REPORT.md go (default: results, or "
                        "results/<profile> for quick and smoke)")
    p.add_argument("--compare-with", default=None, metavar="DIR",
                   help="a full study's results folder the report of a reduced profile states "
                        "its agreement with (default for quick and smoke: results, when it "
                        "holds results)")
    p.add_argument("--plots-dir", default=None,
                   help="where PNGs go (default: plots, or plots/<profile> for quick and smoke)")
    p.add_argument("--checkpoint-dir", default=None,
                   help="per-epoch checkpoints (default: <results-dir>/.checkpoints)")
    p.add_argument("--seeds", type=int_in(1, MAX_SEEDS), default=None,
                   help="number of seeds (0..N-1) per run; default 1 (or the section's own)")
    p.add_argument("--epochs", type=int_in(1, MAX_EPOCHS), default=None,
                   help="override the profile's number of epochs (results then say so)")
    p.add_argument("--only", nargs="+", metavar="NAME", default=None,
                   help="run only these models (names as in the report)")
    p.add_argument("--force", action="store_true",
                   help="retrain runs that already finished (with --plan: estimate them too)")
    p.add_argument("--upgrade-evidence", action="store_true",
                   help="retrain finished runs that lack per-image predictions or per-layer "
                        "weight norms (older results); each old file moves to "
                        "<results-dir>/superseded/ once its new one is written; combine with "
                        "--section / --only")
    p.add_argument("--report-only", action="store_true",
                   help="redraw plots and the report from existing JSON; train nothing")
    p.add_argument("--plan", action="store_true",
                   help="print each run, its MACs and its estimated time (from a short timed "
                        "probe on this device), then exit without training")
    p.add_argument("--amp", choices=("auto", "on", "off"), default="auto",
                   help="bf16 autocast: auto = on for a CUDA GPU with bf16, off on the CPU "
                        "(where it is 5-15x slower without native bf16)")
    p.add_argument("--compile", action="store_true",
                   help="torch.compile the model for training (pays a compile time per run)")
    p.add_argument("--deterministic", action="store_true",
                   help="cuda: deterministic kernels and no cuDNN autotuning, so two runs give "
                        "identical numbers (slower; the CPU path is deterministic already)")
    p.add_argument("--threads", type=int_in(1, 1024), default=None,
                   help="torch CPU threads (default: torch's choice)")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.add_argument("--tensorboard", default=None, metavar="DIR",
                   help="write TensorBoard event files while runs train, one folder a run "
                        "under DIR/<section>/<model>/seed<k> (tensorboard --logdir DIR); "
                        "finished runs: python -m utils.train.export_tensorboard")
    p.add_argument("--workers", type=int_in(1, 1024), default=1,
                   help="runs trained at once on this machine through a local Ray cluster "
                        "(1: one after another in this process, without Ray); on a CPU each "
                        "run gets cores / N threads unless --threads says otherwise")
    p.add_argument("--ray-address", default=None, metavar="ADDR",
                   help="send the runs to an existing Ray cluster (e.g. auto, or "
                        "HEAD_IP:6379); results come back here and are written here")
    p.add_argument("--gpus-per-run", type=gpu_share, default=1.0,
                   help="cuda with --workers / --ray-address: the GPUs each run takes "
                        "(0.5 packs two runs on one GPU)")
    if extra_options:
        extra_options(p)
    return p


def resolve_device(name):
    if name == "auto":
        return devices.auto()
    if not devices.available(name):
        raise UserError(f"--device {name} was asked for but this torch sees no {name.upper()} "
                        f"device; use --device cpu (or auto).")
    return name


def resolve_dirs(args):
    sub = "" if args.profile == "full" else args.profile
    args.results_dir = args.results_dir or os.path.join("results", sub)
    args.plots_dir = args.plots_dir or os.path.join("plots", sub)
    args.checkpoint_dir = args.checkpoint_dir or os.path.join(args.results_dir, ".checkpoints")
    if args.compare_with is None and sub and os.path.isdir("results"):
        args.compare_with = "results"
    for d in (args.results_dir, args.plots_dir, args.checkpoint_dir):
        try:
            os.makedirs(d, exist_ok=True)
        except OSError as err:
            raise UserError(f"cannot create {d} ({err.strerror}); choose a writable folder "
                            f"with --results-dir / --plots-dir / --checkpoint-dir.") from err
        if not os.access(d, os.W_OK):
            raise UserError(f"{d} is not writable; choose a writable folder with "
                            f"--results-dir / --plots-dir / --checkpoint-dir.")
    claim_profile(args.results_dir, args.profile)


def claim_profile(results_dir, profile):
    """Record the profile a results folder holds (or, for a folder written before the marker,
    the profile its results say), and refuse a run of another profile in one line."""
    marker = os.path.join(results_dir, PROFILE_MARKER)
    marked = os.path.exists(marker)
    try:
        with open(marker) as f:
            held = f.read().strip()
    except FileNotFoundError:
        held = profile_of_results(results_dir)
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"cannot read {marker} ({type(err).__name__}); it names the profile "
                        f"of the results there: remove it if it is not this study's.") from err
    if held and held != profile:
        raise UserError(f"{results_dir} holds the {held} profile's results ({marker}); a "
                        f"--profile {profile} run would mix them: run with --profile {held} "
                        f"or choose another --results-dir (and --plots-dir).")
    if not marked:
        write_text_atomic(marker, profile + "\n")


def profile_of_results(results_dir):
    """The profile the first result under a folder without a marker was trained in, or None."""
    for path in sorted(glob.glob(os.path.join(results_dir, "*", "*__seed*.json"))):
        try:
            return read_json(path).get("profile")
        except (OSError, ValueError, AttributeError):
            continue
    return None


def is_recipe_section(name):
    """A section that compares candidate recipes on a validation split (utils/train/recipe.py). It
    exists to choose the full profile's recipe, so `--section all` includes it only there;
    any profile runs it when it is named."""
    return name.endswith("-recipe")


def select_specs(args, sections):
    names = [args.section] if args.section != "all" else [
        n for n in sections if args.profile == "full" or not is_recipe_section(n)]
    try:
        specs = [s for n in names for s in sections[n](args)]
    except ValueError as err:  # e.g. a budget no widths can reach
        raise UserError(f"{err}; choose another value.") from err
    if args.epochs is not None:
        specs = [dataclasses.replace(s, epochs=args.epochs) for s in specs]
    if args.only:
        known = sorted({s.name for s in specs})
        unknown = [n for n in args.only if n not in known]
        if unknown:
            raise UserError(f"unknown --only name(s) {', '.join(unknown)}; this selection has: "
                            f"{', '.join(known)}.")
        specs = [s for s in specs if s.name in args.only]
    return specs


def execution_of(args, device):
    return Execution(resolve_amp(args.amp, device), args.compile, args.deterministic)


@lru_cache(maxsize=None)
def cached_dataset(name, root):
    """(train, test) splits of a dataset, read once per process however many runs use it."""
    return load_split(name, root, train=True), load_split(name, root, train=False)


def finished_result(path, spec, label):
    """The finished result for `spec` at `path`, or None. A bad file there is set aside
    (renamed, never deleted) so that the run trains again; a result of other settings is kept."""
    if not os.path.exists(path):
        return None
    try:
        # A run is recognised by its spec: a file without one (an older version's) cannot be
        # matched, so it moves aside, kept, and the run trains again.
        result = read_result(path)
    except BadResult as err:
        print(f"{label}: {err}; moved aside to {set_aside(path)} and retrained")
        return None
    if result["spec"].get("seed") != spec.seed or result["spec"].get("name") != spec.name:
        # another run's file under this run's name (a copy): kept aside, this run trains
        print(f"{label}: the file holds {result['spec'].get('name')} seed "
              f"{result['spec'].get('seed')}, not this run; moved aside to {set_aside(path)} "
              f"and retrained")
        return None
    if not spec.matches(result["spec"]):
        print(f"{label}: finished with other settings; kept (use --force to retrain)")
    return result


def check_models(specs):
    """One line before any training when a model lacks a method its section's analyses call
    (utils/train/analysis.py NEEDS; docs/EXTENDING.md says what a model provides)."""
    from models import MODELS
    from utils.train.analysis import models_lacking

    for (model, analysis), missing in models_lacking(specs, MODELS).items():
        raise UserError(f"{model} has no {', '.join(m + '()' for m in missing)}, which the "
                        f"'{analysis}' analysis of its section calls after training; add it "
                        f"(docs/EXTENDING.md) before training it.")


def check_holdouts(specs, data_dir):
    """A recipe run holds images out of the training split; on a subset too small for that
    (a packed copy of a few thousand images) say so in one line before anything trains."""
    for spec in specs:
        if spec.validation:
            available = len(cached_dataset(spec.dataset, data_dir)[0].labels)
            if spec.validation >= available:
                raise UserError(
                    f"{spec.run_id} holds out {spec.validation:,} validation images, but "
                    f"{spec.dataset.upper()} under {data_dir} has only {available:,} training "
                    f"images (a packed subset?); the recipe sections need the full training "
                    f"split: skip them (--section) or point --data-dir at the whole dataset.")


def upgrade_reason(result, args):
    """With --upgrade-evidence, why a finished result that lacks what this version records
    (per-image predictions, weight norms) is retrained; None when it is kept."""
    missing = missing_evidence(result) if args.upgrade_evidence else []
    if not missing:
        return None
    return "same spec rerun to record " + "; ".join(EVIDENCE[m] for m in missing)


def force_reason(path, spec):
    """Why --force retrains a run, and whether that is a rerun of the same spec or other
    settings replacing a finished result: (reason, kind) for superseded/index.json."""
    try:
        changes = spec.changes(read_result(path)["spec"]) if os.path.exists(path) else {}
    except BadResult:
        changes = {}
    if changes == {}:
        return "retrained with --force", "rerun"
    return ("replaced with --force by other settings: " + ("settings of an older version"
            if changes is None else ", ".join(f"{k} {old} → {new}"
                                              for k, (old, new) in changes.items())), "replaced")


def replace_result(path, result, reason, results_dir, kind="rerun"):
    """Write `result` at `path`; a file already there moves to <results>/superseded/ first (with
    `reason` and `kind`), or aside as <file>.bad-N when it is not readable: nothing is
    overwritten."""
    if os.path.exists(path):
        try:
            read_result(path)
            supersede(results_dir, path, reason, kind)
        except BadResult:
            set_aside(path)
    write_result(path, result)


def train_missing(specs, args, device):
    """Train every spec without a finished JSON (or all with --force) through the launcher the
    options choose; the driver writes each result as it comes back. Returns the failures."""
    labels, pending, reasons, kinds = {}, [], {}, {}
    for i, spec in enumerate(specs, 1):
        label = labels[spec.run_id] = f"[{i}/{len(specs)}] {spec.run_id}"
        path = run_path(args.results_dir, spec.section, spec.run_id)
        if args.force:
            reasons[spec.run_id], kinds[spec.run_id] = force_reason(path, spec)
        else:
            result = finished_result(path, spec, label)
            if result is not None:
                reasons[spec.run_id] = upgrade_reason(result, args)
                if reasons[spec.run_id] is None:
                    continue
                print(f"{label}: {reasons[spec.run_id]}; the old result moves to "
                      f"{os.path.join(args.results_dir, 'superseded')} when the new one is in")
        pending.append(spec)
    check_holdouts(pending, args.data_dir)
    failures, current = [], []

    def on_start(job):
        current[:] = [job.spec.run_id]
        print(f"{labels[job.spec.run_id]}: {job.spec.model} on {job.spec.dataset}, "
              f"{job.spec.epochs} epochs, {device}")

    def on_done(job, result):
        if result is None:
            tqdm.write(f"{labels[job.spec.run_id]}: finished by another process on this "
                       f"results folder while this one waited; its result is kept",
                       file=sys.stdout)
            return
        # Written before anything is said about it: a closed console never costs a result.
        replace_result(run_path(args.results_dir, job.spec.section, job.spec.run_id), result,
                       reasons.get(job.spec.run_id), args.results_dir,
                       kinds.get(job.spec.run_id, "rerun"))
        tqdm.write(done_line(labels[job.spec.run_id] if concurrent(args) else "   ", result),
                   file=sys.stdout)

    def on_failed(job, err):
        tqdm.write(f"error: {err}", file=sys.stderr)
        failures.append(job.spec.run_id)

    def job_of(spec):
        path = run_path(args.results_dir, spec.section, spec.run_id)
        # absolute: a worker of a remote cluster runs in its own copy of the code
        return Job(spec, device, os.path.abspath(args.checkpoint_dir),
                   execution_of(args, device),
                   threads=threads_per_run(args), progress=show_progress(args)
                   and not concurrent(args), restart=args.force,
                   result_path=os.path.abspath(path), seen_mtime=result_mtime(path),
                   driver_host=socket.gethostname(),
                   launch_id=launch_id,
                   tensorboard_dir=args.tensorboard and os.path.abspath(args.tensorboard))

    launch_id = uuid.uuid4().hex

    jobs = [job_of(spec) for spec in pending]
    try:
        launcher_of(args, device).run(jobs, lambda name: cached_dataset(name, args.data_dir),
                                      on_start, on_done, on_failed)
    except OSError as err:
        raise UserError(f"cannot write {err.filename or 'a result'} "
                        f"({err.strerror or type(err).__name__}) while finishing "
                        f"{current[0] if current else 'a run'}; make room or choose writable "
                        f"--results-dir / --checkpoint-dir folders. Finished results are "
                        f"untouched.") from err
    skipped = len(specs) - len(pending)
    if skipped:
        print(all_finished_note(specs, args) if skipped == len(specs) else
              f"{skipped} of {len(specs)} runs were already finished and kept")
    return failures


def done_line(prefix, result):
    f = result["final"]
    if result["diverged"]:
        return (f"{prefix} done: diverged at epoch {result['diverged']['epoch']}, "
                f"{result['evaluated_on']} acc {f['test_acc']:.4f}")
    return (f"{prefix} done: train acc {f['train_acc']:.4f}, {result['evaluated_on']} acc "
            f"{f['test_acc']:.4f}, {f['time_per_epoch_s']:.1f} s/epoch")


def require_tensorboard():
    try:
        import torch.utils.tensorboard  # noqa: F401
    except ImportError as err:
        raise UserError("--tensorboard needs the tensorboard package (pip install "
                        "tensorboard, or pip install -r requirements.txt).") from err


def show_progress(args):
    """Bars only on a terminal: redirected to a file (make quick > log) they would fill it with
    redraws; the one line an epoch says where a run is either way."""
    return not args.no_progress and sys.stderr.isatty()


def warn_oversubscription(args):
    """One warning when --workers asks for more runs at once than this machine has cores."""
    cores = usable_cores()
    if args.ray_address is None and args.workers > cores:
        print(f"warning: --workers {args.workers} on {cores} core(s): the runs will share "
              f"the cores and each train slower (see README's thread-scaling figures); "
              f"--workers {cores} or fewer is usually as fast", file=sys.stderr)


def usable_cores():
    """The cores this process may run on (its affinity where the OS has one, e.g. Linux)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def concurrent(args):
    """Whether runs go to Ray (several at once, or another machine's cluster)."""
    return args.workers > 1 or args.ray_address is not None


def threads_per_run(args):
    """--threads, else with several local workers the cores shared out between them (the
    sequential path keeps torch's own choice)."""
    if args.threads or not concurrent(args):
        return args.threads
    return max(1, usable_cores() // args.workers)


def launcher_of(args, device):
    if not concurrent(args):
        return Sequential()
    from utils.train.launch_ray import RayLauncher  # Ray is imported only when asked for

    cuda = torch.device(device).type == "cuda"
    return RayLauncher(workers=args.workers, address=args.ray_address,
                       cpus_per_run=threads_per_run(args) if args.ray_address else 1,
                       gpus_per_run=args.gpus_per_run if cuda else 0,
                       progress=show_progress(args))


def all_finished_note(specs, args):
    """What a fresh clone's `make run` says: nothing to train, and how to retrain."""
    script = os.path.basename(sys.argv[0]) if sys.argv[0].endswith(".py") else "the script"
    return (f"all {len(specs)} runs of this selection are finished (committed results under "
            f"{args.results_dir}); nothing was trained. To retrain them: {script} --force "
            f"--profile {args.profile} (--plan --force first prints the time it would take on "
            f"this device); the results would replace those under {args.results_dir}.")


def start_log(args):
    """One plain-text log per script run under <results-dir>/logs/: the command, its settings,
    then everything the console shows (git-ignored; README says so)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    script = os.path.splitext(os.path.basename(sys.argv[0]))[0] or "study"
    path = os.path.join(args.results_dir, "logs",
                        f"{script}-{now:%Y%m%dT%H%M%S}-{os.getpid()}.log")
    settings = ", ".join(f"{k}={v}" for k, v in sorted(vars(args).items()))
    console.start_log(path, f"{now.isoformat(timespec='seconds')} {' '.join(sys.argv)}\n"
                            f"settings: {settings}")


def main(description, sections, argv=None, extra_options=None, extras=None):
    """Parse, train what is missing, redraw the plots of the script the sections belong to
    (utils/sections.py) and the whole report. Returns the exit code.

    `sections` maps a section name to a function(args) -> [RunSpec]; `extra_options(parser)`
    adds a task's own options; `extras` maps a section to a function(args, device) for
    measurements that are not training runs (skipped by --report-only)."""
    console.install()
    stop_on_sigterm()
    args = build_parser(description, sections, extra_options).parse_args(argv)
    try:
        if args.threads:
            torch.set_num_threads(args.threads)
        resolve_dirs(args)
        start_log(args)
        warn_oversubscription(args)
        if args.tensorboard:
            require_tensorboard()
        if not args.report_only:
            device = resolve_device(args.device)
            configure_backends(device, args.deterministic)
            specs = select_specs(args, sections)
            check_models(specs)
            if args.plan:
                from utils.train.plan import plan
                plan(specs, args.results_dir, device, execution_of(args, device), args.force,
                     args.upgrade_evidence)
                return 0
            for name, work in (extras or {}).items():
                if args.section in (name, "all"):
                    work(args, device)
            failures = train_missing(specs, args, device)
        else:
            failures = []
        # The report half (matplotlib, seaborn, scipy) loads only when it draws: --plan, a
        # failed start and the training itself never pay for it.
        from utils.report.build import build
        build(BY_KEY[next(iter(sections))].script, args.results_dir, args.plots_dir,
              args.compare_with)
    except (UserError, DatasetUnavailable, CheckpointError, RunLocked, LaunchError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # plots or the report could not be written
        print(f"error: cannot write {err.filename or 'the report'} "
              f"({err.strerror or type(err).__name__}); choose writable --results-dir / "
              f"--plots-dir folders. Finished results are untouched.", file=sys.stderr)
        return 2
    except KeyboardInterrupt as err:
        # The shutdown goes on (checkpoints kept, Ray stopped): a second Ctrl-C or SIGTERM is
        # ignored, never a traceback in the middle of it.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        what = "terminated" if was_terminated(err) else "interrupted"
        again = ("run the same command without --force to resume them (with --force they "
                 "start over)" if getattr(args, "force", False) else
                 "run the same command again to resume")
        print(f"\n{what}: finished runs are saved and the current one has a checkpoint "
              f"from its last full epoch; {again}.", file=sys.stderr)
        return 143 if was_terminated(err) else 130
    if failures:
        print(f"error: {len(failures)} run(s) failed: {', '.join(failures)}", file=sys.stderr)
        return 1
    print(f"results in {args.results_dir}, plots in {args.plots_dir}, report "
          f"{os.path.join(args.results_dir, 'REPORT.md')}")
    return 0
