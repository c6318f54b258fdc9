"""Turn positioned words and ruled tables of PDF pages (text layer or OCR) into decision text."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from core.textnorm import folded_key, nfc
from data.importing.text_form import is_header, table_lines

Box = tuple[float, float, float, float]  # x0, top, x1, bottom
_PAGE_NUMBER_RE = re.compile(r"^(trang\s*)?\d{1,4}(\s*/\s*\d{1,4})?$", re.IGNORECASE)
# A gap between lines wider than this share of a line's height starts a new paragraph.
PARAGRAPH_GAP = 0.75
INDENT = 1.5  # a line starting this many line-heights right of the margin starts a paragraph


@dataclass
class Word:
    """A word and its box on the page (points or pixels, top-down); conf from OCR, else 100."""

    x0: float
    top: float
    x1: float
    bottom: float
    text: str
    conf: float = 100.0


@dataclass
class Grid:
    """A ruled table on one page: its rows, each a list of cell boxes (None: merged away)."""

    box: Box
    rows: list[list[Box | None]]


@dataclass
class Page:
    """One page: every word on it and the ruled tables found."""

    words: list[Word]
    grids: list[Grid] = field(default_factory=list)


@dataclass
class Line:
    """Words on one visual line."""

    words: list[Word]

    @property
    def x0(self) -> float:
        return min(w.x0 for w in self.words)

    @property
    def x1(self) -> float:
        return max(w.x1 for w in self.words)

    @property
    def top(self) -> float:
        return min(w.top for w in self.words)

    @property
    def bottom(self) -> float:
        return max(w.bottom for w in self.words)

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


@dataclass
class Table:
    """A table's cell texts and the lowest OCR confidence of each cell's words."""

    rows: list[list[str]]
    confidence: list[list[float]]
    notes: list[str] = field(default_factory=list)  # what a fixer changed, for the report


def group_lines(words: Sequence[Word]) -> list[Line]:
    """Words grouped into visual lines, top to bottom, each left to right."""
    lines: list[Line] = []
    for word in sorted(words, key=lambda w: (w.top, w.x0)):
        middle = (word.top + word.bottom) / 2
        for line in reversed(lines[-3:]):
            if line.top <= middle <= line.bottom:
                line.words.append(word)
                break
        else:
            lines.append(Line([word]))
    for line in lines:
        line.words.sort(key=lambda w: w.x0)
    return lines


def _inside(word: Word, box: Box) -> bool:
    x = (word.x0 + word.x1) / 2
    y = (word.top + word.bottom) / 2
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def _table(grid: Grid, words: list[Word]) -> Table:
    rows: list[list[str]] = []
    confidence: list[list[float]] = []
    for grid_row in grid.rows:
        texts: list[str] = []
        confs: list[float] = []
        for box in grid_row:
            inside = [w for w in words if box is not None and _inside(w, box)]
            texts.append(nfc(" ".join(line.text for line in group_lines(inside))))
            confs.append(min((w.conf for w in inside), default=100.0))
        rows.append(texts)
        confidence.append(confs)
    return Table(rows, confidence)


def _continues(previous: Table, fragment: Table) -> bool:
    """Whether a table fragment at the top of a page carries on the previous one."""
    width = len(previous.rows[0]) if previous.rows else 0
    return bool(fragment.rows) and len(fragment.rows[0]) == width


def _append(previous: Table, fragment: Table) -> None:
    """Join a fragment: drop a repeated header, merge a row split by the page break."""
    rows, confs = list(fragment.rows), list(fragment.confidence)
    if rows and previous.rows and _repeated_header(rows[0]):  # repeated on every page
        rows, confs = rows[1:], confs[1:]
    if rows and previous.rows and not rows[0][0] and any(rows[0]):
        last, last_conf = previous.rows[-1], previous.confidence[-1]
        for i, text in enumerate(rows[0]):
            if text and i < len(last):
                last[i] = f"{last[i]} {text}".strip()
                last_conf[i] = min(last_conf[i], confs[0][i])
        rows, confs = rows[1:], confs[1:]
    previous.rows.extend(rows)
    previous.confidence.extend(confs)


def _repeated_header(row: list[str]) -> bool:
    """The header row again (its "TT" may be lost to OCR)."""
    keys = [folded_key(cell) for cell in row]
    return is_header(row) or (
        any("chu tri" in key for key in keys) and any("nhiem vu" in key for key in keys)
    )


def _without_page_numbers(lines: list[Line]) -> list[Line]:
    while lines and _PAGE_NUMBER_RE.match(lines[0].text.strip()):
        lines = lines[1:]
    while lines and _PAGE_NUMBER_RE.match(lines[-1].text.strip()):
        lines = lines[:-1]
    return lines


def _starts_paragraph(previous: Line, line: Line, same_page: bool, margins: Box) -> bool:
    """Whether line begins a new paragraph after previous (gap, indent or short line)."""
    height = max(1.0, previous.bottom - previous.top)
    if same_page and line.top - previous.bottom > PARAGRAPH_GAP * height:
        return True
    if line.x0 - margins[0] > INDENT * height:
        return True
    first = line.words[0]
    space = 0.3 * height
    # The previous line ended although the next word would have fitted after it.
    return previous.x1 + space + (first.x1 - first.x0) < margins[2] - 0.5 * space


def document_text(
    pages: Sequence[Page], name: str, fix_table: Callable[[Table], None] | None = None
) -> tuple[list[str], list[Table]]:
    """The decision text of the pages, and the tables found (for confidence checks).

    fix_table, when given, corrects each whole table before it is written (OCR misreadings).
    """
    out: list[str] = []
    tables: list[Table] = []
    paragraph: list[str] = []
    previous: Line | None = None
    previous_page = -1
    open_table: Table | None = None
    margins: Box = (0.0, 0.0, 0.0, 0.0)
    for number, page in enumerate(pages):
        in_table = [w for w in page.words if any(_inside(w, g.box) for g in page.grids)]
        loose = [w for w in page.words if not any(_inside(w, g.box) for g in page.grids)]
        lines = _without_page_numbers(group_lines(loose))
        if lines:
            margins = (min(x.x0 for x in lines), 0.0, max(x.x1 for x in lines), 0.0)
        items: list[tuple[float, Line | Grid]] = [(line.top, line) for line in lines]
        items += [(grid.box[1], grid) for grid in page.grids]
        for _, item in sorted(items, key=lambda pair: pair[0]):
            if isinstance(item, Grid):
                fragment = _table(item, [w for w in in_table if _inside(w, item.box)])
                if open_table is not None and _continues(open_table, fragment):
                    _append(open_table, fragment)
                    continue
                _flush(out, paragraph, tables, open_table, name, fix_table)
                open_table, previous = fragment, None
                continue
            if open_table is not None:
                _flush(out, paragraph, tables, open_table, name, fix_table)
                open_table = None
            if previous is not None and _starts_paragraph(
                previous, item, previous_page == number, margins
            ):
                out.append(nfc(" ".join(paragraph)))
                paragraph = []
            paragraph.append(item.text)
            previous, previous_page = item, number
    _flush(out, paragraph, tables, open_table, name, fix_table)
    return out, tables


def _flush(
    out: list[str],
    paragraph: list[str],
    tables: list[Table],
    table: Table | None,
    name: str,
    fix_table: Callable[[Table], None] | None,
) -> None:
    """Write the pending paragraph, then the pending table."""
    if paragraph:
        out.append(nfc(" ".join(paragraph)))
        paragraph.clear()
    if table is not None:
        if fix_table is not None:
            fix_table(table)
        out.extend(table_lines(table.rows, name))
        tables.append(table)
