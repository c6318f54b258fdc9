"""The conformance driver for Zalo: the scenarios' steps in Zalo terms, over the fake server.

Scenarios are written with Telegram-shaped chats and users (`tests.fake_telegram` helpers);
the driver maps them to Zalo objects (string ids, chat_type PRIVATE/GROUP, display_name). Two
translations make every scenario meaningful on a platform without buttons and with
mention-only groups:

- pressing a button means typing its number: the "buttons" of a message are the numbered
  choices of its text (label, callback_data = the number);
- a group member addressing the bot must mention it, so a plain `/command` (or a reply to the
  bot) in a group is sent as "@<bot> /command"; chatter and commands for other bots are sent
  as they are, and the fake server does not deliver them (Zalo would not either).

The fake server repeats every update once, as Zalo may, so every scenario also proves that a
repeated update is answered once.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from bot import runner
from bot.bridge import AdapterOptions, RetryPolicy
from core.ports import MessageHandler
from core.settings import Settings
from data.store.db import Database
from data.store.processed import ProcessedLog
from tests.conformance.driver_support import Capability, ChatQueries, ServeThread
from tests.fake_zalo import FakeZalo, SentCall

FAST_OPTIONS = AdapterOptions(
    poll_timeout=1,
    request_timeout=1.0,
    retry=RetryPolicy(attempts=4, base_delay=0.1, max_delay=0.5),
    error_backoff=0.1,
    max_error_backoff=0.5,
)
_NUMBERED = re.compile(r"^(\d{1,3})\. (.+)$", re.MULTILINE)


@dataclass(frozen=True)
class ZaloSent:
    """A message the bot sent, with its numbered choices shown as buttons."""

    call: SentCall
    text: str
    buttons: list[dict[str, Any]] = field(default_factory=list)


def choices_as_buttons(text: str) -> list[dict[str, Any]]:
    """The numbered list of a message as button-like dicts (callback_data = the number)."""
    return [{"text": label, "callback_data": number} for number, label in _NUMBERED.findall(text)]


def zalo_chat(chat: Mapping[str, Any]) -> dict[str, Any]:
    """A Zalo chat object for a Zalo- or Telegram-shaped chat."""
    if "chat_type" in chat:
        return {"id": str(chat["id"]), "chat_type": chat["chat_type"]}
    kind = "PRIVATE" if chat.get("type", "private") == "private" else "GROUP"
    return {"id": str(chat["id"]), "chat_type": kind}


def zalo_user(person: Mapping[str, Any]) -> dict[str, Any]:
    """A Zalo `from` object for a Zalo- or Telegram-shaped user."""
    if "display_name" in person:
        return {"id": str(person["id"]), "display_name": person["display_name"], "is_bot": False}
    name = " ".join(p for p in (person.get("first_name"), person.get("last_name")) if p)
    return {"id": str(person["id"]), "display_name": name, "is_bot": False}


class ZaloAdapterThread(ServeThread[AdapterOptions]):
    """The real adapter run path (`runner.serve`) in a background thread and event loop, its
    bridge checking redeliveries against the scenario's database."""

    def __init__(
        self, settings: Settings, core: MessageHandler, options: AdapterOptions, database: Database
    ) -> None:
        super().__init__(settings, core, options)
        self.seen = ProcessedLog(database)

    async def _serve(self, stop: asyncio.Event) -> None:
        await runner.serve(
            "zalo", self.settings, self.core, stop, options=self.options, seen=self.seen
        )


class ZaloDriver(ChatQueries):
    """Scenario steps in Zalo terms: users, chats, updates, and what the bot sent."""

    capability = Capability(
        buttons=False,
        migration=False,
        membership_events=False,
        command_menu=False,
        chat_admins=False,
        max_text_len=2000,
    )
    library = "zalo"
    platform = "zalo"

    def __init__(self, fake: FakeZalo, database: Database) -> None:
        self.fake = fake
        self.database = database
        self.user = {"id": "1001", "display_name": "Lan Nguyễn", "is_bot": False}
        self.other_user = {"id": "1002", "display_name": "Minh Trần", "is_bot": False}
        self.private = {"id": "1001", "chat_type": "PRIVATE"}
        self.group = {"id": "g4001", "chat_type": "GROUP"}
        self.bot_username = fake.bot_name
        self._seen: dict[str, int] = {}
        self.adapter: ZaloAdapterThread | None = None

    # -- steps --------------------------------------------------------------------------------

    def say(
        self,
        chat: Mapping[str, Any],
        text: str,
        *,
        sender: Mapping[str, Any] | None = None,
        reply_to_bot: bool = False,
    ) -> dict[str, Any] | None:
        """A user writes text in chat (mentioning the bot where a Zalo user would have to)."""
        target = zalo_chat(chat)
        person = zalo_user(sender) if sender is not None else self.user
        if target["chat_type"] == "GROUP" and self._needs_mention(text, reply_to_bot):
            text = f"@{self.bot_username} {text}"
        return self.fake.push_message(target, text, sender=person)

    @staticmethod
    def _needs_mention(text: str, reply_to_bot: bool) -> bool:
        command = text.strip().split(maxsplit=1)[0] if text.strip() else ""
        return reply_to_bot or (command.startswith("/") and "@" not in command)

    def press(
        self,
        chat: Mapping[str, Any],
        button: Mapping[str, Any],
        *,
        sender: Mapping[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """Choose an option: on Zalo, type its number."""
        return self.say(chat, str(button["callback_data"]), sender=sender)

    def expect(
        self, chat: Mapping[str, Any], count: int = 1, timeout: float = 10
    ) -> list[ZaloSent]:
        """The next count messages the bot sent into chat (waits for them)."""
        key = str(chat["id"])
        start = self._seen.get(key, 0)
        sent = self.fake.wait_for_message(key, timeout, count=start + count)
        self._seen[key] = len(sent)
        return [self._view(call) for call in sent[start:]]

    def expect_text(self, chat: Mapping[str, Any], timeout: float = 10) -> str:
        """The text of the next message the bot sent into chat."""
        return self.expect(chat, 1, timeout)[0].text

    def sent_to(self, chat: Mapping[str, Any] | str | int) -> list[ZaloSent]:
        """Everything the bot has sent into a chat so far."""
        key = chat["id"] if isinstance(chat, Mapping) else chat
        return [self._view(call) for call in self.fake.messages_to(str(key))]

    @staticmethod
    def _view(call: SentCall) -> ZaloSent:
        return ZaloSent(call, call.text, choices_as_buttons(call.text))


def zalo_settings(fake: FakeZalo, database: Database, **overrides: Any) -> Settings:
    """Settings pointing the adapter at the fake server and the scenario's database."""
    settings = Settings(
        database_url=database.engine.url.render_as_string(hide_password=False),
        zalo_token=fake.token,
        zalo_api_url=fake.base_url,
        platforms=("zalo",),
    )
    return replace(settings, **overrides)


@contextmanager
def zalo_driver(database: Database, core: MessageHandler) -> Iterator[ZaloDriver]:
    """The bot serving Zalo against a fresh fake server that repeats every update once."""
    with FakeZalo(repeat=1).running() as fake:
        adapter = ZaloAdapterThread(
            zalo_settings(fake, database), core, FAST_OPTIONS, database
        ).start()
        fake.wait_for_polls(1, timeout=10)
        driver = ZaloDriver(fake, database)
        driver.adapter = adapter
        try:
            yield driver
        finally:
            adapter.stop()
        assert fake.unknown_methods == [], "the adapter called methods the fake lacks"
        assert fake.unauthorized == 0
