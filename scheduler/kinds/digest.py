"""The weekly digest to the coordinating agency (its text is written by scheduler.digest).

Its day and hour come from DAUMOI_DIGEST_DAY / DAUMOI_DIGEST_TIME (Monday 08:00,
Asia/Ho_Chi_Minh) unless the rule's params set "digest_day" / "digest_time".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import ClassVar

from sqlalchemy.orm import Session

from core.config import parse_weekday
from data.store import status as st
from data.store.models import ReminderKind, ReminderRule
from scheduler.calendar import WorkCalendar, as_utc, parse_clock
from scheduler.config import ReminderConfig
from scheduler.digest import WEEK, digest_text
from scheduler.directory import Directory
from scheduler.kinds import wording
from scheduler.kinds.base import Kind, Occurrence, Plan, RuleKind
from scheduler.kinds.targets import coordinator_reached


class Digest(RuleKind):
    """Once a week; a day off moves it to the next working slot."""

    name = ReminderKind.DIGEST.value
    labels: ClassVar[Mapping[str, str]] = {Kind.DIGEST: "bản tin tuần"}
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
        """The digest's instants with start < due ≤ end."""
        return weekly_plans(rule, calendar, config, start, end)[:limit]

    def resolve(
        self,
        session: Session,
        rule: ReminderRule,
        plan: Plan,
        directory: Directory,
        *,
        texts: bool = True,
    ) -> list[Occurrence]:
        """The digest of one week for the coordinating agency (its group, else admins)."""
        programme = rule.programme
        if programme is None:
            return []
        coordinator = None
        if programme.coordinating_agency_id in directory.agencies:
            agency = directory.agencies[programme.coordinating_agency_id]
            coordinator = directory.ref(directory.current[agency.id], [agency.name])
        destinations = directory.destinations(coordinator.id) if coordinator else []
        text = (  # costly: left out (texts=False) in listings of what comes next
            digest_text(
                session,
                programme,
                since=plan.due - WEEK,
                until=plan.due,
                timezone=st.DEFAULT_TIMEZONE,
                coordinator=coordinator.name if coordinator else "",
            )
            if texts
            else ""
        )
        return [
            Occurrence(
                rule_id=rule.id,
                due=plan.due,
                kind=Kind.DIGEST,
                programme=programme.decision_number,
                plan=plan,
                agency=coordinator,
                text=text,
                destinations=tuple(destinations or directory.admins),
            )
        ]

    def describe(self, rule: ReminderRule, calendar: WorkCalendar) -> str:
        """ "Bản tin tuần gửi đơn vị tổng hợp (…) (Quyết định …)"."""
        decision = wording.decision_of(rule)
        return f"Bản tin tuần gửi đơn vị tổng hợp (thay đổi, đơn vị chưa báo cáo){decision}"

    def render(self, occ: Occurrence, today: date, calendar: WorkCalendar) -> str:
        """The text resolve wrote whole."""
        return occ.text

    def reaches(
        self, session: Session, rule: ReminderRule, directory: Directory, agency_id: int
    ) -> bool:
        """The programme's coordinating agency."""
        return coordinator_reached(rule, directory, agency_id)


def _schedule(rule: ReminderRule, config: ReminderConfig) -> tuple[int, time]:
    """(weekday, time of day) of a digest rule: its params, else the configuration."""
    params = rule.params or {}
    weekday = config.digest_weekday
    clock = config.digest_time
    if params.get("digest_day"):
        weekday = parse_weekday(str(params["digest_day"]))
    if params.get("digest_time"):
        clock = parse_clock(str(params["digest_time"]))
    return weekday, clock


def weekly_plans(
    rule: ReminderRule,
    calendar: WorkCalendar,
    config: ReminderConfig,
    start: datetime,
    end: datetime,
) -> list[Plan]:
    """The digest's instants with start < due ≤ end; a day off moves it to the next working slot."""
    start, end = as_utc(start), as_utc(end)
    weekday, clock = _schedule(rule, config)
    first = calendar.local(start).date() - WEEK - timedelta(days=21)  # Tết may push a week on
    last = calendar.local(end).date()
    found: dict[datetime, Plan] = {}
    current = first + timedelta(days=(weekday - first.weekday()) % 7)
    while current <= last:
        due = calendar.slot_at_or_after(calendar.at(current, clock)).astimezone(UTC)
        if start < due <= end:
            found[due] = Plan(rule.id, due, Kind.DIGEST, None, calendar.local(due).year)
        current += WEEK
    return [found[due] for due in sorted(found)]
