"""Before compile-by: the coordinating agency compiles the yearly report for the province."""

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


class Compile(RuleKind):
    """D-n reminders before each year's compile-by day (31/12 unless configured)."""

    name = ReminderKind.COMPILE.value
    labels: ClassVar[Mapping[str, str]] = {Kind.COMPILE: "nhắc tổng hợp báo cáo năm"}
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
        """D-n before each year's compile-by day."""
        params = timing.Params.of(rule, config)
        kinds = (Kind.COMPILE, Kind.COMPILE)
        offsets = params.compile_days_before
        planned = [
            plan
            for year, _deadline, by in timing.programme_years(rule, params, start, end)
            for plan in timing.countdown(rule.id, by, offsets, calendar, params.clock, kinds, year)
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
        """The coordinator, with the agencies still missing (if any)."""
        return to_coordinator(session, rule, plan, directory, only_when_missing=False)

    def describe(self, rule: ReminderRule, calendar: WorkCalendar) -> str:
        """ "Nhắc đơn vị tổng hợp báo cáo năm gửi UBND tỉnh trước 31/12 (Quyết định …)"."""
        decision = wording.decision_of(rule)
        return f"Nhắc đơn vị tổng hợp báo cáo năm gửi UBND tỉnh trước 31/12{decision}"

    def render(self, occ: Occurrence, today: date, calendar: WorkCalendar) -> str:
        """How long until compile-by, and who has not reported yet."""
        plan = occ.plan
        if plan is None or plan.deadline is None:
            return super().render(occ, today, calendar)
        name, decision, _via = wording.addressee(occ)
        what = f"tổng hợp, báo cáo UBND tỉnh kết quả thực hiện năm {plan.year}{decision}"
        lines = [f"Kính gửi {name}: {wording.when(plan.deadline, today, calendar, what)}."]
        reported = occ.reporting_total - len(occ.missing)
        if occ.missing:
            lines.append(
                f"Đã có {reported}/{occ.reporting_total} đơn vị báo cáo đầy đủ; "
                f"còn {len(occ.missing)} đơn vị chưa báo cáo:"
            )
            lines += wording.missing_lines(occ)
        else:
            lines.append(f"Tất cả {occ.reporting_total} đơn vị đã báo cáo đầy đủ.")
        return "\n".join(lines)

    def reaches(
        self, session: Session, rule: ReminderRule, directory: Directory, agency_id: int
    ) -> bool:
        """The programme's coordinating agency."""
        return coordinator_reached(rule, directory, agency_id)
