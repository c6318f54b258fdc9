"""The Excel workbook (openpyxl write-only, rows stream): a summary sheet, one sheet per sector."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from copy import copy
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.worksheet.properties import PageSetupProperties

from core import labels
from core.textnorm import fold
from data.reports import text as rt
from data.reports.summary import Summary
from data.reports.task_reports import CLASS_KEYS, STATUS_KEYS, TaskReport

HEADERS = (
    "TT",
    "Nhiệm vụ",
    "Đơn vị chủ trì",
    "Đơn vị phối hợp",
    "Tình hình thực hiện",
    "Kết quả",
    "Khó khăn, vướng mắc",
    "Đề xuất",
    "Đánh giá",
)
# Widths in characters of the default font; together they print on A4 landscape at about 80%.
WIDTHS = (5, 32, 18, 20, 26, 28, 18, 16, 12)
SUMMARY_HEADERS = (
    "TT",
    "Lĩnh vực",
    "Số nhiệm vụ",
    *(rt.class_label(key) for key in CLASS_KEYS),
    "Có vướng mắc",
    "Tỷ lệ hoàn thành",
)
SUMMARY_WIDTHS = (6, 46, 11, 12, 12, 12, 10, 13, 10, 26)
AGENCY_HEADERS = (
    "TT",
    "Đơn vị (tên hiện nay, tên năm 2021 trong ngoặc)",
    "Số nhiệm vụ",
    "Chủ trì",
    "Phối hợp",
    "Đã báo cáo",
    "Hoàn thành",
    "Quá hạn",
    "Vướng mắc",
    "Nhiệm vụ chưa báo cáo",
)
SUMMARY_SHEET = "Tổng hợp"
# What spreadsheet apps read as the start of a formula (tab and CR too, for CSV-style pastes).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PAPER_A4 = "9"  # ECMA-376 paper size code
_FONT = "Times New Roman"
_THIN = Side(style="thin", color="808080")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_BAD_TITLE = re.compile(r"[\[\]\*\?/\\:]")
_CHARS_PER_WIDTH = 1.2  # Times New Roman 11 fits about 1.3 characters per width unit
_LINE_POINTS = 14.5
_TRAILING = {"va", "-", "–", "cac", "va cac"}


def _styles() -> list[NamedStyle]:
    wrap_top = Alignment(wrap_text=True, vertical="top")
    center = Alignment(wrap_text=True, vertical="center", horizontal="center")
    return [
        NamedStyle("dm_title", font=Font(name=_FONT, size=13, bold=True)),
        NamedStyle("dm_note", font=Font(name=_FONT, size=11, italic=True)),
        NamedStyle("dm_text", font=Font(name=_FONT, size=11)),
        NamedStyle(
            "dm_header",
            font=Font(name=_FONT, size=11, bold=True),
            alignment=center,
            border=_BOX,
            fill=PatternFill("solid", fgColor="D9E2F3"),
        ),
        NamedStyle("dm_cell", font=Font(name=_FONT, size=11), alignment=wrap_top, border=_BOX),
        NamedStyle(
            "dm_code",
            font=Font(name=_FONT, size=11),
            alignment=Alignment(vertical="top", horizontal="center"),
            border=_BOX,
        ),
        NamedStyle(
            "dm_number",
            font=Font(name=_FONT, size=11),
            alignment=Alignment(vertical="top", horizontal="center"),
            border=_BOX,
        ),
        NamedStyle(
            "dm_percent",
            font=Font(name=_FONT, size=11),
            alignment=Alignment(vertical="top", horizontal="center"),
            border=_BOX,
            number_format="0%",
        ),
        NamedStyle(
            "dm_total",
            font=Font(name=_FONT, size=11, bold=True),
            alignment=Alignment(wrap_text=True, vertical="top", horizontal="center"),
            border=_BOX,
        ),
    ]


def sheet_title(number: int, name: str, programme: str = "") -> str:
    """A valid, short sheet name: "2. Du lịch" (Excel allows 31 characters)."""
    short = re.sub(r"^dịch vụ\s+", "", name.strip(), flags=re.IGNORECASE)
    short = _BAD_TITLE.sub(" ", short[:1].upper() + short[1:])
    prefix = f"{programme.split('/')[0]}-" if programme else ""
    words = f"{prefix}{number}. {short}".split()
    while words and (len(" ".join(words)) > 31 or fold(words[-1]) in _TRAILING):
        words.pop()
    return " ".join(words).rstrip("'") or f"{number}"  # Excel refuses a name ending in '


class _Writer:
    """Appends styled rows to write-only sheets."""

    def __init__(self, workbook: Workbook) -> None:
        self.workbook = workbook
        for style in _styles():
            workbook.add_named_style(style)
        self.titles: set[str] = set()
        self._arrays: dict[str, Any] = {}

    def sheet(self, title: str, widths: Sequence[int], *, freeze: str | None) -> Any:
        base, number = title, 2
        while title.casefold() in self.titles:
            suffix = f" ({number})"
            title, number = base[: 31 - len(suffix)] + suffix, number + 1
        self.titles.add(title.casefold())
        sheet = self.workbook.create_sheet(title)
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[_column(index)].width = width
        if freeze:
            sheet.freeze_panes = freeze
        setup = sheet.page_setup
        setup.orientation = "landscape"
        setup.paperSize = PAPER_A4
        setup.fitToWidth = 1
        setup.fitToHeight = 0
        sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        sheet.page_margins.left = sheet.page_margins.right = 0.4
        sheet.page_margins.top = sheet.page_margins.bottom = 0.5
        sheet.print_options.horizontalCentered = True
        sheet.oddFooter.center.text = "Trang &P / &N"
        return sheet

    def row(self, sheet: Any, values: Sequence[Any], styles: Sequence[str] | str) -> None:
        names = [styles] * len(values) if isinstance(styles, str) else list(styles)
        cells = []
        for value, style in zip(values, names, strict=True):
            cell = WriteOnlyCell(sheet, value=_clean(value))
            cell._style = copy(self._style_array(sheet, style))  # a named-style lookup is slow
            if isinstance(cell.value, str):
                _as_text(cell)
            cells.append(cell)
        sheet.append(cells)

    def _style_array(self, sheet: Any, name: str) -> Any:
        found = self._arrays.get(name)
        if found is None:
            template = WriteOnlyCell(sheet)
            template.style = name
            found = self._arrays[name] = template._style
        return found


def _as_text(cell: WriteOnlyCell) -> None:
    """Keep text text: openpyxl turns "=…" into a formula, and spreadsheet apps evaluate
    "=", "+", "-", "@" once the cell is edited unless it carries the quote prefix."""
    cell.data_type = "s"
    if cell.value.startswith(FORMULA_STARTS):
        cell._style.quotePrefix = 1


def _clean(value: Any) -> Any:
    """Text without the control characters XML cannot hold (typed on phones, pasted)."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def _column(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(index))


