"""Several runs at once through Ray core tasks: a local cluster started for this command
(--workers N) or an existing one (--ray-address). Each run is one task; its result comes back to
the driver, which writes it, so the workers need no shared results folder. The datasets travel
through Ray's object store, so they need no shared data folder either.

A task whose worker dies (killed, lost node) is retried by Ray (max_retries); it resumes from its
checkpoint when the retry lands where the checkpoint is (this machine, or shared storage given
as --checkpoint-dir), and restarts from its first epoch otherwise. An exception inside a run
(a NaN loss, a full disk) is not retried: that run is reported failed and the others go on.
"""
import os
import signal
import socket
import sys

# Every worker's epoch lines reach the driver's console and log: Ray would otherwise fold lines
# that look alike across workers into "[repeated Nx]". Read when ray is imported.
os.environ.setdefault("RAY_DEDUP_LOGS", "0")
# Leave CUDA_VISIBLE_DEVICES alone for tasks that ask for no GPU (Ray's future default; the
# setting also silences its warning about the change).
os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")

import ray  # noqa: E402
from tqdm.auto import tqdm  # noqa: E402

from utils.train.launch import LaunchError, stop_on_sigterm  # noqa: E402

# How long the first connection to --ray-address may take before it is called unreachable.
CONNECT_TIMEOUT_S = 10

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# What a remote cluster needs of this checkout to import utils and models: the code, not the
# results, plots, virtual environment or datasets.
UPLOAD_EXCLUDES = ["results", "plots", ".venv", "data", ".git", "*.pt", "*.png"]


@ray.remote
def _train_remote(job, data):
    from utils.train.launch import train_job

    result = train_job(job, data)
    if result is not None:  # None: another driver finished it meanwhile
        result["environment"]["ray_node_id"] = ray.get_runtime_context().get_node_id()
    return result


class RayLauncher:
    """`workers`: slots of the local cluster this launcher starts (ignored with `address`).
    `cpus_per_run`, `gpus_per_run`: what each task asks of the cluster (a fraction of a GPU packs
    several runs on one). An already initialised Ray (a test's cluster) is used as it is."""

    def __init__(self, workers=2, address=None, cpus_per_run=1, gpus_per_run=0, max_retries=3,
                 progress=True):
        self.workers, self.address = workers, address
        self.cpus_per_run, self.gpus_per_run = cpus_per_run, gpus_per_run
        self.max_retries, self.progress = max_retries, progress

    def _start(self):
        self._check_reachable()
        try:
            self._init()
        except (ConnectionError, OSError, RuntimeError, ValueError) as err:
            where = f"the Ray cluster at {self.address}" if self.address else "a local Ray cluster"
            raise LaunchError(f"could not start {where} ({type(err).__name__}: "
                              f"{str(err).splitlines()[0][:160] if str(err) else 'no message'})"
                              f"; check --ray-address, or that RAY_TMPDIR is a short writable "
                              f"path (Ray's sockets need one), or run with --workers 1.") from err

    def _check_reachable(self):
        """With HOST:PORT, one short TCP connection first: Ray itself retries an address where
        nothing listens for minutes before it says so."""
        host, _, port = (self.address or "").rpartition(":")
        if not host or not port.isdigit() or "://" in self.address:
            return  # "auto", "ray://...": Ray resolves those itself
        try:
            socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
        except OSError as err:
            why = err.strerror or type(err).__name__
            raise LaunchError(f"nothing answers at {self.address} ({why} within "
                              f"{CONNECT_TIMEOUT_S:g} s); start the head there with "
                              f"`ray start --head --port={port}`, check --ray-address, or run "
                              f"without it.") from err

    def _check_fit(self):
        """One line, before anything is dispatched, when no node of the cluster has the CPUs or
        GPUs one run asks for (such a task would wait for ever)."""
        nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive", True)]
        for resource, wanted, option in (("CPU", self.cpus_per_run, "--threads"),
                                         ("GPU", self.gpus_per_run, "--gpus-per-run")):
            most = max((n.get(resource, 0) for n in nodes), default=0)
            if wanted and most < wanted:
                raise LaunchError(f"each run asks for {wanted:g} {resource}s but the largest "
                                  f"node of the Ray cluster has {most:g}; lower {option} to at "
                                  f"most {most:g} or add a larger node.")

    def _init(self):
        if self.address:
            ray.init(address=self.address, log_to_driver=True,
                     runtime_env={"working_dir": ROOT, "excludes": UPLOAD_EXCLUDES})
        else:
            import torch

            ray.init(num_cpus=self.workers, num_gpus=torch.cuda.device_count(),
                     include_dashboard=False, log_to_driver=True,
                     runtime_env={"env_vars": {"PYTHONPATH": ROOT}})

    def run(self, jobs, data_for, on_start, on_done, on_failed):
        if not jobs:
            return
        started_here = not ray.is_initialized()
        if started_here:
            self._start()
            stop_on_sigterm()  # Ray's own handler would dump a stack and abort
        pending, by_ref = [], {}
        try:
            self._check_fit()
            data_refs = {}
            # SPREAD: on a cluster, runs go to every node rather than filling the first.
            options = dict(num_cpus=self.cpus_per_run, num_gpus=self.gpus_per_run,
                           max_retries=self.max_retries, retry_exceptions=False,
                           scheduling_strategy="SPREAD")
            for job in jobs:
                name = job.spec.dataset
                if name not in data_refs:  # each dataset enters the object store once
                    data_refs[name] = ray.put(data_for(name))
                ref = _train_remote.options(name=job.spec.run_id, **options).remote(
                    job, data_refs[name])
                by_ref[ref] = job
                pending.append(ref)
            total = ray.cluster_resources().get("CPU", 0) // max(self.cpus_per_run, 1e-9)
            print(f"dispatched {len(jobs)} runs to Ray ({int(total)} at once on "
                  f"{len(ray.nodes())} node(s))", flush=True)
            bar = tqdm(total=len(jobs), desc="runs", unit="run", disable=not self.progress,
                       file=sys.stdout)
            while pending:
                [ref], pending = ray.wait(pending, num_returns=1)
                job = by_ref[ref]
                try:
                    result = ray.get(ref)
                except ray.exceptions.RayTaskError as err:  # the run itself raised
                    on_failed(job, err.cause if err.cause is not None else err)
                except ray.exceptions.RayError as err:  # its worker died beyond the retries
                    on_failed(job, RuntimeError(f"{job.spec.run_id}: {type(err).__name__}; "
                                                f"its checkpoint, if any, is kept"))
                else:
                    on_done(job, result)
                bar.update()
            bar.close()
        except KeyboardInterrupt:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C: quiet, not a traceback
            for ref in pending:  # stop what runs; each keeps the checkpoint of its last epoch
                ray.cancel(ref, force=True)
            raise
        finally:
            if started_here:
                ray.shutdown()
