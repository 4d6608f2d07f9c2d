"""The per-run lock: one trainer per run, never stale after kill -9, and no module of the
project needs fcntl (which Windows lacks)."""
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import ROOT
from utils.train.locks import RunLocked, run_lock


def test_a_second_holder_of_one_run_is_refused_and_told_who_trains_it(tmp_path):
    ckpt = str(tmp_path / "sec" / "Net__seed0.pt")
    with run_lock(ckpt):
        with pytest.raises(RunLocked, match=f"process {os.getpid()}"):
            with run_lock(ckpt):
                pass
    with run_lock(ckpt):  # released: the next run takes it
        pass


def test_a_lock_held_by_a_killed_process_does_not_block(tmp_path):
    ckpt = str(tmp_path / "sec" / "Net__seed0.pt")
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import os, signal, sys
            sys.path.insert(0, {ROOT!r})
            from utils.train.locks import run_lock
            with run_lock({ckpt!r}):
                print("held", flush=True)
                os.kill(os.getpid(), signal.SIGKILL)
            """)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    assert holder.wait(timeout=60) == -signal.SIGKILL
    assert os.path.exists(ckpt + ".lock")
    with run_lock(ckpt):
        pass


def test_every_module_imports_without_fcntl_and_the_lock_still_refuses_a_second_holder(tmp_path):
    """As on Windows: fcntl cannot be imported. Every module of the project imports, and the
    lock still admits one holder at a time."""
    ckpt = str(tmp_path / "Net__seed0.pt")
    code = textwrap.dedent(f"""
        import importlib, pathlib, sys
        sys.modules["fcntl"] = None  # import fcntl now raises ImportError
        sys.path.insert(0, {ROOT!r})
        root = pathlib.Path({ROOT!r})
        names = ["homework_cnn_vs_fc_comparison", "homework_cnn_architecture_analysis",
                 "homework_custom_layers_experiments"]
        for package in ("models", "utils", "benchmarks"):
            for path in sorted((root / package).rglob("*.py")):
                names.append(".".join(path.relative_to(root).with_suffix("").parts))
        for name in names:
            if not name.endswith("__init__"):
                importlib.import_module(name)
        from utils.train.locks import RunLocked, run_lock
        with run_lock({ckpt!r}):
            try:
                with run_lock({ckpt!r}):
                    print("second holder admitted")
            except RunLocked:
                print("refused")
        print(len(names), "modules")
        """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.split()
    assert "refused" in lines and "admitted" not in out.stdout
    assert int(out.stdout.split()[-2]) > 60
