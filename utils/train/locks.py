"""One process at a time per run: a second copy of the same command on the same results folder
stops with one clear line instead of racing the first for the same checkpoint."""
import contextlib
import fcntl
import os


class RunLocked(RuntimeError):
    """Another process holds this run's lock."""


@contextlib.contextmanager
def run_lock(checkpoint_path):
    """Hold an exclusive lock beside the run's checkpoint while it trains. flock is released by
    the kernel when the holder exits, even on kill -9, so a lock is never left stale."""
    lock_path = checkpoint_path + ".lock"
    os.makedirs(os.path.dirname(lock_path), exist_ok=True)
    with open(lock_path, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            raise RunLocked(f"{os.path.basename(checkpoint_path)[:-3]} is being trained by "
                            f"process {holder} on this results folder; wait for it to finish "
                            f"or use another --results-dir.") from None
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
