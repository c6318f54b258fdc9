"""Failed attempts (code guesses) per account and per chat, stored so a restart forgets nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from data.store.models import FailedAttempt

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
_KEY_LENGTH = 64


@dataclass(frozen=True)
class Subject:
    """Who is throttled: one platform account ("user") or one chat ("chat")."""

    scope: str
    platform: str
    key: str


def subjects(platform: str, user_id: str, chat_id: str) -> tuple[Subject, Subject]:
    """The account and the chat a message came from."""
    return (
        Subject("user", platform[:16], user_id[:_KEY_LENGTH]),
        Subject("chat", platform[:16], chat_id[:_KEY_LENGTH]),
    )


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes even for timezone-aware columns.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _recent(session: Session, action: str, subject: Subject, now: datetime) -> list[datetime]:
    query = (
        select(FailedAttempt.at)
        .where(
            FailedAttempt.action == action,
            FailedAttempt.scope == subject.scope,
            FailedAttempt.platform == subject.platform,
            FailedAttempt.key == subject.key,
            FailedAttempt.at > now - WINDOW,
        )
        .order_by(FailedAttempt.at)
    )
    return [_aware(moment) for moment in session.scalars(query)]


def locked_until(
    session: Session, action: str, who: tuple[Subject, ...], now: datetime
) -> datetime | None:
    """When the latest lock on any of the subjects ends, or None when they may try now."""
    until: datetime | None = None
    for subject in who:
        recent = _recent(session, action, subject, now)
        if len(recent) >= MAX_FAILURES:
            # Locked until enough failures have left the window to go below the limit.
            ends = recent[len(recent) - MAX_FAILURES] + WINDOW
            until = ends if until is None or ends > until else until
    return until


def record_failure(session: Session, action: str, who: tuple[Subject, ...], now: datetime) -> None:
    """Count one failure against every subject; forget their failures older than the window."""
    for subject in who:
        session.execute(
            delete(FailedAttempt)
            .where(
                FailedAttempt.action == action,
                FailedAttempt.scope == subject.scope,
                FailedAttempt.platform == subject.platform,
                FailedAttempt.key == subject.key,
                FailedAttempt.at <= now - WINDOW,
            )
            .execution_options(synchronize_session=False)
        )
        session.add(
            FailedAttempt(
                action=action,
                scope=subject.scope,
                platform=subject.platform,
                key=subject.key,
                at=now,
            )
        )
    session.flush()
