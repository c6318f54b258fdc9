"""After the deadline: the coordinating agency gets the list of agencies that have not reported."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import ClassVar

from sqlalchemy.orm import Session

from data.store.models import ReminderKind, ReminderRule
from scheduler.calendar import WorkCalendar
from scheduler.config import ReminderConfig
from scheduler.directory import Directory
from scheduler.kinds import timing, wording
from scheduler.kinds.base import Kind, Occurrence, Plan, RuleKind
from scheduler.kinds.targets import coordinator_reached, to_coordinator


class Escalation(RuleKind):
    """Every few working days after the deadline, until compile-by, while anyone is missing."""

    name = ReminderKind.ESCALATION.value
    labels: ClassVar[Mapping[str, str]] = {Kind.ESCALATION: "danh sách đơn vị chưa báo cáo"}
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
        """The first working day after each year's deadline, then every few working days."""
        params = timing.Params.of(rule, config)
        planned = [
            plan
            for year, deadline, compile_by in timing.programme_years(rule, params, start, end)
            for plan in timing.after(
                rule.id,
                deadline,
                params.escalation_every,
                calendar,
                params.clock,
                Kind.ESCALATION,
                year,
                until=compile_by,
            )
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
        """The coordinator, with the agencies still missing (nothing once all reported)."""
        return to_coordinator(session, rule, plan, directory, only_when_missing=True)

    def describe(self, rule: ReminderRule, calendar: WorkCalendar) -> str:
        """ "Danh sách đơn vị chưa báo cáo, gửi đơn vị tổng hợp sau hạn (Quyết định …)"."""
        decision = wording.decision_of(rule)
        return f"Danh sách đơn vị chưa báo cáo, gửi đơn vị tổng hợp sau hạn{decision}"

    def render(self, occ: Occurrence, today: date, calendar: WorkCalendar) -> str:
        """How many agencies have not reported, and which."""
        plan = occ.plan
        if plan is None or plan.deadline is None:
            return super().render(occ, today, calendar)
        name, decision, _via = wording.addressee(occ)
        lines = [
            f"Kính gửi {name}: đến ngày {today:%d/%m/%Y} còn {len(occ.missing)}/"
            f"{occ.reporting_total} đơn vị chưa báo cáo đầy đủ kết quả thực hiện năm {plan.year}"
            f"{decision} (hạn {plan.deadline:%d/%m/%Y}):"
        ]
        lines += wording.missing_lines(occ)
        lines.append("Đề nghị quý cơ quan đôn đốc các đơn vị trên.")
        return "\n".join(lines)

    def reaches(
        self, session: Session, rule: ReminderRule, directory: Directory, agency_id: int
    ) -> bool:
        """The programme's coordinating agency."""
        return coordinator_reached(rule, directory, agency_id)
