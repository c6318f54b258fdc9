"""A one-off reminder an admin set in a chat (/nhacmot)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar

from sqlalchemy.orm import Session

from data.store.models import ReminderKind, ReminderRule
from scheduler.calendar import WorkCalendar, as_utc
from scheduler.config import ReminderConfig
from scheduler.directory import Directory
from scheduler.kinds import timing
from scheduler.kinds.base import Kind, Occurrence, Plan, RuleKind
from scheduler.kinds.targets import in_chat


class Once(RuleKind):
    """Fires once, at fire_at pulled back to a working slot."""

    name = ReminderKind.ONCE.value
    labels: ClassVar[Mapping[str, str]] = {Kind.ONCE: "nhắc việc một lần"}

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
        """The working slot at or before fire_at."""
        if rule.fire_at is None:
            return []
        due = as_utc(calendar.slot_at_or_before(as_utc(rule.fire_at)))
        return timing.in_window([Plan(rule.id, due, Kind.ONCE)], start, end, limit)

    def resolve(
        self,
        session: Session,
        rule: ReminderRule,
        plan: Plan,
        directory: Directory,
        *,
        texts: bool = True,
    ) -> list[Occurrence]:
        """The chat it was made in (else the chat's agency)."""
        return in_chat(rule, plan, directory)

    def describe(self, rule: ReminderRule, calendar: WorkCalendar) -> str:
        """ "Nhắc một lần lúc 09:00 20/12/2026: <text>"."""
        if rule.fire_at is None:
            return super().describe(rule, calendar)
        moment = calendar.local(rule.fire_at)
        return f"Nhắc một lần lúc {moment:%H:%M %d/%m/%Y}: {rule.text}"
