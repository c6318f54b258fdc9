"""Reminder sender for the scheduler: Zalo sendMessage behind the Sender port.

The scheduler paces and retries through its outbox, so the client is opened with retries off
and its errors are translated to the scheduler's typed ones.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.platforms.zalo_client import (
    RetryPolicy,
    ZaloClient,
    ZaloForbidden,
    ZaloRejected,
    ZaloRetryLater,
    ZaloTransient,
    ZaloUnauthorized,
)
from core.model import ZALO_CAPABILITIES
from core.render import split_text
from core.settings import Settings
from scheduler.sender import ChatGone, Rejected, RetryAfter, Transient

# Descriptions that mean the bot can no longer reach the chat at all.
_GONE_HINTS = ("not found", "not a member", "removed", "blocked", "no longer")


class ZaloReminderSender:
    """Sends reminder text through a ZaloClient, raising the scheduler's errors."""

    platform = "zalo"
    max_text_len = ZALO_CAPABILITIES.max_text_len

    def __init__(self, client: ZaloClient) -> None:
        self.client = client

    async def send(self, chat_id: str, text: str) -> list[str]:
        """Send text (split at 2,000 characters on line boundaries); return message ids."""
        ids: list[str] = []
        for part in split_text(text, self.max_text_len):
            try:
                sent = await self.client.send_message(chat_id, part, retry=False)
            except ZaloRetryLater as exc:
                raise RetryAfter(exc.seconds) from exc
            except ZaloForbidden as exc:
                raise ChatGone(str(exc)) from exc
            except (ZaloTransient, ZaloUnauthorized) as exc:
                # A refused token is no fault of the chat: keep the rows and alert via retries.
                raise Transient(str(exc)) from exc
            except ZaloRejected as exc:
                if any(hint in exc.description.lower() for hint in _GONE_HINTS):
                    raise ChatGone(str(exc)) from exc
                raise Rejected(str(exc)) from exc
            ids.append(sent.message_id)
        return ids


def _timeout(settings: Settings) -> float:
    value = settings.extra.get("DAUMOI_ZALO_TIMEOUT", "").strip()
    return float(value) if value else 10.0


@asynccontextmanager
async def open_sender(settings: Settings) -> AsyncIterator[ZaloReminderSender]:
    """A Zalo reminder sender on its own connection pool (closed on exit)."""
    client = ZaloClient(
        settings.zalo_token,
        settings.zalo_api_url,
        timeout=_timeout(settings),
        retry=RetryPolicy(attempts=1),
    )
    try:
        yield ZaloReminderSender(client)
    finally:
        await client.aclose()
