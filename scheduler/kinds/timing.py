"""When deadline-driven kinds fire: the rule's parameters, D-n countdowns and overdue series."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time

from data.store.models import ReminderRule
from scheduler.calendar import OutOfRange, WorkCalendar, add_days, as_utc, parse_clock
from scheduler.config import ReminderConfig
from scheduler.kinds.base import Plan


@dataclass(frozen=True)
class Params:
    """A rule's timing parameters: its params, else the configuration."""

    clock: time
    days_before: tuple[int, ...]
    overdue_every: int
    escalation_every: int
    compile_month_day: tuple[int, int]
    compile_days_before: tuple[int, ...]
    task_overdue_limit: int

    @classmethod
    def of(cls, rule: ReminderRule, config: ReminderConfig) -> Params:
        """The parameters of a rule (any missing one from the configuration)."""
        params = rule.params or {}
        month_day = params.get("compile_month_day") or config.compile_month_day
        return cls(
            clock=parse_clock(params["time"]) if params.get("time") else config.reminder_time,
            days_before=tuple(params.get("days_before") or config.days_before),
            overdue_every=max(1, int(params.get("overdue_every") or config.overdue_every)),
            escalation_every=max(1, int(params.get("escalation_every") or config.escalation_every)),
            compile_month_day=(int(month_day[0]), int(month_day[1])),
            compile_days_before=tuple(
                params.get("compile_days_before") or config.compile_days_before
            ),
            task_overdue_limit=int(params.get("overdue_limit") or config.task_overdue_limit),
        )


def in_window(
    planned: Iterable[Plan], start: datetime, end: datetime, limit: int | None
) -> list[Plan]:
    """Plans with start < due ≤ end, earliest first, one per instant (the later one wins)."""
    found: dict[datetime, Plan] = {}
    for plan in planned:
        if start < plan.due <= end:
            # Two offsets can collapse onto one slot (D-1 and D on a weekend): keep the later.
            found[plan.due] = plan
    return [found[due] for due in sorted(found)][:limit]


def programme_years(
    rule: ReminderRule, params: Params, start: datetime, end: datetime
) -> Iterator[tuple[int, date, date]]:
    """(year, report deadline, compile-by day) of the rule's programme for the years in reach."""
    programme = rule.programme
    if programme is None:
        return
    first_year = programme.issued_on.year if programme.issued_on else start.year - 1
    for year in range(max(first_year, start.year - 1), end.year + 2):
        try:
            deadline = date(year, programme.report_month, programme.report_day)
            month, day = params.compile_month_day
            compile_by = date(year, month, day)
        except ValueError:
            continue
        yield year, deadline, compile_by


def countdown(
    rule_id: int,
    deadline: date,
    offsets: tuple[int, ...],
    calendar: WorkCalendar,
    clock: time,
    kinds: tuple[str, str],
    year: int | None,
) -> Iterator[Plan]:
    """D-n reminders, each pulled back to a working slot so none falls after the deadline."""
    before, on_the_day = kinds
    for offset in sorted(set(offsets), reverse=True):
        try:
            moment = calendar.slot_at_or_before(calendar.at(add_days(deadline, -offset), clock))
            due = as_utc(moment)
        except OutOfRange:
            continue  # a deadline at the very edge of the calendar: skip what cannot exist
        kind = on_the_day if offset == 0 else before
        yield Plan(rule_id, due, kind, deadline, year)


def after(
    rule_id: int,
    deadline: date,
    every: int,
    calendar: WorkCalendar,
    clock: time,
    kind: str,
    year: int | None,
    *,
    until: date | None = None,
    limit: int | None = None,
) -> Iterator[Plan]:
    """The first working day after the deadline, then every `every` working days."""
    count = 0
    try:
        day = calendar.add_working_days(deadline, 1)
        while (until is None or day <= until) and (limit is None or count < limit):
            moment = calendar.slot_at_or_after(calendar.at(day, clock))
            yield Plan(rule_id, as_utc(moment), kind, deadline, year)
            count += 1
            day = calendar.add_working_days(day, every)
    except OutOfRange:
        return  # the calendar ends (31/12/9999) before the reminders do
