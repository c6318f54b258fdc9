"""Reminder delivery against the fake Bot API: every error, flood limits, kill and restart."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.bridge import AdapterOptions
from bot.platforms import telegram
from core.limits import TELEGRAM_RATES, RateLimits
from core.settings import Settings
from data.store.db import Database
from data.store.models import ChatRecord, OutboxStatus, ReminderOutbox
from scheduler import outbox
from scheduler.config import ReminderConfig
from scheduler.delivery import Delivery, DeliveryReport
from tests.databases import database_url
from tests.fake_telegram import DEFAULT_TOKEN, FakeTelegram, Limits
from tests.scheduler_support import plain_rule, rows_for_chats

pytest_plugins = ("tests.bot_harness",)

ROOT = Path(__file__).resolve().parents[1]
ADMIN = "9001"


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    server = FakeTelegram()
    with server.running():
        yield server


def _settings(server: FakeTelegram, **extra: str) -> Settings:
    return Settings(
        telegram_token=DEFAULT_TOKEN,
        telegram_api_url=server.base_url,
        platforms=("telegram",),
        admins=(f"telegram:{ADMIN}",),
        extra={"DAUMOI_TELEGRAM_TIMEOUT": "1", **extra},
    )


def _enqueue(database: Database, chats: list[str], per_chat: int = 1) -> None:
    now = datetime.now(UTC)
    with database.unit_of_work() as session:
        rule = plain_rule(session, now)
        outbox.insert(session, rows_for_chats(rule.id, chats, per_chat, now), now)


def _deliver(
    database: Database, settings: Settings, config: ReminderConfig, max_wait: float = 5
) -> DeliveryReport:
    async def run() -> DeliveryReport:
        options = AdapterOptions.from_settings(settings, "telegram")
        async with telegram.connect(settings, options) as connection:
            clients = {"telegram": connection.client}
            delivery = Delivery(
                database, clients, config, settings, clock=lambda: datetime.now(UTC)
            )
            try:
                return await delivery.drain(max_wait)
            finally:
                delivery.close()

    return asyncio.run(run())


FAST = ReminderConfig(backoff_base=0.2, max_attempts=3).with_limits("telegram", RateLimits())


def _statuses(database: Database) -> dict[str, str]:
    with database.session() as session:
        rows = session.scalars(select(ReminderOutbox).where(ReminderOutbox.kind == "once"))
        return {row.chat_id: row.status for row in rows}


def test_429_is_retried_after_retry_after(db: Database, fake: FakeTelegram) -> None:
    _enqueue(db, ["-1"])
    fake.fail_next("sendMessage", "429", retry_after=1, chat_id="-1")
    began = time.monotonic()
    report = _deliver(db, _settings(fake), FAST)
    assert report.rate_limited == 1 and len(fake.messages_to("-1")) == 1
    assert time.monotonic() - began >= 0.9
    assert _statuses(db) == {"-1": OutboxStatus.SENT.value}


@pytest.mark.parametrize("kind", ["403", "400"])
def test_forbidden_or_not_found_deactivates_and_alerts(
    db: Database, fake: FakeTelegram, kind: str
) -> None:
    with db.unit_of_work() as session:
        session.add(ChatRecord(platform="telegram", chat_id="-1", kind="group", title="Nhóm SYT"))
    _enqueue(db, ["-1", "-2"])
    fake.fail_next("sendMessage", kind, chat_id="-1")
    report = _deliver(db, _settings(fake), FAST)
    assert report.gone == 1 and _statuses(db)["-1"] == OutboxStatus.DEAD.value
    with db.session() as session:
        assert session.scalars(select(ChatRecord.active)).one() is False
    (alert,) = fake.messages_to(ADMIN)
    assert "Nhóm SYT" in alert.text and len(fake.messages_to("-2")) == 1


def test_migration_is_followed(db: Database, fake: FakeTelegram) -> None:
    with db.unit_of_work() as session:
        session.add(ChatRecord(platform="telegram", chat_id="-1", kind="group"))
    _enqueue(db, ["-1"])
    fake.fail_next("sendMessage", "migrate", chat_id="-1", new_chat_id=-1001234567890)
    report = _deliver(db, _settings(fake), FAST)
    assert report.migrated == 1 and len(fake.messages_to("-1001234567890")) == 1
    with db.session() as session:
        assert session.scalars(select(ChatRecord.chat_id)).one() == "-1001234567890"
        row = session.scalars(select(ReminderOutbox)).one()
        assert row.sent_chat_id == "-1001234567890" and row.status == OutboxStatus.SENT.value


@pytest.mark.parametrize("kind", ["500", "502", "timeout"])
def test_server_errors_back_off_and_succeed(db: Database, fake: FakeTelegram, kind: str) -> None:
    _enqueue(db, ["-1"])
    fake.fail_next("sendMessage", kind, chat_id="-1", delay=1.5)
    report = _deliver(db, _settings(fake), FAST)
    assert report.retried == 1 and len(fake.messages_to("-1")) == 1
    assert _statuses(db) == {"-1": OutboxStatus.SENT.value}


def test_persistent_server_errors_dead_letter_and_alert(db: Database, fake: FakeTelegram) -> None:
    _enqueue(db, ["-1"])
    fake.fail_next("sendMessage", "500", chat_id="-1", times=3)
    report = _deliver(db, _settings(fake), FAST)
    assert report.dead == 1 and fake.messages_to("-1") == []
    (alert,) = fake.messages_to(ADMIN)
    assert "3 lần thử" in alert.text


# The suite runs on every core, and a starved fake-server thread reads requests late, so they look
# bunched in its sliding window. Tests pace at 70 % of Telegram's limits to leave room for that;
# `make bench` checks the production margin (97 %) on a quiet machine: 0 answers 429 there.
_JITTER_ROOM = ReminderConfig().with_limits("telegram", replace(TELEGRAM_RATES, safety=0.7))


def test_fan_out_under_telegram_limits_gets_no_429(db: Database) -> None:
    server = FakeTelegram(limits=Limits(overall_per_second=30, group_per_minute=20))
    chats = [f"-{n}" for n in range(100, 145)]
    _enqueue(db, chats, per_chat=2)
    with server.running():
        began = time.monotonic()
        report = _deliver(db, _settings(server), _JITTER_ROOM)
        elapsed = time.monotonic() - began
    assert report.messages == 45 and report.rate_limited == 0
    assert server.errors == []  # the fake answered no 429
    assert elapsed >= 44 / 30  # paced, not burst
    assert {chat: len(server.messages_to(chat)) for chat in chats} == dict.fromkeys(chats, 1)


# -- kill -9 in the middle of a fan-out, then run again -----------------------------------------


def _run_once(settings_env: dict[str, str], now: datetime) -> subprocess.Popen[bytes]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DAUMOI_")}
    env.update(settings_env)
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "remind", "run-once", "--now", now.isoformat()],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_until(condition: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.02)


def test_killed_mid_fan_out_then_restarted_sends_every_row_once(
    seeded_db: Database, fake: FakeTelegram
) -> None:
    database = seeded_db
    first = datetime(2026, 7, 1, 3, 0, tzinfo=UTC)  # a Wednesday, no yearly reminders
    chats = [f"-{n}" for n in range(200, 240)]
    with database.unit_of_work() as session:
        rule = plain_rule(session, first - timedelta(days=2))
        outbox.insert(session, rows_for_chats(rule.id, chats, 2, first), first)
    workers = 4
    env = {
        "DAUMOI_DATABASE_URL": database_url(database),
        "DAUMOI_TELEGRAM_TOKEN": DEFAULT_TOKEN,
        "DAUMOI_TELEGRAM_API_URL": fake.base_url,
        "DAUMOI_PLATFORMS": "telegram",
        "DAUMOI_REMINDER_CONCURRENCY": str(workers),
        "DAUMOI_TELEGRAM_TIMEOUT": "60",
    }
    process = _run_once(env, first)
    try:
        fake.wait_for_method("sendMessage", timeout=60, count=10)
        # From now on every send hangs: each worker gets stuck on one request, so no send
        # can complete after the kill that the database has not recorded.
        fake.fail_next("sendMessage", "timeout", delay=30, times=workers)
        _wait_until(lambda: len(fake.errors) == workers, 30)
        delivered_before_kill = len(fake.calls("sendMessage"))
        time.sleep(0.3)
        assert len(fake.calls("sendMessage")) == delivered_before_kill  # the run is stuck
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
    assert 10 <= delivered_before_kill < len(chats)
    assert process.returncode == -signal.SIGKILL
    with database.session() as session:
        leased = session.scalars(
            select(ReminderOutbox).where(ReminderOutbox.lease_owner.is_not(None))
        ).all()
        assert leased  # the killed run left claimed rows behind
    later = first + timedelta(minutes=5)  # past the killed run's leases
    second = _run_once(env, later)
    _out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err.decode()
    sent = fake.calls("sendMessage")
    for chat in chats:
        texts = [call.text for call in sent if call.chat_id == chat]
        assert len(texts) == 1, (chat, texts)
        assert f"[{chat}#0]" in texts[0] and f"[{chat}#1]" in texts[0]
    with database.session() as session:
        rows = session.scalars(select(ReminderOutbox).where(ReminderOutbox.rule_id == rule.id))
        assert {row.status for row in rows} == {OutboxStatus.SENT.value}
    database.engine.dispose()


@pytest.mark.parametrize("library", ["ptb", "aiogram"])
def test_a_topic_that_is_gone_gets_its_reminder_in_general(
    db: Database, fake: FakeTelegram, library: str
) -> None:
    # The library's "message thread not found" reaches delivery as the port's TopicGone.
    now = datetime.now(UTC)
    with db.unit_of_work() as session:
        rule = plain_rule(session, now)
        row = outbox.NewRow(rule.id, "telegram", "-1", now, "once", "x", {}, "77")
        outbox.insert(session, [row], now)
    settings = replace(_settings(fake), telegram_library=library)
    report = _deliver(db, settings, FAST)
    [sent] = fake.messages_to("-1")
    assert "message_thread_id" not in sent.params and report.messages == 1
    assert _statuses(db) == {"-1": OutboxStatus.SENT.value}
