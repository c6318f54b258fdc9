"""A recurring reminder an admin set in a chat (/nhaclap): a crontab line on working slots."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from itertools import islice
from typing import ClassVar

from sqlalchemy.orm import Session

from data.store.models import ReminderKind, ReminderRule
from scheduler.calendar import OutOfRange, WorkCalendar, as_utc
from scheduler.config import ReminderConfig
from scheduler.cron import MAX_FIRES, cron_trigger, working_slots
from scheduler.directory import Directory
from scheduler.kinds.base import Kind, Occurrence, Plan, RuleKind
from scheduler.kinds.targets import in_chat


class Recurring(RuleKind):
    """Fires on the working slots of its crontab line, from when it took its current form."""

    name = ReminderKind.RECURRING.value
    labels: ClassVar[Mapping[str, str]] = {Kind.RECURRING: "nhắc việc định kỳ"}

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
        """The distinct working slots of the crontab line's fire times."""
        if not rule.cron:
            return []
        # The catch-up window reaches back hours: never into the time before the rule was made
        # (or last changed), or a new rule would fire at once for an instant already past today.
        start = max(start, _since(rule))
        trigger = cron_trigger(rule.cron, calendar.timezone)

        def planned() -> Iterator[Plan]:
            try:
                for slot in islice(working_slots(trigger, calendar, start, end), MAX_FIRES):
                    yield Plan(rule.id, as_utc(slot), Kind.RECURRING)
            except OutOfRange:
                return  # the calendar ends (31/12/9999) before the reminders do

        return list(islice(planned(), limit))

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
        """ "Nhắc định kỳ 08:30 thứ Hai hằng tuần: <text>"."""
        label = (rule.params or {}).get("schedule") or rule.cron
        return f"Nhắc định kỳ {label}: {rule.text}"


def _since(rule: ReminderRule) -> datetime:
    """When the rule took its current form (created, edited or resumed), in UTC."""
    moments = [as_utc(moment) for moment in (rule.created_at, rule.updated_at) if moment]
    return max(moments, default=datetime.min.replace(tzinfo=UTC))
