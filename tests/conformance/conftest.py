"""Conformance harness: the real bot (router, seeded database, search) behind each platform
adapter, driven end to end over HTTP through a fake platform server.

Every scenario takes the `driver` fixture, parametrized over ADAPTERS; a platform added later
contributes a driver factory here and its scenarios run unchanged (scenarios needing a feature
the platform lacks check the driver's capabilities and skip).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from bot import runner
from bot.bridge import AdapterOptions, RetryPolicy
from bot.platforms import telegram
from bot.router import Router
from core.limits import LIMITS as CAPABILITIES
from core.model import ChatEvent, Incoming, Reply
from core.settings import Settings
from data.store.db import Database
from tests import fake_telegram as ft
from tests.conformance.driver_support import Capability, ChatQueries, ServeThread
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


class AdapterThread(ServeThread[AdapterOptions]):
    """The real adapter run path (`runner.serve`) in a background thread and event loop."""

    async def _serve(self, stop: asyncio.Event) -> None:
        await runner.serve("telegram", self.settings, self.core, stop, options=self.options)


class TelegramDriver(ChatQueries):
    """Scenario steps in Telegram terms: users, chats, updates, and what the bot sent."""

    capability = Capability()
    platform = "telegram"

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
        self._notices = 0
        self.adapter: AdapterThread | None = None
        self.set_member_status(self.group, self.user, "creator")

    # -- steps --------------------------------------------------------------------------------

    def say(self, chat: dict[str, Any], text: str, **options: Any) -> dict[str, Any]:
        """A user writes text in chat."""
        return self.fake.push_message(chat, text, **options)

    def press(
        self, chat: dict[str, Any], button: dict[str, Any], *, sender: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A user presses an inline button of the bot's message that shows it."""
        return self.fake.push_callback(chat, str(button["callback_data"]), sender=sender)

    def expect(self, chat: dict[str, Any], count: int = 1, timeout: float = 10) -> list[SentCall]:
        """The next count texts the bot showed in chat: new messages, and messages it edited
        (the answer to a button press replaces the pressed message); waits for them."""
        key = str(chat["id"])
        start = self._seen.get(key, 0)
        sent = self.fake.wait_for_sent(
            lambda call: _shown_in(call, key), timeout, count=start + count
        )
        self._seen[key] = len(sent)
        return sent[start:]

    def expect_notice(self, timeout: float = 10) -> SentCall:
        """The next answer to a button press that carries a text (a toast or an alert)."""
        start = self._notices
        answers = self.fake.wait_for_sent(_is_notice, timeout, count=start + 1)
        self._notices = start + 1
        return answers[start]

    def expect_text(self, chat: dict[str, Any], timeout: float = 10) -> str:
        """The text of the next message the bot sent into chat."""
        return self.expect(chat, 1, timeout)[0].text

    def sent_to(self, chat: dict[str, Any] | str | int) -> list[SentCall]:
        """Everything the bot has sent into a chat so far."""
        key = chat["id"] if isinstance(chat, dict) else chat
        return self.fake.messages_to(key)

    def set_member_status(self, chat: dict[str, Any], person: dict[str, Any], status: str) -> None:
        """What getChatMember answers for person in chat ("creator", "member", …)."""
        self.fake.set_member_status(chat["id"], person["id"], status)


def _shown_in(call: SentCall, chat_id: str) -> bool:
    """A message sent into the chat, or a text edit of one."""
    method = call.method.lower()
    shown = method in ("sendmessage", "senddocument", "sendphoto", "editmessagetext")
    return shown and call.chat_id == chat_id


def _is_notice(call: SentCall) -> bool:
    return call.method.lower() == "answercallbackquery" and bool(call.params.get("text"))


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


ADMIN_ID = 1001  # Lan: configured admin, and creator of the Telegram group


@pytest.fixture
def router(seeded_db: Database, search_engine: Any) -> Router:
    """The real router over a private seeded database; Lan administers (she links groups)."""
    settings = Settings(admins=(f"telegram:{ADMIN_ID}", f"zalo:{ADMIN_ID}"))
    return Router(seeded_db, search_engine, settings, CAPABILITIES)


@pytest.fixture(params=DRIVERS)
def driver(
    request: pytest.FixtureRequest,
    seeded_db: Database,
    router: Router,
) -> Iterator[TelegramDriver]:
    """The bot running on one adapter against the fake server, and steps to drive it."""
    library = str(request.param)
    if library == "zalo":
        from tests.conformance.zalo_driver import zalo_driver

        with zalo_driver(seeded_db, ConformanceCore(router)) as zalo_steps:
            yield zalo_steps  # type: ignore[misc]
        return
    fake: FakeTelegram = request.getfixturevalue("fake")
    telegram.library(library)  # import the library up front (aiogram takes seconds)
    adapter = AdapterThread(make_settings(fake, library), ConformanceCore(router), FAST_OPTIONS)
    adapter.start()
    fake.wait_for_method("setMyCommands", timeout=30)
    driver = TelegramDriver(fake, seeded_db, library)
    driver.adapter = adapter
    try:
        yield driver
    finally:
        adapter.stop()
    assert fake.unknown_methods == [], "the library called methods the fake does not implement"
