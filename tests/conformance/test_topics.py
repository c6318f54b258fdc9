"""Forum topics end to end on ptb and aiogram: /lienket inside a topic links that topic, the
reply stays in it, and `daumoi remind run-once` sends the agency's reminders into it."""

from __future__ import annotations

import asyncio
import inspect
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.platforms import telegram
from bot.runner import remind_once
from data.store import chats
from data.store.db import Database
from data.store.models import ReminderKind, ReminderRule
from tests.conformance.conftest import ADMIN_ID, TelegramDriver, make_settings
from tests.scheduler_support import agency

NOW = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)  # Tuesday 08:30 in Vietnam
TOPIC = 7
FORUM = {"id": -1004002, "type": "supergroup", "title": "Diễn đàn Sở Y tế", "is_forum": True}


def _clients_take_thread_id() -> bool:
    """Whether both Telegram clients post into a topic (the platform half of forum topics)."""
    for name in telegram.LIBRARIES:
        module = telegram.library(name)
        clients = [
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and value.__module__ == module.__name__
            and hasattr(value, "send_text")
        ]
        if not clients:
            return False
        for client in clients:
            if "thread_id" not in inspect.signature(client.send_text).parameters:
                return False
    return True


pytestmark = pytest.mark.skipif(
    not _clients_take_thread_id(),
    reason="the Telegram clients take no thread_id yet (platform half of forum topics)",
)


def _in_topic(driver: TelegramDriver, text: str, topic: int | None) -> None:
    extra: dict[str, Any] = {"message_thread_id": topic, "is_topic_message": True} if topic else {}
    message = driver.fake.message(FORUM, text, sender=driver.user, **extra)
    driver.fake.push_update({"message": message})


def _linked_topic(database: Database) -> tuple[str | None, str | None]:
    with database.session() as session:
        record = chats.find(session, "telegram", str(FORUM["id"]))
        assert record is not None
        return (record.agency.name if record.agency else None), record.thread_id


def test_lienket_in_a_topic_sends_reminders_there(
    driver: TelegramDriver, seeded_db: Database
) -> None:
    if driver.platform != "telegram":
        pytest.skip("Zalo groups have no topics")
    driver.set_member_status(FORUM, driver.user, "creator")
    _in_topic(driver, "/lienket so y te", TOPIC)
    [reply] = driver.expect(FORUM)
    assert reply.text.startswith("Đã liên kết") and "chủ đề này" in reply.text
    assert str(reply.params.get("message_thread_id")) == str(TOPIC)  # the reply stays there
    assert _linked_topic(seeded_db) == ("Sở Y tế", str(TOPIC))
    with seeded_db.unit_of_work() as session:
        session.add(
            ReminderRule(
                kind=ReminderKind.ONCE.value,
                text="Họp giao ban chủ đề",
                params={},
                agency_id=agency(session, "Sở Y tế").id,
                created_by="test",
                created_at=NOW,
                updated_at=NOW,
                fire_at=NOW,
            )
        )
    settings = make_settings(driver.fake, driver.library, admins=(f"telegram:{ADMIN_ID}",))
    before = len(driver.sent_to(FORUM))
    report = asyncio.run(remind_once(settings, seeded_db, now=NOW))
    reminders = driver.sent_to(FORUM)[before:]
    assert report.delivery.messages >= 1
    assert "Họp giao ban chủ đề" in "\n".join(call.text for call in reminders)
    assert {str(call.params.get("message_thread_id")) for call in reminders} == {str(TOPIC)}


def test_lienket_from_general_sends_reminders_to_the_whole_group(
    driver: TelegramDriver, seeded_db: Database
) -> None:
    if driver.platform != "telegram":
        pytest.skip("Zalo groups have no topics")
    driver.set_member_status(FORUM, driver.user, "creator")
    _in_topic(driver, "/lienket so y te", TOPIC)
    driver.expect(FORUM)
    _in_topic(driver, "/lienket so y te", None)
    [reply] = driver.expect(FORUM)
    assert reply.text.startswith("Từ nay") and reply.params.get("message_thread_id") is None
    assert _linked_topic(seeded_db) == ("Sở Y tế", None)
