"""The one outbound port: what every platform implements to write into its chats.

Replies to users, reminders and alerts all go out through a `ChatClient`. Each platform
module implements it once with its library and translates that library's failures into the
one error set below, so callers (the chat bridge, the reminder delivery) decide what to do
without knowing which platform answered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from core.limits import PlatformLimits
from core.model import Attachment, Choice


class SendError(Exception):
    """A call to the platform failed; the subclass says what to do about it."""


class RetryAfter(SendError):
    """Flood control (429): wait `seconds`, then try again."""

    def __init__(self, seconds: float, detail: str = "") -> None:
        super().__init__(detail or f"retry after {seconds}s")
        self.seconds = seconds


class ChatGone(SendError):
    """The bot can no longer write to this chat id (kicked, blocked, deleted, not found).

    `new_chat_id` is set when the group still exists under another id (Telegram's supergroup
    upgrade): the caller records the move and sends there instead.
    """

    def __init__(self, detail: str = "", new_chat_id: str | None = None) -> None:
        super().__init__(detail or (f"chat moved to {new_chat_id}" if new_chat_id else "gone"))
        self.new_chat_id = new_chat_id


class Forbidden(SendError):
    """The platform refuses this bot (token refused, no right to act here): not the chat's
    fault; retrying will not help until an operator acts."""


class Transient(SendError):
    """A timeout, a network failure or a 5xx: worth retrying with backoff."""


class BadRequest(SendError):
    """The platform refused this request (400 …): sending the same again would not help."""


class NotModified(BadRequest):
    """An edit asked for the content the message already has: nothing to do."""


class TopicGone(BadRequest):
    """The forum topic was deleted or closed: the group itself can still be written to."""


class ChatClient(Protocol):
    """Sends into one platform's chats; every method raises only `SendError` subclasses.

    Texts and captions passed in already fit `limits` (callers split with core.render).
    """

    platform: str
    limits: PlatformLimits

    async def send_text(
        self,
        chat_id: str,
        text: str,
        choices: Sequence[Choice] = (),
        *,
        thread_id: str | None = None,
    ) -> str:
        """Send a text message (with buttons for choices that carry a token) into the chat, or
        into its forum topic `thread_id` where the platform has topics; its message id."""
        ...

    async def send_file(
        self,
        chat_id: str,
        file: Attachment,
        caption: str = "",
        choices: Sequence[Choice] = (),
        *,
        thread_id: str | None = None,
    ) -> str:
        """Send a document (a photo for images); its message id."""
        ...

    async def edit(
        self, chat_id: str, message_id: str, text: str, choices: Sequence[Choice] = ()
    ) -> None:
        """Replace the text and buttons of a message the bot sent (empty text: only the
        buttons; no choices: the keyboard is removed). NotModified when nothing changes."""
        ...

    async def answer_callback(
        self, callback_id: str, text: str = "", *, alert: bool = False
    ) -> None:
        """Acknowledge a button press (stops the client's spinner); text shows as a toast, or
        as a dialog the user closes when alert is set."""
        ...

    async def chat_action(
        self, chat_id: str, action: str = "typing", *, thread_id: str | None = None
    ) -> None:
        """Show an activity ("typing", "upload_document", "upload_photo") for a few seconds."""
        ...

    async def is_chat_admin(self, chat_id: str, user_id: str) -> bool | None:
        """Whether the user administers the group; None when the platform cannot tell."""
        ...
