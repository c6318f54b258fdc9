"""The JSON data: one object per task, for other programs (only from `daumoi report`)."""

from __future__ import annotations

import io
from typing import IO

from data.reports.formats.base import ReportData, ReportFormat


def write(data: ReportData, out: IO[bytes]) -> None:
    """Write the array as UTF-8, each task as soon as it is read."""
    from data.reports.json_data import write_json

    text = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
    try:
        write_json(data.tasks, data.summary, text)
    finally:
        text.detach()


FORMAT = ReportFormat(
    name="json",
    extension="json",
    mime_type="application/json",
    label="Dữ liệu báo cáo (JSON)",
    write=write,
)
