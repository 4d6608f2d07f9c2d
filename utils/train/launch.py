"""Launchers: who trains the unfinished runs. The CLI decides what to train; a launcher decides
where, and hands every result back to the driver, which writes it (so workers need no shared
results folder). The runner does not know how it was launched.

`Sequential` trains in this process, one run after another (the default, no Ray). The Ray
launcher (utils/train/launch_ray.py, imported only for --workers > 1 or --ray-address) trains several
at once. Another backend (SLURM through submitit, say) is one more class with the same `run`.
"""
import os
import signal
import socket
from dataclasses import dataclass

import torch

from utils.train.execution import Execution, configure_backends
from utils.train.locks import run_lock
from utils.train.runner import NonFiniteLoss, Run, RunSpec, load_checkpoint


class LaunchError(RuntimeError):
    """The launcher could not start (no cluster at that address, Ray missing): one sentence."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is (as Ctrl-C raises KeyboardInterrupt), so that the
    same shutdown runs: checkpoints kept, workers stopped, one line saying how to resume."""


_terminated = []


def on_sigterm(signum, frame):
    _terminated.append(signum)  # a library may catch Terminated and raise a plain interrupt
    raise Terminated()


def was_terminated(err):
    """Whether an interrupt came from SIGTERM (exit 143) rather than Ctrl-C (exit 130)."""
    return isinstance(err, Terminated) or bool(_terminated)


def stop_on_sigterm():
    """Route SIGTERM to Terminated (again after a library such as Ray installs its own)."""
    signal.signal(signal.SIGTERM, on_sigterm)


@dataclass
class Job:
    """Everything a worker needs to train one spec, besides the data."""
    spec: RunSpec
    device: str
    checkpoint_dir: str
    execution: Execution = Execution()
    threads: int = None       # torch CPU threads; None: leave the process's setting
    progress: bool = True     # per-epoch tqdm bars
    restart: bool = False     # --force: discard the checkpoint and train from the first epoch
    # The result file as the driver saw it when it chose to train this run: its path and its
    # modification time (None: absent). Checked again under the run's lock (written_meanwhile).
    result_path: str = None
    seen_mtime: float = None
    driver_host: str = None   # the path above is checked only on this machine
    # The driver command this job belongs to (its checkpoints record it; see train_job).
    launch_id: str = None
    tensorboard_dir: str = None  # --tensorboard: where the run writes event files as it trains


def checkpoint_launch(path):
    """The launch id a checkpoint was written under, or None (absent, older, unreadable)."""
    if not os.path.exists(path):
        return None
    try:
        return load_checkpoint(path).get("launch")
    except Exception:  # a bad checkpoint is the runner's to report
        return None


def result_mtime(path):
    """The modification time of a file, or None where there is none."""
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def written_meanwhile(job):
    """Whether another driver wrote this run's result after this one chose to train it (two
    drivers on one results folder): then the run is not trained twice."""
    if job.result_path is None or job.driver_host != socket.gethostname():
        return False  # another machine's copy of the path is not the driver's results folder
    return result_mtime(job.result_path) not in (None, job.seen_mtime)


def train_job(job, data):
    """Train one job in this process and return its result (not written: the driver does), or
    None when, once its lock is held, its result turns out to have been written meanwhile."""
    if job.threads:
        torch.set_num_threads(job.threads)
    configure_backends(job.device, job.execution.deterministic)
    # results_dir is unused by train_and_measure; the checkpoint path is what matters here.
    run = Run(job.spec, data, job.device, results_dir="", checkpoint_dir=job.checkpoint_dir,
              progress=job.progress, execution=job.execution, launch_id=job.launch_id,
              tensorboard_dir=job.tensorboard_dir)
    with run_lock(run.checkpoint_path):
        if written_meanwhile(job):
            return None
        if job.restart and checkpoint_launch(run.checkpoint_path) != job.launch_id:
            # --force discards what an earlier command left; a retry of this same command (a
            # Ray worker that died) resumes from the checkpoint this command wrote.
            run.discard_checkpoint()
        return run.train_and_measure()


class Sequential:
    """One run after another in this process: exceptions reach the caller as they happen, so a
    full disk or Ctrl-C behaves exactly as without a launcher."""

    def run(self, jobs, data_for, on_start, on_done, on_failed):
        for job in jobs:
            on_start(job)
            try:
                result = train_job(job, data_for(job.spec.dataset))
            except NonFiniteLoss as err:  # this run stops; the others go on
                on_failed(job, err)
                continue
            on_done(job, result)
