"""The Excel workbook: a summary sheet and one sheet per sector, the full table of every task."""

from __future__ import annotations

from typing import IO

from data.reports.formats.base import ReportData, ReportFormat


def write(data: ReportData, out: IO[bytes]) -> None:
    """Stream the tasks into the workbook (openpyxl is imported only to write one)."""
    from data.reports.excel import write_xlsx

    write_xlsx(data.tasks, data.summary, out)


FORMAT = ReportFormat(
    name="xlsx",
    extension="xlsx",
    mime_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    label="Bảng tổng hợp (Excel)",
    write=write,
    aliases=("xlsx", "excel", "exel", "bang", "bang tinh"),
    offer="bảng Excel",
    detailed=True,
)