def row_height(values: Sequence[Any], widths: Sequence[int]) -> float | None:
    """Points a row of wrapped text needs (spreadsheet apps do not size rows on opening)."""
    lines = 1
    for value, width in zip(values, widths, strict=False):
        if isinstance(value, str) and value:
            per_line = max(1, int(width * _CHARS_PER_WIDTH))
            needed = sum(max(1, math.ceil(len(part) / per_line)) for part in value.split("\n"))
            lines = max(lines, needed)
    return None if lines == 1 else lines * _LINE_POINTS + 3


class _Sheet:
    """One write-only sheet and the number of rows appended so far."""

    def __init__(self, writer: _Writer, sheet: Any, widths: Sequence[int]) -> None:
        self.writer = writer
        self.sheet = sheet
        self.widths = widths
        self.rows = 0

    def append(
        self, values: Sequence[Any], styles: Sequence[str] | str, *, fit: bool = True
    ) -> int:
        self.rows += 1
        height = row_height(values, self.widths) if fit else None
        if height is not None:
            self.sheet.row_dimensions[self.rows].height = height
        self.writer.row(self.sheet, values, styles)
        self.sheet.row_dimensions.pop(self.rows, None)  # written: keep memory flat
        return self.rows

    def line(self, text: str, style: str, span: int) -> None:
        """A line of text merged across span columns."""
        row = self.append([text], style, fit=False)
        if span > 1:
            self.sheet.merged_cells.add(f"A{row}:{_column(span)}{row}")

    def blank(self) -> None:
        self.sheet.append([])
        self.rows += 1


def _task_row(task: TaskReport, timezone: str) -> list[Any]:
    return [
        task.code,
        task.title,
        task.lead,
        rt.partners_cell(task),
        rt.progress_cell(task, timezone),
        rt.result_cell(task),
        rt.blocker_cell(task),
        rt.proposal_cell(task),
        rt.assessment_cell(task),
    ]


_TASK_STYLES = ("dm_code", *(["dm_cell"] * (len(HEADERS) - 1)))


def write_xlsx(
    tasks: Iterable[TaskReport], summary: Summary, target: str | Path | IO[bytes]
) -> Summary:
    """Write the workbook from a stream of tasks; the summary is filled on the way."""
    workbook = Workbook(write_only=True)
    writer = _Writer(workbook)
    front = _Sheet(writer, writer.sheet(SUMMARY_SHEET, SUMMARY_WIDTHS, freeze=None), SUMMARY_WIDTHS)
    timezone = summary.scope.timezone
    current: tuple[int, int] | None = None
    sheet: _Sheet | None = None
    several = False
    for task in summary.observe(tasks):
        key = (task.programme_id, task.sector_number)
        if key != current:
            if sheet is not None:
                _close_sector(sheet)
            several = several or (current is not None and current[0] != task.programme_id)
            current = key
            sheet = _open_sector(writer, summary, task, several)
        assert sheet is not None
        sheet.append(_task_row(task, timezone), _TASK_STYLES)
    if sheet is not None:
        _close_sector(sheet)
    _write_summary(front, summary)
    workbook.save(target)
    return summary


