"""Reminder rules: the stored defaults, and when each rule fires (pure calendar arithmetic)."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import islice
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.store.models import Programme, ReminderKind, ReminderRule, RuleStatus, Task
from scheduler import cron
from scheduler.calendar import OutOfRange, WorkCalendar, add_days, as_utc, parse_clock
from scheduler.config import ReminderConfig
from scheduler.outbox import insert_ignoring_conflicts

ALERTS_KEY = "system:alerts"
_MAX_CRON_FIRES = 5000  # per planning window; guards against "every minute" rules
_TICK = timedelta(microseconds=1)


class Kind:
    """Kinds of occurrence (the "kind" field of the preview and of outbox rows)."""

    BEFORE = "before"
    DUE = "due"
    OVERDUE = "overdue"
    ESCALATION = "escalation"
    COMPILE = "compile"
    TASK_BEFORE = "task_before"
    TASK_DUE = "task_due"
    TASK_OVERDUE = "task_overdue"
    ONCE = "once"
    RECURRING = "recurring"
    GAP = "gap"  # admins: an agency nobody can be reminded in
    ALERT = "alert"  # admins: a delivery problem
    DIGEST = "digest"  # coordinating agency: the weekly digest


@dataclass(frozen=True)
class Plan:
    """One planned instant of a rule (who receives it is decided later, from the database)."""

    rule_id: int
    due: datetime  # aware, UTC
    kind: str
    deadline: date | None = None
    year: int | None = None


# -- default and admin-made rules ----------------------------------------------------------------


def _key(programme: Programme, kind: ReminderKind) -> str:
    return f"programme:{programme.id}:{kind.value}"


def default_params(config: ReminderConfig) -> dict[str, Any]:
    """Parameters stored on new programme rules (the database then stays the truth)."""
    return {
        "time": config.reminder_time.strftime("%H:%M"),
        "days_before": list(config.days_before),
        "overdue_every": config.overdue_every,
        "escalation_every": config.escalation_every,
        "compile_month_day": list(config.compile_month_day),
        "compile_days_before": list(config.compile_days_before),
    }


def _missing_defaults(
    session: Session, config: ReminderConfig, now: datetime
) -> list[tuple[dict[str, Any], Programme | None]]:
    """Column values of the default rules not stored yet (with their programme)."""
    wanted: list[tuple[str, ReminderKind, Programme | None]] = [
        (ALERTS_KEY, ReminderKind.ALERTS, None)
    ]
    for found in session.scalars(select(Programme).order_by(Programme.id)):
        for kind in (
            ReminderKind.CYCLE,
            ReminderKind.ESCALATION,
            ReminderKind.COMPILE,
            ReminderKind.DIGEST,
        ):
            wanted.append((_key(found, kind), kind, found))
    existing = set(session.scalars(select(ReminderRule.key).where(ReminderRule.key.is_not(None))))
    return [
        (
            {
                "key": key,
                "kind": kind.value,
                "status": RuleStatus.ACTIVE.value,
                "programme_id": programme.id if programme is not None else None,
                "text": "",
                "params": default_params(config) if programme is not None else {},
                "created_by": "system",
                "created_at": as_utc(now),
                "updated_at": as_utc(now),
            },
            programme,
        )
        for key, kind, programme in wanted
        if key not in existing
    ]


def ensure_defaults(session: Session, config: ReminderConfig, now: datetime) -> list[ReminderRule]:
    """Create the missing default rules (each programme's cycle, escalation, compile; alerts)."""
    missing = [values for values, _programme in _missing_defaults(session, config, now)]
    # Another instance may create the same defaults at the same moment: ignore conflicts.
    insert_ignoring_conflicts(session, ReminderRule, missing, ["key"])
    if not missing:
        return []
    keys = [value["key"] for value in missing]
    return list(session.scalars(select(ReminderRule).where(ReminderRule.key.in_(keys))))


def unsaved_defaults(session: Session, config: ReminderConfig, now: datetime) -> list[ReminderRule]:
    """The default rules the reminder service will create, as unsaved objects (for read-only
    views before its first tick). They carry ids -1, -2, … and are never added to the session.
    """
    found = []
    for number, (values, programme) in enumerate(_missing_defaults(session, config, now), 1):
        rule = ReminderRule(id=-number, **values)
        rule.programme = programme  # no backref: the unsaved rule stays out of the session
        found.append(rule)
    return found


def alerts_rule(session: Session, config: ReminderConfig, now: datetime) -> ReminderRule:
    """The system rule that owns admin alerts."""
    rule = session.scalars(select(ReminderRule).where(ReminderRule.key == ALERTS_KEY)).first()
    if rule is None:
        ensure_defaults(session, config, now)
        rule = session.scalars(select(ReminderRule).where(ReminderRule.key == ALERTS_KEY)).one()
    return rule


def set_task_deadline(
    session: Session, task: Task, deadline: date | None, *, by: str, now: datetime
) -> ReminderRule | None:
    """Set (or clear, with None) a task's deadline and keep its reminder rule in step."""
    task.deadline = deadline
    key = f"task:{task.id}:deadline"
    rule = session.scalars(select(ReminderRule).where(ReminderRule.key == key)).first()
    if deadline is None:
        if rule is not None:
            rule.status = RuleStatus.CANCELLED.value
            rule.updated_at = now
        session.flush()
        return rule
    if rule is None:
        rule = ReminderRule(
            key=key,
            kind=ReminderKind.TASK_DEADLINE.value,
            programme_id=task.programme_id,
            task_id=task.id,
            params={},
            created_by=by,
            created_at=now,
        )
        session.add(rule)
    rule.status = RuleStatus.ACTIVE.value
    rule.updated_at = now
    session.flush()
    return rule


# -- when rules fire -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Params:
    clock: time
    days_before: tuple[int, ...]
    overdue_every: int
    escalation_every: int
    compile_month_day: tuple[int, int]
    compile_days_before: tuple[int, ...]
    task_overdue_limit: int

    @classmethod
    def of(cls, rule: ReminderRule, config: ReminderConfig) -> _Params:
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


def plans(
    rule: ReminderRule,
    calendar: WorkCalendar,
    config: ReminderConfig,
    start: datetime,
    end: datetime,
    *,
    limit: int | None = None,
) -> list[Plan]:
    """The rule's planned instants with start < due ≤ end, earliest first, one per instant.

    limit: only the first few (cheap for rules that fire every minute).
    """
    if rule.kind == ReminderKind.DIGEST:
        from scheduler.digest import weekly_plans

        return weekly_plans(rule, calendar, config, start, end)[:limit]
    start, end = as_utc(start), as_utc(end)
    if rule.kind == ReminderKind.RECURRING:
        if not rule.cron:
            return []
        # The catch-up window reaches back hours: never into the time before the rule was made
        # (or last changed), or a new rule would fire at once for an instant already past today.
        start = max(start, _since(rule))
        return list(islice(_recurring(rule, calendar, start, end), limit))
    params = _Params.of(rule, config)
    found: dict[datetime, Plan] = {}
    for plan in _all_plans(rule, calendar, params, start, end):
        if not start < plan.due <= end:
            continue
        # Two offsets can collapse onto one slot (D-1 and D on a weekend): keep the later one.
        found[plan.due] = plan
    return [found[due] for due in sorted(found)][:limit]


def _since(rule: ReminderRule) -> datetime:
    """When the rule took its current form (created, edited or resumed), in UTC."""
    moments = [as_utc(moment) for moment in (rule.created_at, rule.updated_at) if moment]
    return max(moments, default=datetime.min.replace(tzinfo=UTC))


def _all_plans(
    rule: ReminderRule, calendar: WorkCalendar, params: _Params, start: datetime, end: datetime
) -> Iterator[Plan]:
    kind = rule.kind
    if kind in (ReminderKind.CYCLE, ReminderKind.ESCALATION, ReminderKind.COMPILE):
        programme = rule.programme
        if programme is None:
            return
        first_year = programme.issued_on.year if programme.issued_on else start.year - 1
        for year in range(max(first_year, start.year - 1), end.year + 2):
            yield from _programme_year(rule, programme, year, calendar, params)
    elif kind == ReminderKind.TASK_DEADLINE:
        task = rule.task
        if task is not None and task.deadline is not None:
            yield from _task_deadline(rule, task.deadline, calendar, params)
    elif kind == ReminderKind.ONCE and rule.fire_at is not None:
        yield Plan(rule.id, _utc(calendar.slot_at_or_before(as_utc(rule.fire_at))), Kind.ONCE)


def _utc(moment: datetime) -> datetime:
    return as_utc(moment)


def _countdown(
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
            due = _utc(moment)
        except OutOfRange:
            continue  # a deadline at the very edge of the calendar: skip what cannot exist
        kind = on_the_day if offset == 0 else before
        yield Plan(rule_id, due, kind, deadline, year)


def _after(
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
            yield Plan(rule_id, _utc(moment), kind, deadline, year)
            count += 1
            day = calendar.add_working_days(day, every)
    except OutOfRange:
        return  # the calendar ends (31/12/9999) before the reminders do


def _programme_year(
    rule: ReminderRule, programme: Programme, year: int, calendar: WorkCalendar, params: _Params
) -> Iterator[Plan]:
    try:
        deadline = date(year, programme.report_month, programme.report_day)
        month, day = params.compile_month_day
        compile_by = date(year, month, day)
    except ValueError:
        return
    if rule.kind == ReminderKind.CYCLE:
        yield from _countdown(
            rule.id,
            deadline,
            params.days_before,
            calendar,
            params.clock,
            (Kind.BEFORE, Kind.DUE),
            year,
        )
        yield from _after(
            rule.id,
            deadline,
            params.overdue_every,
            calendar,
            params.clock,
            Kind.OVERDUE,
            year,
            until=compile_by,
        )
    elif rule.kind == ReminderKind.ESCALATION:
        yield from _after(
            rule.id,
            deadline,
            params.escalation_every,
            calendar,
            params.clock,
            Kind.ESCALATION,
            year,
            until=compile_by,
        )
    else:
        for plan in _countdown(
            rule.id,
            compile_by,
            params.compile_days_before,
            calendar,
            params.clock,
            (Kind.COMPILE, Kind.COMPILE),
            year,
        ):
            yield Plan(plan.rule_id, plan.due, plan.kind, compile_by, year)


def _task_deadline(
    rule: ReminderRule, deadline: date, calendar: WorkCalendar, params: _Params
) -> Iterator[Plan]:
    kinds = (Kind.TASK_BEFORE, Kind.TASK_DUE)
    yield from _countdown(
        rule.id, deadline, params.days_before, calendar, params.clock, kinds, deadline.year
    )
    yield from _after(
        rule.id,
        deadline,
        params.overdue_every,
        calendar,
        params.clock,
        Kind.TASK_OVERDUE,
        deadline.year,
        limit=params.task_overdue_limit,
    )


@lru_cache(maxsize=256)
def cron_trigger(expression: str, timezone: str) -> Any:
    """An APScheduler trigger for a standard 5-field crontab line (CronError when invalid).

    Cached: building one costs more than computing a few fire times, and a trigger keeps no
    state between get_next_fire_time calls.
    """
    return cron.trigger(expression, timezone)


def cron_fire_times(
    expression: str, timezone: str, start: datetime, end: datetime
) -> list[datetime]:
    """Fire times of a crontab line with start ≤ t ≤ end (at most a few thousand)."""
    return list(islice(_fires(cron_trigger(expression, timezone), start, end), _MAX_CRON_FIRES))


def _fires(trigger: Any, start: datetime, end: datetime) -> Iterator[datetime]:
    """Fire times with start ≤ t ≤ end, earliest first, computed one at a time."""
    moment: datetime | None = trigger.get_next_fire_time(None, start)
    while moment is not None and moment <= end:
        yield moment
        moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))


def _first_fire(trigger: Any, start: datetime, before: datetime) -> datetime | None:
    return next(_fires(trigger, start, before - _TICK), None)


def working_slots(
    trigger: Any, calendar: WorkCalendar, start: datetime, end: datetime
) -> Iterator[datetime]:
    """The distinct working slots (slot_at_or_before) of a trigger's fire times, earliest first.

    Lazy and cheap however often the trigger fires: every slot lies on a working day P, and the
    fire times that move onto P are those from P's opening to the next working day's opening.
    Those are read as a few ordered streams (P's own office hours, each day off's office hours)
    and single probes (any fire after hours, or before opening), merged in order; so the first
    few slots of an every-minute rule cost a few dozen trigger calls, not thousands.
    """
    start, end = as_utc(start), as_utc(end)
    hours = calendar.hours
    day = calendar.working_day_at_or_before(calendar.today(start))
    cursor = calendar.at(day, hours.start)
    last_day = calendar.today(end)
    while (fire := trigger.get_next_fire_time(None, cursor)) is not None:
        day = calendar.slot_at_or_before(fire).date()
        if day > last_day:
            return
        following = calendar.working_day_at_or_after(add_days(day, 1))
        previous: datetime | None = None
        for slot in heapq.merge(*_streams(trigger, calendar, day, following, start)):
            if slot == previous:
                continue
            previous = slot
            if as_utc(slot) > end:
                return
            if as_utc(slot) > start:
                yield slot
        cursor = calendar.at(following, hours.start)


def _streams(
    trigger: Any, calendar: WorkCalendar, day: date, following: date, start: datetime
) -> list[Iterator[datetime]]:
    """Ordered streams of the slots on working day `day` later than start (see working_slots)."""
    hours = calendar.hours
    floor = hours.start  # the earliest time of day worth reading on `day`
    if calendar.today(start) == day:
        floor = max(floor, calendar.local(start).time().replace(tzinfo=None))

    def later(clock: time) -> bool:
        return calendar.at(day, clock) > start

    def moved(fires: Iterator[datetime]) -> Iterator[datetime]:
        for fire in fires:
            yield calendar.at(day, calendar.local(fire).time().replace(tzinfo=None))

    def probe(begin: datetime, before: datetime, slot: time) -> Iterator[datetime]:
        if later(slot) and _first_fire(trigger, begin, before) is not None:
            yield calendar.at(day, slot)

    def after_hours(on: date) -> Iterator[datetime]:
        begin = calendar.at(on, hours.last_slot) + _TICK
        return probe(begin, calendar.at(add_days(on, 1), time(0)), hours.last_slot)

    found = [
        _fires(trigger, calendar.at(day, floor), calendar.at(day, hours.last_slot)),
        after_hours(day),
    ]
    off = add_days(day, 1)
    while off < following:
        opening, last = calendar.at(off, hours.start), calendar.at(off, hours.last_slot)
        found.append(probe(calendar.at(off, time(0)), opening, hours.start))
        found.append(moved(_fires(trigger, calendar.at(off, floor), last)))
        found.append(after_hours(off))
        off = add_days(off, 1)
    found.append(
        probe(calendar.at(following, time(0)), calendar.at(following, hours.start), hours.start)
    )
    return found


def _recurring(
    rule: ReminderRule, calendar: WorkCalendar, start: datetime, end: datetime
) -> Iterator[Plan]:
    assert rule.cron is not None
    trigger = cron_trigger(rule.cron, calendar.timezone)
    try:
        for slot in islice(working_slots(trigger, calendar, start, end), _MAX_CRON_FIRES):
            yield Plan(rule.id, _utc(slot), Kind.RECURRING)
    except OutOfRange:
        return
