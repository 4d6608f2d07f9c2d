"""A console that never kills a run: text it cannot encode degrades to a replacement (an ASCII
locale still shows the numbers), and a closed pipe (`script | head -1`) silences the console
instead of raising in the middle of training. Files are written in UTF-8 elsewhere, whatever
the locale; this only concerns what is printed.

`start_log` also hands every line the console shows (progress-bar redraws aside) to Python
`logging`, which writes it with its time and level (stdout INFO, stderr WARNING, a line that
starts "error:" ERROR) to a plain UTF-8 log file, so what a run printed is kept after the
terminal closes; Python warnings (printed to stderr) and a Ray worker's lines, forwarded to the driver's console,
land there too."""
import io
import logging
import os
import sys

LOG = logging.getLogger("study")
LOG.propagate = False   # the console already shows each line; the log only keeps it
LOG_FORMAT = "%(asctime)s %(levelname)-7s %(message)s"


class _Forgiving(io.TextIOBase):
    """Wraps a text stream: unencodable characters are replaced, and once the reader has gone
    (BrokenPipeError) every later write is dropped quietly."""

    def __init__(self, stream, level):
        self._stream = stream
        self._level = level
        self._partial = ""   # text of a line not yet ended, kept until its newline comes
        self.closed_pipe = False
        self._encoding = getattr(stream, "encoding", None) or "utf-8"

    def _keep(self, text):
        if "\r" in text:   # a tqdm redraw is not a line worth keeping
            return
        *lines, self._partial = (self._partial + text).split("\n")
        for line in filter(str.strip, lines):
            LOG.log(logging.ERROR if line.startswith("error:") else self._level, line)

    def write(self, text):
        if LOG.handlers:
            self._keep(text)
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


def start_log(path, header):
    """Log the console into `path` (UTF-8, appended), starting with `header`; returns the path.
    A second call moves the log to the new file."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    for handler in list(LOG.handlers):
        LOG.removeHandler(handler)
        handler.close()
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    LOG.addHandler(handler)
    LOG.setLevel(logging.INFO)
    for line in header.strip("\n").split("\n"):
        LOG.info(line)
    return path


def install():
    """Make sys.stdout and sys.stderr forgiving (idempotent)."""
    for name, level in (("stdout", logging.INFO), ("stderr", logging.WARNING)):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, _Forgiving):
            setattr(sys, name, _Forgiving(stream, level))
