"""Vietnamese wording shared by every report format: cells, phrases, titles."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from core import labels
from data.reports.summary import Summary
from data.reports.task_reports import AgencyPart, Scope, TaskReport
from data.store import status as st
from data.store.models import TaskStatus

PROGRAMME_TITLE = (
    "Chương trình hành động thực hiện Chiến lược phát triển các ngành dịch vụ "
    "đến năm 2030, tầm nhìn đến năm 2050"
)


def day(moment: date | datetime | None, timezone: str = st.DEFAULT_TIMEZONE) -> str:
    """ "03/11/2026" (a datetime is read on the province's clock)."""
    if moment is None:
        return ""
    if isinstance(moment, datetime):
        moment = st.local(moment, timezone).date()
    return f"{moment:%d/%m/%Y}"


def status_phrase(part: AgencyPart) -> str:
    """ "Đang thực hiện (60%)", "Hoàn thành", "Chưa báo cáo" or "Báo cáo bị trả lại …"."""
    if part.returned:
        reason = f": {part.returned_reason}" if part.returned_reason else ""
        return f"Báo cáo bị trả lại để bổ sung{reason}"
    key = part.status_key
    label = labels.REPORT_STATUS.get(key, key)
    if key == TaskStatus.IN_PROGRESS.value and part.progress is not None:
        return f"{label} ({part.progress}%)"
    return label


def class_label(key: str | None) -> str:
    """The official category's label ("Quá hạn"), "Chưa báo cáo (chưa đến hạn)" for none."""
    return labels.REPORT_CLASSIFICATION.get(key or labels.UNREPORTED, key or "")


def _by_agency(
    task: TaskReport, text: Callable[[AgencyPart], str], *, always_name: bool = False
) -> str:
    """One line per agency with something to say, named when several agencies share the task."""
    named = always_name or len(task.parts) > 1
    lines = []
    for part in task.parts:
        value = " ".join(text(part).split())
        if value:
            lines.append(f"- {part.label}: {value}" if named else value)
    return "\n".join(lines)


def progress_cell(task: TaskReport, timezone: str = st.DEFAULT_TIMEZONE) -> str:
    """Tình hình thực hiện: each agency's status, progress and the day of its report."""

    def line(part: AgencyPart) -> str:
        phrase = status_phrase(part)
        if part.updated_at is not None and part.reported:
            phrase += f", báo cáo ngày {day(part.updated_at, timezone)}"
        return phrase

    if not task.parts:
        return "Không có đơn vị cụ thể được giao"
    named = len(task.parts) > 1
    lines = []
    for part in task.parts:
        head = f"- {part.label} ({labels.TASK_ROLE[part.role]}): " if named else ""
        lines.append(head + line(part))
    return "\n".join(lines)


def result_cell(task: TaskReport) -> str:
    """Kết quả: what each agency achieved."""
    return _by_agency(task, lambda part: part.result if part.reported else "")


def blocker_cell(task: TaskReport) -> str:
    """Khó khăn, vướng mắc: open blockers."""
    return _by_agency(task, lambda part: part.blocker_text if part.blocker else "")


def proposal_cell(task: TaskReport) -> str:
    """Đề xuất: each agency's proposal."""
    return _by_agency(task, lambda part: part.proposal if part.reported else "")


def assessment_cell(task: TaskReport) -> str:
    """Đánh giá: the task's official category, and partners' where it differs."""
    lines = [class_label(task.class_key)]
    main = task.main
    for part in task.parts:
        if part is not main and part.class_key != task.class_key:
            lines.append(f"{part.name}: {class_label(part.class_key).lower()}")
    return "\n".join(lines)


def partners_cell(task: TaskReport) -> str:
    """Đơn vị phối hợp, one per line."""
    return "\n".join(f"- {name}" for name in task.partners)


def report_heading(summary: Summary) -> str:
    """ "Kết quả thực hiện … năm 2026 (Quyết định số 1731/QĐ-UBND)"."""
    decisions = ", ".join(summary.programmes.values())
    source = f" (Quyết định số {decisions})" if decisions else ""
    return f"Kết quả thực hiện {PROGRAMME_TITLE} năm {summary.scope.year}{source}"


def as_of(scope: Scope) -> str:
    """ "Số liệu đến ngày 26/11/2026"."""
    return f"Số liệu đến ngày {day(scope.now, scope.timezone)}"


def sector_title(number: int, name: str, programme: str = "") -> str:
    """ "1. Dịch vụ du lịch" (with the decision when several are reported)."""
    prefix = f"{programme} — " if programme else ""
    return f"{prefix}{number}. {name}"
