"""Read a Word decision (.docx): paragraphs and tables in document order, as decision text."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from data.importing.decision_model import DecisionFormatError
from data.importing.text_form import join_paragraphs, table_lines
from data.importing.xlsx_check import check_package

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_TEXT_PATH = ".//w:t | .//w:tab | .//w:br | .//w:cr"


def broken_docx(name: str) -> DecisionFormatError:
    """The message for a file that is not a readable Word document."""
    return DecisionFormatError(
        f"Tệp {name} không phải văn bản Word (.docx) hợp lệ hoặc đã bị hỏng. "
        "Nếu là tệp .doc cũ, anh/chị mở bằng Word và lưu lại dạng .docx."
    )


def check_docx(name: str, data: bytes) -> None:
    """Reject a package that would make python-docx inflate or build too much (zip bombs)."""
    check_package(Path(name), io.BytesIO(data), broken=lambda _: broken_docx(name))


def docx_lines(name: str, data: bytes) -> list[str]:
    """The document's lines: one per paragraph, one per table cell ("cell |")."""
    check_docx(name, data)
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx fails in lxml, zipfile or its own checks
        raise broken_docx(name) from exc
    lines: list[str] = []
    for element in _blocks(document.element.body):
        if element.tag == f"{_W}p":
            lines.extend(_paragraph_text(element).split("\n"))
        else:
            lines.extend(table_lines(_table_rows(element), name))
    return lines


def _blocks(parent: Any) -> list[Any]:
    """Paragraphs and tables of the body in order, looking inside content controls."""
    found: list[Any] = []
    for child in parent.iterchildren():
        if child.tag in (f"{_W}p", f"{_W}tbl"):
            found.append(child)
        elif child.tag == f"{_W}sdt":
            found.extend(_blocks(child.find(f"{_W}sdtContent")))
    return found


def _paragraph_text(p: Any) -> str:
    parts: list[str] = []
    for node in p.xpath(_TEXT_PATH):
        local = node.tag[len(_W) :]
        if local == "t":
            parts.append(node.text or "")
        elif local == "tab":
            parts.append(" ")
        else:
            parts.append("\n")
    return "".join(parts)


def _cell_text(tc: Any) -> str:
    """A cell's paragraphs (and nested tables' text) joined into one line."""
    texts = [_paragraph_text(p).replace("\n", " ") for p in tc.iter(f"{_W}p")]
    return join_paragraphs(texts)


def _attribute(element: Any, path: str) -> str | None:
    found = element.find(path)
    if found is None:
        return None
    return str(found.get(f"{_W}val", "continue"))


def _table_rows(tbl: Any) -> list[list[str]]:
    """Rows on the grid: a cell merged across, then empty cells; a cell merged down, repeated."""
    rows: list[list[str]] = []
    above: dict[int, str] = {}
    for tr in tbl.iterchildren(f"{_W}tr"):
        before = _attribute(tr, f"{_W}trPr/{_W}gridBefore")
        column = int(before) if before and before.isdigit() else 0
        row = [""] * column
        for tc in tr.iterchildren(f"{_W}tc"):
            span_value = _attribute(tc, f"{_W}tcPr/{_W}gridSpan")
            span = max(1, min(int(span_value), 64)) if span_value and span_value.isdigit() else 1
            merge = _attribute(tc, f"{_W}tcPr/{_W}vMerge")
            if merge is not None and merge != "restart":
                text = above.get(column, "")
            else:
                text = _cell_text(tc)
            above[column] = text
            row.extend([text] + [""] * (span - 1))
            column += span
        rows.append(row)
    return rows
