"""Leader locks (data/store/leadership.py) and roles (bot/leadership.py) on PostgreSQL and SQLite.

PostgreSQL tests run on a throwaway database of their own (advisory locks are per database)
and skip when the server is absent, unless DAUMOI_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from bot.leadership import LEADER, STANDBY, Leadership, Role, check_interval
from core.config import ConfigError
from core.settings import Settings
from data.store.db import Database, make_engine
from data.store.leadership import LeaderLock, lock_key
from tests.databases import postgres_admin

INTERVAL = 0.2  # seconds between tries and checks in these tests
TAKEOVER_BOUND = 10.0  # the promise: a standby leads within 10 s of the leader's end
ROOT = Path(__file__).resolve().parents[1]


def database(url: str) -> Database:
    """An engine of its own on url (as a separate instance would have)."""
    return Database.connect(url, migrate=False)


@pytest.fixture
def pg_pair(pg_url: str) -> Iterator[tuple[Database, Database]]:
    """Two instances' databases: separate engines on one fresh PostgreSQL database."""
    first, second = database(pg_url), database(pg_url)
    yield first, second
    first.engine.dispose()
    second.engine.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    """A SQLite database file (no schema needed: locks never touch it)."""
    db = database(f"sqlite:///{tmp_path / 'leader.sqlite3'}")
    yield db
    db.engine.dispose()


async def until(condition: object, seconds: float = TAKEOVER_BOUND) -> float:
    """Wait until condition() holds; return the seconds it took (fails after seconds)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not condition():  # type: ignore[operator]
        assert loop.time() - start < seconds, f"not within {seconds} s"
        await asyncio.sleep(0.02)
    return loop.time() - start


def terminate_sessions(url: str, role: str) -> int:
    """End the database sessions of a role's locks, as a restart or a network cut would."""
    admin = postgres_admin()
    try:
        with admin.connect() as conn:
            return len(
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = :db AND application_name = :name"
                    ),
                    {"db": url.rsplit("/", 1)[1], "name": f"daumoi leader {role}"},
                ).all()
            )
    finally:
        admin.dispose()


# -- keys and settings -----------------------------------------------------------------------


def test_keys_are_stable_int4_pairs_per_role() -> None:
    keys = {role: lock_key(role) for role in ("poll:telegram", "poll:zalo", "reminders")}
    assert keys["poll:telegram"] == (2140160401, -1537368959)  # must never change
    assert len(set(keys.values())) == 3
    assert len({key[0] for key in keys.values()}) == 1  # one namespace
    assert all(-(2**31) <= part < 2**31 for key in keys.values() for part in key)
    assert lock_key("reminders", "other") != keys["reminders"]


def test_check_interval_comes_from_the_environment() -> None:
    assert check_interval(Settings()) == 2.0
    assert check_interval(Settings.from_env({"DAUMOI_LEADER_CHECK_SECONDS": "0.5"})) == 0.5
    for bad in ("x", "0", "-1"):  # refused at start, naming the variable
        with pytest.raises(ConfigError, match="DAUMOI_LEADER_CHECK_SECONDS"):
            Settings.from_env({"DAUMOI_LEADER_CHECK_SECONDS": bad})


# -- SQLite: one process per file, every role granted ----------------------------------------


def test_sqlite_grants_every_lock(sqlite_db: Database) -> None:
    first, second = LeaderLock(sqlite_db.engine, "reminders"), LeaderLock(sqlite_db.engine, "x")
    same = LeaderLock(sqlite_db.engine, "reminders")
    assert first.try_acquire() and same.try_acquire() and second.try_acquire()
    assert first.check() and first.held
    first.release()
    same.close()
    assert first.check()


async def test_sqlite_roles_lead_at_once(sqlite_db: Database) -> None:
    leadership = Leadership(sqlite_db, interval=INTERVAL)
    role = leadership.polling("telegram", "Telegram")
    assert leadership.roles() == {"poll:telegram": STANDBY}
    seen: list[dict[str, str]] = []
    stop = asyncio.Event()

    async def work(ends: asyncio.Event) -> None:
        seen.append(leadership.roles())
        stop.set()
        await ends.wait()

    await asyncio.wait_for(role.run(stop, work), TAKEOVER_BOUND)
    assert seen == [{"poll:telegram": LEADER}]
    assert leadership.roles() == {"poll:telegram": STANDBY}


# -- PostgreSQL primitives ---------------------------------------------------------------------


@pytest.mark.postgres
def test_one_session_holds_a_role(pg_pair: tuple[Database, Database]) -> None:
    first, second = (LeaderLock(db.engine, "poll:telegram") for db in pg_pair)
    other_role = LeaderLock(pg_pair[1].engine, "reminders")
    try:
        assert first.try_acquire()
        assert first.try_acquire()  # asking again while holding: still ours, not counted twice
        assert not second.try_acquire()
        assert other_role.try_acquire()  # roles do not exclude each other
        assert first.check() and not second.check()
        first.release()
        assert not first.check()
        assert second.try_acquire() and second.check()
        assert not first.try_acquire()
        second.close()  # closing frees the lock too
        assert first.try_acquire()
    finally:
        for lock in (first, second, other_role):
            lock.close()


