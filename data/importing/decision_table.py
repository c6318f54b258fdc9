"""The appendix task table of a decision: sector rows and task rows (TT | Nhiệm vụ | …)."""

from __future__ import annotations

import re

from core.textnorm import folded_key
from data.importing.decision_model import ParsedSector, ParsedTask

_CODE_RE = re.compile(r"^\d{1,2}\.\d{1,2}$")
_SECTOR_NO_RE = re.compile(r"^\d{1,2}$")


def _is_cell(line: str) -> bool:
    return line.endswith("|")


def _cell(line: str) -> str:
    return line[:-1].strip() if line.endswith("|") else line.strip()


def find_table(lines: list[str]) -> int | None:
    """Return the index of the appendix table's "TT |" header cell, if any."""
    for i, line in enumerate(lines):
        if not _is_cell(line) or folded_key(_cell(line)) not in ("tt", "stt"):
            continue
        header = " ".join(folded_key(_cell(cell)) for cell in lines[i + 1 : i + 5])
        if "nhiem vu" in header and "chu tri" in header:
            return i
    return None


def _table_cells(lines: list[str]) -> list[str]:
    """Return the table's cells; a line without the closing "|" continues onto the next."""
    cells: list[str] = []
    pending: list[str] = []
    for line in lines:
        if _is_cell(line):
            cells.append(" ".join([*pending, _cell(line)]).strip())
            pending = []
        else:
            pending.append(line)
    if pending:
        cells.append(" ".join(pending))
    return cells


def parse_table(lines: list[str], warnings: list[str]) -> list[ParsedSector]:
    """Read sector and task rows from the cells after the header."""
    cells = _table_cells(lines)
    header_len = 0
    for cell in cells[:6]:
        key = folded_key(cell)
        if key in ("tt", "stt") or "nhiem vu" in key or "don vi" in key:
            header_len += 1
        else:
            break
    cells = cells[header_len:]
    sectors: list[ParsedSector] = []
    codes: set[str] = set()
    i = 0
    while i < len(cells):
        cell = cells[i]
        if _CODE_RE.match(cell):
            row: list[str] = []
            i += 1
            while i < len(cells) and not _starts_row(cells, i):
                row.append(cells[i])
                i += 1
            task = _task_row(cell, row, warnings)
            if task is None:
                continue
            if cell in codes:
                warnings.append(f"Mã nhiệm vụ {cell} xuất hiện hai lần; đã giữ dòng đầu tiên.")
                continue
            codes.add(cell)
            sector_no = int(cell.split(".")[0])
            if not sectors or sectors[-1].number != sector_no:
                existing = [s for s in sectors if s.number == sector_no]
                if existing:
                    existing[0].tasks.append(task)
                    continue
                warnings.append(f"Nhiệm vụ {cell} không có dòng lĩnh vực {sector_no}.")
                sectors.append(ParsedSector(number=sector_no, name=f"Lĩnh vực {sector_no}"))
            sectors[-1].tasks.append(task)
        elif _SECTOR_NO_RE.match(cell) and i + 1 < len(cells):
            name = cells[i + 1]
            i += 2
            while i < len(cells) and cells[i] == "":
                i += 1
            sectors.append(ParsedSector(number=int(cell), name=name))
        else:
            if cell:
                warnings.append(f"Bỏ qua ô không rõ trong bảng: “{cell[:60]}”.")
            i += 1
    return sectors


def _starts_row(cells: list[str], i: int) -> bool:
    """Whether cell i begins a new task row or a sector row."""
    cell = cells[i]
    if _CODE_RE.match(cell):
        return True
    if _SECTOR_NO_RE.match(cell) and i + 1 < len(cells) and cells[i + 1]:
        following = cells[i + 2 : i + 4]
        if following and all(c == "" for c in following):
            return True
        # A sector row whose empty cells were lost is followed by its first task, N.1.
        return i + 2 >= len(cells) or cells[i + 2].startswith(f"{cell}.")
    return False


def _task_row(code: str, row: list[str], warnings: list[str]) -> ParsedTask | None:
    """Turn the cells after a task code into a task (title, lead, partners)."""
    if not row or not row[0]:
        warnings.append(f"Nhiệm vụ {code} không có nội dung; đã bỏ qua.")
        return None
    title = row[0].rstrip()
    lead = row[1] if len(row) > 1 else ""
    partners = row[2] if len(row) > 2 else ""
    if not lead:
        warnings.append(f"Nhiệm vụ {code} không có đơn vị chủ trì.")
    if len(row) > 3:
        extra = "; ".join(c for c in row[3:] if c)
        if extra:
            partners = f"{partners}; {extra}" if partners else extra
            warnings.append(f"Nhiệm vụ {code} có ô thừa; đã gộp vào đơn vị phối hợp.")
    from data.importing.agency_names import split_partners

    return ParsedTask(
        code=code,
        title=title,
        lead=lead.rstrip(" .;,"),
        partners=split_partners(partners),
    )
