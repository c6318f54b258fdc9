"""Outbox repository: materialised reminders, claims with leases, delivery outcomes."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, inspect, or_, select, text, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from data.store.models import Base, OutboxStatus, ReminderOutbox, ReminderRule, RuleStatus
from scheduler.calendar import as_utc

log = logging.getLogger(__name__)
_KEY = ("rule_id", "platform", "chat_id", "due_at")
_CLAIM_ROUNDS = 5
CLAIM_LOCK_SPACE = 0x6F757462  # "outb": advisory-lock namespace of per-chat claims


@dataclass(frozen=True)
class NewRow:
    """A reminder to materialise: one rule, one chat, one due time."""

    rule_id: int
    platform: str
    chat_id: str
    due: datetime
    kind: str
    text: str
    payload: dict[str, Any] = field(default_factory=dict)
    thread_id: str | None = None  # the forum topic to post in


@dataclass(frozen=True)
class Claimed:
    """A row this process holds a lease on (a plain copy, safe to use outside the session)."""

    id: int
    rule_id: int
    platform: str
    chat_id: str
    due: datetime
    kind: str
    text: str
    attempts: int
    lease_expires_at: datetime
    payload: dict[str, Any]
    thread_id: str | None = None


def _values(row: NewRow, now: datetime) -> dict[str, Any]:
    return {
        "rule_id": row.rule_id,
        "platform": row.platform,
        "chat_id": row.chat_id,
        "thread_id": row.thread_id,
        "due_at": as_utc(row.due),
        "kind": row.kind,
        "text": row.text,
        "payload": row.payload,
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": as_utc(row.due),
        "message_ids": [],
        "created_at": as_utc(now),
    }


def insert_ignoring_conflicts(
    session: Session, model: type[Base], values: list[dict[str, Any]], keys: Sequence[str]
) -> int:
    """INSERT … ON CONFLICT (keys) DO NOTHING; returns how many rows were new.

    The new rows are counted with RETURNING: the driver's rowcount of a multi-row INSERT is
    -1 with psycopg 3. No savepoints: with pysqlite, releasing one outside a transaction commits.
    """
    if not values:
        return 0
    dialect = session.get_bind().dialect.name
    primary_key = inspect(model).primary_key
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        lite = sqlite_insert(model).values(values).on_conflict_do_nothing(index_elements=keys)
        if sqlite3.sqlite_version_info < (3, 35):  # no RETURNING; pysqlite's rowcount is right
            return int(session.execute(lite).rowcount or 0)  # type: ignore[attr-defined]
        return len(session.execute(lite.returning(*primary_key)).all())
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        pg = pg_insert(model).values(values).on_conflict_do_nothing(index_elements=keys)
        return len(session.execute(pg.returning(*primary_key)).all())
    added = 0
    for value in values:  # other databases: one savepoint per row
        try:
            with session.begin_nested():
                session.add(model(**value))
            added += 1
        except IntegrityError:
            continue
    return added


def insert(session: Session, rows: Sequence[NewRow], now: datetime) -> int:
    """Add rows, ignoring any whose (rule, chat, due) already exists; return how many were new."""
    values = [_values(row, now) for row in rows]
    return insert_ignoring_conflicts(session, ReminderOutbox, values, _KEY)


def _claimable(now: datetime, platforms: Sequence[str]) -> ColumnElement[bool]:
    return (
        (ReminderOutbox.status == OutboxStatus.PENDING.value)
        & (ReminderOutbox.next_attempt_at <= now)
        & or_(ReminderOutbox.lease_expires_at.is_(None), ReminderOutbox.lease_expires_at <= now)
        & ReminderOutbox.platform.in_(list(platforms))
    )


def claim(
    session: Session,
    *,
    owner: str,
    now: datetime,
    lease: timedelta,
    platforms: Sequence[str],
    limit: int,
    exclude: Sequence[str] = (),
) -> list[Claimed]:
    """Lease every due row of up to `limit` chats to owner (a token unique to this claim).

    Whole chats are claimed so their reminders go out as one message. PostgreSQL skips rows
    another transaction is claiming (FOR UPDATE SKIP LOCKED); on every database the UPDATE
    re-checks the lease, so a row is only ever leased to one claimer.
    """
    now = as_utc(now)
    due = _claimable(now, platforms) & (ReminderRule.status == RuleStatus.ACTIVE.value)
    if exclude:  # chats this claimer is still sending to
        due = due & ReminderOutbox.chat_id.not_in(list(exclude))
    chats = (
        select(ReminderOutbox.platform, ReminderOutbox.chat_id)
        .join(ReminderRule, ReminderRule.id == ReminderOutbox.rule_id)
        .where(due)
        .group_by(ReminderOutbox.platform, ReminderOutbox.chat_id)
        .order_by(func.min(ReminderOutbox.due_at))
        .limit(limit)
    )
    expires = now + lease
    ids: list[int] = []
    for _ in range(_CLAIM_ROUNDS):
        wanted = _chats_to_claim(session, [(row[0], row[1]) for row in session.execute(chats)])
        if not wanted:
            return []
        candidates = (
            select(ReminderOutbox.id)
            .join(ReminderRule, ReminderRule.id == ReminderOutbox.rule_id)
            .where(due, tuple_(ReminderOutbox.platform, ReminderOutbox.chat_id).in_(wanted))
        )
        if session.get_bind().dialect.name == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True, of=ReminderOutbox)
        ids = list(session.scalars(candidates))
        if not ids:
            continue  # all locked by another instance's claim: look again
        won = session.execute(
            update(ReminderOutbox)
            .where(ReminderOutbox.id.in_(ids), _claimable(now, platforms))
            .values(lease_owner=owner, lease_expires_at=expires)
            .execution_options(synchronize_session=False)
        )
        if won.rowcount:  # type: ignore[attr-defined]
            break  # otherwise another instance took them all between SELECT and UPDATE
    rows = session.execute(
        select(ReminderOutbox)
        .where(ReminderOutbox.id.in_(ids), ReminderOutbox.lease_owner == owner)
        .order_by(ReminderOutbox.due_at, ReminderOutbox.id)
    ).scalars()
    return [
        Claimed(
            id=row.id,
            rule_id=row.rule_id,
            platform=row.platform,
            chat_id=row.chat_id,
            due=as_utc(row.due_at),
            kind=row.kind,
            text=row.text,
            attempts=row.attempts,
            lease_expires_at=expires,
            payload=dict(row.payload or {}),
            thread_id=row.thread_id,
        )
        for row in rows
    ]


def _chats_to_claim(session: Session, wanted: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The wanted chats no other claim is taking right now (PostgreSQL: a per-chat advisory
    lock held until this transaction ends), so one chat's rows never split between instances
    and its reminders go out in order."""
    if not wanted or session.get_bind().dialect.name != "postgresql":
        return wanted
    keys = [f"{platform}:{chat_id}" for platform, chat_id in wanted]
    locked = session.execute(
        text(
            "SELECT k FROM unnest(CAST(:keys AS text[])) AS k "
            "WHERE pg_try_advisory_xact_lock(:space, hashtext(k))"
        ),
        {"keys": keys, "space": CLAIM_LOCK_SPACE},
    ).scalars()
    taken = set(locked)
    return [chat for chat, key in zip(wanted, keys, strict=True) if key in taken]


