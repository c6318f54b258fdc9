"""Conformance harness: the real bot (router, seeded SQLite, search) behind each platform
adapter, driven end to end over HTTP through a fake platform server.

Every scenario takes the `driver` fixture, parametrized over ADAPTERS; a platform added later
contributes a driver factory here and its scenarios run unchanged (scenarios needing a feature
the platform lacks check the driver's capabilities and skip).
"""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from bot.app import CAPABILITIES, build_search
from bot.model import ChatEvent, Incoming, Reply
from bot.platforms import telegram
from bot.platforms.telegram_bridge import AdapterOptions, RetryPolicy
from bot.ports import MessageHandler
from bot.router import Router
from bot.settings import Settings
from data import chats
from data.db import Database
from data.importer import ensure_seed
from data.models import ChatRecord
from tests import fake_telegram as ft
from tests.fake_telegram import FakeTelegram, SentCall

ADAPTERS = ("ptb", "aiogram")
DRIVERS = (*ADAPTERS, "zalo")  # the Zalo driver lives in tests/conformance/zalo_driver.py
LONG_COMMAND = "baocaodai"  # test-only command answered with a reply longer than 4096 chars
LONG_LINES = 150

FAST_OPTIONS = AdapterOptions(
    poll_timeout=1,
    request_timeout=1.0,
    retry=RetryPolicy(attempts=4, base_delay=0.1, max_delay=0.5),
)


def long_text() -> str:
    """A reply of LONG_LINES numbered lines (about 11,000 characters)."""
    return "\n".join(
        f"Dòng {n:03d}: nội dung kiểm tra việc chia tin nhắn dài theo ranh giới dòng."
        for n in range(1, LONG_LINES + 1)
    )


class ConformanceCore:
    """The real router, plus one test-only command that produces a very long reply."""

    def __init__(self, router: Router) -> None:
        self.router = router

    def handle(self, incoming: Incoming) -> list[Reply]:
        """Answer like the router, except for the long-reply command."""
        if incoming.command == LONG_COMMAND:
            return [Reply(long_text())]
        return self.router.handle(incoming)

    def handle_event(self, event: ChatEvent) -> list[Reply]:
        """Record chat events like the router."""
        return self.router.handle_event(event)


