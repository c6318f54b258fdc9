"""Forum topics: /lienket in a topic links that topic; reminders and notices go there."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from core.chat_client import TopicGone
from core.limits import RateLimits
from core.model import Chat, ChatKind, Incoming, Reply, User
from core.settings import Settings
from data.store import chats
from data.store.db import Database
from data.store.models import (
    Agency,
    ChatLinkChange,
    ChatRecord,
    OutboxStatus,
    ReminderKind,
    ReminderOutbox,
    ReminderRule,
    Role,
)
from scheduler import outbox
from scheduler.config import ReminderConfig
from scheduler.delivery import Delivery, pack
from scheduler.outbox import Claimed, NewRow
from scheduler.service import ReminderService
from tests.scheduler_support import FakeClock, ScriptedClient, agency, link_chat, plain_rule

if TYPE_CHECKING:
    from tests.status_harness import Desk

pytest_plugins = ("tests.status_harness",)

GROUP = "group-1"
NOW = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)  # Tuesday 08:30 in Vietnam
CONFIG = ReminderConfig().with_limits("telegram", RateLimits())  # no real-time pacing


def in_topic(text: str, thread: str | None, user: str = "admin") -> Incoming:
    """A message in a forum group's topic (None: General), as the Telegram adapter builds it."""
    return Incoming(
        platform="console",
        chat=Chat(id=GROUP, kind=ChatKind.GROUP, title="Nhóm thử", thread_id=thread),
        user=User(id=user, display_name=user.title()),
        text=text,
    )


def link(desk: Desk) -> tuple[str | None, str | None]:
    """The agency the group is linked to and the topic reminders go to."""
    with desk.database.session() as session:
        record = chats.find(session, "console", GROUP)
        assert record is not None
        return (record.agency.name if record.agency else None), record.thread_id


def audit(desk: Desk) -> list[tuple[str | None, str | None, str | None, str | None]]:
    with desk.database.session() as session:
        rows = session.scalars(select(ChatLinkChange).order_by(ChatLinkChange.id))
        return [
            (
                row.agency_before.name if row.agency_before else None,
                row.thread_before,
                row.agency_after.name if row.agency_after else None,
                row.thread_after,
            )
            for row in rows
        ]


def here(replies: list[Reply]) -> str:
    return "\n".join(reply.text for reply in replies if not reply.chat_id)


# --- linking ------------------------------------------------------------------------------------


def test_lienket_in_a_topic_links_that_topic_and_general_clears_it(desk: Desk) -> None:
    replies = desk.router.handle(in_topic("/lienket so y te", "7"))
    assert here(replies).startswith("Đã liên kết nhóm “Nhóm thử” với Sở Y tế")
    assert "gửi vào chủ đề này của nhóm" in here(replies)
    assert link(desk) == ("Sở Y tế", "7")
    status = here(desk.router.handle(in_topic("/lienket", "7")))
    assert "đang liên kết với Sở Y tế. Nhắc việc được gửi vào chủ đề này." in status
    assert "một chủ đề khác" in here(desk.router.handle(in_topic("/lienket", "9")))
    # The same link from the same topic changes nothing.
    assert "rồi" in here(desk.router.handle(in_topic("/lienket so y te", "7")))
    # Another topic takes the reminders over.
    moved = here(desk.router.handle(in_topic("/lienket so y te", "9")))
    assert moved == "Từ nay nhắc việc và báo cáo của Sở Y tế sẽ được gửi vào chủ đề này của nhóm."
    assert link(desk) == ("Sở Y tế", "9")
    # From General: the whole group again.
    general = here(desk.router.handle(in_topic("/lienket so y te", None)))
    assert general == "Từ nay nhắc việc và báo cáo của Sở Y tế sẽ được gửi vào nhóm này."
    assert link(desk) == ("Sở Y tế", None)
    assert "chủ đề chung (General)" in here(desk.router.handle(in_topic("/lienket", "7")))
    assert audit(desk) == [
        (None, None, "Sở Y tế", "7"),
        ("Sở Y tế", "7", "Sở Y tế", "9"),
        ("Sở Y tế", "9", "Sở Y tế", None),
    ]


def test_a_topic_move_is_announced_to_the_admins(desk: Desk) -> None:
    desk.add_person("boss", Role.ADMIN, None)
    desk.router.handle(in_topic("/lienket so y te", "7"))
    replies = desk.router.handle(in_topic("/lienket so y te", "9"))
    notices = {reply.chat_id: reply.text for reply in replies if reply.chat_id}
    assert (
        "đã chuyển nơi nhận nhắc việc của Sở Y tế sang một chủ đề khác" in notices["private-boss"]
    )


def test_relinking_to_another_agency_from_general_clears_the_topic(desk: Desk) -> None:
    desk.router.handle(in_topic("/lienket so y te", "7"))
    replies = desk.router.handle(in_topic("/lienket so tai chinh", None))
    assert "(Trước đây nhóm liên kết với Sở Y tế.)" in here(replies)
    assert link(desk) == ("Sở Tài chính", None)


def test_unlinking_clears_the_topic(desk: Desk) -> None:
    desk.router.handle(in_topic("/lienket so y te", "7"))
    assert here(desk.router.handle(in_topic("/huylienket", "3"))).startswith("Đã hủy liên kết")
    assert link(desk) == (None, None)
    assert audit(desk)[-1] == ("Sở Y tế", "7", None, None)


def test_a_new_blocker_goes_to_the_linked_topic(desk: Desk) -> None:
    desk.register("lan", "so xay dung")
    desk.router.handle(in_topic("/lienket so tai chinh", "12"))
    sent = desk.send(
        "/capnhat 2.4 dang thuc hien 60% Đã làm việc với hãng bay; vuong mac: thiếu kinh phí",
        "lan",
    )
    [notice] = [reply for reply in sent.replies if reply.chat_id == GROUP]
    assert "Vướng mắc mới ở nhiệm vụ 2.4" in notice.text and notice.thread_id == "12"