def _open_sector(writer: _Writer, summary: Summary, task: TaskReport, several: bool) -> _Sheet:
    programme = task.programme if several else ""
    title = sheet_title(task.sector_number, task.sector_name, programme)
    sheet = _Sheet(writer, writer.sheet(title, WIDTHS, freeze="C4"), WIDTHS)
    heading = rt.sector_title(task.sector_number, task.sector_name)
    sheet.line(
        f"TÌNH HÌNH THỰC HIỆN NHIỆM VỤ NĂM {summary.scope.year} — LĨNH VỰC {heading.upper()}",
        "dm_title",
        len(HEADERS),
    )
    sheet.line(
        f"Quyết định số {task.programme}; {rt.as_of(summary.scope).lower()}. "
        "Đơn vị ghi theo tên hiện nay, tên năm 2021 trong ngoặc.",
        "dm_note",
        len(HEADERS),
    )
    sheet.append(HEADERS, "dm_header")
    sheet.sheet.print_title_rows = "3:3"
    return sheet


def _close_sector(sheet: _Sheet) -> None:
    sheet.sheet.auto_filter.ref = f"A3:{_column(len(HEADERS))}{max(sheet.rows, 4)}"


def _tally_row(number: str, label: str, tally: Any, style: str) -> tuple[list[Any], list[str]]:
    values = [
        number,
        label,
        tally.total,
        *(tally.by_class[key] for key in CLASS_KEYS),
        tally.blocked,
        _share(tally.done, tally.total),
    ]
    plain = style == "dm_cell"
    styles = [
        "dm_code",
        "dm_cell" if plain else style,
        *(["dm_number" if plain else style] * (len(values) - 3)),
        "dm_percent",
    ]
    return values, styles


def _share(count: int, total: int) -> float:
    return round(count / total, 4) if total else 0.0


def _write_summary(sheet: _Sheet, summary: Summary) -> None:
    scope = summary.scope
    span = len(SUMMARY_HEADERS)
    sheet.line(f"TỔNG HỢP TÌNH HÌNH THỰC HIỆN NHIỆM VỤ NĂM {scope.year}", "dm_title", span)
    sheet.line(f"{rt.report_heading(summary)}. {rt.as_of(scope)}.", "dm_note", span)
    sheet.blank()
    sheet.line("1. Theo lĩnh vực và phân loại", "dm_title", span)
    sheet.append(SUMMARY_HEADERS, "dm_header")
    for index, sector in enumerate(summary.sectors.values(), start=1):
        label = rt.sector_title(
            sector.number, sector.name, sector.programme if summary.several_programmes else ""
        )
        sheet.append(*_tally_row(str(index), label, sector.tally, "dm_cell"))
    sheet.append(*_tally_row("", "Tổng cộng", summary.overall, "dm_total"))
    sheet.blank()
    sheet.line("2. Theo trạng thái (theo báo cáo của đơn vị chủ trì)", "dm_title", span)
    sheet.append(("TT", "Trạng thái", "Số nhiệm vụ", "Tỷ lệ"), "dm_header")
    for index, key in enumerate(STATUS_KEYS, start=1):
        count = summary.overall.by_status[key]
        sheet.append(
            (str(index), labels.REPORT_STATUS[key], count, _share(count, summary.overall.total)),
            ("dm_code", "dm_cell", "dm_number", "dm_percent"),
        )
    sheet.blank()
    sheet.line("3. Theo đơn vị", "dm_title", span)
    sheet.append(AGENCY_HEADERS, "dm_header")
    for index, agency in enumerate(summary.agency_list(), start=1):
        values = (
            str(index),
            agency.label,
            agency.total,
            agency.lead,
            agency.partner,
            agency.reported,
            agency.done,
            agency.overdue,
            agency.blockers,
            summary.missing_text(agency),
        )
        sheet.append(values, ("dm_code", "dm_cell", *(["dm_number"] * 7), "dm_cell"))
    sheet.blank()
    never = summary.never_reported()
    sheet.line(f"4. Đơn vị chưa báo cáo nhiệm vụ nào ({len(never)})", "dm_title", span)
    for agency in never:
        sheet.line(f"- {agency.label}: {agency.total} nhiệm vụ", "dm_text", span)
    if not never:
        sheet.line("Tất cả các đơn vị đã có báo cáo.", "dm_text", span)
