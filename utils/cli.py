"""The command line every task script shares, and the driver that runs its specs.

A task script supplies its sections (name -> function(profile) -> list of RunSpec) and the
function that redraws its plots; this module parses the options, resolves the device, trains
what is missing, and regenerates plots and the report. Every user error ends in one sentence
on stderr and exit code 2; nothing finished is touched.
"""
import argparse
import dataclasses
import os
import sys
from functools import lru_cache

import torch

from utils.data import DatasetUnavailable, default_data_root, load_split
from utils.execution import Execution, configure_backends, resolve_amp
from utils.reporting import write_report
from utils.results import read_json, run_path
from utils.runner import CheckpointError, NonFiniteLoss, Run

PROFILES = ("full", "quick", "smoke")


class UserError(Exception):
    """A problem the user can fix; printed as one sentence, no traceback."""


class _DefaultsHelp(argparse.ArgumentDefaultsHelpFormatter):
    """Shows '(default: X)' only for real values: an option whose default is None or a flag's
    False already says in its help what happens without it."""

    def _get_help_string(self, action):
        if action.default in (None, False):
            return action.help
        return super()._get_help_string(action)


def build_parser(description, sections, extra_options=None):
    p = argparse.ArgumentParser(description=description, formatter_class=_DefaultsHelp)
    p.add_argument("--section", choices=[*sections, "all"], default="all",
                   help="which part of the task to run")
    p.add_argument("--profile", choices=PROFILES, default="full",
                   help="full: the assignment's settings; quick: a documented reduction "
                        "(data subset, fewer epochs) for CPUs; smoke: seconds, for tests")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="auto picks cuda when available")
    p.add_argument("--data-dir", default=default_data_root(),
                   help="dataset root in torchvision's layout (env DATA_ROOT)")
    p.add_argument("--results-dir", default=None,
                   help="where result JSON and REPORT.md go (default: results, or "
                        "results/<profile> for quick and smoke)")
    p.add_argument("--plots-dir", default=None,
                   help="where PNGs go (default: plots, or plots/<profile> for quick and smoke)")
    p.add_argument("--checkpoint-dir", default=None,
                   help="per-epoch checkpoints (default: <results-dir>/.checkpoints)")
    p.add_argument("--seeds", type=int, default=None,
                   help="number of seeds (0..N-1) per run; default 1 (or the section's own)")
    p.add_argument("--epochs", type=int, default=None,
                   help="override the profile's number of epochs (results then say so)")
    p.add_argument("--only", nargs="+", metavar="NAME", default=None,
                   help="run only these models (names as in the report)")
    p.add_argument("--force", action="store_true", help="retrain runs that already finished")
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
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (default: torch's choice)")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    if extra_options:
        extra_options(p)
    return p


def resolve_device(name):
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda was asked for but this torch sees no CUDA GPU; "
                        "use --device cpu (or auto).")
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return name


def resolve_dirs(args):
    sub = "" if args.profile == "full" else args.profile
    args.results_dir = args.results_dir or os.path.join("results", sub)
    args.plots_dir = args.plots_dir or os.path.join("plots", sub)
    args.checkpoint_dir = args.checkpoint_dir or os.path.join(args.results_dir, ".checkpoints")
    for d in (args.results_dir, args.plots_dir):
        try:
            os.makedirs(d, exist_ok=True)
        except OSError as err:
            raise UserError(f"cannot create {d} ({err.strerror}); choose a writable folder "
                            f"with --results-dir / --plots-dir.") from err
        if not os.access(d, os.W_OK):
            raise UserError(f"{d} is not writable; choose a writable folder with "
                            f"--results-dir / --plots-dir.")


def is_recipe_section(name):
    """A section that compares candidate recipes on a validation split (utils/recipe.py). It
    exists to choose the full profile's recipe, so `--section all` includes it only there;
    any profile runs it when it is named."""
    return name.endswith("-recipe")


def select_specs(args, sections):
    for option in ("seeds", "epochs"):
        value = getattr(args, option)
        if value is not None and value < 1:
            raise UserError(f"--{option} must be at least 1 (got {value}).")
    names = [args.section] if args.section != "all" else [
        n for n in sections if args.profile == "full" or not is_recipe_section(n)]
    specs = [s for n in names for s in sections[n](args)]
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


@lru_cache(maxsize=None)
def _dataset(name, root):
    return load_split(name, root, train=True), load_split(name, root, train=False)


def train_missing(specs, args, device):
    """Train every spec without a finished JSON (or all with --force). Returns failures."""
    failures = []
    for i, spec in enumerate(specs, 1):
        path = run_path(args.results_dir, spec.section, spec.run_id)
        if os.path.exists(path) and not args.force:
            if not spec.matches(read_json(path).get("spec", {})):
                print(f"[{i}/{len(specs)}] {spec.run_id}: finished with other settings; kept "
                      f"(use --force to retrain)")
            else:
                print(f"[{i}/{len(specs)}] {spec.run_id}: finished, skipped")
            continue
        print(f"[{i}/{len(specs)}] {spec.run_id}: {spec.model} on {spec.dataset}, "
              f"{spec.epochs} epochs, {device}")
        run = Run(spec, _dataset(spec.dataset, args.data_dir), device, args.results_dir,
                  args.checkpoint_dir, progress=not args.no_progress,
                  execution=Execution(resolve_amp(args.amp, device), args.compile,
                                      args.deterministic))
        if args.force:
            run.discard_checkpoint()
        try:
            result = run.execute()
        except NonFiniteLoss as err:
            print(f"error: {err}", file=sys.stderr)
            failures.append(spec.run_id)
            continue
        f = result["final"]
        if result["diverged"]:
            print(f"    done: diverged at epoch {result['diverged']['epoch']}, "
                  f"{result['evaluated_on']} acc {f['test_acc']:.4f}")
        else:
            print(f"    done: train acc {f['train_acc']:.4f}, {result['evaluated_on']} acc "
                  f"{f['test_acc']:.4f}, {f['time_per_epoch_s']:.1f} s/epoch")
    return failures


def main(description, sections, draw, argv=None, extra_options=None, extras=None):
    """Parse, train what is missing, redraw the task's plots (`draw(results_dir, plots_dir)`)
    and the whole report. Returns the exit code.

    `sections` maps a section name to a function(args) -> [RunSpec]; `extra_options(parser)`
    adds a task's own options; `extras` maps a section to a function(args, device) for
    measurements that are not training runs (skipped by --report-only)."""
    args = build_parser(description, sections, extra_options).parse_args(argv)
    try:
        if args.threads:
            torch.set_num_threads(args.threads)
        resolve_dirs(args)
        if not args.report_only:
            device = resolve_device(args.device)
            configure_backends(device, args.deterministic)
            specs = select_specs(args, sections)
            if args.plan:
                from utils.plan import plan
                plan(specs, args.results_dir, device)
                return 0
            for name, work in (extras or {}).items():
                if args.section in (name, "all") and (not args.only):
                    work(args, device)
            failures = train_missing(specs, args, device)
        else:
            failures = []
        draw(args.results_dir, args.plots_dir)
        write_report(args.results_dir, args.plots_dir)
    except (UserError, DatasetUnavailable, CheckpointError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: finished runs are saved and the current one has a checkpoint "
              "from its last full epoch; run the same command again to resume.", file=sys.stderr)
        return 130
    if failures:
        print(f"error: {len(failures)} run(s) failed: {', '.join(failures)}", file=sys.stderr)
        return 1
    print(f"results in {args.results_dir}, plots in {args.plots_dir}, report "
          f"{os.path.join(args.results_dir, 'REPORT.md')}")
    return 0
