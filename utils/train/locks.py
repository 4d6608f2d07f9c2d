"""One process at a time per run: a second copy of the same command on the same results folder
stops with one clear line instead of racing the first for the same checkpoint.

Through `filelock` (flock on Unix, msvcrt on Windows: released by the operating system when the
holder exits, even on kill -9, so a lock is never left stale). The holder's process id goes to a
file beside the lock, for the message."""
import contextlib
import os

from filelock import FileLock, Timeout


class RunLocked(RuntimeError):
    """Another process holds this run's lock."""


@contextlib.contextmanager
def run_lock(checkpoint_path):
    """Hold an exclusive lock beside the run's checkpoint while it trains."""
    lock_path = checkpoint_path + ".lock"
    holder_path = lock_path + ".pid"
    os.makedirs(os.path.dirname(lock_path), exist_ok=True)
    lock = FileLock(lock_path, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        try:
            with open(holder_path) as f:
                holder = f.read().strip()
        except OSError:
            holder = ""
        raise RunLocked(f"{os.path.basename(checkpoint_path)[:-3]} is being trained by "
                        f"process {holder or 'another process'} on this results folder; wait "
                        f"for it to finish or use another --results-dir.") from None
    try:
        with open(holder_path, "w") as f:
            f.write(str(os.getpid()))
        yield
    finally:
        lock.release()