def _owned(ids: Sequence[int], owner: str) -> ColumnElement[bool]:
    return ReminderOutbox.id.in_(list(ids)) & (ReminderOutbox.lease_owner == owner)


def _update(session: Session, where: ColumnElement[bool], **values: Any) -> int:
    result = session.execute(
        update(ReminderOutbox)
        .where(where)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def mark_sent(
    session: Session,
    ids: Sequence[int],
    owner: str,
    now: datetime,
    message_ids: Sequence[str],
    sent_chat_id: str | None = None,
) -> int:
    """Record a delivery; returns how many rows were still ours (fewer means a lost lease)."""
    count = _update(
        session,
        _owned(ids, owner),
        status=OutboxStatus.SENT.value,
        sent_at=as_utc(now),
        message_ids=list(message_ids),
        sent_chat_id=sent_chat_id,
        lease_owner=None,
        lease_expires_at=None,
        attempts=ReminderOutbox.attempts + 1,
    )
    if count != len(ids):
        log.warning("rows %s were sent after their lease moved on: possible duplicate", ids)
    return count


def reschedule(
    session: Session,
    ids: Sequence[int],
    owner: str,
    at: datetime,
    error: str | None,
    *,
    failed: bool,
) -> int:
    """Release rows to be tried again at `at` (failed: count the attempt)."""
    values: dict[str, Any] = {
        "next_attempt_at": as_utc(at),
        "lease_owner": None,
        "lease_expires_at": None,
    }
    if error is not None:
        values["last_error"] = error[:500]
    if failed:
        values["attempts"] = ReminderOutbox.attempts + 1
    return _update(session, _owned(ids, owner), **values)


def release(session: Session, ids: Sequence[int], owner: str) -> int:
    """Give rows back untouched (not attempted)."""
    return _update(session, _owned(ids, owner), lease_owner=None, lease_expires_at=None)


def mark_dead(session: Session, ids: Sequence[int], owner: str, error: str) -> int:
    """Give up on rows for good."""
    return _update(
        session,
        _owned(ids, owner),
        status=OutboxStatus.DEAD.value,
        last_error=error[:500],
        lease_owner=None,
        lease_expires_at=None,
        attempts=ReminderOutbox.attempts + 1,
    )


def kill_chat(session: Session, platform: str, chat_id: str, error: str) -> int:
    """Give up on every unclaimed pending row of a chat the bot can no longer write to."""
    return _update(
        session,
        (ReminderOutbox.platform == platform)
        & (ReminderOutbox.chat_id == chat_id)
        & (ReminderOutbox.status == OutboxStatus.PENDING.value)
        & ReminderOutbox.lease_owner.is_(None),
        status=OutboxStatus.DEAD.value,
        last_error=error[:500],
    )


def move_chat(session: Session, platform: str, old_chat_id: str, new_chat_id: str) -> int:
    """Point pending rows of a migrated chat at its new id (topic kept); return how many moved."""
    rows = session.scalars(
        select(ReminderOutbox).where(
            ReminderOutbox.platform == platform,
            ReminderOutbox.chat_id == old_chat_id,
            ReminderOutbox.status == OutboxStatus.PENDING.value,
        )
    ).all()
    moved = 0
    for row in rows:
        twin = session.scalars(
            select(ReminderOutbox.id).where(
                ReminderOutbox.rule_id == row.rule_id,
                ReminderOutbox.platform == platform,
                ReminderOutbox.chat_id == new_chat_id,
                ReminderOutbox.due_at == row.due_at,
            )
        ).first()
        if twin is None:
            row.chat_id = new_chat_id
            moved += 1
        else:  # the same reminder already exists for the new id
            row.status = OutboxStatus.SKIPPED.value
            row.last_error = f"duplicate after migration to {new_chat_id}"
    session.flush()
    return moved


def skip_rule(session: Session, rule_id: int, reason: str) -> int:
    """Mark a rule's pending rows skipped (the rule was paused or cancelled)."""
    return _update(
        session,
        (ReminderOutbox.rule_id == rule_id) & (ReminderOutbox.status == OutboxStatus.PENDING.value),
        status=OutboxStatus.SKIPPED.value,
        last_error=reason,
    )


def expire(session: Session, before: datetime) -> int:
    """Skip pending rows due before `before`: too late to be useful (long outage, no sender)."""
    return _update(
        session,
        (ReminderOutbox.status == OutboxStatus.PENDING.value)
        & (ReminderOutbox.due_at < as_utc(before))
        & (
            ReminderOutbox.lease_expires_at.is_(None)
            | (ReminderOutbox.lease_expires_at < as_utc(before))
        ),
        status=OutboxStatus.SKIPPED.value,
        last_error="expired",
    )


def next_attempt(session: Session, platforms: Sequence[str]) -> datetime | None:
    """When the earliest pending row becomes claimable (its retry time or lease expiry)."""
    ready = case(
        (
            ReminderOutbox.lease_expires_at > ReminderOutbox.next_attempt_at,
            ReminderOutbox.lease_expires_at,
        ),
        else_=ReminderOutbox.next_attempt_at,
    )
    query = (
        select(func.min(ready))
        .join(ReminderRule, ReminderRule.id == ReminderOutbox.rule_id)
        .where(
            ReminderOutbox.status == OutboxStatus.PENDING.value,
            ReminderOutbox.platform.in_(list(platforms)),
            ReminderRule.status == RuleStatus.ACTIVE.value,
        )
    )
    value = session.execute(query).scalar()
    if value is None:
        return None
    if isinstance(value, str):  # SQLite returns CASE results untyped
        value = datetime.fromisoformat(value)
    return as_utc(value)


def counts(session: Session) -> dict[str, int]:
    """Rows per status."""
    query = select(ReminderOutbox.status, func.count()).group_by(ReminderOutbox.status)
    return {status: int(count) for status, count in session.execute(query)}
