"""Admin notices for rules whose reminders cannot be worked out, sent once per rule version."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.store.models import ReminderOutbox, ReminderRule
from scheduler import messages, outbox
from scheduler.calendar import as_utc
from scheduler.occurrences import Directory, RuleFailure
from scheduler.outbox import NewRow
from scheduler.rules import Kind


def report_failures(
    session: Session, failures: Sequence[RuleFailure], directory: Directory, now: datetime
) -> int:
    """Queue one notice per broken rule to every admin, unless one went out since its last edit.

    The notice hangs on the broken rule itself, so pausing or cancelling the rule drops it, and
    an edit (a new deadline) that breaks the rule again gives a new notice. Returns rows queued.
    """
    queued = 0
    for rule_id in dict.fromkeys(failure.rule_id for failure in failures):
        rule = session.get(ReminderRule, rule_id)
        if rule is None or _already_told(session, rule):
            continue
        text = messages.broken_rule_text(rule_id, _what(rule))
        rows = [
            NewRow(rule_id, admin.platform, admin.chat_id, now, Kind.ALERT, text)
            for admin in directory.admins
        ]
        queued += outbox.insert(session, rows, now)
    return queued


def _already_told(session: Session, rule: ReminderRule) -> bool:
    told = session.scalars(
        select(ReminderOutbox.created_at).where(
            ReminderOutbox.rule_id == rule.id, ReminderOutbox.kind == Kind.ALERT
        )
    )
    since = as_utc(rule.updated_at)
    return any(as_utc(moment) >= since for moment in told)


def _what(rule: ReminderRule) -> str:
    if rule.task is not None and rule.task.deadline is not None:
        return f"hạn chót nhiệm vụ {rule.task.code}: {rule.task.deadline:%d/%m/%Y}"
    if rule.cron:
        return f"lịch “{rule.cron}”"
    if rule.fire_at is not None:
        return f"thời điểm {as_utc(rule.fire_at):%d/%m/%Y}"
    return ""
