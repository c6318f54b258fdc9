"""The Sender port reminders go out through and its typed errors (until delivery sends
through core.chat_client.ChatClient; then this module goes)."""

from __future__ import annotations

from typing import Protocol


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
