"""The service around delivery: the APScheduler ticker, materialising, expiry."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.limits import RateLimits
from core.markup import plain
from core.settings import Settings
from data.store.db import Database
from data.store.models import ChatRecord, OutboxStatus, ReminderKind, ReminderOutbox, ReminderRule
from scheduler import outbox
from scheduler.config import ReminderConfig
from scheduler.outbox import NewRow
from scheduler.service import ReminderService
from tests.scheduler_support import FakeClock, ScriptedClient, plain_rule


def test_background_ticker_delivers_due_rows(db: Database) -> None:
    now = datetime.now(UTC)
    with db.unit_of_work() as session:
        rule = plain_rule(session, now)
        row = NewRow(rule.id, "console", "c-1", now - timedelta(seconds=1), "once", "Họp lúc 9h")
        outbox.insert(session, [row], now)
    sender = ScriptedClient("console")
    settings = Settings(extra={"DAUMOI_REMINDER_TICK_SECONDS": "0.2"})

    async def run() -> None:  # the service ticks on the running loop, as in the bot
        service = ReminderService(db, settings, {"console": sender})
        assert service.start()
        try:
            deadline = time.monotonic() + 10
            while not sender.sent and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        finally:
            service.shutdown()
        with db.unit_of_work() as session:  # due after the stop: no tick may send it
            later = NewRow(rule.id, "console", "c-1", now, "once", "Họp lúc 10h")
            outbox.insert(session, [later], now)
        await asyncio.sleep(0.5)  # stopped: more than two tick intervals pass

    asyncio.run(run())
    assert [s.text for s in sender.sent] == ["Họp lúc 9h"]


def test_reminders_can_be_switched_off(db: Database) -> None:
    settings = Settings(extra={"DAUMOI_REMINDERS": "0"})
    service = ReminderService(db, settings, {})
    try:
        assert service.start() is False
    finally:
        service.shutdown()


def test_stale_rows_expire_instead_of_flooding(db: Database) -> None:
    now = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)
    with db.unit_of_work() as session:
        rule = plain_rule(session, now)
        old = NewRow(rule.id, "zalo", "z-1", now - timedelta(days=4), "once", "cũ")
        fresh = NewRow(rule.id, "zalo", "z-1", now - timedelta(days=1), "once", "mới")
        outbox.insert(session, [old, fresh], now)
    service = ReminderService(db, Settings(), {}, config=ReminderConfig(), clock=FakeClock(now))
    try:
        service.materialise()
    finally:
        service.shutdown()
    with db.session() as session:
        rows = session.scalars(select(ReminderOutbox).order_by(ReminderOutbox.due_at)).all()
        assert [(r.text, r.status) for r in rows] == [
            ("cũ", OutboxStatus.SKIPPED.value),
            ("mới", OutboxStatus.PENDING.value),
        ]


def test_one_off_to_a_chat_the_bot_lost_is_not_materialised(db: Database) -> None:
    now = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)  # Tuesday 08:30 in Vietnam
    with db.unit_of_work() as session:
        session.add(ChatRecord(platform="telegram", chat_id="-9", kind="group", active=False))
        for chat in ("-9", "-10"):
            session.add(
                ReminderRule(
                    kind=ReminderKind.ONCE.value,
                    platform="telegram",
                    chat_id=chat,
                    text="Nộp báo cáo",
                    fire_at=now,
                    params={},
                    created_by="t",
                    created_at=now,
                    updated_at=now,
                )
            )
    service = ReminderService(db, Settings(), {}, config=ReminderConfig(), clock=FakeClock(now))
    try:
        assert service.materialise() == 1
    finally:
        service.shutdown()
    with db.session() as session:
        (row,) = session.scalars(select(ReminderOutbox)).all()
        assert row.chat_id == "-10" and plain(row.text) == "Nhắc việc — Nộp báo cáo"


@pytest.mark.postgres
def test_materialise_and_deliver_on_postgres(pg_db: Database) -> None:
    from data.importing.importer import ensure_seed
    from tests.scheduler_support import link_chat

    ensure_seed(pg_db)
    with pg_db.unit_of_work() as session:
        link_chat(session, "Sở Y tế", "-1001")
    clock = FakeClock(datetime(2026, 12, 1, 1, 30, tzinfo=UTC))  # D-14, 08:30 in Vietnam
    sender = ScriptedClient(clock=clock)
    config = ReminderConfig().with_limits("telegram", RateLimits())
    service = ReminderService(pg_db, Settings(), {"telegram": sender}, config=config, clock=clock)
    try:
        asyncio.run(service.tick())
        asyncio.run(service.tick())  # idempotent: nothing new, nothing resent
    finally:
        service.shutdown()
    (text,) = sender.texts("-1001")
    assert text.startswith("Kính gửi Sở Y tế: còn 14 ngày đến hạn báo cáo")
    with pg_db.session() as session:
        assert session.scalar(select(func.count()).select_from(ReminderRule)) == 5  # + digest
