"""The yearly report cycle: every agency that owes a report, before, on and after the deadline."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import ClassVar

from sqlalchemy.orm import Session

from data.store.models import ReminderKind, ReminderRule
from scheduler.calendar import WorkCalendar
from scheduler.config import ReminderConfig
from scheduler.directory import Directory
from scheduler.kinds import timing, wording
from scheduler.kinds.base import Kind, Occurrence, Plan, RuleKind
from scheduler.kinds.targets import yearly


class Cycle(RuleKind):
    """D-n reminders before the yearly report deadline, then overdue ones until compile-by."""

    name = ReminderKind.CYCLE.value
    labels: ClassVar[Mapping[str, str]] = {
        Kind.BEFORE: "nhắc hạn báo cáo năm",
        Kind.DUE: "nhắc hạn báo cáo năm",
        Kind.OVERDUE: "nhắc báo cáo quá hạn",
    }
    stale_after_deadline = frozenset({Kind.BEFORE, Kind.DUE})
    default = "programme"

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
        """D-n before each year's deadline, then every few working days until compile-by."""
        params = timing.Params.of(rule, config)

        def planned() -> Iterator[Plan]:
            for year, deadline, compile_by in timing.programme_years(rule, params, start, end):
                kinds = (Kind.BEFORE, Kind.DUE)
                yield from timing.countdown(
                    rule.id, deadline, params.days_before, calendar, params.clock, kinds, year
                )
                yield from timing.after(
                    rule.id,
                    deadline,
                    params.overdue_every,
                    calendar,
                    params.clock,
                    Kind.OVERDUE,
                    year,
                    until=compile_by,
                )

        return timing.in_window(planned(), start, end, limit)

    def resolve(
        self,
        session: Session,
        rule: ReminderRule,
        plan: Plan,
        directory: Directory,
        *,
        texts: bool = True,
    ) -> list[Occurrence]:
        """One occurrence per agency with tasks not yet reported for the year."""
        found = yearly(session, rule, plan, directory)
        if found is None:
            return []
        common, missing, _coordinator = found
        return [
            replace(
                common,
                agency=item.agency,
                tasks=item.tasks,
                destinations=tuple(directory.destinations(item.agency.id)),
            )
            for item in missing
        ]

    def describe(self, rule: ReminderRule, calendar: WorkCalendar) -> str:
        """ "Nhắc báo cáo kết quả năm, hạn 15/12 hằng năm (Quyết định …)"."""
        programme = rule.programme
        if programme is None:
            return super().describe(rule, calendar)
        deadline = f"{programme.report_day:02d}/{programme.report_month:02d}"
        return (
            f"Nhắc báo cáo kết quả năm, hạn {deadline} hằng năm "
            f"(Quyết định {programme.decision_number})"
        )

    def render(self, occ: Occurrence, today: date, calendar: WorkCalendar) -> str:
        """The tasks the agency has not reported on, and how long until (or since) the deadline."""
        plan = occ.plan
        if plan is None or plan.deadline is None:
            return super().render(occ, today, calendar)
        name, decision, via = wording.addressee(occ)
        what = f"báo cáo kết quả thực hiện năm {plan.year}{decision}"
        lines = [f"Kính gửi {name}: {wording.when(plan.deadline, today, calendar, what)}."]
        lines.append(f"Các nhiệm vụ chưa báo cáo ({len(occ.tasks)}):")
        lines += wording.task_lines(occ.tasks)
        if occ.kind == Kind.OVERDUE:
            lines.append(f"Đề nghị quý cơ quan khẩn trương gửi báo cáo về UBND tỉnh{via}.")
        else:
            lines.append(f"Đề nghị quý cơ quan gửi báo cáo về UBND tỉnh{via} đúng hạn.")
        lines.append("Xin trân trọng cảm ơn.")
        return "\n".join(lines)

    def reaches(
        self, session: Session, rule: ReminderRule, directory: Directory, agency_id: int
    ) -> bool:
        """Every agency that reports on a task of the programme."""
        if rule.programme_id is None:
            return super().reaches(session, rule, directory, agency_id)
        return agency_id in directory.obligations_of(session, rule.programme_id)
