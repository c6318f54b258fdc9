"""Neutral message model shared by every platform adapter and handler."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ChatKind(StrEnum):
    """Whether a chat is one person talking to the bot or a group."""

    PRIVATE = "private"
    GROUP = "group"


@dataclass(frozen=True)
class Chat:
    """A conversation on one platform; ids are always strings."""

    id: str
    kind: ChatKind = ChatKind.PRIVATE
    title: str | None = None


@dataclass(frozen=True)
class User:
    """The person who sent a message."""

    id: str
    display_name: str = ""
    username: str | None = None


@dataclass(frozen=True)
class Incoming:
    """One message (or button press) from a user, stripped of platform detail."""

    platform: str
    chat: Chat
    user: User
    text: str
    command: str | None = None
    args: str = ""
    message_id: str = ""
    update_id: str | None = None
    addressed: bool = True
    choice_token: str | None = None  # set when the user pressed a button
    file_ref: str | None = None  # the platform's id of an attached document or photo
    sender_is_chat_admin: bool | None = None  # group admin? None: the platform cannot tell
    raw: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Choice:
    """One option offered to the user; `action` is the typed command it stands for."""

    label: str
    action: str
    token: str = ""  # short server-side id (callback_data), set by the router


@dataclass(frozen=True)
class Attachment:
    """A file the reply carries (report, chart)."""

    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"
    summary: str = ""


@dataclass(frozen=True)
class Reply:
    """What a handler wants said back; adapters decide how to render it."""

    text: str
    choices: tuple[Choice, ...] = ()
    file: Attachment | None = None
    chat_id: str | None = None


class ChatEventKind(StrEnum):
    """Something that happened to a chat rather than a message in it."""

    BOT_ADDED = "bot_added"
    BOT_REMOVED = "bot_removed"  # kicked, blocked, or a 403 on send
    MIGRATED = "migrated"  # group upgraded to supergroup: new chat id


@dataclass(frozen=True)
class ChatEvent:
    """A chat-level event reported by an adapter."""

    platform: str
    chat: Chat
    kind: ChatEventKind
    new_chat_id: str | None = None
    user: User | None = None


@dataclass(frozen=True)
class Capabilities:
    """What a platform can render, so the core can degrade gracefully."""

    max_text_len: int
    supports_buttons: bool
    supports_files: bool


CONSOLE_CAPABILITIES = Capabilities(max_text_len=4096, supports_buttons=False, supports_files=False)
TELEGRAM_CAPABILITIES = Capabilities(max_text_len=4096, supports_buttons=True, supports_files=True)
ZALO_CAPABILITIES = Capabilities(max_text_len=2000, supports_buttons=False, supports_files=False)
