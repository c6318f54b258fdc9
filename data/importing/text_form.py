"""Write a document's paragraphs and tables in the text form the decision parser reads."""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.textnorm import folded_key, nfc
from data.importing.decision_model import DecisionFormatError
from data.importing.limits import MAX_ROWS, check_cell, too_many_rows

# A sector written in one cell across the whole row: "1. Dịch vụ du lịch".
_FULL_WIDTH_SECTOR_RE = re.compile(r"^(\d{1,2})\s*[.)]?\s+(\S.*)$")
_ENDS_CLAUSE = (".", ";", ",", ":", "-", "–", "(")


def join_paragraphs(parts: Sequence[str]) -> str:
    """The paragraphs of one table cell as one line.

    A paragraph that ends a clause, or one followed by a lower-case continuation, joins with a
    space; otherwise the paragraphs are separate items (agencies listed one per paragraph).
    """
    text = ""
    for part in (nfc(p) for p in parts):
        if not part:
            continue
        if not text:
            text = part
        elif text.endswith(_ENDS_CLAUSE) or not part[0].isupper():
            text = f"{text} {part}"
        else:
            text = f"{text}; {part}"
    return text


def is_header(row: Sequence[str]) -> bool:
    """Whether a table row is the task table's header (TT, Nhiệm vụ…, Đơn vị chủ trì…)."""
    keys = [folded_key(cell) for cell in row]
    return bool(keys) and keys[0] in ("tt", "stt") and any("chu tri" in k for k in keys)


def table_lines(rows: Sequence[Sequence[str]], name: str) -> list[str]:
    """A table as "cell |" lines, one cell a line, as the decision text carries it."""
    if len(rows) > MAX_ROWS:
        raise too_many_rows(name)
    lines: list[str] = []
    for number, raw in enumerate(rows, start=1):
        row = [nfc(cell) for cell in raw]
        for cell in row:
            check_cell(name, number, cell)
        filled = [cell for cell in row if cell]
        match = _FULL_WIDTH_SECTOR_RE.match(filled[0]) if len(filled) == 1 else None
        if match and row[0] == filled[0] and len(row) > 1:
            row = [match.group(1), match.group(2), *[""] * (len(row) - 2)]
        lines.extend(f"{cell} |" if cell else "|" for cell in row)
    return lines


def scan_message(name: str) -> DecisionFormatError:
    """The refusal for a scanned PDF when no OCR is installed."""
    return DecisionFormatError(
        f"Tệp {name} là bản quét (chỉ có hình ảnh, không có lớp chữ) nên không đọc được nội dung. "
        "Anh/chị gửi bản Word (.docx) hoặc PDF xuất trực tiếp từ Word của quyết định; hoặc nhờ "
        "quản trị viên cài Tesseract OCR tiếng Việt (gói tesseract-ocr và tesseract-ocr-vie) "
        "để hệ thống tự đọc bản quét."
    )
