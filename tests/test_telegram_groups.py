"""Group linking (/lienket, /huylienket), chat events and the chat repository."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.limits import TELEGRAM
from core.model import (
    Chat,
    ChatEvent,
    ChatEventKind,
    ChatKind,
    Incoming,
    User,
)
from core.settings import Settings
from data.store import chats
from data.store.db import Database
from data.store.models import Agency, ChatRecord
from handlers import groups
from handlers.context import Context

# The seeded database and search index of the conformance suite, shared as fixtures here.

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
GROUP = Chat(id="-4001", kind=ChatKind.GROUP, title="Nhóm Sở Y tế")
PRIVATE = Chat(id="1001", kind=ChatKind.PRIVATE)


@pytest.fixture
def session(seeded_db: Database) -> Iterator[Session]:
    with seeded_db.unit_of_work() as session:
        yield session


@pytest.fixture
def ctx(session: Session, search_engine: Any) -> Context:
    return Context(
        session=session,
        search=search_engine,
        settings=Settings(admins=("telegram:1001",)),  # Lan administers; see test_link_access
        capabilities=TELEGRAM,
        now=lambda: NOW,
    )


def msg(args: str, chat: Chat = GROUP, command: str = "lienket") -> Incoming:
    return Incoming(
        platform="telegram",
        chat=chat,
        user=User("1001", "Lan"),
        text=f"/{command} {args}",
        command=command,
        args=args,
    )


def linked(ctx: Context, chat_id: str = GROUP.id) -> str | None:
    record = chats.find(ctx.session, "telegram", chat_id)
    return record.agency.name if record is not None and record.agency is not None else None


def test_link_by_abbreviation(ctx: Context) -> None:
    [reply] = groups.link_group(ctx, msg("syt"))
    assert "Đã liên kết nhóm “Nhóm Sở Y tế” với Sở Y tế" in reply.text
    assert linked(ctx) == "Sở Y tế"
    record = chats.find(ctx.session, "telegram", GROUP.id)
    assert record is not None and record.linked_at is not None and record.kind == "group"


def test_link_twice_and_relink(ctx: Context) -> None:
    groups.link_group(ctx, msg("so y te"))
    [again] = groups.link_group(ctx, msg("Sở Y tế"))
    assert "đã liên kết với Sở Y tế rồi" in again.text
    [moved] = groups.link_group(ctx, msg("so cong thuong"))
    assert "Trước đây nhóm liên kết với Sở Y tế" in moved.text
    assert linked(ctx) == "Sở Công Thương"


def test_link_to_a_renamed_agency_uses_its_successor(ctx: Context) -> None:
    [reply] = groups.link_group(ctx, msg("skhdt"))
    assert "Sở Kế hoạch và Đầu tư — nay là Sở Tài chính" in reply.text
    assert linked(ctx) == "Sở Tài chính"


def test_link_without_argument_or_match(ctx: Context) -> None:
    [usage] = groups.link_group(ctx, msg(""))
    assert "/lienket so y te" in usage.text
    [missing] = groups.link_group(ctx, msg("xin chao cac ban"))
    assert "Không tìm thấy đơn vị" in missing.text
    assert chats.find(ctx.session, "telegram", GROUP.id) is None


def test_link_without_argument_shows_current_link(ctx: Context) -> None:
    groups.link_group(ctx, msg("so y te"))
    [reply] = groups.link_group(ctx, msg(""))
    assert reply.text.startswith("Nhóm này đang liên kết với Sở Y tế")


def test_link_refuses_collectives_and_private_chats(ctx: Context) -> None:
    [collective] = groups.link_group(ctx, msg("Các sở, ban ngành"))
    assert "là một nhóm đơn vị" in collective.text and not collective.choices
    assert linked(ctx) is None
    [private] = groups.link_group(ctx, msg("so y te", chat=PRIVATE))
    assert "trong nhóm" in private.text


def test_unsure_link_offers_choices_without_collectives(ctx: Context) -> None:
    [reply] = groups.link_group(ctx, msg("ngan hang"))
    assert [choice.action for choice in reply.choices] == [
        "/lienket Ngân hàng Nhà nước chi nhánh Quảng Ngãi"
    ]
    assert linked(ctx) is None
    groups.link_group(ctx, msg(reply.choices[0].action.removeprefix("/lienket ")))
    assert linked(ctx) == "Ngân hàng Nhà nước Chi nhánh Khu vực 9"


def test_unlink(ctx: Context) -> None:
    [nothing] = groups.unlink_group(ctx, msg("", command="huylienket"))
    assert "chưa liên kết" in nothing.text
    groups.link_group(ctx, msg("so y te"))
    [done] = groups.unlink_group(ctx, msg("", command="huylienket"))
    assert "Đã hủy liên kết" in done.text and "Sở Y tế" in done.text
    assert linked(ctx) is None
    [private] = groups.unlink_group(ctx, msg("", chat=PRIVATE, command="huylienket"))
    assert "trong nhóm" in private.text


def event(kind: ChatEventKind, chat: Chat = GROUP, new: str | None = None) -> ChatEvent:
    return ChatEvent(platform="telegram", chat=chat, kind=kind, new_chat_id=new)


def test_bot_added_greets_groups_only(ctx: Context) -> None:
    [welcome] = groups.on_chat_event(ctx, event(ChatEventKind.BOT_ADDED))
    assert "/lienket" in welcome.text
    assert groups.on_chat_event(ctx, event(ChatEventKind.BOT_ADDED, chat=PRIVATE)) == []
    record = chats.find(ctx.session, "telegram", GROUP.id)
    assert record is not None and record.active and record.title == "Nhóm Sở Y tế"


def test_removed_then_added_again(ctx: Context) -> None:
    groups.link_group(ctx, msg("so y te"))
    assert groups.on_chat_event(ctx, event(ChatEventKind.BOT_REMOVED)) == []
    record = chats.find(ctx.session, "telegram", GROUP.id)
    assert record is not None and not record.active and linked(ctx) == "Sở Y tế"
    groups.on_chat_event(ctx, event(ChatEventKind.BOT_ADDED))
    assert record.active


def test_migration_moves_link(ctx: Context) -> None:
    groups.link_group(ctx, msg("so y te"))
    assert groups.on_chat_event(ctx, event(ChatEventKind.MIGRATED, new="-1001")) == []
    assert linked(ctx, "-1001") == "Sở Y tế"
    assert chats.find(ctx.session, "telegram", GROUP.id) is None


# -- repository on an empty database --------------------------------------------------------


def test_repository_migrate_merges_into_existing_new_chat(db: Database) -> None:
    with db.unit_of_work() as session:
        agency = Agency(name="Sở Y tế", folded_name="so y te")
        session.add(agency)
        session.flush()
        old = chats.upsert_seen(session, "telegram", "-1", kind="group", title="Cũ")
        chats.link_agency(session, old, agency.id, NOW)
        chats.upsert_seen(session, "telegram", "-100", kind="group", title=None)
        merged = chats.migrate(session, "telegram", "-1", "-100")
        assert merged is not None and merged.chat_id == "-100"
        assert merged.agency_id == agency.id and merged.title == "Cũ" and merged.active
        old_again = chats.find(session, "telegram", "-1")
        assert old_again is not None and not old_again.active and old_again.agency_id is None


def test_repository_migrate_unknown_and_inactive(db: Database) -> None:
    with db.unit_of_work() as session:
        assert chats.migrate(session, "telegram", "-1", "-100") is None
        assert chats.mark_inactive(session, "telegram", "-1") is None
        chats.upsert_seen(session, "telegram", "5", kind="private")
        chats.upsert_seen(session, "zalo", "5", kind="private")
        chats.mark_inactive(session, "telegram", "5")
    with db.unit_of_work() as session:
        rows = session.scalars(select(ChatRecord).order_by(ChatRecord.platform)).all()
        assert [(r.platform, r.active) for r in rows] == [("telegram", False), ("zalo", True)]
