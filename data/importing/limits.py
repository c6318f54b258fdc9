"""Limits an imported file must stay within, checked before the heavy work starts."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from data.importing.decision_text import DecisionFormatError

# The seed decision is 72 KB of text and its 44 tasks fit in a 10 KB workbook: these bounds leave
# two orders of magnitude of room for real decisions while keeping a rejected import small.
MAX_FILE_BYTES = 10 * 1024 * 1024
# Sum of the declared sizes of an XLSX's parts: what openpyxl would inflate (zip bombs).
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
# Office XML compresses about 10:1; a large part packed far tighter is padding or a bomb.
MAX_COMPRESSION_RATIO = 100
RATIO_CHECKED_FROM_BYTES = 1024 * 1024  # small parts (styles, empty sheets) compress very well
MAX_ZIP_MEMBERS = 1_000
# XML elements in all of an XLSX's parts, and cells in one row: openpyxl keeps a small object
# for every element it has read (cleared, but still linked to the root) and a dict per cell of a
# row, so these bound its memory. A 20,000-row table of five columns has about 400,000.
MAX_XML_ELEMENTS = 1_000_000
MAX_CELLS_PER_ROW = 16_384  # Excel's own column limit
# Rows of a table (up to the last non-empty one) and lines of a decision text.
MAX_ROWS = 20_000
MAX_TEXT_LINES = 50_000
MAX_LINE_CHARS = 10_000  # one line of a decision text
MAX_CELL_CHARS = 5_000  # one table cell (a task title is at most a few hundred characters)
MAX_COLUMNS = 50  # columns read from a table; a task table needs five
# A PDF decision: pages read from its text layer, and pages of a scan read by OCR (a few seconds
# each); a scanned page is rendered at OCR_DPI but never larger than MAX_PAGE_PIXELS.
MAX_PDF_PAGES = 300
MAX_OCR_PAGES = 60
OCR_DPI = 300
MAX_PAGE_PIXELS = 40_000_000
MAX_REPORT_ITEMS = 20  # per list in the import report (warnings, merges…); the rest are counted


def number(value: int) -> str:
    """1234567 → "1.234.567" (Vietnamese digit grouping)."""
    return f"{value:,}".replace(",", ".")


def size(value: int) -> str:
    """Bytes as "2 GB", "12,5 MB" or "900 KB" (decimal comma)."""
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2)):
        if value >= scale:
            whole, tenth = divmod(round(value * 10 / scale), 10)
            return f"{number(whole)}{f',{tenth}' if tenth else ''} {unit}"
    return f"{max(1, round(value / 1024))} KB"


def read_limited(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The file's bytes, refusing anything that is not a regular file or is over the limit."""
    with open_limited(path, limit) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:  # grew after the size check
        raise too_big(path, len(data), limit)
    return data


def open_limited(path: Path, limit: int = MAX_FILE_BYTES) -> BinaryIO:
    """Open a regular file for reading after checking its size."""
    try:
        if not path.exists():
            raise DecisionFormatError(f"Không tìm thấy tệp {path.name}.")
        if not path.is_file():
            raise DecisionFormatError(
                f"“{path.name}” không phải là một tệp thông thường nên không nhập được."
            )
        found = path.stat().st_size
        if found > limit:
            raise too_big(path, found, limit)
        return path.open("rb")
    except OSError as exc:
        raise DecisionFormatError(f"Không mở được tệp {path.name}: {exc.strerror}.") from exc


def too_big(path: Path, found: int, limit: int) -> DecisionFormatError:
    """The message for a file over the size limit."""
    return DecisionFormatError(
        f"Tệp {path.name} quá lớn ({size(found)}); giới hạn là {size(limit)}. "
        "Anh/chị chỉ nhập bảng nhiệm vụ hoặc văn bản quyết định."
    )


def too_many_rows(name: str, limit: int = MAX_ROWS) -> DecisionFormatError:
    """The message for a table with more rows than the limit."""
    return DecisionFormatError(
        f"Bảng trong tệp {name} có hơn {number(limit)} dòng, vượt giới hạn {number(limit)} dòng. "
        "Anh/chị chỉ giữ lại bảng nhiệm vụ rồi nhập lại."
    )


def check_cell(name: str, row: int, text: str) -> None:
    """Reject a table cell longer than the limit."""
    if len(text) > MAX_CELL_CHARS:
        raise DecisionFormatError(
            f"Dòng {number(row)} của tệp {name} có một ô dài {number(len(text))} ký tự; "
            f"giới hạn là {number(MAX_CELL_CHARS)} ký tự."
        )


def check_text_lines(name: str, text: str) -> None:
    """Reject a decision text with too many or too long lines."""
    count = 0
    for count, line in enumerate(text.splitlines(), start=1):
        if count > MAX_TEXT_LINES:
            raise DecisionFormatError(
                f"Tệp {name} có hơn {number(MAX_TEXT_LINES)} dòng, vượt giới hạn "
                f"{number(MAX_TEXT_LINES)} dòng của một văn bản quyết định."
            )
        if len(line) > MAX_LINE_CHARS:
            raise DecisionFormatError(
                f"Dòng {number(count)} của tệp {name} dài {number(len(line))} ký tự; "
                f"giới hạn là {number(MAX_LINE_CHARS)} ký tự một dòng."
            )
