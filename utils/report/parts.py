"""The report in two files: REPORT.md is the answers page (utils/report/answers.py), DETAILS.md
every section in full: its tables and plots, method and statistics.

A section builds one list of markdown chunks; `split` turns it into a Part: `details`, every
chunk in order (DETAILS.md's text of the section), and `report`, the chunks not marked by
`detail` (what the section holds beyond its reference tables: the tests read it).
"""
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


def split(chunks):
    """`Part(report, details)` from a section's chunks (empty chunks dropped): report the
    unmarked chunks, details every chunk in order (headings with nothing under them dropped)."""
    chunks = [c for c in chunks if c]
    report = [c for c in chunks if not isinstance(c, Detail)]
    return Part("\n\n".join(report),
                "\n\n".join(_drop_empty_headings([str(c) for c in chunks])))


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
