"""Outgoing flood control through the shared pacer, on both libraries, against the fake server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from bot import runner
from bot.bridge import AdapterOptions, ChatBridge, RetryPolicy, private_unless_negative
from bot.platforms import telegram
from core.limits import RateLimits
from core.model import ChatEvent, ChatEventKind, Incoming, Reply
from core.pacing import PlatformLimiter
from tests.conformance.conftest import make_settings
from tests.fake_telegram import FakeTelegram, Limits

LIBRARIES = ("ptb", "aiogram")
QUICK_RETRY = RetryPolicy(attempts=6, base_delay=0.1, max_delay=0.5)

# PTB itself warns when it builds a RetryAfter (int retry_after is deprecated in v22.2).
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")


class Events:
    """A core that only records chat events (these tests only send)."""

    def __init__(self) -> None:
        self.events: list[ChatEvent] = []

    def handle(self, incoming: Incoming) -> list[Reply]:
        return []

    def handle_event(self, event: ChatEvent) -> list[Reply]:
        self.events.append(event)
        return []


@pytest.fixture(params=LIBRARIES)
def library(request: pytest.FixtureRequest) -> str:
    telegram.library(str(request.param))
    return str(request.param)


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram().running() as server:
        yield server


async def send_all(
    fake: FakeTelegram,
    library: str,
    options: AdapterOptions,
    rates: RateLimits,
    chat_ids: list[str],
    core: Events | None = None,
) -> tuple[list[list[str]], float]:
    async with telegram.connect(make_settings(fake, library), options) as connection:
        pacer = PlatformLimiter(rates)
        bridge = ChatBridge(core or Events(), connection.client, pacer=pacer, options=options)
        started = time.monotonic()
        chats = [private_unless_negative(c) for c in chat_ids]
        ids = await asyncio.gather(*(bridge.send(c, Reply(f"nhắc {c.id}")) for c in chats))
        return list(ids), time.monotonic() - started


async def test_overall_rate_is_limited(fake: FakeTelegram, library: str) -> None:
    options = AdapterOptions(request_timeout=2, retry=QUICK_RETRY)
    rates = RateLimits(overall_per_second=20)
    ids, elapsed = await send_all(fake, library, options, rates, [str(1000 + n) for n in range(40)])
    assert all(len(message_ids) == 1 for message_ids in ids)
    assert elapsed >= 0.8  # 20 at once, then 20 per second
    assert fake.errors == []


async def test_each_group_has_its_own_allowance(fake: FakeTelegram, library: str) -> None:
    options = AdapterOptions(retry=QUICK_RETRY)
    rates = RateLimits(overall_per_second=1000, group_per_minute=4, group_window=1)
    chats = ["-501"] * 8 + ["-502"] * 8
    ids, elapsed = await send_all(fake, library, options, rates, chats)
    assert all(len(message_ids) == 1 for message_ids in ids)
    assert elapsed >= 0.8  # 4 at once, then 4 more at the group's pace
    assert len(fake.messages_to("-501")) == len(fake.messages_to("-502")) == 8
    # Side by side, judged by order rather than speed: neither group waits behind the other.
    for chat, other in (("-501", "-502"), ("-502", "-501")):
        mine = [call.time for call in fake.messages_to(chat)]
        theirs = [call.time for call in fake.messages_to(other)]
        assert mine[-1] - mine[0] >= 0.8  # past the first 4, the group's allowance paced it
        assert theirs[3] < mine[-1]  # the other group's first four went out meanwhile


async def test_429_from_the_server_is_waited_out(library: str) -> None:
    with FakeTelegram(
        limits=Limits(overall_per_second=10, group_per_minute=None)
    ).running() as fake:
        options = AdapterOptions(request_timeout=2, retry=QUICK_RETRY)
        rates = RateLimits(overall_per_second=1000)
        ids, _ = await send_all(fake, library, options, rates, [str(2000 + n) for n in range(20)])
        assert all(len(message_ids) == 1 for message_ids in ids)
        assert len(fake.calls("sendMessage")) == 20
        assert fake.errors  # the server did push back


async def test_sending_reports_removed_chats(fake: FakeTelegram, library: str) -> None:
    core = Events()
    fake.fail_next("sendMessage", "403", chat_id="-777")
    ids, _ = await send_all(fake, library, AdapterOptions(), RateLimits(), ["-777"], core)
    assert ids == [[]]
    ids, _ = await send_all(fake, library, AdapterOptions(), RateLimits(), ["-778"], core)
    assert len(ids[0]) == 1
    [event] = core.events
    assert event.kind is ChatEventKind.BOT_REMOVED and event.chat.id == "-777"


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ValueError, match="ptb, aiogram"):
        telegram.library("telethon")
    settings = make_settings(FakeTelegram(), "ptb", telegram_token="")
    with pytest.raises(ValueError, match="DAUMOI_TELEGRAM_TOKEN"):
        asyncio.run(runner.serve("telegram", settings, Events(), asyncio.Event()))
