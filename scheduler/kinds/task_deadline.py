"""A deadline an admin set on one task (/hanchot): its lead and partners, before and after."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import ClassVar

from sqlalchemy.orm import Session

from core.render import shorten
from data.store.models import ReminderKind, ReminderRule
from scheduler.calendar import WorkCalendar
from scheduler.config import ReminderConfig
from scheduler.directory import LEAD, Directory
from scheduler.kinds import timing, wording
from scheduler.kinds.base import Kind, Occurrence, Plan, RuleKind


class TaskDeadline(RuleKind):
    """D-n before the task's deadline, then a limited number of overdue reminders."""

    name = ReminderKind.TASK_DEADLINE.value
    labels: ClassVar[Mapping[str, str]] = {
        Kind.TASK_BEFORE: "nhắc hạn nhiệm vụ",
        Kind.TASK_DUE: "nhắc hạn nhiệm vụ",
        Kind.TASK_OVERDUE: "nhắc nhiệm vụ quá hạn",
    }
    stale_after_deadline = frozenset({Kind.TASK_BEFORE, Kind.TASK_DUE})

    def plans(
        self,
        rule: ReminderRule,
        calendar: WorkCalendar,
        config: ReminderConfig,
        start: datetime,
        end: datetime,
        *,
        limit: int | None = None,
    ) -> list[Plan]:
        """D-n before the deadline, then every few working days (at most overdue_limit)."""
        params = timing.Params.of(rule, config)
        task = rule.task
        if task is None or task.deadline is None:
            return []
        deadline = task.deadline
        kinds = (Kind.TASK_BEFORE, Kind.TASK_DUE)
        planned = [
            *timing.countdown(
                rule.id, deadline, params.days_before, calendar, params.clock, kinds, deadline.year
            ),
            *timing.after(
                rule.id,
                deadline,
                params.overdue_every,
                calendar,
                params.clock,
                Kind.TASK_OVERDUE,
                deadline.year,
                limit=params.task_overdue_limit,
            ),
        ]
        return timing.in_window(planned, start, end, limit)

    def resolve(
        self,
        session: Session,
        rule: ReminderRule,
        plan: Plan,
        directory: Directory,
        *,
        texts: bool = True,
    ) -> list[Occurrence]:
        """The lead and partners of the task that have not reported it done; the lead first."""
        task = rule.task
        if task is None:
            return []
        programme_id = task.programme_id
        owed = directory.obligations_of(session, programme_id)
        found: list[Occurrence] = []
        for home, refs in owed.items():
            for ref in refs:
                if ref.id != task.id or (task.id, home) in directory.done:
                    continue
                agency = directory.ref(home, directory.names_2021(programme_id, home))
                found.append(
                    Occurrence(
                        rule_id=rule.id,
                        due=plan.due,
                        kind=plan.kind,
                        programme=task.programme.decision_number,
                        plan=plan,
                        agency=agency,
                        tasks=(ref,),
                        destinations=tuple(directory.destinations(home)),
                    )
                )
        found.sort(
            key=lambda occ: (occ.tasks[0].role != LEAD, occ.agency.name if occ.agency else "")
        )
        return found

    def describe(self, rule: ReminderRule, calendar: WorkCalendar) -> str:
        """ "Hạn chót nhiệm vụ 2.4: 30/06/2027"."""
        task = rule.task
        if task is None:
            return super().describe(rule, calendar)
        deadline = f"{task.deadline:%d/%m/%Y}" if task.deadline else "(chưa đặt)"
        return f"Hạn chót nhiệm vụ {task.code}: {deadline}"

    def render(self, occ: Occurrence, today: date, calendar: WorkCalendar) -> str:
        """The task, the agency's role in it, and how long until (or since) its deadline."""
        plan = occ.plan
        if plan is None or plan.deadline is None:
            return super().render(occ, today, calendar)
        name, _decision, _via = wording.addressee(occ)
        task = occ.tasks[0]
        what = f"hoàn thành nhiệm vụ {task.code}"
        lines = [
            f"Kính gửi {name}: {wording.when(plan.deadline, today, calendar, what)}.",
            f"Nhiệm vụ {task.code} (đơn vị {wording.role(task)}): {shorten(task.title, 200)}",
            "Khi hoàn thành, đề nghị quý cơ quan cập nhật tình hình thực hiện nhiệm vụ.",
        ]
        return "\n".join(lines)

    def reaches(
        self, session: Session, rule: ReminderRule, directory: Directory, agency_id: int
    ) -> bool:
        """The task's lead and partners (as they exist today)."""
        task = rule.task
        if task is None:
            return super().reaches(session, rule, directory, agency_id)
        owed = directory.obligations_of(session, task.programme_id).get(agency_id, [])
        return any(ref.id == rule.task_id for ref in owed)
