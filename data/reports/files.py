"""One entry point for every report file: pick the writer, stream the tasks, name the file."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy.orm import Session

from data.reports.summary import Scope, Summary, coordinator_label, iter_task_reports


@dataclass(frozen=True)
class Format:
    """A report format: file name stem and extension, MIME type, what to call it."""

    name: str
    stem: str
    extension: str
    mime_type: str
    label: str


FORMATS = {
    "xlsx": Format(
        "xlsx",
        "bao_cao",
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Bảng tổng hợp (Excel)",
    ),
    "docx": Format(
        "docx",
        "du_thao_bao_cao",
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "Dự thảo báo cáo UBND tỉnh (Word)",
    ),
    "png": Format("png", "bieu_do", "png", "image/png", "Biểu đồ tiến độ theo lĩnh vực"),
    "json": Format("json", "bao_cao", "json", "application/json", "Dữ liệu báo cáo (JSON)"),
}


def filename(fmt: str, year: int) -> str:
    """ "bao_cao_2026.xlsx"."""
    found = FORMATS[fmt]
    return f"{found.stem}_{year}.{found.extension}"


def write_report(
    session: Session, scope: Scope, fmt: str, target: str | Path | IO[bytes]
) -> Summary:
    """Stream the scope's tasks into one file of the given format; return the summary."""
    tasks = iter_task_reports(session, scope)
    summary = Summary(scope)
    # Writers import their libraries lazily: openpyxl, python-docx and matplotlib are heavy.
    if fmt == "xlsx":
        from data.reports.excel import write_xlsx

        return write_xlsx(tasks, summary, target)
    if fmt == "docx":
        from data.reports.word import write_docx

        coordinator = coordinator_label(session, scope.programme_id)
        return write_docx(tasks, summary, target, coordinator=coordinator)
    if fmt == "png":
        from data.reports.chart import write_chart

        return write_chart(tasks, summary, target)
    if fmt == "json":
        from data.reports.json_data import write_json

        if isinstance(target, str | Path):
            with open(target, "w", encoding="utf-8") as out:
                return write_json(tasks, summary, out)
        text = io.TextIOWrapper(target, encoding="utf-8", write_through=True)
        try:
            return write_json(tasks, summary, text)
        finally:
            text.detach()
    raise ValueError(f"unknown report format: {fmt}")


def report_bytes(session: Session, scope: Scope, fmt: str) -> tuple[bytes, Summary]:
    """The file's content in memory (for sending in a chat) and the summary."""
    buffer = io.BytesIO()
    summary = write_report(session, scope, fmt, buffer)
    return buffer.getvalue(), summary
