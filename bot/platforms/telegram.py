"""Telegram adapter: pick the library (python-telegram-bot or aiogram), connect and receive."""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import ModuleType

from bot.bridge import AdapterOptions, ChatBridge, Connection
from bot.platforms.startup import PlatformUnreachable
from core.chat_client import Transient
from core.limits import TELEGRAM
from core.settings import Settings

log = logging.getLogger(__name__)

PLATFORM = "telegram"
TITLE = "Telegram"
TOKEN_VARIABLE = "DAUMOI_TELEGRAM_TOKEN"
LIMITS = TELEGRAM
RETRY_ON = (PlatformUnreachable, Transient)  # connection failures worth another attempt
LIBRARIES = {"ptb": "bot.platforms.telegram_ptb", "aiogram": "bot.platforms.telegram_aiogram"}


def library(name: str) -> ModuleType:
    """The module implementing Telegram on a library (ptb or aiogram)."""
    module = LIBRARIES.get(name.strip().lower())
    if module is None:
        choices = ", ".join(LIBRARIES)
        raise ValueError(f"DAUMOI_TELEGRAM_LIBRARY must be one of {choices}, not {name!r}")
    return importlib.import_module(module)


def configured(settings: Settings) -> bool:
    """Whether a token is set."""
    return bool(settings.telegram_token)


def polls(settings: Settings) -> bool:
    """Whether updates are fetched by long polling (one instance at a time), not by webhook."""
    return not settings.webhook_url


@asynccontextmanager
async def connect(settings: Settings, options: AdapterOptions) -> AsyncIterator[Connection]:
    """getMe on the configured library; the connection until the block ends."""
    if not configured(settings):
        raise ValueError("DAUMOI_TELEGRAM_TOKEN is not set")
    module = library(settings.telegram_library)
    async with module.connect(settings, options) as client:
        yield Connection(client, f"@{client.identity.username}")


def start_link(connection: Connection) -> str:
    """The deep-link base: https://t.me/<bot>?start=<payload> opens a private chat with /start."""
    return f"https://t.me/{connection.identity.removeprefix('@')}?start="


async def receive(
    settings: Settings,
    connection: Connection,
    bridge: ChatBridge,
    stop: asyncio.Event,
    options: AdapterOptions,
) -> None:
    """Receive updates (polling, or webhook when DAUMOI_WEBHOOK_URL is set) until stop."""
    module = library(settings.telegram_library)
    await module.receive(settings, connection.client, bridge, stop, options)
