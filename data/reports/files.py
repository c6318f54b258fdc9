"""One entry point for every report file: read the tasks, hand them to the format's writer."""

from __future__ import annotations

import io
from pathlib import Path
from typing import IO

from sqlalchemy.orm import Session

from data.reports.formats import FORMATS, ReportData
from data.reports.summary import Summary, coordinator_label
from data.reports.task_reports import Scope, iter_task_reports


def write_report(
    session: Session, scope: Scope, fmt: str, target: str | Path | IO[bytes]
) -> Summary:
    """Stream the scope's tasks into one file of the given format; return the summary."""
    found = FORMATS.get(fmt)
    if found is None:
        raise ValueError(f"unknown report format: {fmt}")
    summary = Summary(scope)
    data = ReportData(
        iter_task_reports(session, scope), summary, coordinator_label(session, scope.programme_id)
    )
    if isinstance(target, str | Path):
        with open(target, "wb") as out:
            found.write(data, out)
    else:
        found.write(data, target)
    return summary


def report_bytes(session: Session, scope: Scope, fmt: str) -> tuple[bytes, Summary]:
    """The file's content in memory (for sending in a chat) and the summary."""
    buffer = io.BytesIO()
    summary = write_report(session, scope, fmt, buffer)
    return buffer.getvalue(), summary
