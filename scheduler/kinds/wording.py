"""Phrases the reminder texts of several kinds share (Vietnamese)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from core.labels import TASK_ROLE
from core.markup import code
from core.render import shorten
from data.store.models import ReminderRule
from scheduler.calendar import WorkCalendar
from scheduler.directory import TaskRef
from scheduler.kinds.base import Occurrence

MAX_TITLE = 90
MAX_LISTED_AGENCIES = 40


def role(task: TaskRef) -> str:
    """ "chủ trì" / "phối hợp"."""
    return TASK_ROLE.get(task.role, task.role)


def task_lines(tasks: Sequence[TaskRef]) -> list[str]:
    """ "• 2.4 (chủ trì): <title>" per task."""
    return [f"• {code(t.code)} ({role(t)}): {shorten(t.title, MAX_TITLE)}" for t in tasks]


def addressee(occ: Occurrence) -> tuple[str, str, str]:
    """(agency name, " theo Quyết định …", " qua <coordinator>") for the text's first lines."""
    name = occ.agency.name if occ.agency else ""
    decision = f" theo Quyết định {occ.programme}" if occ.programme else ""
    via = f" qua {occ.coordinator}" if occ.coordinator and occ.coordinator != name else ""
    return name, decision, via


def decision_of(rule: ReminderRule) -> str:
    """ " (Quyết định 1731/QĐ-UBND)" for a rule of one decision, "" for a rule of every decision."""
    programme = rule.programme
    return f" (Quyết định {programme.decision_number})" if programme is not None else ""


def when(deadline: date, today: date, calendar: WorkCalendar, what: str) -> str:
    """ "còn 14 ngày đến hạn …" / "hôm nay là hạn cuối …" with the deadline's date."""
    left = (deadline - today).days
    stamp = f"{deadline:%d/%m/%Y}"
    if left > 0:
        text = f"còn {left} ngày đến hạn {what} ({stamp})"
        if not calendar.is_working_day(deadline) and left <= 3:
            text += (
                f"; hạn rơi vào ngày nghỉ ({calendar.describe_day(deadline)}) nên đề nghị "
                "hoàn thành trong ngày làm việc cuối cùng trước hạn"
            )
        return text
    if left == 0:
        return f"hôm nay ({stamp}) là hạn cuối {what}"
    return f"đã quá hạn {what} ({stamp}) {-left} ngày"


def missing_lines(occ: Occurrence) -> list[str]:
    """ "• <agency>: 3 nhiệm vụ (2.4, 5.2, 5.3)" per agency that has not reported."""
    lines = []
    for item in occ.missing[:MAX_LISTED_AGENCIES]:
        codes = ", ".join(task.code for task in item.tasks)
        lines.append(f"• {item.agency.name}: {len(item.tasks)} nhiệm vụ ({codes})")
    if len(occ.missing) > MAX_LISTED_AGENCIES:
        lines.append(f"• … và {len(occ.missing) - MAX_LISTED_AGENCIES} đơn vị khác.")
    return lines
