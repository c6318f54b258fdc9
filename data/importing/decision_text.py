"""Parse a decision's text (metadata, appendix task table, section II measures)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from core.textnorm import folded_key, nfc
from data.importing.decision_measures import attach_measures, narrative_blocks
from data.importing.decision_model import (
    TABLE_MISSING,
    DecisionFormatError,
    ParsedDecision,
    ParsedMeasure,
    ParsedSector,
    ParsedTask,
)
from data.importing.decision_table import find_table, parse_table

# The parsed parts are named here too: importers read one module.
__all__ = [
    "TABLE_MISSING",
    "DecisionFormatError",
    "ParsedDecision",
    "ParsedMeasure",
    "ParsedSector",
    "ParsedTask",
    "number_in",
    "parse_decision",
    "target_years",
]

_META_RE = re.compile(r"^([^|]{2,40}?)\s*\|\s*(.*?)\s*\|?\s*$")
_NUMBER_RE = re.compile(r"\b(\d{1,6}/\d{4}/[A-ZĐ][\w-]*|\d{1,6}/[A-ZĐ][A-ZĐa-zđ]*-[A-ZĐ][\w-]*)")
_DMY_RE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_LONG_DATE_RE = re.compile(r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})", re.IGNORECASE)
_THROUGH_RE = re.compile(r"thông qua\s+((?:Sở|Ban|Văn phòng)\s[^)(,;]+)", re.IGNORECASE)
_DEADLINE_RE = re.compile(
    r"trước ngày\s+(\d{1,2})\s*/\s*(\d{1,2})\s+(?:hằng|hàng|mỗi)\s+năm", re.IGNORECASE
)
_YEAR_RE = re.compile(r"(?<![\d/.])(20\d\d)(?![\d/])")


def parse_decision(
    text: str, source_name: str = "", *, decision_number: str | None = None
) -> ParsedDecision:
    """Parse a decision text of the seed's form; raise DecisionFormatError otherwise.

    decision_number, when given, overrides the number written in the text.
    """
    lines = [nfc(line) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = [line for line in lines if line]
    warnings: list[str] = []
    lines = _drop_repeated_block(lines, warnings)
    table_at = find_table(lines)
    if table_at is None:
        raise DecisionFormatError(TABLE_MISSING)
    sectors = parse_table(lines[table_at:], warnings)
    if not any(sector.tasks for sector in sectors):
        raise DecisionFormatError(TABLE_MISSING)
    meta = _metadata(lines[:table_at])
    number = decision_number or meta.get("so hieu") or _number_from_text(lines, source_name)
    if not number:
        raise DecisionFormatError(
            "Không tìm thấy số hiệu quyết định (ví dụ 1731/QĐ-UBND) trong tệp. "
            "Vui lòng ghi rõ số hiệu khi nhập."
        )
    decision = ParsedDecision(
        decision_number=number,
        issued_on=_parse_date(meta.get("ngay ban hanh", "")) or _long_date(lines[:table_at]),
        issuer=_issuer(meta.get("co quan ban hanh", "")),
        signer=meta.get("nguoi ky") or None,
        title=_title(lines),
        sectors=sectors,
        warnings=warnings,
        coordinator=_coordinator(lines[:table_at]),
        report_by=_report_by(lines[:table_at]),
        preamble=lines[:table_at],
    )
    blocks = narrative_blocks(lines[:table_at])
    attach_measures(decision, blocks)
    for task in decision.tasks():
        task.target_years = target_years(
            [task.title, *(m.heading for m in task.measures), *(m.text for m in task.measures)]
        )
    return decision


def _drop_repeated_block(lines: list[str], warnings: list[str]) -> list[str]:
    """Remove the first copy of a block of lines that is immediately repeated."""
    seen: dict[str, int] = {}
    for j, line in enumerate(lines):
        i = seen.get(line)
        if i is None:
            seen[line] = j
            continue
        size = j - i
        if size >= 3 and lines[i:j] == lines[j : j + size]:
            warnings.append(f"Đã bỏ qua {size} dòng lặp lại ở phần đầu văn bản.")
            return lines[:i] + lines[j:]
    return lines


def _metadata(lines: list[str]) -> dict[str, str]:
    """Read "Key | value |" metadata lines (first occurrence wins)."""
    meta: dict[str, str] = {}
    for line in lines[:40]:
        match = _META_RE.match(line)
        if match and match.group(2):
            meta.setdefault(folded_key(match.group(1)), match.group(2).strip())
    return meta


def _number_from_text(lines: list[str], source_name: str) -> str:
    """Find the decision number in "Số: …" or "Quyết định số …" lines, else the file name."""
    for line in lines:
        key = folded_key(line)
        if key.startswith("so ") or "quyet dinh so" in key or key.startswith("quyet dinh"):
            match = _NUMBER_RE.search(line)
            if match:
                return match.group(1)
    return number_in(Path(source_name).stem) if source_name else ""


def number_in(name: str) -> str:
    """A decision number written in a file name, e.g. "1731_QĐ-UBND" → "1731/QĐ-UBND"."""
    match = _NUMBER_RE.search(nfc(name).replace("_", "/"))
    return match.group(1) if match else ""


def _parse_date(value: str) -> date | None:
    match = _DMY_RE.search(value)
    if not match:
        return None
    day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _long_date(lines: list[str]) -> date | None:
    for line in lines:
        match = _LONG_DATE_RE.search(line)
        if match:
            day, month, year = (int(g) for g in match.groups())
            try:
                return date(year, month, day)
            except ValueError:
                return None
    return None


def _issuer(value: str) -> str:
    """Turn "Tỉnh Quảng Ngãi" (the portal's issuer field) into "UBND tỉnh Quảng Ngãi"."""
    if folded_key(value).startswith("tinh "):
        return "UBND tỉnh " + value.split(" ", 1)[1]
    return value


def _coordinator(lines: list[str]) -> str:
    """The agency results are reported through, e.g. "(thông qua Sở Kế hoạch và Đầu tư)"."""
    for line in lines:
        match = _THROUGH_RE.search(line)
        if match:
            return match.group(1).strip()
    return ""


def _report_by(lines: list[str]) -> tuple[int, int] | None:
    """The yearly deadline, from "… trước ngày 15/12 hằng năm"."""
    for line in lines:
        match = _DEADLINE_RE.search(line)
        if match:
            day, month = int(match.group(1)), int(match.group(2))
            if 1 <= day <= 31 and 1 <= month <= 12:
                return day, month
    return None


def _title(lines: list[str]) -> str:
    first = lines[0] if lines else ""
    return "" if "|" in first else first


def target_years(texts: list[str]) -> list[int]:
    """Return the sorted distinct years ≥ 2021 mentioned as targets (not dates or numbers)."""
    years: set[int] = set()
    for text in texts:
        for match in _YEAR_RE.finditer(text):
            year = int(match.group(1))
            if 2021 <= year <= 2100:
                years.add(year)
    return sorted(years)
