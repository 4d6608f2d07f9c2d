"""The report in two files: REPORT.md keeps the answers (the summary, the findings and for each
assignment item the table or plot that answers it), DETAILS.md the tables and plots behind them
(recipes, speed, parameter layouts, per-layer receptive fields, learning curves, ...).

A section builds one list of markdown chunks; the chunks wrapped by `detail` go to DETAILS.md,
headings go to both files (so both keep the same outline), everything else to REPORT.md.
`split` turns the list into the two texts and puts, under each heading of REPORT.md whose part
of DETAILS.md holds anything, a link to that part.
"""
import re
from typing import NamedTuple

DETAILS_FILE = "DETAILS.md"


class Detail(str):
    """A chunk of markdown that belongs in DETAILS.md."""


def detail(*chunks):
    """The non-empty chunks, marked for DETAILS.md."""
    return [Detail(c) for c in chunks if c]


class Part(NamedTuple):
    report: str
    details: str


def anchor(heading):
    """The fragment a markdown viewer (GitHub's rule) gives a heading: lower case, punctuation
    and symbols dropped, spaces as hyphens."""
    text = heading.lstrip("#").strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def split(chunks):
    """`Part(report, details)` from a section's chunks (empty chunks dropped)."""
    report, details, links = [], [], {}
    heading_at = None  # where the current heading sits in `report`
    for chunk in (c for c in chunks if c):
        if isinstance(chunk, Detail):
            details.append(str(chunk))
            if heading_at is not None:
                links.setdefault(heading_at, report[heading_at])
        elif chunk.startswith("#"):
            heading_at = len(report)
            report.append(chunk)
            details.append(chunk)
        else:
            report.append(chunk)
    for at in sorted(links, reverse=True):
        report.insert(at + 1, f"[Details]({DETAILS_FILE}#{anchor(links[at])}).")
    return Part("\n\n".join(report), "\n\n".join(_drop_empty_headings(details)))


def _level(chunk):
    """A heading's level (## is 2); 0 for a chunk that is not a heading."""
    return len(chunk) - len(chunk.lstrip("#"))


def _drop_empty_headings(chunks):
    """Headings of DETAILS.md with nothing under them before the next heading of the same or a
    higher level."""
    kept = []
    for i, chunk in enumerate(chunks):
        if _level(chunk):
            rest = chunks[i + 1:]
            end = next((j for j, c in enumerate(rest) if 0 < _level(c) <= _level(chunk)),
                       len(rest))
            if not any(not _level(c) for c in rest[:end]):
                continue
        kept.append(chunk)
    return kept
