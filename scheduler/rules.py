"""Reminder rules: the stored defaults, and when each rule fires (asked of its kind)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.store.models import Programme, ReminderKind, ReminderRule, RuleStatus, Task
from scheduler.calendar import WorkCalendar, as_utc
from scheduler.config import ReminderConfig
from scheduler.kinds.base import Kind, Plan, RuleKind
from scheduler.kinds.registry import defaults, kind_of, stale_after_deadline
from scheduler.outbox import insert_ignoring_conflicts

__all__ = [
    "ALERTS_KEY",
    "Kind",
    "Plan",
    "alerts_rule",
    "ensure_defaults",
    "plans",
    "set_task_deadline",
    "stale_after_deadline",
    "unsaved_defaults",
]
ALERTS_KEY = "system:alerts"


# -- default and admin-made rules ----------------------------------------------------------------


def _key(programme: Programme | None, kind: RuleKind) -> str:
    if programme is None:
        return f"system:{kind.name}"
    return f"programme:{programme.id}:{kind.name}"


def _default_params(config: ReminderConfig) -> dict[str, Any]:
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
    wanted: list[tuple[str, RuleKind, Programme | None]] = [
        (_key(None, kind), kind, None) for kind in defaults("system")
    ]
    for found in session.scalars(select(Programme).order_by(Programme.id)):
        wanted += [(_key(found, kind), kind, found) for kind in defaults("programme")]
    existing = set(session.scalars(select(ReminderRule.key).where(ReminderRule.key.is_not(None))))
    return [
        (
            {
                "key": key,
                "kind": kind.name,
                "status": RuleStatus.ACTIVE.value,
                "programme_id": programme.id if programme is not None else None,
                "text": "",
                "params": _default_params(config) if programme is not None else {},
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
    return kind_of(rule).plans(rule, calendar, config, as_utc(start), as_utc(end), limit=limit)
