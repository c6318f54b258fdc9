"""Parse a task table (CSV or XLSX with TT, Nhiệm vụ, Đơn vị chủ trì, Đơn vị phối hợp)."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from core.textnorm import folded_key, nfc
from data.importing.agency_names import split_partners
from data.importing.decision_text import (
    DecisionFormatError,
    ParsedDecision,
    ParsedSector,
    ParsedTask,
    number_in,
    target_years,
)
from data.importing.limits import (
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_ROWS,
    check_cell,
    read_limited,
    too_many_rows,
)
from data.importing.xlsx_check import check_xlsx

COLUMNS_MISSING = (
    "Không tìm thấy dòng tiêu đề của bảng nhiệm vụ. Bảng cần có các cột: "
    "TT, Nhiệm vụ, Đơn vị chủ trì, Đơn vị phối hợp."
)
NUMBER_MISSING = (
    "Không xác định được số hiệu quyết định của bảng. Hãy thêm cột “Số hiệu” hoặc ghi số hiệu "
    "khi nhập (ví dụ: --decision 1731/QĐ-UBND)."
)
_CODE_RE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.?$")
_SECTOR_RE = re.compile(r"^(\d{1,2})\.?$")


def _column(key: str) -> str | None:
    """Which known column a folded header names."""
    if key in ("tt", "stt", "so tt", "ma", "ma nhiem vu"):
        return "code"
    if "phoi hop" in key:
        return "partners"
    if "chu tri" in key:
        return "lead"
    if key.startswith("nhiem vu") or key in ("noi dung", "ten nhiem vu"):
        return "title"
    if key in ("so hieu", "so quyet dinh", "quyet dinh", "so hieu quyet dinh"):
        return "decision"
    return None


def _find_header(rows: Sequence[Sequence[str]]) -> tuple[int, dict[str, int]] | None:
    for index, row in enumerate(rows[:30]):
        mapping: dict[str, int] = {}
        for position, cell in enumerate(row):
            column = _column(folded_key(cell))
            if column and column not in mapping:
                mapping[column] = position
        if {"code", "title", "lead"} <= set(mapping):
            return index, mapping
    return None


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return nfc(str(value))


def _decode(data: bytes, name: str) -> str:
    if b"\x00" in data:
        raise DecisionFormatError(f"Tệp {name} không phải bảng CSV dạng văn bản.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DecisionFormatError(f"Tệp {name} không phải văn bản UTF-8.") from exc


def bounded_rows(rows: Iterable[Sequence[object]], name: str) -> list[list[str]]:
    """Rows as text, up to the last non-empty one; reject too many rows or too long cells.

    Blank rows past the limit are skipped without being kept: spreadsheets often carry
    formatting far below the table.
    """
    kept: list[list[str]] = []
    blanks = 0
    for number, row in enumerate(rows, start=1):
        raw = ["" if value is None else str(value) for value in row[:MAX_COLUMNS]]
        if not any(cell.strip() for cell in raw):
            blanks += 1
            continue
        if number > MAX_ROWS:
            raise too_many_rows(name)
        for cell in raw:
            check_cell(name, number, cell)
        kept.extend([] for _ in range(blanks))
        blanks = 0
        kept.append([_cell_text(value) for value in row[:MAX_COLUMNS]])
    return kept


def read_csv_rows(path: Path) -> list[list[str]]:
    """Read a CSV (UTF-8 with or without BOM; comma or semicolon separated)."""
    data = read_limited(path)
    if not data.strip():
        raise DecisionFormatError(f"Tệp {path.name} rỗng, không có nội dung để nhập.")
    text = _decode(data, path.name)
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        return bounded_rows(reader, path.name)
    except csv.Error as exc:
        # csv's own messages are English; the line number is what helps the operator.
        raise DecisionFormatError(
            f"Tệp {path.name} không đọc được như bảng CSV (lỗi ở dòng {reader.line_num}; "
            f"có thể một ô dài quá {MAX_CELL_CHARS} ký tự hoặc thiếu dấu ngoặc kép đóng)."
        ) from exc


def read_xlsx_rows(path: Path) -> list[list[str]]:
    """Read the first worksheet that has the task table header (streamed, within the limits)."""
    check_xlsx(path)  # before openpyxl inflates or parses anything
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise DecisionFormatError(
            f"Tệp {path.name} không phải bảng Excel (.xlsx) hợp lệ hoặc đã bị hỏng."
        ) from exc
    try:
        first: list[list[str]] | None = None
        for sheet in workbook.worksheets:
            cells = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS)
            rows = bounded_rows(cells, path.name)
            if first is None:
                first = rows
            if _find_header(rows) is not None:
                return rows
        return first or []
    except DecisionFormatError:
        raise
    except Exception as exc:  # a damaged sheet fails inside lxml, zlib or openpyxl in many ways
        raise DecisionFormatError(
            f"Tệp {path.name} không phải bảng Excel (.xlsx) hợp lệ hoặc đã bị hỏng."
        ) from exc
    finally:
        workbook.close()


def parse_table(path: Path | str, decision_number: str | None = None) -> ParsedDecision:
    """Parse a CSV or XLSX task table into a ParsedDecision."""
    path = Path(path)
    suffix = path.suffix.lower()
    rows = read_csv_rows(path) if suffix == ".csv" else read_xlsx_rows(path)
    return parse_rows(rows, source_name=path.name, decision_number=decision_number)


def parse_rows(
    rows: Iterable[Sequence[str]], source_name: str = "", decision_number: str | None = None
) -> ParsedDecision:
    """Turn table rows (header somewhere near the top) into sectors and tasks."""
    table = [list(row) for row in rows]
    found = _find_header(table)
    if found is None:
        raise DecisionFormatError(COLUMNS_MISSING)
    header_at, columns = found
    warnings: list[str] = []
    sectors: list[ParsedSector] = []
    by_number: dict[int, ParsedSector] = {}
    seen: set[str] = set()
    numbers_in_table: list[str] = []

    def cell(row: Sequence[str], name: str) -> str:
        index = columns.get(name)
        return row[index].strip() if index is not None and index < len(row) else ""

    for offset, row in enumerate(table[header_at + 1 :], start=header_at + 2):
        code = cell(row, "code")
        title = cell(row, "title")
        lead = cell(row, "lead")
        partners = cell(row, "partners")
        if cell(row, "decision"):
            numbers_in_table.append(cell(row, "decision"))
        if not any((code, title, lead, partners)):
            continue
        task_match = _CODE_RE.match(code)
        sector_match = _SECTOR_RE.match(code)
        if sector_match and not lead and not partners:
            number = int(sector_match.group(1))
            sector = ParsedSector(number=number, name=title or f"Lĩnh vực {number}")
            sectors.append(sector)
            by_number[number] = sector
            continue
        if not task_match:
            warnings.append(f"Dòng {offset}: bỏ qua vì cột TT “{code}” không phải mã nhiệm vụ.")
            continue
        code = f"{int(task_match.group(1))}.{int(task_match.group(2))}"
        if code in seen:
            warnings.append(f"Dòng {offset}: mã nhiệm vụ {code} lặp lại; đã bỏ qua.")
            continue
        if not title:
            warnings.append(f"Dòng {offset}: nhiệm vụ {code} không có nội dung; đã bỏ qua.")
            continue
        seen.add(code)
        number = int(task_match.group(1))
        sector_for_task = by_number.get(number)
        if sector_for_task is None:
            warnings.append(f"Nhiệm vụ {code} không có dòng lĩnh vực {number}.")
            sector_for_task = ParsedSector(number=number, name=f"Lĩnh vực {number}")
            sectors.append(sector_for_task)
            by_number[number] = sector_for_task
        if not lead:
            warnings.append(f"Nhiệm vụ {code} không có đơn vị chủ trì.")
        sector_for_task.tasks.append(
            ParsedTask(
                code=code,
                title=title,
                lead=lead.strip(" .;,"),
                partners=split_partners(partners),
                target_years=target_years([title]),
            )
        )
    if not seen:
        raise DecisionFormatError("Bảng không có dòng nhiệm vụ nào (mã dạng 1.1, 1.2… ở cột TT).")
    decision = decision_number or (numbers_in_table[0] if numbers_in_table else "")
    if not decision:
        decision = number_in(Path(source_name).stem)
    if not decision:
        raise DecisionFormatError(NUMBER_MISSING)
    return ParsedDecision(
        decision_number=nfc(decision),
        title="",
        sectors=sectors,
        warnings=warnings,
    )
