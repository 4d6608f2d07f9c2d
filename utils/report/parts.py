"""The report in two files: REPORT.md is the answers page (utils/report/answers.py), DETAILS.md
every section in full: its tables and plots, method and statistics. A section builds a list of
markdown chunks; `join` makes its text for DETAILS.md."""

DETAILS_FILE = "DETAILS.md"


def join(chunks):
    """A section's markdown from its chunks: empty chunks dropped, and headings with nothing
    under them before the next heading of the same or a higher level."""
    chunks = [c for c in chunks if c]
    kept = []
    for i, chunk in enumerate(chunks):
        if _level(chunk):
            rest = chunks[i + 1:]
            end = next((j for j, c in enumerate(rest) if 0 < _level(c) <= _level(chunk)),
                       len(rest))
            if not any(not _level(c) for c in rest[:end]):
                continue
        kept.append(chunk)
    return "\n\n".join(kept)


def _level(chunk):
    """A heading's level (## is 2); 0 for a chunk that is not a heading."""
    return len(chunk) - len(chunk.lstrip("#"))
