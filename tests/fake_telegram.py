"""A fake Telegram Bot API server (aiohttp, 127.0.0.1) for end-to-end tests and the bench.

It runs in its own thread and event loop, so tests drive it from any thread: push updates,
inspect what the bot sent, inject faults, and optionally enforce Telegram's flood limits.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import json
import math
import time
from collections import defaultdict, deque
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.bot_api_rules import (
    button_problem,
    command_problem,
    menu_button_problem,
    scope_problem,
)
from tests.fake_api import FakeBotApi, Fault, error_response, ok_response
from tests.fake_api import SentCall as SentCall
from tests.telegram_html import parse_html

DEFAULT_TOKEN = "123456:TEST-token_for-daumoi"
BOT_ID = 123456
BOT_USERNAME = "daumoi_test_bot"

# Parameters the libraries send JSON-encoded inside form fields.
_JSON_KEYS = frozenset(
    {
        "reply_markup",
        "allowed_updates",
        "commands",
        "scope",
        "entities",
        "caption_entities",
        "link_preview_options",
        "reply_parameters",
    }
)
_INT_KEYS = frozenset(
    {
        "chat_id",
        "user_id",
        "message_id",
        "message_thread_id",
        "offset",
        "limit",
        "timeout",
        "max_connections",
        "cache_time",
    }
)
_SEND_METHODS = frozenset({"sendmessage", "senddocument", "sendphoto"})
# sendChatAction's `action` values (Bot API).
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
MAX_CALLBACK_TEXT = 200  # answerCallbackQuery text: 0-200 characters
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
THREAD_NOT_FOUND = "Bad Request: message thread not found"
FAULT_KINDS = frozenset({"429", "500", "502", "timeout", "403", "migrate", "400"})
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
    "is running"
)
_REQUEST: contextvars.ContextVar[web.Request] = contextvars.ContextVar("request")


@dataclass(frozen=True)
class Limits:
    """Telegram flood limits to enforce (None disables one)."""

    overall_per_second: int | None = 30
    group_per_minute: int | None = 20
    chat_per_second: int | None = None
    group_window: float = 60.0  # seconds group_per_minute is counted over
    # Seconds chat_per_second is averaged over: Telegram lets one chat have a short burst ("about
    # one message a second"), so 3.0 allows three at once, then one a second.
    chat_window: float = 1.0


@dataclass
class _Poll:
    """A getUpdates request in flight."""

    request: web.Request | None
    terminated: bool = False

    @property
    def connected(self) -> bool:
        """Whether its client still waits for the answer (else the handler is an orphan)."""
        transport = self.request.transport if self.request is not None else None
        return transport is not None and not transport.is_closing()


@dataclass
class _Bot:
    """Server-side state of the one bot this server hosts."""

    updates: list[dict[str, Any]] = field(default_factory=list)
    next_update_id: int = 1000
    webhook_url: str = ""
    webhook_secret: str = ""
    commands: list[dict[str, Any]] = field(default_factory=list)
    message_ids: dict[str, int] = field(default_factory=lambda: defaultdict(lambda: 1000))
    allowed_updates: list[str] | None = None


def user(
    user_id: int = 1001, first_name: str = "Lan", last_name: str = "Nguyễn", username: str = "lan"
) -> dict[str, Any]:
    """A Telegram User object for a person."""
    return {
        "id": user_id,
        "is_bot": False,
        "first_name": first_name,
        "last_name": last_name,
        "username": username,
    }


def private_chat(person: Mapping[str, Any]) -> dict[str, Any]:
    """The private chat with a person."""
    return {
        "id": person["id"],
        "type": "private",
        "first_name": person.get("first_name", ""),
        "username": person.get("username"),
    }


def group_chat(chat_id: int = -4001, title: str = "Nhóm Sở Y tế") -> dict[str, Any]:
    """A group chat (ids below -1000000000000 are supergroups)."""
    kind = "supergroup" if chat_id < -1_000_000_000_000 else "group"
    return {"id": chat_id, "type": kind, "title": title}


def forum_chat(chat_id: int = -1_003_000_000_001, title: str = "Diễn đàn Sở") -> dict[str, Any]:
    """A forum supergroup (a chat with topics)."""
    return {"id": chat_id, "type": "supergroup", "title": title, "is_forum": True}


def bot_user(username: str = BOT_USERNAME, bot_id: int = BOT_ID) -> dict[str, Any]:
    """The User object of the bot itself."""
    return {"id": bot_id, "is_bot": True, "first_name": "Đầu mối", "username": username}


def _chat_member(user_id: int, status: str) -> dict[str, Any]:
    """A ChatMember object with the fields the Bot API sends for the status."""
    member: dict[str, Any] = {
        "status": status,
        "user": {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"},
    }
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member |= {"can_be_edited": False, "is_anonymous": False}
        member |= {
            f"can_{right}": True
            for right in (
                "manage_chat",
                "delete_messages",
                "manage_video_chats",
                "restrict_members",
                "promote_members",
                "change_info",
                "invite_users",
                "post_stories",
                "edit_stories",
                "delete_stories",
                "send_welcome_messages",
            )
        }
    elif status == "kicked":
        member["until_date"] = 0
    return member


def _normalise(params: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, str):
            if key in _JSON_KEYS:
                with suppress(ValueError):
                    value = json.loads(value)
            elif key in _INT_KEYS and value.lstrip("-").isdigit():
                value = int(value)
            elif value in ("true", "false"):
                value = value == "true"
        result[key] = value
    return result


def _parse_entities(params: dict[str, Any], key: str) -> web.Response | None:
    """Read params[key] in its parse_mode: the raw text kept as key_html, the visible text and
    its entities stored as the Bot API would; a 400 for markup it refuses."""
    if str(params.get("parse_mode") or "").upper() != "HTML" or not params.get(key):
        return None
    raw = str(params[key])
    try:
        visible, entities = parse_html(raw)
    except ValueError as exc:
        return _error(400, f"Bad Request: can't parse entities: {exc}")
    params[f"{key}_html"] = raw
    params[key] = visible
    params["entities" if key == "text" else "caption_entities"] = entities
    return None


def _error(status: int, description: str, **parameters: Any) -> web.Response:
    return error_response(status, description, parameters=parameters)


_ok = ok_response


class FakeTelegram(FakeBotApi):
    """A Bot API–compatible server for one bot token, with test hooks."""

    platform = "Telegram"
    fault_kinds = FAULT_KINDS
    send_methods = _SEND_METHODS

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_username: str = BOT_USERNAME,
        limits: Limits | None = None,
        first_update_id: int = 1000,
    ) -> None:
        super().__init__(token=token)
        self.me = bot_user(bot_username, int(token.split(":", 1)[0]))
        self.limits = limits
        self.webhook_deliveries: list[tuple[int, int]] = []  # (update_id, HTTP status)
        self._bot = _Bot(next_update_id=first_update_id)
        self._windows: dict[str, deque[float]] = defaultdict(deque)
        self._chat_types: dict[str, str] = {}
        self._message_counter = itertools.count(1)
        self._member_status: dict[tuple[str, str], str] = {}
        self.member_lookups: list[tuple[str, str]] = []  # (chat id, user id) per getChatMember
        self._forums: set[str] = set()  # chats with topics
        self._topics: set[tuple[str, int]] = set()  # (chat id, message_thread_id) that exist
        self._messages: dict[tuple[str, int], dict[str, Any]] = {}  # the bot's, as they are now
        self._queries: dict[str, bool] = {}  # callback query id -> answered
        self.files: dict[str, bytes] = {}  # file_id -> content of documents users sent
        self.downloads: list[str] = []  # file paths fetched from /file/bot<token>/
        # Like Telegram, a getUpdates arriving while another waits ends the older one with 409:
        # each such overlap (two instances polling one token) is counted here.
        self.poll_conflicts = 0
        self.poll_count = 0  # getUpdates requests answered or waiting
        self._polls: list[_Poll] = []

    # -- hooks: forum topics and the bot's messages --------------------------------------------

    def open_topic(self, chat: Mapping[str, Any], thread_id: int) -> None:
        """Make a topic exist in a forum chat (users write there with message_thread_id)."""
        with self._lock:
            self._forums.add(str(chat["id"]))
            self._topics.add((str(chat["id"]), thread_id))

    def bot_message(self, chat_id: int | str, message_id: int) -> dict[str, Any] | None:
        """A message the bot sent, as it looks now (after edits)."""
        with self._lock:
            found = self._messages.get((str(chat_id), int(message_id)))
            return dict(found) if found is not None else None

    def message_with_button(self, data: str) -> dict[str, Any] | None:
        """The bot's message (as it looks now) whose keyboard holds callback_data data."""
        with self._lock:
            for message in reversed(list(self._messages.values())):
                rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
                if any(button.get("callback_data") == data for row in rows for button in row):
                    return dict(message)
        return None

    # -- hooks: group membership -------------------------------------------------------------

    def set_member_status(self, chat_id: int | str, user_id: int | str, status: str) -> None:
        """A user's status in a chat ("creator", "administrator", "member", "left", "kicked")."""
        with self._lock:
            self._member_status[(str(chat_id), str(user_id))] = status

    # -- hooks: updates ----------------------------------------------------------------------

    def push_update(self, update: Mapping[str, Any]) -> dict[str, Any]:
        """Queue one update (an update_id is assigned) and wake long polls or the webhook."""
        with self._lock:
            self._bot.next_update_id += 1
            stored = {"update_id": self._bot.next_update_id, **update}
            self._remember_chats(stored)
            if isinstance(query := stored.get("callback_query"), dict):
                self._queries[str(query["id"])] = False
            self._bot.updates.append(stored)
            webhook = bool(self._bot.webhook_url)
        self._announce(stored, webhook=webhook)
        return stored

    def message(
        self,
        chat: Mapping[str, Any],
        text: str,
        *,
        sender: Mapping[str, Any] | None = None,
        reply_to_bot: bool = False,
        **extra: Any,
    ) -> dict[str, Any]:
        """Build a message object (bot_command entity included when text starts with '/')."""
        person = dict(sender) if sender is not None else user()
        message: dict[str, Any] = {
            "message_id": next(self._message_counter),
            "date": int(time.time()),
            "chat": dict(chat),
            "from": person,
            "text": text,
        }
        if text.startswith("/"):
            length = len(text.split(maxsplit=1)[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        if reply_to_bot:
            message["reply_to_message"] = {
                "message_id": 1,
                "date": int(time.time()) - 60,
                "chat": dict(chat),
                "from": self.me,
                "text": "…",
            }
        message.update(extra)
        return message

    def push_message(
        self,
        chat: Mapping[str, Any],
        text: str,
        *,
        sender: Mapping[str, Any] | None = None,
        reply_to_bot: bool = False,
        thread_id: int | None = None,
    ) -> dict[str, Any]:
        """Push a text message (or command) from a user (in a forum topic when thread_id)."""
        extra: dict[str, Any] = {}
        if thread_id is not None:
            self.open_topic(chat, thread_id)
            extra = {"message_thread_id": thread_id, "is_topic_message": True}
        message = self.message(chat, text, sender=sender, reply_to_bot=reply_to_bot, **extra)
        return self.push_update({"message": message})

    def push_document(
        self,
        chat: Mapping[str, Any],
        name: str,
        content: bytes,
        *,
        sender: Mapping[str, Any] | None = None,
        caption: str | None = None,
        size: int | None = None,
    ) -> dict[str, Any]:
        """Push a document message; getFile and /file/bot<token>/<path> then serve content
        (size: what the update claims, to test limits without a big file)."""
        file_id = f"BQACAgIAAx-doc{next(self._message_counter)}"
        with self._lock:
            self.files[file_id] = content
        document = {
            "file_id": file_id,
            "file_unique_id": file_id[-8:],
            "file_name": name,
            "mime_type": "application/octet-stream",
            "file_size": len(content) if size is None else size,
        }
        message = self.message(chat, caption or "", sender=sender, document=document)
        if caption is None:
            del message["text"]
        else:
            message["caption"] = message.pop("text")
            message.pop("entities", None)
        return self.push_update({"message": message})

    def push_edit(self, message: Mapping[str, Any], text: str) -> dict[str, Any]:
        """Push the edited_message update of a user's earlier message, now reading text."""
        edited = self.message(message["chat"], text, sender=message["from"])
        for key in ("message_thread_id", "is_topic_message", "reply_to_message"):
            if key in message:
                edited[key] = message[key]
        edited |= {"message_id": message["message_id"], "date": message["date"]}
        edited["edit_date"] = max(int(time.time()), int(message["date"]) + 1)
        return self.push_update({"edited_message": edited})

    def push_callback(
        self,
        chat: Mapping[str, Any],
        data: str,
        *,
        sender: Mapping[str, Any] | None = None,
        message_id: int | None = None,
    ) -> dict[str, Any]:
        """Push a button press on one of the bot's messages: by default the one whose keyboard
        holds data, as it looks now (else a placeholder message 1)."""
        person = dict(sender) if sender is not None else user()
        pressed = self.message_with_button(data) if message_id is None else None
        if message_id is not None:
            pressed = self.bot_message(chat["id"], message_id)
        if pressed is None:
            pressed = {
                "message_id": message_id or 1,
                "date": int(time.time()),
                "chat": dict(chat),
                "from": self.me,
                "text": "…",
            }
        query = {
            "id": f"cb{next(self._message_counter)}",
            "from": person,
            "chat_instance": "42",
            "data": data,
            "message": pressed,
        }
        return self.push_update({"callback_query": query})

    def push_my_chat_member(
        self,
        chat: Mapping[str, Any],
        new_status: str,
        *,
        old_status: str = "member",
        sender: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Push a change of the bot's own membership (kicked, left, member, administrator)."""
        person = dict(sender) if sender is not None else user()
        now = int(time.time())
        change = {
            "chat": dict(chat),
            "from": person,
            "date": now,
            "old_chat_member": {"user": self.me, "status": old_status},
            "new_chat_member": {"user": self.me, "status": new_status},
        }
        if new_status == "kicked":
            change["new_chat_member"]["until_date"] = 0
        return self.push_update({"my_chat_member": change})

    def push_migration(self, chat: Mapping[str, Any], new_chat_id: int) -> dict[str, Any]:
        """Push the service messages Telegram sends when a group becomes a supergroup."""
        old = self.message(chat, "", migrate_to_chat_id=new_chat_id)
        del old["text"]
        update = self.push_update({"message": old})
        new_chat = {**dict(chat), "id": new_chat_id, "type": "supergroup"}
        new = self.message(new_chat, "", migrate_from_chat_id=chat["id"])
        del new["text"]
        self.push_update({"message": new})
        return update

    @property
    def pending_updates(self) -> int:
        """Updates not yet confirmed by a getUpdates offset."""
        with self._lock:
            return len(self._bot.updates)

    # -- HTTP --------------------------------------------------------------------------------

    def _normalise(self, params: dict[str, Any]) -> dict[str, Any]:
        return _normalise(params)

    def _fault_response(self, fault: Fault) -> web.Response:
        if fault.kind == "429":
            return _error(
                429,
                f"Too Many Requests: retry after {fault.retry_after}",
                retry_after=fault.retry_after,
            )
        if fault.kind == "403":
            return _error(403, "Forbidden: bot was kicked from the group chat")
        if fault.kind == "migrate":
            return _error(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=fault.new_chat_id,
            )
        if fault.kind == "400":
            return _error(400, "Bad Request: chat not found")
        if fault.kind == "502":
            return _error(502, "Bad Gateway")
        return _error(500, "Internal Server Error")

    def _check_limits(self, method: str, params: Mapping[str, Any]) -> web.Response | None:
        limits = self.limits
        if limits is None or method not in _SEND_METHODS:
            return None
        chat_id = str(params.get("chat_id", ""))
        group = chat_id.startswith("-")
        checks: list[tuple[str, int | None, float]] = [
            ("*", limits.overall_per_second, 1.0),
            (f"g{chat_id}", limits.group_per_minute if group else None, limits.group_window),
            (
                f"c{chat_id}",
                round(limits.chat_per_second * limits.chat_window)
                if limits.chat_per_second
                else None,
                limits.chat_window,
            ),
        ]
        now = time.monotonic()
        with self._lock:
            for key, limit, window in checks:
                if limit is None:
                    continue
                stamps = self._windows[key]
                while stamps and stamps[0] <= now - window:
                    stamps.popleft()
                if len(stamps) >= limit:
                    wait = max(1, math.ceil(stamps[0] + window - now))
                    return _error(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
            for key, limit, _window in checks:
                if limit is not None:
                    self._windows[key].append(now)
        return None

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        _REQUEST.set(request)  # the handler's own task: getUpdates sees who is asking
        return await super()._dispatch(request)

    async def _get_updates(self, params: Mapping[str, Any]) -> web.Response:
        poll = _Poll(_REQUEST.get(None))
        with self._lock:
            self.poll_count += 1
            for other in self._polls:
                if other.connected:
                    self.poll_conflicts += 1
                other.terminated = True  # an orphan (client gone) just ends quietly
            self._polls.append(poll)
        assert self._new_update is not None
        self._new_update.set()
        try:
            return await self._answer_poll(params, poll)
        finally:
            with self._lock:
                self._polls.remove(poll)

    async def _answer_poll(self, params: Mapping[str, Any], poll: _Poll) -> web.Response:
        with self._lock:
            if self._bot.webhook_url:
                return _error(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            if "allowed_updates" in params:
                self._bot.allowed_updates = params["allowed_updates"] or None
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        assert self._new_update is not None
        while True:
            self._new_update.clear()
            with self._lock:
                if offset:
                    self._bot.updates = [u for u in self._bot.updates if u["update_id"] >= offset]
                allowed = self._bot.allowed_updates
                ready = [u for u in self._bot.updates if self._wanted(u, allowed)][:limit]
            remaining = deadline - time.monotonic()
            if poll.terminated:
                return _error(409, POLL_CONFLICT)
            if ready or remaining <= 0 or self._closing:
                return _ok(ready)
            with suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), remaining)

    @staticmethod
    def _wanted(update: Mapping[str, Any], allowed: list[str] | None) -> bool:
        if not allowed:
            return True
        return any(key in update for key in allowed)

    def _remember_chats(self, update: Mapping[str, Any]) -> None:
        for value in update.values():
            if isinstance(value, dict):
                message = value.get("message") if "message" in value else value
                chat = value.get("chat") or (value.get("message") or {}).get("chat")
                if isinstance(chat, dict):
                    self._chat_types[str(chat["id"])] = chat.get("type", "private")
                    if chat.get("is_forum"):
                        self._forums.add(str(chat["id"]))
                if isinstance(message, dict) and message.get("is_topic_message"):
                    chat_id = str((message.get("chat") or {}).get("id"))
                    self._topics.add((chat_id, int(message["message_thread_id"])))

    def _chat(self, chat_id: Any) -> dict[str, Any]:
        key = str(chat_id)
        kind = self._chat_types.get(key) or ("group" if key.startswith("-") else "private")
        chat: dict[str, Any] = {"id": int(key) if key.lstrip("-").isdigit() else key, "type": kind}
        if kind != "private":
            chat["title"] = "Nhóm"
        if key in self._forums:
            chat["is_forum"] = True
        return chat

    def _check_thread(self, params: Mapping[str, Any]) -> web.Response | None:
        """A message_thread_id must name a topic of a forum supergroup (400 otherwise)."""
        thread = params.get("message_thread_id")
        if thread is None:
            return None
        key = (str(params.get("chat_id")), thread)
        with self._lock:
            known = isinstance(thread, int) and key in self._topics and key[0] in self._forums
        return None if known else _error(400, THREAD_NOT_FOUND)

    def _new_message(self, params: Mapping[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = str(params.get("chat_id"))
        with self._lock:
            self._bot.message_ids[chat_id] += 1
            message_id = self._bot.message_ids[chat_id]
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": self.me,
            **content,
        }
        if params.get("message_thread_id") is not None:
            message |= {"message_thread_id": params["message_thread_id"], "is_topic_message": True}
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        with self._lock:
            self._messages[(chat_id, message_id)] = message
        return message

    def _editable(self, params: Mapping[str, Any]) -> dict[str, Any] | web.Response:
        """The bot's message an edit names, or the Bot API's error."""
        if params.get("inline_message_id"):
            return _error(400, "Bad Request: inline messages are not supported here")
        chat_id, message_id = params.get("chat_id"), params.get("message_id")
        if chat_id is None:
            return _error(400, "Bad Request: chat_id is empty")
        if not isinstance(message_id, int):
            return _error(400, "Bad Request: message identifier is not specified")
        with self._lock:
            found = self._messages.get((str(chat_id), message_id))
        if found is None:
            return _error(400, "Bad Request: message to edit not found")
        return found

    def _edited(self, message: dict[str, Any], **changes: Any) -> web.Response:
        markup = changes.pop("reply_markup", None) or None
        if all(message.get(k) == v for k, v in changes.items()) and (
            message.get("reply_markup") or None
        ) == (markup or None):
            return _error(400, NOT_MODIFIED)
        with self._lock:
            message.update(changes)
            message.pop("reply_markup", None)
            if markup:
                message["reply_markup"] = markup
            message["edit_date"] = int(time.time())
            return _ok(dict(message))

    def _webhook_target(self) -> tuple[str, dict[str, str]]:
        with self._lock:
            url, secret = self._bot.webhook_url, self._bot.webhook_secret
        return url, ({"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {})

    def _webhook_result(self, update: dict[str, Any], status: int) -> None:
        with self._lock:
            self.webhook_deliveries.append((update["update_id"], status))
            if status == 200:
                self._bot.updates = [u for u in self._bot.updates if u is not update]

    # -- methods -----------------------------------------------------------------------------

    def _m_getme(self, params: Mapping[str, Any]) -> web.Response:
        return _ok(
            {
                **self.me,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        )

    def _m_setmycommands(self, params: Mapping[str, Any]) -> web.Response:
        commands = params.get("commands")
        if not isinstance(commands, list):
            return _error(400, "Bad Request: commands must be a list")
        problem = command_problem(commands) or scope_problem(params.get("scope"))
        if problem:
            return _error(400, f"Bad Request: {problem}")
        with self._lock:
            self._bot.commands = commands
        return _ok(True)

    def _m_setmydescription(self, params: Mapping[str, Any]) -> web.Response:
        if len(str(params.get("description", ""))) > 512:
            return _error(400, "Bad Request: description is too long")
        return _ok(True)

    def _m_setmyshortdescription(self, params: Mapping[str, Any]) -> web.Response:
        if len(str(params.get("short_description", ""))) > 120:
            return _error(400, "Bad Request: short description is too long")
        return _ok(True)

    def _m_getmycommands(self, params: Mapping[str, Any]) -> web.Response:
        with self._lock:
            return _ok(list(self._bot.commands))

    def _m_deletemycommands(self, params: Mapping[str, Any]) -> web.Response:
        with self._lock:
            self._bot.commands = []
        return _ok(True)

    def _m_setwebhook(self, params: Mapping[str, Any]) -> web.Response:
        url = str(params.get("url", ""))
        with self._lock:
            self._bot.webhook_url = url
            self._bot.webhook_secret = str(params.get("secret_token", ""))
            if params.get("allowed_updates"):
                self._bot.allowed_updates = params["allowed_updates"]
            pending = list(self._bot.updates) if url else []
        for update in pending:
            assert self._webhook_queue is not None
            self._webhook_queue.put_nowait(update)
        return _ok(True)

    def _m_deletewebhook(self, params: Mapping[str, Any]) -> web.Response:
        with self._lock:
            self._bot.webhook_url = ""
            self._bot.webhook_secret = ""
            if params.get("drop_pending_updates"):
                self._bot.updates = []
        return _ok(True)

    def _m_getwebhookinfo(self, params: Mapping[str, Any]) -> web.Response:
        with self._lock:
            return _ok(
                {
                    "url": self._bot.webhook_url,
                    "has_custom_certificate": False,
                    "pending_update_count": len(self._bot.updates),
                }
            )

    def _m_sendmessage(self, params: dict[str, Any]) -> web.Response:
        refused = _parse_entities(params, "text")
        if refused is not None:
            return refused
        text = str(params.get("text", ""))
        if not text:
            return _error(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            return _error(400, "Bad Request: message is too long")
        if params.get("chat_id") is None:
            return _error(400, "Bad Request: chat_id is empty")
        error = self._check_keyboard(params) or self._check_thread(params)
        if error is not None:
            return error
        return _ok(self._new_message(params, text=text))

    def _check_keyboard(self, params: Mapping[str, Any]) -> web.Response | None:
        markup = params.get("reply_markup")
        if not isinstance(markup, dict):
            return None
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    return _error(400, "Bad Request: BUTTON_DATA_INVALID")
                if problem := button_problem(button, params.get("chat_id")):
                    return _error(400, f"Bad Request: {problem}")
        return None

    def _m_senddocument(self, params: dict[str, Any]) -> web.Response:
        refused = _parse_entities(params, "caption")
        if refused is not None:
            return refused
        document = params.get("document")
        if not document:
            return _error(400, "Bad Request: there is no document in the request")
        if (error := self._check_thread(params)) is not None:
            return error
        name = document.get("filename", "file") if isinstance(document, dict) else str(document)
        content: dict[str, Any] = {
            "document": {
                "file_id": f"doc{time.monotonic_ns()}",
                "file_unique_id": "u",
                "file_name": name,
            }
        }
        if params.get("caption"):
            content["caption"] = params["caption"]
        return _ok(self._new_message(params, **content))

    def _m_sendphoto(self, params: dict[str, Any]) -> web.Response:
        refused = _parse_entities(params, "caption")
        if refused is not None:
            return refused
        if not params.get("photo"):
            return _error(400, "Bad Request: there is no photo in the request")
        if (error := self._check_thread(params)) is not None:
            return error
        photo = [
            {"file_id": f"ph{time.monotonic_ns()}", "file_unique_id": "p", "width": 1, "height": 1}
        ]
        content: dict[str, Any] = {"photo": photo}
        if params.get("caption"):
            content["caption"] = params["caption"]
        return _ok(self._new_message(params, **content))

    def _m_editmessagetext(self, params: dict[str, Any]) -> web.Response:
        refused = _parse_entities(params, "text")
        if refused is not None:
            return refused
        text = str(params.get("text") or "")
        if not text:
            return _error(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            return _error(400, "Bad Request: MESSAGE_TOO_LONG")
        error = self._check_keyboard(params)
        if error is not None:
            return error
        message = self._editable(params)
        if isinstance(message, web.Response):
            return message
        if "text" not in message:
            return _error(400, "Bad Request: there is no text in the message to edit")
        return self._edited(message, text=text, reply_markup=params.get("reply_markup"))

    def _m_editmessagereplymarkup(self, params: Mapping[str, Any]) -> web.Response:
        error = self._check_keyboard(params)
        if error is not None:
            return error
        message = self._editable(params)
        if isinstance(message, web.Response):
            return message
        return self._edited(message, reply_markup=params.get("reply_markup"))

    def _m_answercallbackquery(self, params: Mapping[str, Any]) -> web.Response:
        query_id = str(params.get("callback_query_id") or "")
        if not query_id:
            return _error(400, "Bad Request: query id is empty")
        if len(str(params.get("text") or "")) > MAX_CALLBACK_TEXT:
            return _error(400, "Bad Request: MESSAGE_TOO_LONG")
        with self._lock:
            if self._queries.get(query_id, True):  # unknown, or answered already
                return _error(400, QUERY_TOO_OLD)
            self._queries[query_id] = True
        return _ok(True)

    def _m_sendchataction(self, params: Mapping[str, Any]) -> web.Response:
        if params.get("chat_id") is None:
            return _error(400, "Bad Request: chat_id is empty")
        if params.get("action") not in CHAT_ACTIONS:
            return _error(400, "Bad Request: wrong parameter action in request")
        return self._check_thread(params) or _ok(True)

    def _m_close(self, params: Mapping[str, Any]) -> web.Response:
        return _ok(True)

    def _m_logout(self, params: Mapping[str, Any]) -> web.Response:
        return _ok(True)

    def _m_getfile(self, params: Mapping[str, Any]) -> web.Response:
        file_id = str(params.get("file_id", ""))
        with self._lock:
            content = self.files.get(file_id)
        if content is None:
            return _error(400, "Bad Request: invalid file_id")
        path = f"documents/{file_id}.bin"
        return ok_response(
            {
                "file_id": file_id,
                "file_unique_id": file_id[-8:],
                "file_size": len(content),
                "file_path": path,
            }
        )

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        file_id = path.removeprefix("documents/").removesuffix(".bin")
        with self._lock:
            content = self.files.get(file_id)
            self.downloads.append(path)
        if content is None:
            return web.Response(status=404)
        return web.Response(body=content, content_type="application/octet-stream")

    def _m_getchatmember(self, params: Mapping[str, Any]) -> web.Response:
        chat_id, user_id = str(params.get("chat_id", "")), str(params.get("user_id", ""))
        if not chat_id or not user_id.isdigit():
            return _error(400, "Bad Request: invalid user_id specified")
        with self._lock:
            self.member_lookups.append((chat_id, user_id))
            status = self._member_status.get((chat_id, user_id), "member")
        return _ok(_chat_member(int(user_id), status))

    def _m_getchat(self, params: Mapping[str, Any]) -> web.Response:
        return _ok(self._chat(params.get("chat_id")))

    def _m_setchatmenubutton(self, params: Mapping[str, Any]) -> web.Response:
        problem = menu_button_problem(params.get("menu_button"))
        return _error(400, f"Bad Request: {problem}") if problem else _ok(True)
