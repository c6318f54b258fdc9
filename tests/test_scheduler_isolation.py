"""One broken rule never stops the others; admins hear of it once; counts are right on both DBs."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.router import Router
from core.limits import LIMITS as CAPABILITIES
from core.limits import RateLimits
from core.settings import Settings
from data.store.db import Database
from data.store.models import OutboxStatus, ReminderKind, ReminderOutbox, ReminderRule, Task
from scheduler import outbox
from scheduler.config import ReminderConfig
from scheduler.outbox import NewRow
from scheduler.rules import ensure_defaults
from scheduler.service import ReminderService
from tests.bot_harness import Bot, Clock
from tests.scheduler_support import FakeClock, ScriptedClient, link_chat, plain_rule

pytest_plugins = ("tests.bot_harness", "tests.scheduler_support")

NOW = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)  # Tuesday 08:30 in Vietnam: D-14 of the cycle
ADMIN = "admin-1"
SETTINGS = Settings(admins=(f"telegram:{ADMIN}",))


def _rule(kind: ReminderKind, **values: Any) -> ReminderRule:
    base: dict[str, Any] = {"params": {}, "created_by": "test", "created_at": NOW}
    return ReminderRule(kind=kind.value, updated_at=NOW, **(base | values))


def _broken(session: Any) -> list[int]:
    """Rules that validation would refuse, written straight into the database."""
    task = session.scalars(select(Task).where(Task.code == "2.4")).one()
    task.deadline = date(9999, 12, 31)  # the admin's /hanchot 2.4 31/12/9999 of old
    rules = [
        _rule(ReminderKind.TASK_DEADLINE, key=f"task:{task.id}:deadline", task_id=task.id),
        _rule(ReminderKind.RECURRING, platform="telegram", chat_id="-7", cron="* * * * 99"),
        _rule(ReminderKind.CYCLE, programme_id=task.programme_id, params={"days_before": "x"}),
        _rule(ReminderKind.ONCE, platform="telegram", chat_id="-7", fire_at=NOW, text="Họp"),
    ]
    session.add_all(rules)
    session.flush()
    return [rule.id for rule in rules]


def _service(database: Database, sender: ScriptedClient, clock: FakeClock) -> ReminderService:
    config = ReminderConfig().with_limits("telegram", RateLimits())
    return ReminderService(database, SETTINGS, {"telegram": sender}, config=config, clock=clock)


def test_a_broken_rule_is_skipped_reported_once_and_the_others_deliver(
    seeded_db: Database,
) -> None:
    database = seeded_db
    with database.unit_of_work() as session:
        ensure_defaults(session, ReminderConfig(), NOW)
        link_chat(session, "Sở Y tế", "-1001")
        deadline_id, cron_id, cycle_id, once_id = _broken(session)
    clock = FakeClock(NOW)
    sender = ScriptedClient(clock=clock)
    service = _service(database, sender, clock)
    try:
        first = asyncio.run(service.tick())
        clock.advance(minutes=5)
        asyncio.run(service.tick())  # the same rules are still broken: no second notice
        clock.advance(days=1)
        asyncio.run(service.tick())
    finally:
        service.shutdown()
    assert first.materialised >= 2
    (reminder,) = sender.texts("-1001")  # the default cycle rule still reminds Sở Y tế
    assert reminder.startswith("Kính gửi Sở Y tế: còn 14 ngày đến hạn báo cáo")
    assert sender.texts("-7") == ["Nhắc việc — Họp"]  # and the one-off in the same chat
    parts = [part for text in sender.texts(ADMIN) for part in text.split("\n\n")]
    told = sorted(
        int(found.group(1))
        for part in parts
        if (found := re.search(r"Không tính được lịch gửi của nhắc việc #(\d+)", part))
    )
    assert told == sorted([cron_id, cycle_id])  # once each, however many ticks
    assert deadline_id not in told  # 31/12/9999 no longer breaks the calendar: nothing to do
    assert once_id not in told


def test_run_once_still_sends_the_rest_and_counts_what_it_created(seeded_db: Database) -> None:
    database = seeded_db
    with database.unit_of_work() as session:
        ensure_defaults(session, ReminderConfig(), NOW)
        link_chat(session, "Sở Y tế", "-1001")
        link_chat(session, "Sở Xây dựng", "-1002")
        _broken(session)
    clock = FakeClock(NOW)
    sender = ScriptedClient(clock=clock)
    service = _service(database, sender, clock)
    try:
        report = asyncio.run(service.run_once(max_wait=0))
        again = asyncio.run(service.run_once(max_wait=0))
    finally:
        service.shutdown()
    with database.session() as session:
        reminders = session.scalars(
            select(ReminderOutbox).where(ReminderOutbox.kind != "alert")
        ).all()
    assert report.materialised == len(reminders) >= 3  # never -1 (PostgreSQL rowcount)
    assert again.materialised == 0
    assert {"-1001", "-1002", "-7"} <= {sent.chat_id for sent in sender.sent}


def test_insert_counts_new_rows_on_both_databases(seeded_db: Database) -> None:
    with seeded_db.unit_of_work() as session:
        rule = plain_rule(session, NOW)
        rows = [NewRow(rule.id, "telegram", str(n), NOW, "once", "x") for n in range(3)]
        assert outbox.insert(session, rows, NOW) == 3
        assert outbox.insert(session, rows, NOW) == 0
        more = [*rows, NewRow(rule.id, "telegram", "9", NOW, "once", "y")]
        assert outbox.insert(session, more, NOW) == 1


def test_listing_survives_a_broken_rule_and_tells_admins(
    seeded_db: Database, search_engine: Any
) -> None:
    with seeded_db.unit_of_work() as session:
        ensure_defaults(session, ReminderConfig(), NOW)
        _deadline, cron_id, cycle_id, _once = _broken(session)
    clock = Clock(NOW - timedelta(days=5))
    settings = Settings(admins=(f"console:{ADMIN}",))
    bot = Bot(Router(seeded_db, search_engine, settings, CAPABILITIES, now=clock), clock)
    listed = bot.say("/nhacviec", user=ADMIN)
    assert "Xin lỗi" not in listed and "Lần nhắc sắp tới:" in listed
    assert "Hạn chót nhiệm vụ 2.4: 31/12/9999" in listed
    assert f"nhắc việc #{cron_id} " in listed and f"nhắc việc #{cycle_id} " in listed
    bot.say("/lienket so y te", group=True, user=ADMIN)
    grouped = bot.say("/nhacviec", group=True, user="someone")
    assert grouped.startswith("Nhắc việc áp dụng cho Sở Y tế:") and "Không tính được" not in grouped


def test_a_notice_comes_again_after_the_rule_is_edited(seeded_db: Database) -> None:
    with seeded_db.unit_of_work() as session:
        broken = _rule(ReminderKind.RECURRING, platform="telegram", chat_id="-7", cron="x")
        session.add(broken)
        session.flush()
        cron_id = broken.id
    clock = FakeClock(NOW)
    sender = ScriptedClient(clock=clock)
    service = _service(seeded_db, sender, clock)
    try:
        asyncio.run(service.tick())
        with seeded_db.unit_of_work() as session:
            rule = session.get(ReminderRule, cron_id)
            assert rule is not None
            rule.cron, rule.updated_at = "* * 32 * *", NOW + timedelta(hours=1)
        clock.advance(hours=2)
        asyncio.run(service.tick())
    finally:
        service.shutdown()
    parts = [part for text in sender.texts(ADMIN) for part in text.split("\n\n")]
    assert len([part for part in parts if f"nhắc việc #{cron_id} " in part]) == 2
    with seeded_db.session() as session:
        statuses = session.scalars(
            select(ReminderOutbox.status).where(ReminderOutbox.rule_id == cron_id)
        ).all()
    assert set(statuses) == {OutboxStatus.SENT.value}
