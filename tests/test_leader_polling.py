"""Two instances of `daumoi run` on one PostgreSQL database: one polls and ticks, one waits.

Each instance is a run_platforms with its own Database engine, in polling mode against one
FakeTelegram, which (like Telegram) ends an older getUpdates with 409 when another arrives and
counts such overlaps. Stopping the leader hands polling to the other within seconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator

import pytest

from bot import runner
from bot.leadership import LEADER, STANDBY, Leadership
from core.model import ChatEvent, Incoming, Reply
from core.settings import Settings
from data.store.db import Database
from tests import fake_telegram as ft
from tests.fake_telegram import FakeTelegram
from tests.test_leadership import terminate_sessions

pytestmark = pytest.mark.postgres

TAKEOVER_BOUND = 10.0
POLLING, TICKER = "poll:telegram", "reminders"


class Echo:
    """A core answering every message with what it got, and remembering it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.texts: list[str] = []

    def handle(self, incoming: Incoming) -> list[Reply]:
        self.texts.append(incoming.text)
        return [Reply(f"{self.name}: {incoming.text}")]

    def handle_event(self, event: ChatEvent) -> list[Reply]:
        return []


class Instance:
    """One `daumoi run --platform telegram` in this event loop, with a database of its own."""

    def __init__(self, name: str, url: str, settings: Settings) -> None:
        self.core = Echo(name)
        self.database = Database.connect(url, migrate=False)
        self.leadership = Leadership.from_settings(self.database, settings)
        self.settings = settings
        self.stop = asyncio.Event()
        self.task: asyncio.Task[int] | None = None

    def start(self) -> Instance:
        self.task = asyncio.create_task(
            runner.run_platforms(
                self.settings,
                self.core,
                ["telegram"],
                database=self.database,
                stop=self.stop,
                leadership=self.leadership,
            )
        )
        return self

    def leads(self, role: str) -> bool:
        return self.leadership.roles().get(role) == LEADER

    async def end(self) -> None:
        self.stop.set()
        if self.task is not None:
            assert await asyncio.wait_for(self.task, 30) == 0
            self.task = None
        self.database.engine.dispose()


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram().running() as server:
        yield server


def settings_for(fake: FakeTelegram, url: str, *, reminders: bool) -> Settings:
    return Settings.from_env(
        {
            "DAUMOI_DATABASE_URL": url,
            "DAUMOI_TELEGRAM_TOKEN": fake.token,
            "DAUMOI_TELEGRAM_API_URL": fake.base_url,
            "DAUMOI_REMINDERS": "1" if reminders else "0",
            "DAUMOI_LEADER_CHECK_SECONDS": "0.2",
        }
    )


async def until(condition: object, seconds: float = TAKEOVER_BOUND) -> float:
    """Wait until condition() holds; return the seconds it took (fails after seconds)."""
    start = time.monotonic()
    while not condition():  # type: ignore[operator]
        assert time.monotonic() - start < seconds, f"not within {seconds} s"
        await asyncio.sleep(0.02)
    return time.monotonic() - start


async def answered(fake: FakeTelegram, text: str, count: int) -> str:
    """Push a private message and return the text of the answer (the count-th to that chat)."""
    chat = ft.private_chat(ft.user())
    fake.push_message(chat, text)
    sent = await asyncio.to_thread(fake.wait_for_message, chat["id"], 20, count=count)
    return sent[count - 1].text


async def test_one_instance_polls_and_the_other_takes_over_when_it_stops(
    fake: FakeTelegram, pg_db: Database, pg_url: str
) -> None:
    settings = settings_for(fake, pg_url, reminders=True)
    a = Instance("a", pg_url, settings).start()
    b = Instance("b", pg_url, settings)
    try:
        await until(lambda: a.leads(POLLING) and a.leads(TICKER) and fake.poll_count > 0, 60)
        b.start()
        await until(lambda: b.leadership.roles() == {POLLING: STANDBY, TICKER: STANDBY})
        assert await answered(fake, "xin chào", 1) == "a: xin chào"
        await asyncio.sleep(1.0)  # five checks later: b still waits, nothing overlapped
        assert b.leadership.roles() == {POLLING: STANDBY, TICKER: STANDBY}
        assert len(fake.calls("getMe")) == 2  # b connected too: a standby still sends
        assert fake.poll_conflicts == 0

        stopped = time.monotonic()
        await a.end()
        await until(lambda: b.leads(POLLING) and b.leads(TICKER))
        took = time.monotonic() - stopped
        assert await answered(fake, "còn ai không", 2) == "b: còn ai không"
        print(f"polling taken over {took:.2f} s after the leader stopped")
        assert took < TAKEOVER_BOUND
        assert b.core.texts == ["còn ai không"] and a.core.texts == ["xin chào"]
        assert fake.poll_conflicts == 0
    finally:
        await a.end()
        await b.end()


async def test_a_leader_that_lost_its_lock_polls_again_on_the_same_connection(
    fake: FakeTelegram, pg_db: Database, pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.leadership")
    settings = settings_for(fake, pg_url, reminders=False)
    a = Instance("a", pg_url, settings).start()
    try:
        await until(lambda: a.leads(POLLING), 60)
        assert await answered(fake, "trước", 1) == "a: trước"
        terminate_sessions(pg_url, POLLING)  # the database restarted, say
        await until(lambda: "lost the Telegram polling lock; standing by" in caplog.text)
        await until(lambda: caplog.text.count("now polling Telegram (leader)") == 2)
        assert await answered(fake, "sau", 2) == "a: sau"
        assert len(fake.calls("getMe")) == 1  # not reconnected
        assert a.core.texts == ["trước", "sau"]
    finally:
        await a.end()


async def test_two_instances_started_at_once_never_poll_together(
    fake: FakeTelegram, pg_db: Database, pg_url: str
) -> None:
    settings = settings_for(fake, pg_url, reminders=False)
    a, b = Instance("a", pg_url, settings), Instance("b", pg_url, settings)
    a.start(), b.start()
    try:
        await until(lambda: a.leads(POLLING) or b.leads(POLLING), 60)
        answer = await answered(fake, "một", 1)
        leader, standby = (a, b) if answer.startswith("a:") else (b, a)
        assert leader.leads(POLLING) and not standby.leads(POLLING)
        assert TICKER not in a.leadership.roles()  # reminders are off: no ticker role
        await asyncio.sleep(1.0)
        assert fake.poll_conflicts == 0
        assert standby.core.texts == []
    finally:
        await a.end()
        await b.end()


async def test_without_a_database_to_elect_on_both_poll_and_the_fake_sees_it(
    fake: FakeTelegram,
) -> None:
    """The checks above mean something: instances not gated overlap and get 409s."""
    settings = settings_for(fake, "sqlite:///unused.sqlite3", reminders=False)
    stops = [asyncio.Event(), asyncio.Event()]
    tasks = [
        asyncio.create_task(runner.run_platforms(settings, Echo(name), ["telegram"], stop=stop))
        for name, stop in zip("ab", stops, strict=True)
    ]
    try:
        await until(lambda: fake.poll_conflicts > 0, 30)
    finally:
        for stop in stops:
            stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
