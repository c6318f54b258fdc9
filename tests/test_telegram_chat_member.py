"""getChatMember through both real libraries against the fake Bot API, and its use in the bridge."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from bot.bridge import AdapterOptions, ChatBridge, needs_chat_admin_check
from bot.platforms.telegram_common import BotIdentity, translate_update
from core.model import Chat, ChatKind, Incoming, Reply, User
from core.settings import Settings
from tests.fake_telegram import FakeTelegram
from tests.telegram_updates import as_update

STATUSES = ("creator", "administrator", "member", "left", "kicked")
GROUP = -4001
OPTIONS = AdapterOptions(request_timeout=2.0)


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram().running() as server:
        yield server


def _settings(fake: FakeTelegram) -> Settings:
    return Settings(telegram_token=fake.token, telegram_api_url=fake.base_url)


async def _with_ptb(fake: FakeTelegram, use: Callable[[Any], Awaitable[Any]]) -> Any:
    from bot.platforms.telegram_ptb import connect

    async with connect(_settings(fake), OPTIONS) as client:
        return await use(client)


async def _with_aiogram(fake: FakeTelegram, use: Callable[[Any], Awaitable[Any]]) -> Any:
    from bot.platforms.telegram_aiogram import connect

    async with connect(_settings(fake), OPTIONS) as client:
        return await use(client)


LIBRARIES = {"ptb": _with_ptb, "aiogram": _with_aiogram}


@pytest.mark.parametrize("library", list(LIBRARIES))
def test_both_libraries_read_every_member_status(fake: FakeTelegram, library: str) -> None:
    for number, status in enumerate(STATUSES):
        fake.set_member_status(GROUP, 2000 + number, status)

    async def read_all(client: Any) -> list[str]:
        return [await client.member_status(str(GROUP), str(2000 + n)) for n in range(5)]

    assert asyncio.run(LIBRARIES[library](fake, read_all)) == list(STATUSES)


class _Core:
    def __init__(self) -> None:
        self.seen: list[Incoming] = []

    def handle(self, incoming: Incoming) -> list[Reply]:
        self.seen.append(incoming)
        return []

    def handle_event(self, event: object) -> list[Reply]:
        return []


def _message(text: str, chat_id: int = GROUP, user_id: int = 1001) -> dict[str, Any]:
    kind = "group" if chat_id < 0 else "private"
    return {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "chat": {"id": chat_id, "type": kind, "title": "Nhóm"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Lan"},
            "text": text,
        },
    }


@pytest.mark.parametrize("library", list(LIBRARIES))
@pytest.mark.parametrize(
    ("status", "fault", "expected"),
    [
        ("creator", None, True),
        ("administrator", None, True),
        ("member", None, False),
        ("left", None, False),
        ("administrator", "400", False),  # Telegram could not be asked: fail closed
    ],
)
def test_bridge_marks_link_commands_with_the_senders_status(
    fake: FakeTelegram, library: str, status: str, fault: str | None, expected: bool
) -> None:
    fake.set_member_status(GROUP, 1001, status)
    if fault is not None:
        fake.fail_next("getChatMember", fault)
    core = _Core()

    async def run(client: Any) -> None:
        bridge = ChatBridge(core, client)
        me = BotIdentity("123456", "daumoi_test_bot")
        for message in (
            _message("/lienket so y te"),
            _message("/tim so y te"),
            _message("/huylienket@daumoi_test_bot"),
            _message("/lienket so y te", chat_id=1001),
        ):
            await bridge.process(translate_update(as_update(message), me))

    asyncio.run(LIBRARIES[library](fake, run))
    assert [m.sender_is_chat_admin for m in core.seen] == [
        expected,
        None,  # an ordinary command: nothing asked
        True if fault else expected,  # the fault hit only the first call
        None,  # a private chat
    ]


def _incoming(kind: ChatKind, **fields: Any) -> Incoming:
    return Incoming(platform="telegram", chat=Chat("-1", kind), user=User("1"), **fields)


@pytest.mark.parametrize(
    ("fields", "checked"),
    [
        ({"text": "/lienket x", "command": "lienket"}, True),
        ({"text": "/link x", "command": "link"}, True),
        ({"text": "/HuyLienKet", "command": "huylienket"}, True),
        ({"text": "/unlink", "command": "unlink"}, True),
        ({"text": "", "choice_token": "abc"}, True),  # a button may stand for /lienket
        ({"text": "2"}, True),  # so may a typed number
        ({"text": " 3. "}, True),
        ({"text": "/tim so y te", "command": "tim"}, False),
        ({"text": "so y te"}, False),
        ({"text": "1234"}, False),
    ],
)
def test_which_group_messages_need_the_check(fields: dict[str, Any], checked: bool) -> None:
    assert needs_chat_admin_check(_incoming(ChatKind.GROUP, **fields)) is checked
    assert needs_chat_admin_check(_incoming(ChatKind.PRIVATE, **fields)) is False
