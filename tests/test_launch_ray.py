"""Runs on a real Ray cluster (two nodes on this machine, two fake GPUs): each run trained by a
worker gives the numbers it gives in one process, a killed worker's run is retried and finishes
the same, one run's failure leaves the others, and the script's --workers / --ray-address run a
smoke study end to end. One cluster serves the module (a Ray start costs 6-8 s)."""
import dataclasses
import os
import signal
import subprocess
import sys
import tempfile
import time

import pytest
import torch

from tests.conftest import ROOT
from tests.test_runner import comparable
from utils.train.launch import Job, train_job
from utils.train.runner import RunSpec

ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402

from utils.train.launch_ray import RayLauncher  # noqa: E402


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    os.environ["RAY_TMPDIR"] = str(tmp_path_factory.mktemp("ray"))
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 2, "num_gpus": 2})
    c.add_node(num_cpus=2)
    c.wait_for_nodes()
    ray.init(address=c.address, runtime_env={"env_vars": {"PYTHONPATH": ROOT}})
    yield c
    ray.shutdown()
    c.shutdown()


def spec(**kw):
    base = dict(name="FCNet", section="sec", model="FCNet", dataset="mnist", epochs=2,
                batch_size=64, profile="smoke", inference_batch=32)
    return RunSpec(**{**base, **kw})


def launch(jobs, data, **kw):
    done, failed = {}, {}
    RayLauncher(progress=False, **kw).run(
        jobs, lambda name: data, on_start=lambda job: None,
        on_done=lambda job, r: done.__setitem__(job.spec.run_id, r),
        on_failed=lambda job, err: failed.__setitem__(job.spec.run_id, err))
    return done, failed


def sequential(job, data):
    threads = torch.get_num_threads()
    try:
        return train_job(dataclasses.replace(job, threads=1), data)
    finally:
        torch.set_num_threads(threads)


def test_workers_give_the_numbers_of_one_process_and_spread_over_both_nodes(
        cluster, synthetic_mnist, tmp_path):
    jobs = [Job(spec(seed=k), "cpu", str(tmp_path / "ckpt"), threads=1, progress=False)
            for k in range(2)]
    done, failed = launch(jobs, synthetic_mnist)
    assert failed == {} and len(done) == 2
    assert len({r["environment"]["ray_node_id"] for r in done.values()}) == 2
    for job in jobs[:1]:
        again = sequential(dataclasses.replace(job, checkpoint_dir=str(tmp_path / "seq")),
                           synthetic_mnist)
        assert comparable(done[job.spec.run_id]) == comparable(again)
        assert done[job.spec.run_id]["predictions"] == again["predictions"]


def test_each_run_gets_its_own_gpu(cluster, synthetic_mnist, tmp_path):
    jobs = [Job(spec(seed=k, epochs=4), "cpu", str(tmp_path / "ckpt"), threads=1,
                progress=False) for k in range(2)]
    done, _ = launch(jobs, synthetic_mnist, gpus_per_run=1)
    assert sorted(r["environment"]["cuda_visible_devices"] for r in done.values()) == ["0", "1"]


def test_one_failing_run_leaves_the_others(cluster, synthetic_mnist, tmp_path):
    jobs = [Job(spec(seed=0), "cpu", str(tmp_path / "ckpt"), threads=1, progress=False),
            Job(spec(seed=1, lr=1e12, optimizer="sgd"), "cpu", str(tmp_path / "ckpt"),
                threads=1, progress=False)]
    done, failed = launch(jobs, synthetic_mnist)
    assert list(done) == ["FCNet__seed0"] and list(failed) == ["FCNet__seed1"]
    assert "training loss became" in str(failed["FCNet__seed1"])