@pytest.mark.parametrize("spoke_before", [False, True], ids=["renamed", "merged"])
def test_a_migrated_group_keeps_its_topic(db: Database, spoke_before: bool) -> None:
    with db.unit_of_work() as session:
        rule = plain_rule(session, NOW)
        health = Agency(name="Sở Y tế", folded_name="so y te")
        session.add(health)
        session.flush()
        old = chats.upsert_seen(session, "telegram", "-1", kind="group", title="Nhóm")
        chats.link_agency(session, old, health.id, NOW, "7")
        if spoke_before:  # the new id spoke before the migration event
            chats.upsert_seen(session, "telegram", "-1001", kind="group")
        row = NewRow(rule.id, "telegram", "-1", NOW, "once", "x", {}, "7")
        outbox.insert(session, [row], NOW)
        chats.migrate(session, "telegram", "-1", "-1001")
        outbox.move_chat(session, "telegram", "-1", "-1001")
    with db.session() as session:
        moved = session.scalars(select(ChatRecord).where(ChatRecord.chat_id == "-1001")).one()
        queued = session.scalars(select(ReminderOutbox)).one()
        assert (moved.agency_id, moved.thread_id) == (health.id, "7")
        assert (queued.chat_id, queued.thread_id) == ("-1001", "7")


# --- reminders ----------------------------------------------------------------------------------


def _rule(session: object, **values: object) -> None:
    rule = ReminderRule(
        kind=ReminderKind.ONCE.value,
        params={},
        created_by="test",
        created_at=NOW,
        updated_at=NOW,
        fire_at=NOW,
        **values,
    )
    session.add(rule)  # type: ignore[attr-defined]


def test_reminders_to_a_linked_topic_carry_it_to_the_client(seeded_db: Database) -> None:
    with seeded_db.unit_of_work() as session:
        link_chat(session, "Sở Y tế", "-1001", thread_id="7")
        link_chat(session, "Sở Xây dựng", "-1003")
        health = agency(session, "Sở Y tế").id
        _rule(session, text="Nhắc Sở Y tế", agency_id=health)  # to the agency's groups
        _rule(session, text="Nhắc trong nhóm", platform="telegram", chat_id="-1001")
        _rule(session, text="Nhắc Sở Xây dựng", agency_id=agency(session, "Sở Xây dựng").id)
    clock = FakeClock(NOW)
    sender = ScriptedClient(clock=clock)
    service = ReminderService(
        seeded_db, Settings(), {"telegram": sender}, config=CONFIG, clock=clock
    )
    try:
        asyncio.run(service.run_once(max_wait=0))
    finally:
        service.shutdown()
    health_sent = [s for s in sender.sent if s.chat_id == "-1001"]
    assert health_sent and {s.thread_id for s in health_sent} == {"7"}
    assert "Nhắc Sở Y tế" in "".join(s.text for s in health_sent)
    assert "Nhắc trong nhóm" in "".join(s.text for s in health_sent)
    assert {s.thread_id for s in sender.sent if s.chat_id == "-1003"} == {None}
    with seeded_db.session() as session:
        rows = session.scalars(select(ReminderOutbox).where(ReminderOutbox.chat_id == "-1001"))
        assert {row.thread_id for row in rows} == {"7"}


def test_rows_for_different_topics_never_share_a_message() -> None:
    def row(index: int, thread: str | None) -> Claimed:
        return Claimed(index, 1, "telegram", "-1", NOW, "once", f"r{index}", 0, NOW, {}, thread)

    batches = pack([row(0, None), row(1, "7"), row(2, None), row(3, "7"), row(4, "9")], 4096)
    assert [([r.id for r in batch], text) for batch, text in batches] == [
        ([0, 2], "r0\n\nr2"),
        ([1, 3], "r1\n\nr3"),
        ([4], "r4"),
    ]


def _deliver(database: Database, sender: ScriptedClient, clock: FakeClock) -> None:
    delivery = Delivery(database, {"telegram": sender}, CONFIG, Settings(), clock=clock)
    try:
        asyncio.run(delivery.deliver_due())
    finally:
        delivery.close()


def test_each_topic_of_a_chat_gets_its_own_message(db: Database) -> None:
    with db.unit_of_work() as session:
        rule = plain_rule(session, NOW)
        rows = [
            NewRow(rule.id, "telegram", "-1", NOW - timedelta(seconds=n), "once", f"r{n}", {}, t)
            for n, t in enumerate((None, "7", "7", "9"))
        ]
        outbox.insert(session, rows, NOW)
    clock = FakeClock(NOW)
    sender = ScriptedClient(clock=clock)
    _deliver(db, sender, clock)
    assert sorted((s.thread_id or "", s.text) for s in sender.sent) == [
        ("", "r0"),
        ("7", "r2\n\nr1"),
        ("9", "r3"),
    ]


def test_a_topic_that_is_gone_gets_its_reminder_in_general(db: Database) -> None:
    with db.unit_of_work() as session:
        rule = plain_rule(session, NOW)
        outbox.insert(session, [NewRow(rule.id, "telegram", "-1", NOW, "once", "x", {}, "7")], NOW)
    clock = FakeClock(NOW)
    sender = ScriptedClient(clock=clock)
    sender.fail("-1", TopicGone("Bad Request: message thread not found"))
    _deliver(db, sender, clock)
    assert [(s.chat_id, s.thread_id, s.text) for s in sender.sent] == [("-1", None, "x")]
    with db.session() as session:
        assert session.scalars(select(ReminderOutbox.status)).one() == OutboxStatus.SENT.value
