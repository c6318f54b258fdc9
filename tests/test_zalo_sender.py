"""Reminders on Zalo: the client's error mapping, and one agency reaching every platform."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from bot.bridge import AdapterOptions
from bot.platforms import zalo
from bot.platforms.zalo_client import BotInfo, RetryPolicy, ZaloClient
from bot.runner import remind_once
from core.chat_client import BadRequest, ChatGone, RetryAfter, Transient
from core.render import split_text
from core.settings import Settings
from data.store.db import Database
from scheduler.config import ReminderConfig
from scheduler.preview import as_json, preview
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import FakeZalo
from tests.scheduler_support import link_chat, vn

pytest_plugins = ("tests.bot_harness",)


@pytest.fixture
def fake() -> Iterator[FakeZalo]:
    with FakeZalo().running() as server:
        yield server


async def _send(fake: FakeZalo, chat_id: str, text: str) -> list[str]:
    async with ZaloClient(fake.token, fake.base_url, timeout=1.0, retry=RetryPolicy()) as http:
        client = zalo.ZaloChatClient(http, BotInfo(id="b", name="daumoi_bot"))
        limit = client.limits.max_text_len
        return [await client.send_text(chat_id, part) for part in split_text(text, limit)]


async def test_reminders_are_split_at_2000_characters(fake: FakeZalo) -> None:
    text = "\n".join(f"Nhiệm vụ {n}: " + "báo cáo kết quả " * 6 for n in range(60))
    ids = await _send(fake, "g1", text)
    sent = fake.messages_to("g1")
    assert len(ids) == len(sent) >= 3 and all(len(call.text) <= 2000 for call in sent)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("429", RetryAfter), ("403", ChatGone), ("400", ChatGone), ("500", Transient)],
)
async def test_errors_map_to_the_port_types(
    fake: FakeZalo, kind: str, expected: type[Exception]
) -> None:
    fake.fail_next("sendMessage", kind, retry_after=5)
    with pytest.raises(expected) as caught:
        await _send(fake, "g1", "Nhắc việc")
    assert len(fake.errors) == 1  # the bridge or the outbox retries, not the client
    if isinstance(caught.value, RetryAfter):
        assert caught.value.seconds == 5


async def test_other_refusals_are_rejections(fake: FakeZalo) -> None:
    fake.fail_next("sendMessage", "invalid")
    with pytest.raises(BadRequest):
        await _send(fake, "g1", "Nhắc việc")


async def test_the_zalo_client_connects_when_configured(fake: FakeZalo) -> None:
    settings = Settings(zalo_token=fake.token, zalo_api_url=fake.base_url)
    async with zalo.connect(settings, AdapterOptions()) as connection:
        assert connection.client.limits.max_text_len == 2000
        await connection.client.send_text("g9", "Nhắc việc")
    assert fake.messages_to("g9")[0].text == "Nhắc việc"


def test_preview_shows_the_linked_zalo_group(seeded_db: Database) -> None:
    with seeded_db.session() as session:
        link_chat(session, "Sở Y tế", "zg-syt", platform="zalo")
        link_chat(session, "Sở Y tế", "-1001")
        found = as_json(
            preview(session, Settings(), date(2026, 12, 14), date(2026, 12, 14)), ReminderConfig()
        )
        session.rollback()
    chats = {o["chat"] for o in found if o["agency"] == "Sở Y tế"}
    assert {"zalo:zg-syt", "telegram:-1001"} <= chats


def test_an_agency_reminder_reaches_its_chats_on_every_platform(
    seeded_db: Database, bot: Any
) -> None:
    with seeded_db.unit_of_work() as session:
        link_chat(session, "Sở Y tế", "zg-syt", platform="zalo")
        link_chat(session, "Sở Y tế", str(-4001))
    with FakeZalo().running() as zalo_fake, FakeTelegram().running() as telegram_fake:
        settings = Settings(
            zalo_token=zalo_fake.token,
            zalo_api_url=zalo_fake.base_url,
            telegram_token=telegram_fake.token,
            telegram_api_url=telegram_fake.base_url,
            extra={"DAUMOI_TELEGRAM_TIMEOUT": "2", "DAUMOI_ZALO_TIMEOUT": "2"},
        )
        report = asyncio.run(remind_once(settings, seeded_db, now=vn(2026, 12, 14, 9, 0)))
        assert report.delivery.messages == 2
        to_zalo = zalo_fake.messages_to("zg-syt")
        to_telegram = telegram_fake.messages_to(-4001)
    assert to_zalo and to_telegram
    assert [c.text for c in to_zalo] == [c.text for c in to_telegram]
    assert "Sở Y tế" in to_zalo[0].text and "15/12" in to_zalo[0].text
