"""Reminder senders for the scheduler: the Telegram adapter's send path behind the Sender port.

The scheduler paces sends itself (aiolimiter, no bursts) and retries through its outbox, so the
adapter is opened with its own rate limiter and retries switched off, and its neutral errors are
translated to the scheduler's typed ones.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

from bot.platforms import startup
from bot.platforms import telegram_bridge as bridge
from core.model import TELEGRAM_CAPABILITIES
from core.ports import MessageHandler
from core.render import split_text
from core.settings import Settings
from scheduler.sender import (
    ChatGone,
    ChatMigrated,
    ConsoleSender,
    Rejected,
    RetryAfter,
    Sender,
    Transient,
)

_GONE_HINTS = ("chat not found", "bot was kicked", "bot was blocked", "user is deactivated")


class TelegramReminderSender:
    """Sends reminder text through the adapter's BotApi, raising the scheduler's errors."""

    platform = "telegram"
    max_text_len = TELEGRAM_CAPABILITIES.max_text_len

    def __init__(self, api: bridge.BotApi) -> None:
        self.api = api

    async def send(self, chat_id: str, text: str) -> list[str]:
        """Send text (split at 4096 characters on line boundaries); return message ids."""
        ids: list[str] = []
        for part in split_text(text, self.max_text_len):
            try:
                ids.append(await self.api.send_text(chat_id, part, None))
            except bridge.ChatGone as exc:
                raise ChatGone(str(exc)) from exc
            except bridge.ChatMigrated as exc:
                raise ChatMigrated(exc.new_chat_id) from exc
            except bridge.RetryLater as exc:
                raise RetryAfter(exc.seconds) from exc
            except bridge.TransientError as exc:
                raise Transient(str(exc)) from exc
            except bridge.PermanentError as exc:
                if any(hint in str(exc).lower() for hint in _GONE_HINTS):
                    raise ChatGone(str(exc)) from exc
                raise Rejected(str(exc)) from exc
        return ids


class LazyTelegramSender:
    """Opens the adapter on the first send, so an unreachable Bot API at start only delays
    reminders (they wait in the outbox) instead of stopping the reminder service."""

    platform = "telegram"
    max_text_len = TELEGRAM_CAPABILITIES.max_text_len

    def __init__(
        self,
        opener: Callable[[], AbstractAsyncContextManager[bridge.TelegramBridge]],
        stack: AsyncExitStack,
    ) -> None:
        self._opener = opener
        self._stack = stack
        self._sender: TelegramReminderSender | None = None
        self._opening = asyncio.Lock()

    async def send(self, chat_id: str, text: str) -> list[str]:
        """Open the adapter if needed, then send like TelegramReminderSender."""
        return await (await self._opened()).send(chat_id, text)

    async def _opened(self) -> TelegramReminderSender:
        async with self._opening:
            if self._sender is None:
                try:
                    opened = await self._stack.enter_async_context(self._opener())
                except startup.TokenRejected:
                    raise Transient("Telegram refused the token") from None
                except (startup.PlatformUnreachable, bridge.TransientError) as exc:
                    raise Transient(str(exc)) from None
                self._sender = TelegramReminderSender(opened.api)
            return self._sender


def _timeout(settings: Settings) -> float:
    value = settings.extra.get("DAUMOI_TELEGRAM_TIMEOUT", "").strip()
    return float(value) if value else 10.0


@asynccontextmanager
async def open_senders(
    settings: Settings, core: MessageHandler
) -> AsyncIterator[Mapping[str, Sender]]:
    """The senders this process can use: Telegram and Zalo when configured, and the console."""
    senders: dict[str, Sender] = {"console": ConsoleSender()}
    async with AsyncExitStack() as stack:
        if settings.telegram_token:
            from bot.platforms import telegram

            options = bridge.AdapterOptions(
                overall_per_second=0,
                group_per_minute=0,
                flood_retries=0,
                request_timeout=_timeout(settings),
            )
            senders["telegram"] = LazyTelegramSender(
                lambda: telegram.open_sender(settings, core, options), stack
            )
        if settings.zalo_token:
            from bot.platforms.zalo_sender import open_sender as open_zalo_sender

            senders["zalo"] = await stack.enter_async_context(open_zalo_sender(settings))
        yield senders
