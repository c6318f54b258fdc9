"""A fake Zalo Bot API server (aiohttp, 127.0.0.1) reproducing the wire format and its quirks.

- requests: POST JSON to /bot<token>/<method>; answers `{"ok": true, "result": …}`;
- getUpdates answers ONE update (no update_id, no offset) or HTTP 408 after `timeout` seconds;
- optionally every update is delivered again (`repeat`), as Zalo may repeat already-read ones;
- ids are strings, dates are epoch milliseconds;
- in groups only messages that mention the bot ("@<name>") reach it;
- webhook mode POSTs updates with X-Bot-Api-Secret-Token;
- faults (429 with Retry-After, 5xx, slow answers, 403, 400) can be injected per method.

It runs in its own thread and event loop, so tests drive it from any thread.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fake_api import FakeBotApi, Fault, error_response, ok_response
from tests.fake_api import SentCall as SentCall

DEFAULT_TOKEN = "2749103386128453:zalo-TEST_token-daumoi"
BOT_ID = "7a1c0de5b0b0"
BOT_NAME = "daumoi_bot"
MAX_TEXT = 2000
SECRET_HEADER = "X-Bot-Api-Secret-Token"
FAULT_KINDS = frozenset({"429", "500", "502", "timeout", "403", "400", "invalid"})
_SEND_METHODS = frozenset({"sendmessage", "sendphoto"})


def user(user_id: str = "1001", name: str = "Lan Nguyễn") -> dict[str, Any]:
    """The `from` object of a person."""
    return {"id": user_id, "display_name": name, "is_bot": False}


def private_chat(person: Mapping[str, Any]) -> dict[str, Any]:
    """The private chat with a person (its id is the person's id)."""
    return {"id": str(person["id"]), "chat_type": "PRIVATE"}


def group_chat(chat_id: str = "g4001") -> dict[str, Any]:
    """A group chat."""
    return {"id": chat_id, "chat_type": "GROUP"}


def now_ms() -> int:
    """The current time in epoch milliseconds, as Zalo dates are."""
    return int(time.time() * 1000)


@dataclass
class _Pending:
    update: dict[str, Any]
    repeats_left: int


@dataclass
class _Bot:
    pending: list[_Pending] = field(default_factory=list)
    webhook_url: str = ""
    webhook_secret: str = ""


def _error(status: int, description: str, **headers: str) -> web.Response:
    return error_response(status, description, headers=headers)


_ok = ok_response


class FakeZalo(FakeBotApi):
    """A Zalo Bot API–compatible server for one bot token, with test hooks."""

    platform = "Zalo"
    fault_kinds = FAULT_KINDS
    send_methods = _SEND_METHODS
    json_only = True

    def __init__(
        self, *, token: str = DEFAULT_TOKEN, bot_name: str = BOT_NAME, repeat: int = 0
    ) -> None:
        super().__init__(token=token)
        self.bot_name = bot_name
        self.me = {
            "id": BOT_ID,
            "account_name": bot_name,
            "account_type": "BASIC",
            "can_join_groups": True,
        }
        self.repeat = repeat
        self.polls = 0  # getUpdates calls received
        self.undelivered: list[dict[str, Any]] = []  # group messages without a mention
        self.webhook_deliveries: list[tuple[str, int]] = []  # (message_id, HTTP status)
        self._bot = _Bot()

    # -- hooks: updates ----------------------------------------------------------------------

    def message(
        self,
        chat: Mapping[str, Any],
        *,
        sender: Mapping[str, Any] | None = None,
        **content: Any,
    ) -> dict[str, Any]:
        """A message object in chat from sender (Lan by default)."""
        return {
            "from": dict(sender) if sender is not None else user(),
            "chat": dict(chat),
            "message_id": uuid.uuid4().hex,
            "date": now_ms(),
            **content,
        }

    def push_update(self, update: Mapping[str, Any]) -> dict[str, Any]:
        """Queue one update and wake a long poll, or deliver it to the webhook."""
        stored = dict(update)
        with self._lock:
            webhook = bool(self._bot.webhook_url)
            if not webhook:
                self._bot.pending.append(_Pending(stored, self.repeat))
        self._announce(stored, webhook=webhook, copies=1 + self.repeat)
        return stored

    def push_message(
        self, chat: Mapping[str, Any], text: str, *, sender: Mapping[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """A user writes text; in a group it reaches the bot only if it mentions the bot."""
        update = {
            "event_name": "message.text.received",
            "message": self.message(chat, sender=sender, text=text),
        }
        if not self.delivers(chat, text):
            with self._lock:
                self.undelivered.append(update)
            return None
        return self.push_update(update)

    def delivers(self, chat: Mapping[str, Any], text: str) -> bool:
        """Whether Zalo would hand this message to the bot (groups: only mentions)."""
        if str(chat.get("chat_type", "")).upper() != "GROUP":
            return True
        return f"@{self.bot_name}".lower() in text.lower()

    def push_image(
        self,
        chat: Mapping[str, Any],
        photo_url: str,
        caption: str = "",
        *,
        sender: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A user sends a photo (with an optional caption)."""
        content: dict[str, Any] = {"photo_url": photo_url}
        if caption:
            content["caption"] = caption
        message = self.message(chat, sender=sender, **content)
        return self.push_update({"event_name": "message.image.received", "message": message})

    def push_sticker(
        self, chat: Mapping[str, Any], *, sender: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """A user sends a sticker."""
        message = self.message(chat, sender=sender, sticker="st_" + uuid.uuid4().hex[:8])
        return self.push_update({"event_name": "message.sticker.received", "message": message})

    def push_unsupported(
        self, chat: Mapping[str, Any], *, sender: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """A user sends something the Bot API does not describe (a file, a voice note…)."""
        message = self.message(chat, sender=sender)
        return self.push_update({"event_name": "message.unsupported.received", "message": message})

    @property
    def pending_updates(self) -> int:
        """Updates (and repeats) not yet handed out by getUpdates."""
        with self._lock:
            return sum(1 + p.repeats_left for p in self._bot.pending)

    # -- hooks: faults and inspection --------------------------------------------------------

    def wait_for_polls(self, count: int = 1, timeout: float = 10.0) -> None:
        """Block until getUpdates was called count times."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.polls < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"only {self.polls}/{count} getUpdates calls")
                self._changed.wait(remaining)

    # -- HTTP --------------------------------------------------------------------------------

    def _fault_response(self, fault: Fault) -> web.Response:
        if fault.kind == "429":
            return _error(429, "Too Many Requests", **{"Retry-After": str(fault.retry_after)})
        if fault.kind == "403":
            return _error(403, "Forbidden: the bot is no longer a member of this group")
        if fault.kind == "400":
            return _error(400, "Bad Request: chat not found")
        if fault.kind == "invalid":
            return _error(400, "Bad Request: invalid parameter")
        if fault.kind == "502":
            return web.Response(status=502, text="<html>502 Bad Gateway</html>")
        return _error(500, "Internal Server Error")

    async def _get_updates(self, params: Mapping[str, Any]) -> web.Response:
        with self._lock:
            if self._bot.webhook_url:
                return _error(400, "Bad Request: webhook is active; call deleteWebhook first")
        try:
            timeout = float(params.get("timeout") or 0)
        except (TypeError, ValueError):
            return _error(400, "Bad Request: timeout must be a number of seconds")
        deadline = time.monotonic() + timeout
        self._count_poll()
        assert self._new_update is not None
        while True:
            self._new_update.clear()
            update = self._take_update()
            if update is not None:
                return _ok(update)
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._closing:
                return _error(408, "Request Timeout")
            with suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), remaining)

    def _take_update(self) -> dict[str, Any] | None:
        with self._lock:
            if not self._bot.pending:
                return None
            first = self._bot.pending.pop(0)
            if first.repeats_left > 0:  # already read, yet handed out again later
                self._bot.pending.append(_Pending(first.update, first.repeats_left - 1))
            return first.update

    def _count_poll(self) -> None:
        with self._changed:
            self.polls += 1
            self._changed.notify_all()

    def _webhook_target(self) -> tuple[str, dict[str, str]]:
        with self._lock:
            url, secret = self._bot.webhook_url, self._bot.webhook_secret
        return url, {SECRET_HEADER: secret}

    def _webhook_result(self, update: dict[str, Any], status: int) -> None:
        message_id = str((update.get("message") or {}).get("message_id", ""))
        with self._changed:
            self.webhook_deliveries.append((message_id, status))
            self._changed.notify_all()

    # -- methods -----------------------------------------------------------------------------

    def _m_getme(self, params: Mapping[str, Any]) -> web.Response:
        return _ok(dict(self.me))

    def _m_setwebhook(self, params: Mapping[str, Any]) -> web.Response:
        url = str(params.get("url") or "")
        secret = str(params.get("secret_token") or "")
        if not url.startswith(("http://", "https://")):
            return _error(400, "Bad Request: url is invalid")
        if len(secret) < 8:
            return _error(400, "Bad Request: secret_token must have at least 8 characters")
        with self._lock:
            self._bot.webhook_url = url
            self._bot.webhook_secret = secret
            pending = [p.update for p in self._bot.pending]
            self._bot.pending.clear()
        assert self._webhook_queue is not None
        for update in pending:
            self._webhook_queue.put_nowait(update)
        return _ok({"url": url, "updated_at": now_ms()})

    def _m_deletewebhook(self, params: Mapping[str, Any]) -> web.Response:
        with self._lock:
            self._bot.webhook_url = ""
            self._bot.webhook_secret = ""
        return _ok({"url": "", "updated_at": now_ms()})

    def _m_getwebhookinfo(self, params: Mapping[str, Any]) -> web.Response:
        with self._lock:
            return _ok({"url": self._bot.webhook_url, "updated_at": now_ms()})

    def _m_sendmessage(self, params: Mapping[str, Any]) -> web.Response:
        error = self._check_chat(params)
        if error is not None:
            return error
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            return _error(400, "Bad Request: text is empty")
        if len(text) > MAX_TEXT:
            return _error(400, f"Bad Request: text is longer than {MAX_TEXT} characters")
        return _ok({"message_id": uuid.uuid4().hex, "date": now_ms()})

    def _m_sendphoto(self, params: Mapping[str, Any]) -> web.Response:
        error = self._check_chat(params)
        if error is not None:
            return error
        photo = params.get("photo")
        if not isinstance(photo, str) or not photo.startswith(("http://", "https://")):
            return _error(400, "Bad Request: photo must be a URL")
        return _ok({"message_id": uuid.uuid4().hex, "date": now_ms()})

    def _m_sendchataction(self, params: Mapping[str, Any]) -> web.Response:
        error = self._check_chat(params)
        if error is not None:
            return error
        if params.get("action") not in ("typing", "upload_photo"):
            return _error(400, "Bad Request: unknown action")
        return _ok(True)

    @staticmethod
    def _check_chat(params: Mapping[str, Any]) -> web.Response | None:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, str) or not chat_id:
            return _error(400, "Bad Request: chat_id must be a non-empty string")
        return None
