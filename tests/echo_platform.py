"""A whole chat platform in one module: what the README's "Adding a platform" checklist asks.

tests/test_adding_a_platform.py registers it with one ADAPTERS line and runs the real runner.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from bot.bridge import AdapterOptions, ChatBridge, Connection, Translated
from bot.platforms.startup import PlatformUnreachable
from core.limits import PlatformLimits, RateLimits
from core.model import Attachment, Chat, ChatKind, Choice, Incoming, User, parse_command
from core.settings import Settings

PLATFORM = "echo"
TITLE = "Echo"
TOKEN_VARIABLE = "DAUMOI_ECHO_TOKEN"
LIMITS = PlatformLimits(max_text_len=700, rates=RateLimits(overall_per_second=200))
RETRY_ON = (PlatformUnreachable,)
INBOX: asyncio.Queue[tuple[str, str]] = asyncio.Queue()  # (chat id, text) users "type"
SENT: list[tuple[str, str]] = []  # (chat id, text) the bot wrote


class EchoClient:
    """The platform's ChatClient: records what the bot sends."""

    platform = PLATFORM
    limits = LIMITS

    def __init__(self) -> None:
        self._ids = itertools.count(1)

    async def send_text(
        self,
        chat_id: str,
        text: str,
        choices: Sequence[Choice] = (),
        *,
        thread_id: str | None = None,
    ) -> str:
        """Record the text."""
        SENT.append((chat_id, text))
        return str(next(self._ids))

    async def send_file(
        self,
        chat_id: str,
        file: Attachment,
        caption: str = "",
        choices: Sequence[Choice] = (),
        *,
        thread_id: str | None = None,
    ) -> str:
        """Record the caption and the file name."""
        return await self.send_text(chat_id, f"{caption} [{file.filename}]")

    async def edit(
        self, chat_id: str, message_id: str, text: str, choices: Sequence[Choice] = ()
    ) -> None:
        """Record the new text."""
        SENT.append((chat_id, text))

    async def answer_callback(
        self, callback_id: str, text: str = "", *, alert: bool = False
    ) -> None:
        """No buttons here."""

    async def chat_action(
        self, chat_id: str, action: str = "typing", *, thread_id: str | None = None
    ) -> None:
        """Nothing to show."""

    async def is_chat_admin(self, chat_id: str, user_id: str) -> bool | None:
        """The platform cannot tell."""
        return None


def configured(settings: Settings) -> bool:
    """Whether the (pretend) token is set."""
    return bool(settings.extra.get(TOKEN_VARIABLE))


def polls(settings: Settings) -> bool:
    """Echo pushes its updates itself: nothing to share between instances."""
    return False


@asynccontextmanager
async def connect(settings: Settings, options: AdapterOptions) -> AsyncIterator[Connection]:
    """Nothing to dial: the client is ready."""
    yield Connection(EchoClient(), "echo-bot")


async def receive(
    settings: Settings,
    connection: Connection,
    bridge: ChatBridge,
    stop: asyncio.Event,
    options: AdapterOptions,
) -> None:
    """Hand each typed line to the bridge until stop is set."""
    count = itertools.count(1)
    while not stop.is_set():
        getting = asyncio.ensure_future(INBOX.get())
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({getting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not getting.done():
            getting.cancel()
            return
        chat_id, text = getting.result()
        parsed = parse_command(text)
        incoming = Incoming(
            platform=PLATFORM,
            chat=Chat(id=chat_id, kind=ChatKind.PRIVATE),
            user=User(id=chat_id, display_name="Người thử"),
            text=text,
            command=parsed.name if parsed else None,
            args=parsed.args if parsed else "",
            message_id=str(next(count)),
        )
        await bridge.process(Translated(incoming=incoming))
