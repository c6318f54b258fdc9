"""Pure translation between Telegram's update objects and the neutral model, for every library.

Both libraries parse an update once into objects with the Bot API's field names (`from` is
`from_user`); `translate_update` reads those attributes directly, so the addressing rules live
in one place:

- private chats: every message is addressed to the bot;
- groups: `/cmd@thisbot` is ours; `/cmd@otherbot` is not; a plain `/cmd` is treated as ours,
  because a bot cannot know which other bots share the group (with privacy mode on, Telegram
  only delivers commands, mentions and replies anyway); a message mentioning `@thisbot` or
  replying to one of the bot's messages is addressed; anything else is chatter.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from bot.bridge import Translated
from core import markup
from core.model import (
    Chat,
    ChatEvent,
    ChatEventKind,
    ChatKind,
    Choice,
    Incoming,
    IncomingFile,
    User,
    parse_command,
)

PLATFORM = "telegram"
MAX_CALLBACK_DATA = 64  # bytes, a Bot API limit
# Update types the bot asks for (my_chat_member tells us when it is added or removed; an
# edited message is answered again where that is safe, see Router).
ALLOWED_UPDATES = ("message", "edited_message", "callback_query", "my_chat_member")
# Group member statuses that may change a group's agency link.
CHAT_ADMIN_STATUSES = frozenset({"creator", "administrator"})
# Telegram's descriptions of a 400 that means the chat is out of reach for good.
GONE_HINTS = ("chat not found", "bot was kicked", "bot was blocked", "user is deactivated")
# Telegram's description of an edit that would change nothing.
NOT_MODIFIED_HINT = "message is not modified"
# Refusals of a message_thread_id: the forum topic was deleted or closed.
TOPIC_HINTS = ("thread not found", "topic_deleted", "topic_closed", "topic_id_invalid")
# What a callback answer's text may hold (Bot API: 0-200 characters).
MAX_CALLBACK_TEXT = 200
_GONE_STATUSES = frozenset({"left", "kicked"})

Keyboard = list[list[tuple[str, str]]]  # rows of (label, callback_data)


@dataclass(frozen=True)
class BotIdentity:
    """Who the bot is (from getMe), needed to tell which commands are addressed to it."""

    id: str
    username: str


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def chat_of(data: Any, message: Any = None) -> Chat:
    """The neutral chat of a Telegram Chat object (in the forum topic of message, if any)."""
    private = _plain(data.type) == "private"
    title = data.title if not private else _full_name(data) or None
    kind = ChatKind.PRIVATE if private else ChatKind.GROUP
    return Chat(id=str(data.id), kind=kind, title=title, thread_id=topic_of(message))


def topic_of(message: Any) -> str | None:
    """The forum topic a message belongs to (message_thread_id of a topic message), or None."""
    if message is None or not getattr(message, "is_topic_message", None):
        return None
    thread = getattr(message, "message_thread_id", None)
    return str(thread) if thread is not None else None


def user_of(data: Any) -> User:
    """The neutral user of a Telegram User object."""
    return User(id=str(data.id), display_name=_full_name(data), username=data.username)


def _full_name(data: Any) -> str:
    parts = (data.first_name or "", data.last_name or "")
    return " ".join(part for part in parts if part).strip()


def mentions(text: str, username: str) -> bool:
    """Whether text mentions @username (case-insensitive, as a whole word)."""
    if not username:
        return False
    pattern = rf"(?<![\w@])@{re.escape(username)}(?!\w)"
    return re.search(pattern, text, re.IGNORECASE) is not None


def strip_mention(text: str, username: str) -> str:
    """Text without @username mentions, whitespace tidied."""
    pattern = rf"(?<![\w@])@{re.escape(username)}(?!\w)"
    return " ".join(re.sub(pattern, " ", text, flags=re.IGNORECASE).split())


def translate_update(update: Any, me: BotIdentity) -> Translated:
    """Turn one parsed update (python-telegram-bot or aiogram) into what the core should see."""
    update_id = str(update.update_id)
    if (query := update.callback_query) is not None:
        return _callback(query, update_id)
    if (change := update.my_chat_member) is not None:
        return _membership(change, me)
    if (message := update.message) is not None:
        return _message(message, update_id, me)
    if (message := getattr(update, "edited_message", None)) is not None:
        return _message(message, update_id, me, edited=True)
    return Translated(ignored="update type not handled")


def _callback(query: Any, update_id: str) -> Translated:
    message = query.message
    sender = user_of(query.from_user)
    chat = chat_of(message.chat, message) if message is not None else Chat(id=sender.id)
    if not query.data:
        return Translated(callback_id=str(query.id), ignored="callback without data")
    incoming = Incoming(
        platform=PLATFORM,
        chat=chat,
        user=sender,
        text="",
        message_id=str(message.message_id) if message is not None else "",
        update_id=update_id,
        addressed=True,
        choice_token=str(query.data),
        choice_label=_button_text(message, str(query.data)),
        raw=query,
    )
    return Translated(incoming=incoming, callback_id=str(query.id))


def _button_text(message: Any, data: str) -> str | None:
    """The label of the pressed button, read from the message's keyboard."""
    shown = getattr(message, "reply_markup", None) if message is not None else None
    for row in getattr(shown, "inline_keyboard", None) or ():
        for button in row:
            if getattr(button, "callback_data", None) == data:
                return str(button.text)
    return None


