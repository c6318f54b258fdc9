"""Every report format, registered here: a format is one module of this package and one line below.

Light on purpose (writers import their libraries when they write), so the CLI's parser and the
chat handler read the list without loading openpyxl, python-docx or matplotlib.
"""

from __future__ import annotations

from data.reports.formats import docx, json, png, xlsx
from data.reports.formats.base import ReportData, ReportFormat, Writer

__all__ = [
    "DEFAULT_FORMAT",
    "FORMATS",
    "ReportData",
    "ReportFormat",
    "Writer",
    "by_word",
    "in_chat",
    "register",
]

FORMATS: dict[str, ReportFormat] = {}
DEFAULT_FORMAT = "xlsx"  # what `daumoi report` writes without --format


def register(fmt: ReportFormat) -> ReportFormat:
    """Add a format; its name and the words users type for it must be new."""
    taken = {word for other in FORMATS.values() for word in other.aliases}
    if fmt.name in FORMATS or taken.intersection(fmt.aliases):
        raise ValueError(f"report format {fmt.name} repeats a registered name or word")
    FORMATS[fmt.name] = fmt
    return fmt


def by_word(words: str) -> ReportFormat | None:
    """The format users mean by folded words ("bang tinh", "bieudo"), spaces optional."""
    for candidate in (words, words.replace(" ", "")):
        for fmt in FORMATS.values():
            if candidate in fmt.aliases:
                return fmt
    return None


def in_chat() -> list[ReportFormat]:
    """The formats /baocao offers (those users have words for), in registration order."""
    return [fmt for fmt in FORMATS.values() if fmt.aliases]


register(xlsx.FORMAT)
register(docx.FORMAT)
register(png.FORMAT)
register(json.FORMAT)
