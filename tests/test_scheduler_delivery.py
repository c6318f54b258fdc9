"""Outbox delivery with a scripted chat client: merging, errors, leases, two instances."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.chat_client import BadRequest, ChatClient, ChatGone, Forbidden, RetryAfter, Transient
from core.limits import RateLimits
from core.pacing import PlatformLimiter
from core.settings import Settings
from data.store.db import Database
from data.store.models import ChatRecord, OutboxStatus, ReminderOutbox
from scheduler import outbox
from scheduler.config import ReminderConfig
from scheduler.delivery import Delivery, DeliveryReport, pack
from scheduler.outbox import Claimed, NewRow
from tests.scheduler_support import FakeClock, ScriptedClient, plain_rule, rows_for_chats

NOW = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)  # 08:30 in Vietnam
ADMIN = "9001"
CONFIG = ReminderConfig(backoff_base=60, max_attempts=3).with_limits("telegram", RateLimits())
SETTINGS = Settings(admins=(f"telegram:{ADMIN}",))


def _enqueue(database: Database, chats: list[str], per_chat: int = 1) -> int:
    with database.unit_of_work() as session:
        rule = plain_rule(session, NOW)
        outbox.insert(session, rows_for_chats(rule.id, chats, per_chat, NOW), NOW)
        return rule.id


def _rows(database: Database) -> list[ReminderOutbox]:
    with database.session() as session:
        return list(session.scalars(select(ReminderOutbox).order_by(ReminderOutbox.id)))


def _delivery(
    database: Database, sender: ScriptedClient, clock: FakeClock, **options: object
) -> Delivery:
    return Delivery(
        database,
        {"telegram": sender},
        CONFIG,
        SETTINGS,
        clock=clock,
        **options,  # type: ignore[arg-type]
    )


async def _pass(delivery: Delivery) -> object:
    try:
        return await delivery.deliver_due()
    finally:
        delivery.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


def test_rows_for_one_chat_go_out_as_one_message(db: Database, clock: FakeClock) -> None:
    _enqueue(db, ["-1", "-2"], per_chat=3)
    sender = ScriptedClient(clock=clock)
    report = asyncio.run(_pass(_delivery(db, sender, clock)))
    assert [s.chat_id for s in sender.sent] == ["-1", "-2"] or sorted(
        s.chat_id for s in sender.sent
    ) == ["-1", "-2"]
    (text,) = sender.texts("-1")
    # Oldest first: the rows were due 2 s, 1 s and 0 s before NOW.
    assert text.index("[-1#2]") < text.index("[-1#1]") < text.index("[-1#0]")
    rows = _rows(db)
    assert {row.status for row in rows} == {OutboxStatus.SENT.value}
    assert all(row.message_ids and row.lease_owner is None for row in rows)
    assert report.messages == 2 and report.rows == 6  # type: ignore[attr-defined]


def test_insert_is_idempotent_on_rule_chat_due(db: Database) -> None:
    rule_id = _enqueue(db, ["-1"], per_chat=2)
    with db.unit_of_work() as session:
        again = outbox.insert(session, rows_for_chats(rule_id, ["-1"], 2, NOW), NOW)
    assert again == 0 and len(_rows(db)) == 2


def test_long_batches_split_at_the_platform_limit() -> None:
    def row(index: int, text: str) -> Claimed:
        return Claimed(index, 1, "telegram", "-1", NOW, "once", text, 0, NOW, {})

    rows = [row(i, "x" * 40) for i in range(5)]
    batches = pack(rows, 100)  # two texts and a blank line fit, three do not
    assert [[r.id for r in batch] for batch, _ in batches] == [[0, 1], [2, 3], [4]]
    assert all(len(text) <= 100 for _, text in batches)


def test_a_failed_part_does_not_resend_the_parts_already_sent(
    db: Database, clock: FakeClock
) -> None:
    _enqueue(db, ["-1"], per_chat=3)
    sender = ScriptedClient(clock=clock, max_text_len=60)  # one row per message
    sender.fail("-1", *([None] * 0))
    original = sender.send_text
    calls = {"n": 0}

    async def flaky(
        chat_id: str, text: str, choices: object = (), *, thread_id: str | None = None
    ) -> str:
        calls["n"] += 1
        if calls["n"] == 2:
            raise Transient("502 Bad Gateway")
        return await original(chat_id, text, thread_id=thread_id)

    sender.send_text = flaky  # type: ignore[method-assign]
    asyncio.run(_pass(_delivery(db, sender, clock)))
    statuses = [(row.status, row.attempts) for row in _rows(db)]
    assert statuses.count((OutboxStatus.SENT.value, 1)) == 1
    assert statuses.count((OutboxStatus.PENDING.value, 1)) == 2
    clock.advance(seconds=61)
    asyncio.run(_pass(_delivery(db, sender, clock)))
    assert len(sender.texts("-1")) == 3 and len(set(sender.texts("-1"))) == 3
    assert {row.status for row in _rows(db)} == {OutboxStatus.SENT.value}


def test_retry_after_waits_without_counting_an_attempt(db: Database, clock: FakeClock) -> None:
    _enqueue(db, ["-1"])
    sender = ScriptedClient(clock=clock)
    sender.fail("-1", RetryAfter(30))
    report = asyncio.run(_pass(_delivery(db, sender, clock)))
    (row,) = _rows(db)
    assert report.rate_limited == 1 and row.status == OutboxStatus.PENDING.value  # type: ignore[attr-defined]
    assert row.attempts == 0
    assert row.next_attempt_at.replace(tzinfo=UTC) == NOW + timedelta(seconds=30)
    asyncio.run(_pass(_delivery(db, sender, clock)))
    assert sender.sent == []  # not yet
    clock.advance(seconds=30)
    asyncio.run(_pass(_delivery(db, sender, clock)))
    assert len(sender.sent) == 1


def test_chat_gone_deactivates_the_chat_and_tells_admins(db: Database, clock: FakeClock) -> None:
    with db.unit_of_work() as session:
        session.add(ChatRecord(platform="telegram", chat_id="-1", kind="group", title="Sở Y tế"))
    rule_id = _enqueue(db, ["-1", "-2"])
    with db.unit_of_work() as session:  # a later reminder for the same chat
        later = NewRow(rule_id, "telegram", "-1", NOW + timedelta(days=1), "once", "mai")
        outbox.insert(session, [later], NOW)
    sender = ScriptedClient(clock=clock)
    sender.fail("-1", ChatGone("Forbidden: bot was kicked from the group chat"))
    report = asyncio.run(_pass(_delivery(db, sender, clock)))
    assert report.gone == 1  # type: ignore[attr-defined]
    with db.session() as session:
        record = session.scalars(select(ChatRecord).where(ChatRecord.chat_id == "-1")).one()
        assert record.active is False
    by_chat = {(row.chat_id, row.kind): row.status for row in _rows(db)}
    assert by_chat[("-1", "once")] == OutboxStatus.DEAD.value
    assert [r.status for r in _rows(db) if r.chat_id == "-1"] == [OutboxStatus.DEAD.value] * 2
    (alert,) = sender.texts(ADMIN)
    assert "Sở Y tế" in alert and "/lienket" in alert
    assert sender.texts("-2")


def test_migration_follows_the_new_chat_id(db: Database, clock: FakeClock) -> None:
    with db.unit_of_work() as session:
        session.add(ChatRecord(platform="telegram", chat_id="-1", kind="group", agency_id=None))
    rule_id = _enqueue(db, ["-1"])
    with db.unit_of_work() as session:
        later = NewRow(rule_id, "telegram", "-1", NOW + timedelta(days=1), "once", "mai")
        outbox.insert(session, [later], NOW)
    sender = ScriptedClient(clock=clock)
    sender.fail("-1", ChatGone(new_chat_id="-1001"))
    report = asyncio.run(_pass(_delivery(db, sender, clock)))
    assert report.migrated == 1 and len(sender.texts("-1001")) == 1  # type: ignore[attr-defined]
    rows = _rows(db)
    assert rows[0].status == OutboxStatus.SENT.value and rows[0].sent_chat_id == "-1001"
    assert rows[1].chat_id == "-1001" and rows[1].status == OutboxStatus.PENDING.value
    with db.session() as session:
        assert session.scalars(select(ChatRecord.chat_id)).all() == ["-1001"]


def test_transient_errors_back_off_then_dead_letter_and_alert(
    db: Database, clock: FakeClock
) -> None:
    _enqueue(db, ["-1"])
    sender = ScriptedClient(clock=clock)
    sender.fail("-1", *(Transient("500 Internal Server Error") for _ in range(3)))
    waits = []
    for _ in range(3):
        asyncio.run(_pass(_delivery(db, sender, clock)))
        (row,) = [r for r in _rows(db) if r.chat_id == "-1"]
        waits.append((row.next_attempt_at.replace(tzinfo=UTC) - clock()).total_seconds())
        clock.advance(seconds=600)
    assert waits[:2] == [60, 120]  # exponential backoff
    (row,) = [r for r in _rows(db) if r.chat_id == "-1"]
    assert row.status == OutboxStatus.DEAD.value and row.attempts == 3
    (alert,) = sender.texts(ADMIN)
    assert "3 lần thử" in alert and "500" in alert


def test_rejected_is_final_and_alerting_never_loops(db: Database, clock: FakeClock) -> None:
    _enqueue(db, ["-1"])
    sender = ScriptedClient(clock=clock)
    sender.fail("-1", BadRequest("Bad Request: message is too long"))
    sender.fail(ADMIN, ChatGone("Forbidden: bot was blocked by the user"))
    asyncio.run(_pass(_delivery(db, sender, clock)))
    statuses = Counter((row.kind, row.status) for row in _rows(db))
    assert statuses == {("once", "dead"): 1, ("alert", "dead"): 1}  # no alert about the alert


def test_an_expired_lease_is_reclaimed_after_a_crash(db: Database, clock: FakeClock) -> None:
    _enqueue(db, ["-1", "-2"])
    with db.unit_of_work() as session:  # a process claimed both rows, then died
        claimed = outbox.claim(
            session,
            owner="dead:1",
            now=clock(),
            lease=CONFIG.lease,
            platforms=["telegram"],
            limit=10,
        )
    assert len(claimed) == 2
    sender = ScriptedClient(clock=clock)
    asyncio.run(_pass(_delivery(db, sender, clock)))
    assert sender.sent == []  # still leased
    clock.advance(seconds=CONFIG.lease.total_seconds() + 1)
    asyncio.run(_pass(_delivery(db, sender, clock)))
    assert sorted(s.chat_id for s in sender.sent) == ["-1", "-2"]


def test_no_send_starts_right_before_the_lease_expires(db: Database, clock: FakeClock) -> None:
    _enqueue(db, ["-1"])
    sender = ScriptedClient(clock=clock)
    delivery = _delivery(db, sender, clock)
    original = delivery._limiter("telegram").acquire

    async def slow_acquire(chat_id: str) -> None:  # the rate limiter kept us waiting
        await original(chat_id)
        clock.advance(seconds=(CONFIG.lease - CONFIG.lease_margin).total_seconds() + 1)

    delivery._limiter("telegram").acquire = slow_acquire  # type: ignore[method-assign]
    report = asyncio.run(_pass(delivery))
    assert sender.sent == [] and report.released == 1  # type: ignore[attr-defined]
    (row,) = _rows(db)
    assert row.status == OutboxStatus.PENDING.value and row.lease_owner is None


def _two_instances(url: str, chats: list[str]) -> list[tuple[str, str]]:
    """Two delivery loops with separate engines claiming concurrently; every send recorded."""
    log: list = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run(name: str) -> None:
        database = Database.connect(url, migrate=False)
        sender = ScriptedClient(delay=0.01, log=log)
        config = ReminderConfig(claim_limit=7).with_limits("telegram", RateLimits())
        delivery = Delivery(
            database, {"telegram": sender}, config, clock=lambda: NOW, instance=name
        )
        try:
            with database.engine.connect():
                pass  # connect before the start line so neither instance starts late
            start.wait()
            asyncio.run(delivery.deliver_due())
        except BaseException as exc:
            errors.append(exc)
        finally:
            delivery.close()
            database.engine.dispose()

    threads = [threading.Thread(target=run, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    # Which instance sends what depends on timing (under load one may take everything); what
    # must hold is that every row is sent exactly once, checked by _assert_each_row_once.
    return [(s.chat_id, line) for s in log for line in s.text.split("\n\n")]


def _assert_each_row_once(database: Database, sent: list[tuple[str, str]]) -> None:
    """Every row went out exactly once, to its own chat, and was recorded as sent once."""
    rows = _rows(database)
    assert {row.status for row in rows} == {OutboxStatus.SENT.value}
    assert Counter(sent) == Counter((row.chat_id, row.text) for row in rows)
    assert all(row.message_ids and row.attempts == 1 for row in rows)


def test_two_instances_on_sqlite_never_send_twice(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/two.sqlite3"
    database = Database.connect(url)
    chats = [f"-{n}" for n in range(1, 41)]
    _enqueue(database, chats, per_chat=3)
    sent = _two_instances(url, chats)
    _assert_each_row_once(database, sent)
    database.engine.dispose()


@pytest.mark.postgres
def test_two_instances_on_postgres_never_send_twice(pg_url: str) -> None:
    database = Database.connect(pg_url)
    chats = [f"-{n}" for n in range(1, 101)]
    _enqueue(database, chats, per_chat=3)
    sent = _two_instances(pg_url, chats)
    _assert_each_row_once(database, sent)
    database.engine.dispose()


def test_limiter_spaces_sends_without_bursts() -> None:
    async def run() -> list[float]:
        limiter = PlatformLimiter(RateLimits(overall_per_second=50, safety=1.0))
        loop = asyncio.get_running_loop()
        stamps = []
        for _ in range(11):
            await limiter.acquire("123")
            stamps.append(loop.time())
        return stamps

    stamps = asyncio.run(run())
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert min(gaps) >= 0.018  # 1/50 s apart from the very first send: no initial burst
    assert stamps[-1] - stamps[0] == pytest.approx(0.2, abs=0.05)


def test_limiter_pause_holds_every_chat() -> None:
    async def run() -> float:
        limiter = PlatformLimiter(RateLimits())
        loop = asyncio.get_running_loop()
        limiter.pause(0.15)
        began = loop.time()
        await limiter.acquire("-5")
        return loop.time() - began

    assert asyncio.run(run()) >= 0.14


def test_a_message_longer_than_the_client_allows_goes_out_in_pieces(
    db: Database, clock: FakeClock
) -> None:
    with db.unit_of_work() as session:
        rule = plain_rule(session, NOW)
        text = "\n".join(f"Dòng {n:02d} của một nhắc việc dài" for n in range(12))
        outbox.insert(session, [NewRow(rule.id, "telegram", "-1", NOW, "once", text)], NOW)
    sender = ScriptedClient(clock=clock, max_text_len=100)
    report = asyncio.run(_pass(_delivery(db, sender, clock)))
    pieces = sender.texts("-1")
    assert len(pieces) > 1 and all(len(piece) <= 100 for piece in pieces)
    assert "\n".join(pieces) == text
    (row,) = _rows(db)
    assert row.status == OutboxStatus.SENT.value
    assert row.message_ids == [s.message_id for s in sender.sent]
    assert report.messages == 1 and report.rows == 1  # type: ignore[attr-defined]


def test_a_platform_that_connects_late_gets_its_rows_then(db: Database, clock: FakeClock) -> None:
    _enqueue(db, ["-1", "-2"])
    clients: dict[str, ChatClient] = {}  # the composition root adds Telegram once connected
    delivery = Delivery(db, clients, CONFIG, SETTINGS, clock=clock, sleep=_no_sleep)

    async def run() -> tuple[DeliveryReport, DeliveryReport]:
        before = await delivery.drain()  # nothing to wait for: no client for these rows
        clients["telegram"] = sender
        return before, await delivery.deliver_due()

    sender = ScriptedClient(clock=clock)
    try:
        before, after = asyncio.run(run())
    finally:
        delivery.close()
    assert before.messages == 0 and before.dead == 0
    assert after.messages == 2 and sorted(s.chat_id for s in sender.sent) == ["-1", "-2"]
    assert {row.status for row in _rows(db)} == {OutboxStatus.SENT.value}


async def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"drain waited {seconds}s for rows nobody can send")


def test_a_refused_token_keeps_the_rows_for_a_retry(db: Database, clock: FakeClock) -> None:
    with db.unit_of_work() as session:
        session.add(ChatRecord(platform="telegram", chat_id="-1", kind="group", title="Sở Y tế"))
    _enqueue(db, ["-1"])
    sender = ScriptedClient(clock=clock)
    sender.fail("-1", Forbidden("Unauthorized: the token was refused"))
    report = asyncio.run(_pass(_delivery(db, sender, clock)))
    (row,) = _rows(db)
    assert row.status == OutboxStatus.PENDING.value and row.attempts == 1
    assert "Forbidden" in (row.last_error or "")
    assert report.retried == 1 and report.gone == 0 and report.dead == 0  # type: ignore[attr-defined]
    with db.session() as session:  # not the chat's fault: it stays active
        assert session.scalars(select(ChatRecord.active)).one() is True
    clock.advance(seconds=61)
    asyncio.run(_pass(_delivery(db, sender, clock)))
    assert sender.texts("-1") and {r.status for r in _rows(db)} == {OutboxStatus.SENT.value}


def test_retry_after_pauses_the_pacer_shared_with_replies(db: Database, clock: FakeClock) -> None:
    _enqueue(db, ["-1"])
    sender = ScriptedClient(clock=clock)
    sender.fail("-1", RetryAfter(0.3))

    async def run() -> float:
        shared = PlatformLimiter(RateLimits())  # the reply path holds the same one
        delivery = _delivery(db, sender, clock, pacers={"telegram": shared})
        try:
            await delivery.deliver_due()
        finally:
            delivery.close()
        loop = asyncio.get_running_loop()
        began = loop.time()
        await shared.acquire("-2")  # a reply to another chat waits out the 429 too
        return loop.time() - began

    assert asyncio.run(run()) >= 0.2
