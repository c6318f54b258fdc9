"""Occurrences: who a rule's planned instant reaches, with what, given the database today."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from data.store.models import ReminderRule, RuleStatus
from scheduler.calendar import WorkCalendar
from scheduler.config import ReminderConfig
from scheduler.directory import Directory, admin_destinations
from scheduler.kinds.base import Occurrence, Plan
from scheduler.kinds.registry import kind_of
from scheduler.rules import plans

# Directory, Occurrence and admin_destinations live lower down (the kinds use them); the
# reminder service and delivery reach them here.
__all__ = [
    "Directory",
    "Occurrence",
    "RuleFailure",
    "active_rules",
    "admin_destinations",
    "occurrences",
    "resolve",
]
log = logging.getLogger(__name__)


def active_rules(session: Session) -> list[ReminderRule]:
    """Rules that currently produce reminders, with what planning needs loaded."""
    query = (
        select(ReminderRule)
        .options(selectinload(ReminderRule.programme), selectinload(ReminderRule.task))
        .where(ReminderRule.status == RuleStatus.ACTIVE.value)
        .order_by(ReminderRule.id)
    )
    return list(session.scalars(query))


@dataclass(frozen=True)
class RuleFailure:
    """A rule whose reminders could not be worked out in one pass (skipped, others go on)."""

    rule_id: int
    error: str


_logged: set[RuleFailure] = set()


def occurrences(
    session: Session,
    rules: Sequence[ReminderRule],
    directory: Directory,
    calendar: WorkCalendar,
    config: ReminderConfig,
    start: datetime,
    end: datetime,
    *,
    latest_only: bool = False,
    per_rule: int | None = None,
    failures: list[RuleFailure] | None = None,
    texts: bool = True,
) -> list[Occurrence]:
    """Occurrences of the rules with start < due ≤ end (latest_only: one plan per rule).

    per_rule: only each rule's first few instants; texts=False leaves out texts that are costly
    to write (the weekly digest) when only who and when matter. A rule whose computation fails
    is left out (logged, and added to `failures`) so that one broken rule never stops the others.
    """
    found: list[Occurrence] = []
    for rule in rules:
        try:
            planned = plans(rule, calendar, config, start, end, limit=per_rule)
            if latest_only:
                planned = planned[-1:]
            mine = [
                occ
                for plan in planned
                for occ in resolve(session, rule, plan, directory, texts=texts)
            ]
        except Exception as exc:  # any defect in one rule's data or arithmetic
            failure = RuleFailure(rule.id, f"{type(exc).__name__}: {exc}")
            # Every tick meets the same broken rule: once per process is enough. One line; the
            # traceback only at debug level (admins get a notice in the chat as well).
            if failure not in _logged:
                _logged.add(failure)
                log.warning("reminder rule #%s skipped: %s", rule.id, failure.error)
                log.debug("reminder rule #%s", rule.id, exc_info=True)
            if failures is not None:
                failures.append(failure)
            continue
        found += mine
    found.sort(key=lambda occ: (occ.due, occ.rule_id, occ.agency.name if occ.agency else ""))
    return found


def resolve(
    session: Session, rule: ReminderRule, plan: Plan, directory: Directory, *, texts: bool = True
) -> list[Occurrence]:
    """Turn one planned instant of a rule into occurrences for the agencies it concerns."""
    return kind_of(rule).resolve(session, rule, plan, directory, texts=texts)
