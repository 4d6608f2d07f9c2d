"""A console that never kills a run: text it cannot encode degrades to a replacement (an ASCII
locale still shows the numbers), and a closed pipe (`script | head -1`) silences the console
instead of raising in the middle of training. Files are written in UTF-8 elsewhere, whatever
the locale; this only concerns what is printed.

`start_log` also copies every line the console shows (progress-bar redraws aside) into a plain
UTF-8 log file, so what a run printed is kept after the terminal closes; a Ray worker's lines,
forwarded to the driver's console, land there too."""
import io
import os
import sys


class _Forgiving(io.TextIOBase):
    """Wraps a text stream: unencodable characters are replaced, and once the reader has gone
    (BrokenPipeError) every later write is dropped quietly."""

    def __init__(self, stream):
        self._stream = stream
        self.closed_pipe = False
        self._encoding = getattr(stream, "encoding", None) or "utf-8"

    def write(self, text):
        if _log is not None and "\r" not in text:  # a tqdm redraw is not a line worth keeping
            _log.write(text)
            _log.flush()
        if self.closed_pipe:
            return len(text)
        try:
            text.encode(self._encoding)
        except (UnicodeEncodeError, LookupError):
            text = text.encode(self._encoding, errors="replace").decode(self._encoding)
        try:
            self._stream.write(text)
        except BrokenPipeError:
            self._reader_gone()
        return len(text)

    def flush(self):
        if self.closed_pipe:
            return
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._reader_gone()

    def _reader_gone(self):
        """Point the descriptor at /dev/null: what is still buffered, and the interpreter's own
        flush at exit, then go nowhere instead of raising again."""
        self.closed_pipe = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, io.UnsupportedOperation):
            pass

    def isatty(self):
        return self._stream.isatty()

    def fileno(self):
        return self._stream.fileno()

    @property
    def encoding(self):
        return self._encoding

    def __getattr__(self, name):
        return getattr(self._stream, name)


_log = None


def start_log(path, header):
    """Copy the console into `path` (UTF-8, appended), starting with `header`; returns the path."""
    global _log
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    if _log is not None:
        _log.close()
    _log = open(path, "a", encoding="utf-8")
    _log.write(header.rstrip("\n") + "\n")
    _log.flush()
    return path


def install():
    """Make sys.stdout and sys.stderr forgiving (idempotent)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, _Forgiving):
            setattr(sys, name, _Forgiving(stream))
