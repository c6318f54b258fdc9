"""Neutral message model shared by every platform adapter and handler."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

from core.markup import strip_sentinels

MAX_TEXT = 16_384  # 4x a Telegram message: no real message is cut, huge input is bounded
MAX_NAME = 256  # display names, usernames, chat titles
MAX_TOKEN = 64  # Telegram's callback_data limit in bytes
# C0 controls except tab and newline, DEL, C1 controls, and lone surrogates: none can be stored
# (PostgreSQL refuses NUL) or encoded (UTF-8/UTF-16 refuse surrogates), none means anything.
_UNWANTED = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_NOT_TOKEN = re.compile(r"[^0-9A-Za-z._:-]")
_COMMAND = re.compile(r"/(?P<name>[^\s@/]+)(?:@(?P<bot>\S*))?(?:\s+(?P<args>.*))?", re.DOTALL)


def clean_text(text: str, limit: int = MAX_TEXT) -> str:
    """Text as the core may store and echo it: controls and surrogates as spaces, NFC, capped."""
    text = text[: limit * 2]  # bounded work for huge input; NFC only shortens text in practice
    # A space, not nothing: "so y te\x00abc" must not glue into the word "teabc".
    text = _UNWANTED.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = strip_sentinels(text)  # core.markup's span characters never come from outside
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    return text[:limit]


def clean_id(value: str) -> str:
    """An id or key from a platform without characters a database column refuses."""
    return _UNWANTED.sub("", value)


def clean_token(token: str) -> str:
    """Callback data reduced to the characters our tokens use (a forged one stays unknown)."""
    return _NOT_TOKEN.sub("", token)[:MAX_TOKEN]


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
    thread_id: str | None = None  # a forum topic (Telegram message_thread_id); None: the chat

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", clean_id(self.id))
        if self.thread_id is not None:
            object.__setattr__(self, "thread_id", clean_id(self.thread_id) or None)
        if self.title is not None:
            object.__setattr__(self, "title", clean_text(self.title, MAX_NAME))


@dataclass(frozen=True)
class User:
    """The person who sent a message."""

    id: str
    display_name: str = ""
    username: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", clean_id(self.id))
        object.__setattr__(self, "display_name", clean_text(self.display_name, MAX_NAME))
        if self.username is not None:
            object.__setattr__(self, "username", clean_text(self.username, MAX_NAME))


class FileUnavailable(Exception):
    """A document's content could not be fetched (gone, refused, timed out)."""


class FileTooBig(FileUnavailable):
    """A document is larger than the limit its reader asked for."""


class FileRefused(FileUnavailable):
    """A document's link points where the bot never fetches from (a private network address)."""


@dataclass(frozen=True)
class IncomingFile:
    """A document the user sent: its name, its size when known, and a lazy blocking fetch.

    `fetch(limit)` returns the content (at most limit bytes, else FileTooBig) or raises
    FileUnavailable; it is called from a worker thread, never from the event loop.
    """

    name: str
    size: int | None = None
    fetch: Callable[[int], bytes] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        name = clean_text(self.name, MAX_NAME).replace("/", " ").replace("\\", " ").strip()
        if name != self.name:
            object.__setattr__(self, "name", name)


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
    choice_label: str | None = None  # the pressed button's label, where the platform tells
    file_ref: str | None = None  # the platform's id of an attached document or photo
    sender_is_chat_admin: bool | None = None  # group admin? None: the platform cannot tell
    edited: bool = False  # the user edited an earlier message into this text
    document: IncomingFile | None = None  # a sent document (or a link to one) to read
    raw: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        # Every adapter and the console build an Incoming: input is cleaned here, once.
        cleaned = {
            "text": clean_text(self.text),
            "args": clean_text(self.args),
            "message_id": clean_id(self.message_id),
        }
        if self.command is not None:
            cleaned["command"] = clean_text(self.command, MAX_NAME)
        if self.update_id is not None:
            cleaned["update_id"] = clean_id(self.update_id)
        if self.choice_token is not None:
            cleaned["choice_token"] = clean_token(self.choice_token)
        if self.choice_label is not None:
            cleaned["choice_label"] = clean_text(self.choice_label, MAX_NAME)
        if self.file_ref is not None:
            cleaned["file_ref"] = clean_id(self.file_ref)
        for name, value in cleaned.items():
            if value != getattr(self, name):
                object.__setattr__(self, name, value)


@dataclass(frozen=True)
class Choice:
    """One option offered to the user; `action` is the typed command it stands for.

    `web_app_url`: the button opens this HTTPS page as a Telegram Mini App instead of sending
    `action`. Platforms without Mini Apps (PlatformLimits.supports_web_app) never show such a
    choice, so handlers put it last: the numbered choices before it keep their numbers.
    """

    label: str
    action: str
    token: str = ""  # short server-side id (callback_data), set by the router
    web_app_url: str = ""


@dataclass(frozen=True)
class Attachment:
    """A file the reply carries (report, chart)."""

    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"
    summary: str = ""


class Notice(StrEnum):
    """How a reply answers a button press instead of becoming a chat message."""

    TOAST = "toast"  # a short line over the chat that fades
    ALERT = "alert"  # a dialog the user closes


@dataclass(frozen=True)
class Reply:
    """What a handler wants said back; adapters decide how to render it.

    `edit`: the reply replaces the message whose button was pressed (`Incoming.message_id`);
    empty text with `edit` replaces only that message's buttons (none: the keyboard goes).
    `notice`: the text answers the button press itself (never a chat message where the
    platform has buttons). `thread_id`: the forum topic of `chat_id`.
    """

    text: str
    choices: tuple[Choice, ...] = ()
    file: Attachment | None = None
    chat_id: str | None = None
    thread_id: str | None = None
    edit: bool = False
    notice: Notice | None = None


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


class Command(NamedTuple):
    """A `/command[@bot] args` line: the name lower-cased as typed, the bot it names if any."""

    name: str
    args: str
    bot: str | None = None


def parse_command(text: str) -> Command | None:
    """Split `/cmd[@bot] args` into its parts, or None for plain text (every platform's rule)."""
    match = _COMMAND.fullmatch(text.strip())
    if match is None:
        return None
    return Command(match["name"].lower(), (match["args"] or "").strip(), match["bot"] or None)
