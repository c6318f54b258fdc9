"""Flood limits shared by instances through PostgreSQL: rate_slot arithmetic, SharedLimiter, pacers.

Two SharedLimiter objects on two engines stand for two instances: together they must stay within
one bot's limits on the fake Bot API (no 429), and a pause taken by one holds the other.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from sqlalchemy import create_engine, text

import bot.platforms
from bot.app import build_app
from bot.pacers import pacers_for
from bot.runner import run_platforms
from bot.shared_pacing import SharedLimiter, overall_rate
from core.limits import TELEGRAM_RATES, RateLimits
from core.pacing import PlatformLimiter
from core.settings import Settings
from data.store.db import Database
from data.store.rate_slots import Rate, RateSlots, scope_name
from tests import echo_platform
from tests.databases import (
    create_postgres,
    database_url,
    drop_postgres,
    postgres_admin,
    postgres_url,
)
from tests.fake_telegram import DEFAULT_TOKEN, FakeTelegram, Limits


@pytest.fixture(scope="module")
def shared_url() -> Iterator[str]:
    """A throwaway, migrated PostgreSQL database for this module (skips without PostgreSQL)."""
    admin = postgres_admin()
    name = create_postgres(admin)
    try:
        Database.connect(postgres_url(name)).engine.dispose()
        yield postgres_url(name)
    finally:
        drop_postgres(admin, name)
        admin.dispose()


def _instance(url: str) -> Database:
    """One instance's own engine on the shared database, with no slots left by other tests."""
    database = Database.connect(url, migrate=False)
    with database.engine.begin() as connection:
        connection.execute(text("DELETE FROM rate_slot"))
    return database


@pytest.fixture
def slots(shared_url: str) -> Iterator[RateSlots]:
    """Rate slots on an emptied rate_slot table."""
    database = _instance(shared_url)
    yield RateSlots(database.engine)
    database.engine.dispose()


@pytest.fixture
def two(shared_url: str) -> Iterator[tuple[Database, Database]]:
    """Two instances: separate engines on one database."""
    first, second = _instance(shared_url), Database.connect(shared_url, migrate=False)
    yield first, second
    first.engine.dispose()
    second.engine.dispose()


# -- the reservation arithmetic (no sleeping: successive reservations queue up) ---------------


def test_spaced_scope_queues_sends_one_interval_apart(slots: RateSlots) -> None:
    waits = [slots.reserve("telegram", Rate(10.0)) for _ in range(3)]
    assert waits[0] == 0.0
    assert 9.0 < waits[1] <= 10.0
    assert 19.0 < waits[2] <= 20.0