def test_a_killed_worker_is_retried_and_its_run_finishes_the_same(cluster, synthetic_mnist,
                                                                  tmp_path):
    job = Job(spec(name="SimpleCNN", model="SimpleCNN", epochs=4, channels_last=True), "cpu",
              str(tmp_path / "ckpt"), threads=1, progress=False)
    ckpt = tmp_path / "ckpt" / "sec" / "SimpleCNN__seed0.pt"
    from utils.train.launch_ray import _train_remote

    ref = _train_remote.options(num_cpus=1, max_retries=2).remote(job, synthetic_mnist)
    deadline = time.time() + 120
    while not ckpt.exists():  # the first epoch's checkpoint: the kill lands mid-run
        assert time.time() < deadline
        time.sleep(0.05)
    pid = int((tmp_path / "ckpt" / "sec" / "SimpleCNN__seed0.pt.lock.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    result = ray.get(ref, timeout=300)
    assert result["environment"]["ray_node_id"]
    again = sequential(dataclasses.replace(job, checkpoint_dir=str(tmp_path / "seq")),
                       synthetic_mnist)
    assert comparable(result) == comparable(again)


def script(*args, env=None):
    return subprocess.run([sys.executable, os.path.join(ROOT, "homework_cnn_vs_fc_comparison.py"),
                           "--no-progress", "--section", "1.1", "--profile", "smoke", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=600,
                          env={**os.environ, **(env or {})})


def test_the_script_sends_a_smoke_study_to_an_existing_cluster(cluster, fake_mnist_root,
                                                               tmp_path):
    proc = script("--ray-address", cluster.address, "--only", "FCNet", "--data-dir",
                  fake_mnist_root,
                  "--results-dir", str(tmp_path / "r"), "--plots-dir", str(tmp_path / "p"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert os.listdir(tmp_path / "r" / "mnist_comparison") == ["FCNet__seed0.json"]
    assert (tmp_path / "r" / "REPORT.md").exists()


def test_the_script_starts_its_own_local_cluster_for_workers(fake_mnist_root, tmp_path):
    # No cluster fixture: --workers 2 starts Ray (num_cpus=2) and stops it again.
    proc = script("--workers", "2", "--only", "FCNet", "SimpleCNN", "--data-dir",
                  fake_mnist_root, "--results-dir", str(tmp_path / "r"),
                  "--plots-dir", str(tmp_path / "p"),
                  env={"RAY_TMPDIR": tempfile.mkdtemp(prefix="ray", dir="/tmp"),
                       "RAY_ADDRESS": ""})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "dispatched 2 runs to Ray (2 at once on 1 node(s))" in proc.stdout
    assert proc.stdout.count(" done: train acc") == 2


def test_one_worker_keeps_the_sequential_path_without_ray():
    code = ("import sys; from utils.train import cli; from utils.train.launch import Sequential; "
            "a = cli.build_parser('', {'x': None}).parse_args([]); "
            "assert isinstance(cli.launcher_of(a, 'cpu'), Sequential); "
            "assert 'ray' not in sys.modules")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


@pytest.mark.parametrize("sent, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_or_sigterm_under_ray_cancel_the_runs_and_keep_their_checkpoints(
        fake_mnist_root, tmp_path, sent, code):
    results = tmp_path / "r"
    proc = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "homework_cnn_vs_fc_comparison.py"), "--no-progress",
         "--section", "1.1", "--profile", "smoke", "--workers", "2", "--epochs", "200",
         "--only", "FCNet", "SimpleCNN", "--data-dir", fake_mnist_root,
         "--results-dir", str(results), "--plots-dir", str(tmp_path / "p")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "RAY_TMPDIR": tempfile.mkdtemp(prefix="ray", dir="/tmp"),
             "RAY_ADDRESS": ""},
        # a background shell starts its jobs with SIGINT ignored; a terminal's Ctrl-C is not
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    checkpoints = results / ".checkpoints" / "mnist_comparison"
    deadline = time.time() + 240
    while len(list(checkpoints.glob("*.pt"))) < 2:  # both runs mid-training
        assert time.time() < deadline and proc.poll() is None
        time.sleep(0.1)
    proc.send_signal(sent)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err[-2000:]
    assert "run the same command again to resume" in err and "Traceback" not in err
    assert "Stack trace" not in err and "*** SIG" not in err  # no dump from Ray's handler
    assert sorted(p.name for p in checkpoints.glob("*.pt")) == ["FCNet__seed0.pt",
                                                                 "SimpleCNN__seed0.pt"]
    assert not list((results / "mnist_comparison").glob("*.json"))  # none half-written


def test_the_address_of_nothing_fails_in_seconds(fake_mnist_root, tmp_path):
    start = time.time()
    proc = script("--ray-address", "127.0.0.1:1", "--only", "FCNet", "--data-dir",
                  fake_mnist_root, "--results-dir", str(tmp_path / "r"), "--plots-dir",
                  str(tmp_path / "p"))
    assert proc.returncode == 2 and time.time() - start < 60
    assert "nothing answers at 127.0.0.1:1" in proc.stderr


def test_a_cluster_without_a_node_large_enough_for_a_run_is_one_line(cluster, synthetic_mnist,
                                                                     tmp_path):
    from utils.train.launch import LaunchError

    job = Job(spec(), "cpu", str(tmp_path / "ckpt"), progress=False)
    with pytest.raises(LaunchError, match="asks for 4 CPUs but the largest node"):
        launch([job], synthetic_mnist, cpus_per_run=4)
