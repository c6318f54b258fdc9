"""The Word draft of the yearly report to the UBND, for the coordinating agency to edit."""

from __future__ import annotations

from typing import IO

from data.reports.formats.base import ReportData, ReportFormat


def write(data: ReportData, out: IO[bytes]) -> None:
    """Write the draft, signed by the coordinating agency (python-docx imported only here)."""
    from data.reports.word import write_docx

    write_docx(data.tasks, data.summary, out, coordinator=data.coordinator)


FORMAT = ReportFormat(
    name="docx",
    extension="docx",
    mime_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    label="Dự thảo báo cáo UBND tỉnh (Word)",
    write=write,
    stem="du_thao_bao_cao",
    aliases=("docx", "word", "doc", "du thao", "van ban"),
    offer="dự thảo báo cáo Word",
    note="Bản dự thảo để cơ quan thường trực chỉnh sửa trước khi trình UBND tỉnh.",
    detailed=True,
)
