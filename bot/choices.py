"""Pending choices: short tokens for buttons and numbered lists, kept server-side."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import cast

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.orm import Session

from data.store.models import PendingChoice

TTL = timedelta(minutes=30)
# Rows are kept a little longer than TTL so an expired press gets "expired", not "unknown".
_PURGE_AFTER = timedelta(days=1)
_PURGE_EVERY = 200  # stores between two purges of old rows (a full scan of the table)
_TABLE = cast(Table, PendingChoice.__table__)
_INSERT = insert(_TABLE)  # built once: reusing it spares SQLAlchemy its cache-key work
_SEPARATOR = "."


class Status(StrEnum):
    """Outcome of looking up a choice."""

    OK = "ok"
    UNKNOWN = "unknown"
    OTHER_USER = "other_user"
    EXPIRED = "expired"
    OUT_OF_RANGE = "out_of_range"


@dataclass(frozen=True)
class Lookup:
    """The action a token or number stands for, or why there is none."""

    status: Status
    action: str = ""
    count: int = 0


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes even for timezone-aware columns.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def store(
    session: Session,
    *,
    platform: str,
    chat_id: str,
    user_id: str,
    actions: list[str],
    now: datetime,
) -> list[str]:
    """Remember actions offered to one user; return one token per action (≤ 16 ASCII chars)."""
    base = secrets.token_hex(5)
    # A plain INSERT on the session's connection (no ORM layer): most answers offer choices.
    inserted = session.connection().execute(
        _INSERT,
        {
            "platform": platform,
            "chat_id": chat_id,
            "user_id": user_id,
            "token": base,
            "actions": list(actions),
            "created_at": now,
        },
    )
    row_id = inserted.inserted_primary_key[0] if inserted.inserted_primary_key else None
    if row_id is not None and row_id % _PURGE_EVERY == 0:
        session.execute(delete(PendingChoice).where(PendingChoice.created_at < now - _PURGE_AFTER))
    return [f"{base}{_SEPARATOR}{index}" for index in range(1, len(actions) + 1)]


def by_token(session: Session, token: str, *, user_id: str, now: datetime) -> Lookup:
    """Resolve a button token pressed by user_id."""
    base, _, number = token.partition(_SEPARATOR)
    row = session.scalars(select(PendingChoice).where(PendingChoice.token == base)).first()
    if row is None or not number.isdigit():
        return Lookup(Status.UNKNOWN)
    if row.user_id != user_id:
        return Lookup(Status.OTHER_USER)
    return _pick(row, int(number), now)


def by_number(
    session: Session, *, platform: str, chat_id: str, user_id: str, number: int, now: datetime
) -> Lookup:
    """Resolve a number typed by user_id in reply to the latest list they were offered."""
    row = session.scalars(
        select(PendingChoice)
        .where(
            PendingChoice.platform == platform,
            PendingChoice.chat_id == chat_id,
            PendingChoice.user_id == user_id,
        )
        .order_by(PendingChoice.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return Lookup(Status.UNKNOWN)
    return _pick(row, number, now)


def _pick(row: PendingChoice, number: int, now: datetime) -> Lookup:
    if _aware(row.created_at) + TTL < _aware(now):
        return Lookup(Status.EXPIRED, count=len(row.actions))
    if not 1 <= number <= len(row.actions):
        return Lookup(Status.OUT_OF_RANGE, count=len(row.actions))
    return Lookup(Status.OK, action=row.actions[number - 1], count=len(row.actions))
