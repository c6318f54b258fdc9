"""Pure translation between Telegram Bot API JSON and the neutral model, for every library.

Both adapters hand the raw update (as the Bot API JSON dict) to `translate_update`, so the
addressing rules live in one place:

- private chats: every message is addressed to the bot;
- groups: `/cmd@thisbot` is ours; `/cmd@otherbot` is not; a plain `/cmd` is treated as ours,
  because a bot cannot know which other bots share the group (with privacy mode on, Telegram
  only delivers commands, mentions and replies anyway); a message mentioning `@thisbot` or
  replying to one of the bot's messages is addressed; anything else is chatter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from core.model import (
    TELEGRAM_CAPABILITIES,
    Chat,
    ChatEvent,
    ChatEventKind,
    ChatKind,
    Choice,
    Incoming,
    Reply,
    User,
)
from core.render import render

PLATFORM = "telegram"
MAX_CALLBACK_DATA = 64  # bytes, a Bot API limit
# Update types the bot asks for (my_chat_member tells us when it is added or removed).
ALLOWED_UPDATES = ("message", "callback_query", "my_chat_member")

# Group member statuses that may change a group's agency link.
CHAT_ADMIN_STATUSES = frozenset({"creator", "administrator"})
# A bare number answers a list of choices, which may hold a link command.
_CHOICE_NUMBER = re.compile(r"\d{1,3}\s*[.)]?")

_COMMAND = re.compile(r"^/(?P<name>[^\s@/]+)(?:@(?P<bot>\S+))?(?:\s+(?P<args>.*))?$", re.DOTALL)
_GONE_STATUSES = frozenset({"left", "kicked"})

Keyboard = list[list[tuple[str, str]]]  # rows of (label, callback_data)


@dataclass(frozen=True)
class BotIdentity:
    """Who the bot is (from getMe), needed to tell which commands are addressed to it."""

    id: str
    username: str


@dataclass(frozen=True)
class ParsedCommand:
    """A `/command[@bot] args` line."""

    name: str
    args: str
    bot: str | None


@dataclass(frozen=True)
class Translated:
    """What one update means for the core: a message, chat events, a callback to answer."""

    incoming: Incoming | None = None
    events: tuple[ChatEvent, ...] = ()
    callback_id: str | None = None
    ignored: str = ""  # why nothing is passed on (for debug logs)


def parse_command(text: str) -> ParsedCommand | None:
    """Split `/cmd@bot args` into its parts (name lower-cased), or None for plain text."""
    match = _COMMAND.match(text.strip())
    if match is None:
        return None
    return ParsedCommand(
        name=match["name"].lower(),
        args=(match["args"] or "").strip(),
        bot=match["bot"],
    )


def chat_of(data: Mapping[str, Any]) -> Chat:
    """The neutral chat of a Telegram Chat object."""
    private = data.get("type") == "private"
    title = data.get("title") if not private else _full_name(data) or None
    return Chat(
        id=str(data["id"]),
        kind=ChatKind.PRIVATE if private else ChatKind.GROUP,
        title=title,
    )


def chat_for_id(chat_id: str) -> Chat:
    """A chat known only by id (groups and channels have negative ids)."""
    return Chat(id=chat_id, kind=ChatKind.GROUP if chat_id.startswith("-") else ChatKind.PRIVATE)


def user_of(data: Mapping[str, Any]) -> User:
    """The neutral user of a Telegram User object."""
    return User(id=str(data["id"]), display_name=_full_name(data), username=data.get("username"))


def _full_name(data: Mapping[str, Any]) -> str:
    parts = (data.get("first_name") or "", data.get("last_name") or "")
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


def translate_update(update: Mapping[str, Any], me: BotIdentity) -> Translated:
    """Turn one Bot API update into what the core should see."""
    update_id = str(update.get("update_id", ""))
    if (query := update.get("callback_query")) is not None:
        return _callback(query, update_id)
    if (change := update.get("my_chat_member")) is not None:
        return _membership(change, me)
    if (message := update.get("message")) is not None:
        return _message(message, update_id, me)
    kinds = ",".join(key for key in update if key != "update_id")
    return Translated(ignored=f"update type {kinds or 'empty'}")


def snapshot(update: Any) -> dict[str, Any]:
    """The Bot API JSON fields `translate_update` reads, from a PTB or aiogram Update object.

    Both libraries name the fields alike (`from` is `from_user`); copying the few we need is
    much cheaper than serialising the whole object back to JSON on every update.
    """
    data: dict[str, Any] = {"update_id": update.update_id}
    if (query := getattr(update, "callback_query", None)) is not None:
        data["callback_query"] = {
            "id": query.id,
            "from": _user_json(query.from_user),
            "data": query.data,
            "message": _message_json(query.message) if query.message is not None else None,
        }
    elif (change := getattr(update, "my_chat_member", None)) is not None:
        data["my_chat_member"] = {
            "chat": _chat_json(change.chat),
            "from": _user_json(change.from_user) if change.from_user is not None else None,
            "old_chat_member": _member_json(change.old_chat_member),
            "new_chat_member": _member_json(change.new_chat_member),
        }
    elif (message := getattr(update, "message", None)) is not None:
        data["message"] = _message_json(message)
    return data


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def _user_json(user: Any) -> dict[str, Any]:
    return {
        "id": user.id,
        "is_bot": user.is_bot,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "username": user.username,
    }


def _chat_json(chat: Any) -> dict[str, Any]:
    return {
        "id": chat.id,
        "type": _plain(chat.type),
        "title": chat.title,
        "first_name": chat.first_name,
        "last_name": chat.last_name,
    }


def _member_json(member: Any) -> dict[str, Any]:
    return {"status": _plain(member.status), "user": {"id": member.user.id}}


def _message_json(message: Any) -> dict[str, Any]:
    sender = getattr(message, "from_user", None)
    replied = getattr(message, "reply_to_message", None)
    replied_from = getattr(replied, "from_user", None) if replied is not None else None
    return {
        "message_id": message.message_id,
        "chat": _chat_json(message.chat),
        "from": _user_json(sender) if sender is not None else None,
        "text": getattr(message, "text", None),
        "caption": getattr(message, "caption", None),
        "migrate_to_chat_id": getattr(message, "migrate_to_chat_id", None),
        "reply_to_message": (
            {"from": {"id": replied_from.id}} if replied_from is not None else None
        ),
        "document": _file_json(getattr(message, "document", None)),
        "photo": [_file_json(size) for size in getattr(message, "photo", None) or ()],
    }


def _file_json(file: Any) -> dict[str, Any] | None:
    return {"file_id": file.file_id} if file is not None else None


def _callback(query: Mapping[str, Any], update_id: str) -> Translated:
    message = query.get("message") or {}
    chat_data = message.get("chat")
    sender = user_of(query["from"])
    chat = chat_of(chat_data) if chat_data else Chat(id=sender.id, kind=ChatKind.PRIVATE)
    data = query.get("data")
    if not data:
        return Translated(callback_id=str(query["id"]), ignored="callback without data")
    incoming = Incoming(
        platform=PLATFORM,
        chat=chat,
        user=sender,
        text="",
        message_id=str(message.get("message_id", "")),
        update_id=update_id,
        addressed=True,
        choice_token=str(data),
        raw=query,
    )
    return Translated(incoming=incoming, callback_id=str(query["id"]))


def _membership(change: Mapping[str, Any], me: BotIdentity) -> Translated:
    member = change.get("new_chat_member") or {}
    if str((member.get("user") or {}).get("id", me.id)) != me.id:
        return Translated(ignored="membership of someone else")
    old_status = (change.get("old_chat_member") or {}).get("status", "left")
    new_status = member.get("status", "")
    actor = user_of(change["from"]) if change.get("from") else None
    chat = chat_of(change["chat"])
    if new_status in _GONE_STATUSES:
        kind = ChatEventKind.BOT_REMOVED
    elif old_status in _GONE_STATUSES:
        kind = ChatEventKind.BOT_ADDED
    else:
        return Translated(ignored=f"membership {old_status}->{new_status}")
    return Translated(events=(ChatEvent(platform=PLATFORM, chat=chat, kind=kind, user=actor),))


def _message(message: Mapping[str, Any], update_id: str, me: BotIdentity) -> Translated:
    chat = chat_of(message["chat"])
    if (new_id := message.get("migrate_to_chat_id")) is not None:
        event = ChatEvent(
            platform=PLATFORM, chat=chat, kind=ChatEventKind.MIGRATED, new_chat_id=str(new_id)
        )
        return Translated(events=(event,))
    text = message.get("text")
    if text is None:
        text = message.get("caption")
    sender_data = message.get("from")
    file_ref = _file_ref(message)
    if (not text and file_ref is None) or sender_data is None:
        return Translated(ignored="message without text or file")
    text = text or ""
    if sender_data.get("is_bot"):
        return Translated(ignored="message from a bot")
    sender = user_of(sender_data)
    command, args, addressed = _addressing(text, chat, message, me)
    if command is None and not addressed:
        return Translated(ignored="group chatter")
    if command is None and chat.kind is ChatKind.GROUP:
        text = strip_mention(text, me.username)
    incoming = Incoming(
        platform=PLATFORM,
        chat=chat,
        user=sender,
        text=text,
        command=command,
        args=args,
        message_id=str(message.get("message_id", "")),
        update_id=update_id,
        addressed=addressed,
        file_ref=file_ref,
        raw=message,
    )
    return Translated(incoming=incoming)


def _file_ref(message: Mapping[str, Any]) -> str | None:
    """The file_id of a document, or of the largest photo size, sent with the message."""
    document = message.get("document") or {}
    if document.get("file_id"):
        return str(document["file_id"])
    sizes = message.get("photo") or []
    return str(sizes[-1]["file_id"]) if sizes and sizes[-1].get("file_id") else None


def _addressing(
    text: str, chat: Chat, message: Mapping[str, Any], me: BotIdentity
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
    replied = message.get("reply_to_message") or {}
    to_bot = str((replied.get("from") or {}).get("id", "")) == me.id
    return None, "", to_bot or mentions(text, me.username)


def needs_chat_admin_check(incoming: Incoming) -> bool:
    """Whether a group message may change the group's link, so the sender's status matters.

    Link and unlink commands, and the ways of picking a choice (a button, a bare number), since
    a choice may stand for a link command.
    """
    if incoming.chat.kind is not ChatKind.GROUP:
        return False
    if incoming.choice_token is not None:
        return True
    if incoming.command is not None:
        from bot.commands import find
        from handlers.groups import CHAT_ADMIN_COMMANDS

        command = find(incoming.command)
        return command is not None and command.name in CHAT_ADMIN_COMMANDS
    return _CHOICE_NUMBER.fullmatch(incoming.text.strip()) is not None


def prepare(reply: Reply) -> list[Reply]:
    """Fit one reply to Telegram: split at 4096 characters on line boundaries."""
    return render(reply, TELEGRAM_CAPABILITIES)


def keyboard(choices: Sequence[Choice]) -> Keyboard | None:
    """Inline keyboard rows (one button per row) for choices that carry a server-side token."""
    rows: Keyboard = []
    for choice in choices:
        token = choice.token
        if not token or len(token.encode()) > MAX_CALLBACK_DATA:
            continue
        rows.append([(_button_label(choice.label), token)])
    return rows or None


def _button_label(label: str) -> str:
    label = " ".join(label.split())
    return label if len(label) <= 60 else label[:59].rstrip() + "…"


def command_menu(entries: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Commands valid for setMyCommands: 1-32 chars [a-z0-9_], descriptions 1-256 chars."""
    valid = re.compile(r"^[a-z0-9_]{1,32}$")
    return [(name, desc[:256]) for name, desc in entries if valid.match(name) and desc.strip()]