def test_bucket_allows_its_burst_then_spaces(slots: RateSlots) -> None:
    rate = Rate.bucket(3, 30.0)  # like AsyncLimiter(3, 30): 3 at once, then one every 10 s
    assert (rate.interval, rate.tolerance) == (10.0, 20.0)
    waits = [slots.reserve("telegram:group:-1", rate) for _ in range(5)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert 9.0 < waits[3] <= 10.0
    assert 19.0 < waits[4] <= 20.0


def test_take_only_takes_a_slot_starting_within_the_horizon(slots: RateSlots) -> None:
    rate = Rate(10.0)
    assert slots.take("telegram", rate) == (True, 0.0)
    taken, wait = slots.take("telegram", rate, horizon=1.0)  # next slot in 10 s: not yet
    assert not taken and 8.0 < wait <= 9.0
    taken, wait = slots.take("telegram", rate, horizon=11.0)
    assert taken and 9.0 < wait <= 10.0
    taken, wait = slots.take("telegram", rate)  # the one after starts in 20 s
    assert not taken and 19.0 < wait <= 20.0


def test_overall_spacing_leaves_room_for_jitter_between_instances() -> None:
    assert overall_rate(TELEGRAM_RATES).interval == pytest.approx(1.05 / 30)
    assert overall_rate(RateLimits(overall_per_second=30, safety=0.8)).interval == 1 / 24
    assert overall_rate(RateLimits()) == Rate(0.0)  # carries pauses only


def test_scopes_are_independent(slots: RateSlots) -> None:
    slots.reserve("telegram:chat:1", Rate(10.0))
    assert slots.reserve("telegram:chat:2", Rate(10.0)) == 0.0


def test_hold_delays_the_next_slot(slots: RateSlots) -> None:
    slots.reserve("telegram", Rate(0.1))
    slots.hold("telegram", 30.0)
    slots.hold("telegram", 5.0)  # a shorter pause never shortens a longer one
    assert 29.0 < slots.reserve("telegram", Rate(0.1)) <= 30.0


def test_prune_deletes_only_scopes_whose_slots_passed(slots: RateSlots) -> None:
    slots.reserve("telegram:chat:old", Rate(0.0))
    slots.reserve("telegram", Rate(60.0))
    assert slots.prune(idle=-1.0) == 1  # tat < now + 1: the passed one only
    with slots.engine.connect() as connection:
        left = connection.execute(text("SELECT scope FROM rate_slot")).scalars().all()
    assert left == ["telegram"]


def test_reservations_leave_the_connection_durable(slots: RateSlots) -> None:
    slots.reserve("telegram", Rate(0.1))  # its own commit skips the WAL flush, no later one
    with slots.engine.connect() as connection:
        assert connection.execute(text("SHOW synchronous_commit")).scalar() == "on"


def test_long_scope_names_fit_the_column() -> None:
    long_a, long_b = scope_name("zalo", "chat", "a" * 200), scope_name("zalo", "chat", "b" * 200)
    assert len(long_a) <= 96 and len(long_b) <= 96 and long_a != long_b
    assert scope_name("telegram", "group", "-100") == "telegram:group:-100"


# -- two instances against the fake Bot API -------------------------------------------------

# Scaled so the test takes a few seconds: 30 messages a second overall, 3 a second per group; the
# limiters keep 80 % of each rate, leaving room for the two instances' scheduling jitter.
SERVER_LIMITS = Limits(overall_per_second=30, group_per_minute=3, group_window=1.0)
RATES = RateLimits(overall_per_second=30, group_per_minute=3, group_window=1.0, safety=0.8)
PRIVATE = [str(n) for n in range(1, 31)]
GROUPS = ["-1001", "-1002", "-1003"]


async def _send(
    limiter: SharedLimiter, session: aiohttp.ClientSession, url: str, chat_id: str, text: str
) -> None:
    await limiter.acquire(chat_id)
    async with session.post(url, json={"chat_id": chat_id, "text": text}) as response:
        await response.read()


async def _fan_out(limiter: SharedLimiter, session: aiohttp.ClientSession, url: str) -> None:
    """One message to every private chat at once (only the overall limit applies)."""
    await asyncio.gather(*(_send(limiter, session, url, chat, "nhắc việc") for chat in PRIVATE))


async def _to_groups(limiter: SharedLimiter, session: aiohttp.ClientSession, url: str) -> None:
    """Three reminders to every group, each group's in order (as delivery sends them)."""

    async def group(chat_id: str) -> None:
        for number in range(3):
            await _send(limiter, session, url, chat_id, f"nhắc việc {number}")

    await asyncio.gather(*(group(chat_id) for chat_id in GROUPS))


async def test_two_instances_together_stay_within_the_limits(
    two: tuple[Database, Database],
) -> None:
    first, second = (SharedLimiter(RATES, RateSlots(d.engine), "telegram") for d in two)
    server = FakeTelegram(limits=SERVER_LIMITS)
    try:
        with server.running():
            url = f"{server.base_url}/bot{DEFAULT_TOKEN}/sendMessage"
            async with aiohttp.ClientSession() as session:
                # Each instance alone would send 24/s overall and 2.4/s into each group.
                for phase in (_fan_out, _to_groups):
                    both = asyncio.gather(phase(first, session, url), phase(second, session, url))
                    await asyncio.wait_for(both, 60)
            sent, refused = server.calls("sendMessage"), list(server.errors)
    finally:
        first.close()
        second.close()
    assert refused == []
    assert len(sent) == 2 * (len(PRIVATE) + 3 * len(GROUPS))


async def test_a_pause_in_one_instance_holds_the_other(two: tuple[Database, Database]) -> None:
    first, second = (SharedLimiter(TELEGRAM_RATES, RateSlots(d.engine), "telegram") for d in two)
    try:
        first.pause(30.0)
        await asyncio.gather(*first._background)
        taken, wait = second.slots.take("telegram", Rate(0.0))
        assert not taken and 25.0 < wait <= 30.0
        with pytest.raises(TimeoutError):  # still held half a second later
            await asyncio.wait_for(second.acquire("42", reply=True), 0.5)
    finally:
        first.close()
        second.close()


async def test_replies_skip_chat_spacing_but_count_against_the_group(slots: RateSlots) -> None:
    rates = RateLimits(group_per_minute=2, group_window=600.0, chat_per_second=0.001)
    limiter = SharedLimiter(rates, slots, "telegram")
    try:
        await limiter.acquire("-5", reply=True)
        await limiter.acquire("-5", reply=True)  # the group's burst of 2: no chat spacing
        group = scope_name("telegram", "group", "-5")
        assert 290.0 < slots.reserve(group, Rate.bucket(2, 600.0)) <= 300.0
        await limiter.acquire("7")  # a private chat: a chat slot, no group slot
        assert slots.reserve(scope_name("telegram", "chat", "7"), Rate(1.0)) > 900.0
    finally:
        limiter.close()


# -- an unreachable database: paced in process, with one warning ----------------------------


class _Recorder(PlatformLimiter):
    """A PlatformLimiter that records the calls it paces."""

    def __init__(self) -> None:
        super().__init__(TELEGRAM_RATES)
        self.calls: list[tuple[str, bool]] = []

    async def acquire(self, chat_id: str, *, reply: bool = False) -> None:
        self.calls.append((chat_id, reply))
        await super().acquire(chat_id, reply=reply)


async def test_an_unreachable_database_falls_back_to_pacing_in_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/none")
    limiter = SharedLimiter(TELEGRAM_RATES, RateSlots(engine), "telegram")
    recorder = _Recorder()
    limiter._local = recorder
    try:
        with caplog.at_level(logging.WARNING, logger="bot.shared_pacing"):
            await limiter.acquire("-1")
            await limiter.acquire("-2", reply=True)
            limiter.pause(0.01)
            await asyncio.gather(*limiter._background)
    finally:
        limiter.close()
        engine.dispose()
    assert recorder.calls == [("-1", False), ("-2", True)]
    unavailable = [r for r in caplog.records if "shared rate limits unavailable" in r.message]
    assert len(unavailable) == 1  # the second send did not try the database again


# -- the runner --------------------------------------------------------------------------------


async def test_the_runner_paces_through_the_database_only_on_postgres(
    seeded_db: Database, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    adapters = {**bot.platforms.ADAPTERS, "echo": "tests.echo_platform"}
    monkeypatch.setattr("bot.runner.ADAPTERS", adapters)
    monkeypatch.setattr(echo_platform, "INBOX", asyncio.Queue())
    monkeypatch.setattr(echo_platform, "SENT", [])
    url = database_url(seeded_db)
    settings = Settings.from_env(
        {"DAUMOI_DATABASE_URL": url, "DAUMOI_ECHO_TOKEN": "x", "DAUMOI_REMINDERS": "0"}
    )
    app = build_app(settings)
    stop = asyncio.Event()
    running = asyncio.create_task(
        run_platforms(settings, app.router, ["echo"], database=app.database, stop=stop)
    )
    try:
        await echo_platform.INBOX.put(("42", "/trogiup"))
        for _ in range(1000):
            if echo_platform.SENT:
                break
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        assert await asyncio.wait_for(running, 30) == 0
        app.close()
    assert echo_platform.SENT
    pacing_threads = [t.name for t in threading.enumerate() if t.name.startswith("daumoi-echo-")]
    assert pacing_threads == []  # the runner closed its pacer on the way out
    with seeded_db.session() as session:
        scopes = session.execute(text("SELECT scope FROM rate_slot")).scalars().all()
    assert scopes == (["echo"] if backend == "postgres" else [])


# -- which pacer each backend gets ------------------------------------------------------------


def _settings(**extra: str) -> Settings:
    return Settings(extra=extra)


RATES_BY_PLATFORM = {"telegram": TELEGRAM_RATES, "console": RateLimits()}


def test_pacers_follow_the_backend(db: Database, backend: str) -> None:
    pacers: dict[str, Any] = pacers_for(_settings(), db, RATES_BY_PLATFORM)
    shared = backend == "postgres"
    assert isinstance(pacers["telegram"], SharedLimiter if shared else PlatformLimiter)
    assert isinstance(pacers["console"], PlatformLimiter)  # no limits to share
    assert pacers["telegram"].limits == TELEGRAM_RATES
    for pacer in pacers.values():
        if isinstance(pacer, SharedLimiter):
            pacer.close()


def test_shared_limits_can_be_turned_off(db: Database) -> None:
    pacers = pacers_for(_settings(DAUMOI_SHARED_LIMITS="0"), db, RATES_BY_PLATFORM)
    assert all(isinstance(p, PlatformLimiter) for p in pacers.values())


def test_no_database_paces_in_process() -> None:
    pacers = pacers_for(_settings(), None, RATES_BY_PLATFORM)
    assert all(isinstance(p, PlatformLimiter) for p in pacers.values())