@pytest.fixture(scope="session")
def conformance_seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file holding the seed decision, built once per session."""
    path = tmp_path_factory.mktemp("conformance") / "seeded.sqlite3"
    database = Database.connect(f"sqlite:///{path}")
    ensure_seed(database)
    database.engine.dispose()
    return path


@pytest.fixture(scope="session")
def conformance_search(conformance_seed: Path) -> Any:
    """The real search index over the seed."""
    database = Database.connect(f"sqlite:///{conformance_seed}", migrate=False)
    try:
        return build_search(database)
    finally:
        database.engine.dispose()


@pytest.fixture
def conformance_db(conformance_seed: Path, tmp_path: Path) -> Iterator[Database]:
    """A private copy of the seeded database."""
    target = tmp_path / "daumoi.sqlite3"
    shutil.copy(conformance_seed, target)
    database = Database.connect(f"sqlite:///{target}", migrate=False)
    yield database
    database.engine.dispose()


class AdapterThread:
    """The real adapter run path (`telegram.serve`) in a background thread and event loop."""

    def __init__(self, settings: Settings, core: MessageHandler, options: AdapterOptions) -> None:
        self.settings = settings
        self.core = core
        self.options = options
        self.error: BaseException | None = None
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        except BaseException as exc:
            self.error = exc
        finally:
            self._loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        await telegram.serve(self.settings, self.core, self._stop, self.options)

    def start(self) -> AdapterThread:
        """Start serving."""
        self._thread.start()
        return self

    def stop(self, timeout: float = 15) -> None:
        """Ask the adapter to stop and wait; re-raise anything it died of."""
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._set_stop)
            self._thread.join(timeout)
            assert not self._thread.is_alive(), "adapter did not stop"
        if self.error is not None:
            raise self.error

    def _set_stop(self) -> None:
        if self._stop is not None:
            self._stop.set()
        else:  # not started serving yet: try again shortly
            self._loop.call_later(0.05, self._set_stop)

    @property
    def alive(self) -> bool:
        """Whether the adapter is still serving."""
        return self._thread.is_alive()


@dataclass(frozen=True)
class Capability:
    """What a platform driver can exercise."""

    buttons: bool = True
    groups: bool = True
    migration: bool = True
    membership_events: bool = True
    command_menu: bool = True
    max_text_len: int = 4096


class TelegramDriver:
    """Scenario steps in Telegram terms: users, chats, updates, and what the bot sent."""

    capability = Capability()

    def __init__(self, fake: FakeTelegram, database: Database, library: str) -> None:
        self.fake = fake
        self.database = database
        self.library = library
        self.user = ft.user(1001, "Lan", "Nguyễn", "lan")
        self.other_user = ft.user(1002, "Minh", "Trần", "minh")
        self.private = ft.private_chat(self.user)
        self.group = ft.group_chat(-4001, "Nhóm Sở Y tế")
        self.bot_username = str(fake.me["username"])
        self._seen: dict[str, int] = {}
        self.adapter: AdapterThread | None = None

    # -- steps --------------------------------------------------------------------------------

    def say(self, chat: dict[str, Any], text: str, **options: Any) -> dict[str, Any]:
        """A user writes text in chat."""
        return self.fake.push_message(chat, text, **options)

    def press(
        self, chat: dict[str, Any], button: dict[str, Any], *, sender: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A user presses an inline button of one of the bot's messages."""
        return self.fake.push_callback(chat, str(button["callback_data"]), sender=sender)

    def expect(self, chat: dict[str, Any], count: int = 1, timeout: float = 10) -> list[SentCall]:
        """The next count messages the bot sent into chat (waits for them)."""
        key = str(chat["id"])
        start = self._seen.get(key, 0)
        sent = self.fake.wait_for_message(key, timeout, count=start + count)
        self._seen[key] = len(sent)
        return sent[start:]

    def expect_text(self, chat: dict[str, Any], timeout: float = 10) -> str:
        """The text of the next message the bot sent into chat."""
        return self.expect(chat, 1, timeout)[0].text

    def sent_to(self, chat: dict[str, Any] | str | int) -> list[SentCall]:
        """Everything the bot has sent into a chat so far."""
        key = chat["id"] if isinstance(chat, dict) else chat
        return self.fake.messages_to(key)

    def chat_record(self, chat_id: str | int) -> ChatRecord | None:
        """The database record of a chat (fresh session)."""
        with self.database.unit_of_work() as session:
            record = chats.find(session, "telegram", str(chat_id))
            if record is not None:
                session.expunge(record)
            return record

    def linked_agency(self, chat_id: str | int) -> str | None:
        """The name of the agency a chat is linked to."""
        with self.database.unit_of_work() as session:
            record = chats.find(session, "telegram", str(chat_id))
            return record.agency.name if record is not None and record.agency else None

    def wait_until(self, condition: Callable[[], bool], timeout: float = 10) -> None:
        """Poll condition until it holds."""
        import time

        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError("condition not met in time")
            time.sleep(0.05)


def make_settings(fake: FakeTelegram, library: str, **overrides: Any) -> Settings:
    """Settings pointing a library at the fake server."""
    settings = Settings(
        telegram_token=fake.token,
        telegram_library=library,
        telegram_api_url=fake.base_url,
        platforms=("telegram",),
    )
    return replace(settings, **overrides)


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    """A fresh fake Bot API server."""
    with FakeTelegram().running() as server:
        yield server


@pytest.fixture
def router(conformance_db: Database, conformance_search: Any) -> Router:
    """The real router over a private seeded database."""
    return Router(conformance_db, conformance_search, Settings(), CAPABILITIES)


@pytest.fixture(params=DRIVERS)
def driver(
    request: pytest.FixtureRequest,
    conformance_db: Database,
    router: Router,
) -> Iterator[TelegramDriver]:
    """The bot running on one adapter against the fake server, and steps to drive it."""
    library = str(request.param)
    if library == "zalo":
        from tests.conformance.zalo_driver import zalo_driver

        with zalo_driver(conformance_db, ConformanceCore(router)) as zalo_steps:
            yield zalo_steps  # type: ignore[misc]
        return
    fake: FakeTelegram = request.getfixturevalue("fake")
    telegram.adapter(library)  # import the library up front (aiogram takes seconds)
    adapter = AdapterThread(make_settings(fake, library), ConformanceCore(router), FAST_OPTIONS)
    adapter.start()
    fake.wait_for_method("setMyCommands", timeout=30)
    driver = TelegramDriver(fake, conformance_db, library)
    driver.adapter = adapter
    try:
        yield driver
    finally:
        adapter.stop()
    assert fake.unknown_methods == [], "the library called methods the fake does not implement"
