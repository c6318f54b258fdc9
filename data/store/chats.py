"""Chat repository: chats the bot has seen, their agency link, activity and id migrations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.store.models import ChatLinkChange, ChatRecord


def find(session: Session, platform: str, chat_id: str) -> ChatRecord | None:
    """The record of one platform chat, if any."""
    query = select(ChatRecord).where(ChatRecord.platform == platform, ChatRecord.chat_id == chat_id)
    return session.scalars(query).first()


def upsert_seen(
    session: Session, platform: str, chat_id: str, *, kind: str, title: str | None = None
) -> ChatRecord:
    """Record that the bot is (again) in this chat; refresh its kind and title."""
    record = find(session, platform, chat_id)
    if record is None:
        record = ChatRecord(platform=platform, chat_id=chat_id, kind=kind, title=title, active=True)
        session.add(record)
    else:
        record.kind = kind
        record.active = True
        if title:
            record.title = title
    session.flush()
    return record


def link_agency(
    session: Session,
    record: ChatRecord,
    agency_id: int,
    now: datetime,
    thread_id: str | None = None,
) -> None:
    """Link a chat (in a forum, one topic of it; None: General) to an agency.

    Reminders and reports for the agency go there.
    """
    record.agency_id = agency_id
    record.linked_at = now
    record.thread_id = thread_id
    session.flush()


def unlink_agency(session: Session, record: ChatRecord) -> None:
    """Remove a chat's agency link (and its topic)."""
    record.agency_id = None
    record.linked_at = None
    record.thread_id = None
    session.flush()


def mark_inactive(session: Session, platform: str, chat_id: str) -> ChatRecord | None:
    """Note that the bot can no longer write to a chat (kept, with its link, for history)."""
    record = find(session, platform, chat_id)
    if record is not None:
        record.active = False
        session.flush()
    return record


def migrate(
    session: Session, platform: str, old_chat_id: str, new_chat_id: str
) -> ChatRecord | None:
    """Move a chat (and its agency link) to the new id of an upgraded group."""
    old = find(session, platform, old_chat_id)
    new = find(session, platform, new_chat_id)
    if old is None:
        return new
    if new is None:
        old.chat_id = new_chat_id
        old.kind = "group"
        old.active = True
        session.flush()
        return old
    # Both exist (the new chat spoke before the migration event): keep the new record.
    if new.agency_id is None and old.agency_id is not None:
        new.agency_id = old.agency_id
        new.linked_at = old.linked_at
        new.thread_id = old.thread_id
    new.title = new.title or old.title
    new.active = True
    old.active = False
    old.agency_id = None
    old.linked_at = None
    old.thread_id = None
    session.flush()
    return new


def record_change(
    session: Session,
    record: ChatRecord,
    *,
    before: int | None,
    after: int | None,
    by_user_id: str,
    by_name: str,
    by_person_id: int | None,
    by_role: str,
    by_chat_admin: bool | None,
    now: datetime,
    thread_before: str | None = None,
    thread_after: str | None = None,
) -> ChatLinkChange:
    """Write down one change of a chat's agency link or topic (the audit trail; never edited)."""
    change = ChatLinkChange(
        platform=record.platform,
        chat_id=record.chat_id,
        chat_title=(record.title or "")[:255] or None,
        agency_before_id=before,
        agency_after_id=after,
        by_user_id=by_user_id[:64],
        by_name=by_name[:255],
        by_person_id=by_person_id,
        by_role=by_role,
        by_chat_admin=by_chat_admin,
        thread_before=thread_before,
        thread_after=thread_after,
        changed_at=now,
    )
    session.add(change)
    session.flush()
    return change


def link_changes(session: Session, platform: str, chat_id: str) -> list[ChatLinkChange]:
    """The link history of one chat, oldest first."""
    query = (
        select(ChatLinkChange)
        .where(ChatLinkChange.platform == platform, ChatLinkChange.chat_id == chat_id)
        .order_by(ChatLinkChange.id)
    )
    return list(session.scalars(query))
