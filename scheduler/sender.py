"""The Sender port reminders go out through, its typed errors, and console/log senders."""

from __future__ import annotations

import itertools
import logging
import sys
from typing import Protocol, TextIO

log = logging.getLogger(__name__)


class SendError(Exception):
    """A send failed; the subclass says what to do about it."""


class RetryAfter(SendError):
    """Flood control (429): wait `seconds`, then try again."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds}s")
        self.seconds = seconds


class ChatGone(SendError):
    """The bot can no longer write to the chat (403, kicked, chat not found)."""


class ChatMigrated(SendError):
    """The group moved to a new id (Telegram supergroup upgrade)."""

    def __init__(self, new_chat_id: str) -> None:
        super().__init__(f"chat migrated to {new_chat_id}")
        self.new_chat_id = new_chat_id


class Transient(SendError):
    """5xx, timeout, network failure: retry with backoff."""


class Rejected(SendError):
    """Any other refusal (400 …): retrying would not help."""


class Sender(Protocol):
    """Pushes text into one platform's chats."""

    platform: str
    max_text_len: int

    async def send(self, chat_id: str, text: str) -> list[str]:
        """Send text (split at the platform's limit if needed); return the message ids."""
        ...


class ConsoleSender:
    """Prints reminders to a stream (the console platform has nobody to push to)."""

    def __init__(
        self, platform: str = "console", stream: TextIO | None = None, max_text_len: int = 4096
    ) -> None:
        self.platform = platform
        self.max_text_len = max_text_len
        self._stream = stream
        self._ids = itertools.count(1)

    async def send(self, chat_id: str, text: str) -> list[str]:
        """Write the reminder with a header naming the chat."""
        stream = self._stream or sys.stdout
        stream.write(f"\n[Nhắc việc → {chat_id}]\n{text}\n")
        stream.flush()
        return [f"{self.platform}-{next(self._ids)}"]


class LogSender:
    """Logs reminders instead of sending them (for platforms without a live adapter)."""

    def __init__(self, platform: str, max_text_len: int = 4096) -> None:
        self.platform = platform
        self.max_text_len = max_text_len
        self.sent: list[tuple[str, str]] = []
        self._ids = itertools.count(1)

    async def send(self, chat_id: str, text: str) -> list[str]:
        """Record and log the reminder."""
        self.sent.append((chat_id, text))
        log.info("reminder for %s:%s\n%s", self.platform, chat_id, text)
        return [f"log-{next(self._ids)}"]