def _membership(change: Any, me: BotIdentity) -> Translated:
    member = change.new_chat_member
    if str(member.user.id) != me.id:
        return Translated(ignored="membership of someone else")
    old_status = _plain(change.old_chat_member.status)
    new_status = _plain(member.status)
    actor = user_of(change.from_user) if change.from_user is not None else None
    chat = chat_of(change.chat)
    if new_status in _GONE_STATUSES:
        kind = ChatEventKind.BOT_REMOVED
    elif old_status in _GONE_STATUSES:
        kind = ChatEventKind.BOT_ADDED
    else:
        return Translated(ignored=f"membership {old_status}->{new_status}")
    return Translated(events=(ChatEvent(platform=PLATFORM, chat=chat, kind=kind, user=actor),))


def _message(message: Any, update_id: str, me: BotIdentity, *, edited: bool = False) -> Translated:
    chat = chat_of(message.chat, message)
    if (new_id := getattr(message, "migrate_to_chat_id", None)) is not None:
        event = ChatEvent(
            platform=PLATFORM, chat=chat, kind=ChatEventKind.MIGRATED, new_chat_id=str(new_id)
        )
        return Translated(events=(event,))
    text = message.text
    if text is None:
        text = message.caption
    sender_data = message.from_user
    file_ref = _file_ref(message)
    if (not text and file_ref is None) or sender_data is None:
        return Translated(ignored="message without text or file")
    text = text or ""
    if sender_data.is_bot:
        return Translated(ignored="message from a bot")
    command, args, addressed = _addressing(text, chat, message, me)
    if command is None and not addressed:
        return Translated(ignored="group chatter")
    if command is None and chat.kind is ChatKind.GROUP:
        text = strip_mention(text, me.username)
    incoming = Incoming(
        platform=PLATFORM,
        chat=chat,
        user=user_of(sender_data),
        text=text,
        command=command,
        args=args,
        message_id=str(message.message_id),
        update_id=update_id,
        addressed=addressed,
        file_ref=file_ref,
        edited=edited,
        document=_document(message),
        raw=message,
    )
    return Translated(incoming=incoming)


def _file_ref(message: Any) -> str | None:
    """The file_id of a document, or of the largest photo size, sent with the message."""
    document = getattr(message, "document", None)
    if document is not None and document.file_id:
        return str(document.file_id)
    sizes = getattr(message, "photo", None) or ()
    return str(sizes[-1].file_id) if sizes and sizes[-1].file_id else None


def _document(message: Any) -> IncomingFile | None:
    """The sent document's name and size (its content is fetched later, if wanted)."""
    document = getattr(message, "document", None)
    if document is None or not document.file_id:
        return None
    size = getattr(document, "file_size", None)
    return IncomingFile(document.file_name or "tệp", int(size) if size is not None else None)


def _addressing(
    text: str, chat: Chat, message: Any, me: BotIdentity
) -> tuple[str | None, str, bool]:
    """(command addressed to us or None, its args, whether the message is addressed to us)."""
    parsed = parse_command(text)
    if parsed is not None:
        ours = parsed.bot is None or parsed.bot.lower() == me.username.lower()
        if ours:
            return parsed.name, parsed.args, True
        return None, "", False
    if chat.kind is ChatKind.PRIVATE:
        return None, "", True
    replied = getattr(message, "reply_to_message", None)
    replied_from = replied.from_user if replied is not None else None
    to_bot = replied_from is not None and str(replied_from.id) == me.id
    return None, "", to_bot or mentions(text, me.username)


def keyboard(choices: Sequence[Choice]) -> Keyboard | None:
    """Inline keyboard rows (one button per row) for choices that carry a server-side token."""
    rows: Keyboard = []
    for choice in choices:
        token = choice.token
        if choice.web_app_url or not token or len(token.encode()) > MAX_CALLBACK_DATA:
            continue
        rows.append([(_button_label(choice.label), token)])
    return rows or None


def web_app_buttons(choices: Sequence[Choice], chat_id: str) -> list[tuple[str, str]]:
    """(label, URL) of the Mini App buttons: HTTPS only, and only in a private chat.

    Telegram refuses a web_app button in a group (BUTTON_TYPE_INVALID); a private chat's id is
    the user's, positive, a group's negative.
    """
    if not chat_id.isdigit():
        return []
    return [
        (_button_label(choice.label), choice.web_app_url)
        for choice in choices
        if choice.web_app_url.startswith("https://")
    ]


MENU_BUTTON_TEXT = "Mở ứng dụng"


def menu_button_url(web_url: str) -> str | None:
    """The Mini App address for the chat menu button (the web view's /), or None: not HTTPS."""
    base = web_url.strip().rstrip("/")
    return f"{base}/" if base.startswith("https://") else None


def callback_text(text: str) -> str | None:
    """A callback answer's text (plain: no markup there) within Telegram's limit, or None."""
    text = " ".join(markup.plain(text).split())
    if len(text) > MAX_CALLBACK_TEXT:
        text = text[: MAX_CALLBACK_TEXT - 1].rstrip() + "…"
    return text or None


def thread(thread_id: str | None) -> int | None:
    """message_thread_id for a send (None: the chat itself, or General)."""
    return int(thread_id) if thread_id and thread_id.isdigit() else None


def _button_label(label: str) -> str:
    label = " ".join(label.split())
    return label if len(label) <= 60 else label[:59].rstrip() + "…"


def command_menu(entries: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Commands valid for setMyCommands: 1-32 chars [a-z0-9_], descriptions 1-256 chars."""
    valid = re.compile(r"^[a-z0-9_]{1,32}$")
    return [(name, desc[:256]) for name, desc in entries if valid.match(name) and desc.strip()]
