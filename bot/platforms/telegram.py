"""Telegram entry point: pick the library (python-telegram-bot or aiogram) and serve."""

from __future__ import annotations

import asyncio
import importlib
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from types import ModuleType

from bot.platforms import startup
from bot.platforms.telegram_bridge import AdapterOptions, TelegramBridge, TransientError
from core.ports import MessageHandler
from core.settings import Settings

log = logging.getLogger(__name__)

LIBRARIES = {"ptb": "bot.platforms.telegram_ptb", "aiogram": "bot.platforms.telegram_aiogram"}


def adapter(library: str) -> ModuleType:
    """The adapter module for a library name (ptb or aiogram)."""
    name = LIBRARIES.get(library.strip().lower())
    if name is None:
        choices = ", ".join(LIBRARIES)
        raise ValueError(f"DAUMOI_TELEGRAM_LIBRARY must be one of {choices}, not {library!r}")
    return importlib.import_module(name)


def _check(settings: Settings) -> None:
    if not settings.telegram_token:
        raise ValueError("DAUMOI_TELEGRAM_TOKEN is not set")


async def serve(
    settings: Settings,
    core: MessageHandler,
    stop: asyncio.Event,
    options: AdapterOptions | None = None,
) -> None:
    """Serve Telegram with the configured library until stop is set."""
    _check(settings)
    module = adapter(settings.telegram_library)
    await module.serve(settings, core, stop, options or AdapterOptions())


@asynccontextmanager
async def open_sender(
    settings: Settings, core: MessageHandler, options: AdapterOptions | None = None
) -> AsyncIterator[TelegramBridge]:
    """A rate-limited `TelegramSender` on the configured library (for reminders)."""
    _check(settings)
    module = adapter(settings.telegram_library)
    async with module.open_sender(settings, core, options or AdapterOptions()) as sender:
        yield sender


def quiet_http_logs() -> None:
    """Keep HTTP client request logs out of INFO: their URLs contain the bot token."""
    for name in ("httpx", "httpcore", "aiohttp.access"):
        logging.getLogger(name).setLevel(logging.WARNING)


def run(settings: Settings, core: MessageHandler) -> int:
    """Serve Telegram until SIGINT or SIGTERM (blocking); 1 when the token is refused.

    An unreachable Bot API is retried with backoff (DAUMOI_CONNECT_RETRY_FIRST/_MAX seconds).
    """
    _check(settings)
    adapter(settings.telegram_library)  # fail fast on a bad library name
    quiet_http_logs()
    backoff = startup.Backoff.from_settings(settings)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        await startup.keep_connecting(
            lambda: serve(settings, core, stop),
            stop,
            platform="Telegram",
            backoff=backoff,
            retry_on=(startup.PlatformUnreachable, TransientError),
        )

    try:
        asyncio.run(main())
    except startup.TokenRejected:
        log.error(startup.rejected_message("Telegram", "DAUMOI_TELEGRAM_TOKEN"))
        return 1
    return 0