@pytest.mark.postgres
def test_a_lost_session_fails_the_check_and_frees_the_lock(
    pg_url: str, pg_pair: tuple[Database, Database]
) -> None:
    first, second = (LeaderLock(db.engine, "reminders") for db in pg_pair)
    try:
        assert first.try_acquire()
        assert terminate_sessions(pg_url, "reminders") == 1
        assert not first.check() and not first.held
        assert second.try_acquire()  # the standby reconnects
        assert not first.try_acquire()  # and the old leader, reconnected, stands by
    finally:
        first.close()
        second.close()


@pytest.mark.postgres
def test_an_unreachable_database_raises_on_try_and_counts_as_not_held(pg_url: str) -> None:
    gone = make_engine(pg_url.rsplit("/", 1)[0] + "/daumoi_no_such_database")
    lock = LeaderLock(gone, "reminders")
    try:
        with pytest.raises(OperationalError, match="daumoi_no_such_database"):
            lock.try_acquire()
        assert not lock.check()
    finally:
        lock.close()
        gone.dispose()


# -- PostgreSQL roles --------------------------------------------------------------------------


class Instance:
    """One instance's role: records whether its work runs and how its terms end."""

    def __init__(self, db: Database, name: str) -> None:
        self.leadership = Leadership(db, interval=INTERVAL)
        self.role: Role = self.leadership.reminders()
        self.name = name
        self.stop = asyncio.Event()
        self.working = False
        self.terms = 0
        self.task: asyncio.Task[None] | None = None

    async def work(self, ends: asyncio.Event) -> None:
        self.working, self.terms = True, self.terms + 1
        try:
            await ends.wait()
        finally:
            self.working = False

    def start(self) -> Instance:
        self.task = asyncio.create_task(self.role.run(self.stop, self.work))
        return self

    async def end(self) -> None:
        self.stop.set()
        assert self.task is not None
        await asyncio.wait_for(self.task, TAKEOVER_BOUND)

    @property
    def leads(self) -> bool:
        return self.leadership.roles() == {"reminders": LEADER}


@pytest.mark.postgres
async def test_exactly_one_role_leads_and_the_other_takes_over_when_it_ends(
    pg_pair: tuple[Database, Database], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.leadership")
    a, b = Instance(pg_pair[0], "a").start(), Instance(pg_pair[1], "b").start()
    try:
        await until(lambda: a.working or b.working)
        await asyncio.sleep(INTERVAL * 5)  # several tries and checks later: still exactly one
        assert [a.working, b.working].count(True) == 1
        assert [a.leads, b.leads].count(True) == 1
        leader, standby = (a, b) if a.working else (b, a)
        assert standby.leadership.roles() == {"reminders": STANDBY}
        await leader.end()
        took = await until(lambda: standby.working)
        print(f"takeover after a clean stop: {took:.2f} s")
        assert leader.leadership.roles() == {"reminders": STANDBY}
        assert standby.terms == 1
    finally:
        await a.end()
        await b.end()
    messages = [r.getMessage() for r in caplog.records]
    assert "standby for reminder ticker" in messages
    assert messages.count("now ticking reminders (leader)") == 2


@pytest.mark.postgres
async def test_a_leader_whose_session_ends_stops_its_work_and_one_leads_again(
    pg_url: str, pg_pair: tuple[Database, Database], caplog: pytest.LogCaptureFixture
) -> None:
    a = Instance(pg_pair[0], "a").start()
    await until(lambda: a.working)
    b = Instance(pg_pair[1], "b").start()
    try:
        await until(lambda: b.leadership.roles() == {"reminders": STANDBY} and b.task is not None)
        await asyncio.sleep(INTERVAL * 3)
        assert a.working and not b.working
        terminate_sessions(pg_url, "reminders")  # a database restart, as both see it
        await until(lambda: a.terms + b.terms >= 2)  # someone leads again
        await asyncio.sleep(INTERVAL * 3)
        assert [a.working, b.working].count(True) == 1
        assert "lost the reminder ticker lock; standing by" in caplog.text
    finally:
        await a.end()
        await b.end()


HOLDER = """
import sys, time
from data.store.db import Database, make_engine
from data.store.leadership import LeaderLock
lock = LeaderLock(Database.connect(sys.argv[1], migrate=False).engine, "reminders")
assert lock.try_acquire()
print("held", flush=True)
time.sleep(600)
"""


@pytest.mark.postgres
async def test_a_standby_leads_within_seconds_after_the_leader_is_killed(pg_url: str) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, pg_url],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    standby = database(pg_url)
    b = Instance(standby, "b")
    try:
        assert holder.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(holder.stdout.readline), 60)
        assert line.strip() == "held"
        b.start()
        await asyncio.sleep(INTERVAL * 5)
        assert not b.working and b.leadership.roles() == {"reminders": STANDBY}
        killed = time.monotonic()
        holder.send_signal(signal.SIGKILL)
        await until(lambda: b.working)
        took = time.monotonic() - killed
        print(f"takeover after kill -9: {took:.2f} s")
        assert took < TAKEOVER_BOUND
    finally:
        holder.kill()
        holder.wait()
        if b.task is not None:
            await b.end()
        standby.engine.dispose()
