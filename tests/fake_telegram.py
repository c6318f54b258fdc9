"""A fake Telegram Bot API server (aiohttp, 127.0.0.1) for end-to-end tests and the bench.

It runs in its own thread and event loop, so tests drive it from any thread: push updates,
inspect what the bot sent, inject faults, and optionally enforce Telegram's flood limits.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

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
_INT_KEYS = frozenset({"chat_id", "message_id", "offset", "limit", "timeout", "max_connections"})
_SEND_METHODS = frozenset({"sendmessage", "senddocument", "sendphoto"})
FAULT_KINDS = frozenset({"429", "500", "502", "timeout", "403", "migrate", "400"})


@dataclass(frozen=True)
class SentCall:
    """One API call the bot made (anything but getUpdates)."""

    method: str
    params: dict[str, Any]
    time: float
    ok: bool = True

    @property
    def chat_id(self) -> str:
        """The chat the call addressed, as a string ('' when none)."""
        value = self.params.get("chat_id")
        return "" if value is None else str(value)

    @property
    def text(self) -> str:
        """The text (or caption) the call carried."""
        return str(self.params.get("text") or self.params.get("caption") or "")

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """Inline keyboard buttons, flattened."""
        markup = self.params.get("reply_markup") or {}
        rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
        return [button for row in rows for button in row]


@dataclass
class Fault:
    """A failure to inject into the next matching call."""

    method: str
    kind: str
    retry_after: int = 1
    chat_id: str | None = None
    new_chat_id: int | None = None
    delay: float = 3.0
    times: int = 1


@dataclass(frozen=True)
class Limits:
    """Telegram flood limits to enforce (None disables one)."""

    overall_per_second: int | None = 30
    group_per_minute: int | None = 20
    chat_per_second: int | None = None
    group_window: float = 60.0  # seconds group_per_minute is counted over


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


def bot_user(username: str = BOT_USERNAME, bot_id: int = BOT_ID) -> dict[str, Any]:
    """The User object of the bot itself."""
    return {"id": bot_id, "is_bot": True, "first_name": "Đầu mối", "username": username}


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


def _error(status: int, description: str, **parameters: Any) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


class FakeTelegram:
    """A Bot API–compatible server for one bot token, with test hooks."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_username: str = BOT_USERNAME,
        limits: Limits | None = None,
        first_update_id: int = 1000,
    ) -> None:
        self.token = token
        self.me = bot_user(bot_username, int(token.split(":", 1)[0]))
        self.limits = limits
        self.port = 0
        self.sent: list[SentCall] = []
        self.errors: list[SentCall] = []
        self.unknown_methods: list[str] = []
        self.webhook_deliveries: list[tuple[int, int]] = []  # (update_id, HTTP status)
        self._bot = _Bot(next_update_id=first_update_id)
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._new_update: asyncio.Event | None = None
        self._webhook_queue: asyncio.Queue[dict[str, Any]] | None = None
        self._windows: dict[str, deque[float]] = defaultdict(deque)
        self._chat_types: dict[str, str] = {}
        self._message_counter = itertools.count(1)
        self._closing = False
        self._delivery: asyncio.Task[None] | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The Bot API base to configure bots with (requests go to <base>/bot<token>/<m>)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeTelegram:
        """Start serving in a background thread; return once the port is bound."""
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake Telegram server did not start")
        return self

    def stop(self) -> None:
        """Stop the server thread."""
        if self._loop is None or self._thread is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
        future.result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop = None

    @contextmanager
    def running(self) -> Iterator[FakeTelegram]:
        """Run the server for the duration of a with block."""
        self.start()
        try:
            yield self
        finally:
            self.stop()

    def _serve(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        self._new_update = asyncio.Event()
        self._webhook_queue = asyncio.Queue()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._delivery = loop.create_task(self._deliver_webhooks())
        ready.set()
        loop.run_forever()
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()

    async def _shutdown(self) -> None:
        self._closing = True
        if self._new_update is not None:
            self._new_update.set()  # release long polls
        if self._runner is not None:
            await self._runner.cleanup()

    # -- hooks: updates ----------------------------------------------------------------------

    def push_update(self, update: Mapping[str, Any]) -> dict[str, Any]:
        """Queue one update (an update_id is assigned) and wake long polls or the webhook."""
        with self._lock:
            self._bot.next_update_id += 1
            stored = {"update_id": self._bot.next_update_id, **update}
            self._remember_chats(stored)
            self._bot.updates.append(stored)
            webhook = bool(self._bot.webhook_url)
        loop = self._loop
        assert loop is not None, "server not started"
        if webhook:
            assert self._webhook_queue is not None
            loop.call_soon_threadsafe(self._webhook_queue.put_nowait, stored)
        else:
            assert self._new_update is not None
            loop.call_soon_threadsafe(self._new_update.set)
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
    ) -> dict[str, Any]:
        """Push a text message (or command) from a user."""
        message = self.message(chat, text, sender=sender, reply_to_bot=reply_to_bot)
        return self.push_update({"message": message})

    def push_callback(
        self,
        chat: Mapping[str, Any],
        data: str,
        *,
        sender: Mapping[str, Any] | None = None,
        message_id: int = 1,
    ) -> dict[str, Any]:
        """Push a button press on one of the bot's messages."""
        person = dict(sender) if sender is not None else user()
        query = {
            "id": f"cb{next(self._message_counter)}",
            "from": person,
            "chat_instance": "42",
            "data": data,
            "message": {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": dict(chat),
                "from": self.me,
                "text": "…",
            },
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

    # -- hooks: faults and inspection ---------------------------------------------------------

    def fail_next(
        self,
        method: str,
        kind: str,
        *,
        retry_after: int = 1,
        chat_id: str | int | None = None,
        new_chat_id: int | None = None,
        delay: float = 3.0,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls of method (for chat_id, if given) fail with kind."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        if kind == "migrate" and new_chat_id is None:
            raise ValueError("a migrate fault needs new_chat_id")
        fault = Fault(
            method=method.lower(),
            kind=kind,
            retry_after=retry_after,
            chat_id=None if chat_id is None else str(chat_id),
            new_chat_id=new_chat_id,
            delay=delay,
            times=times,
        )
        with self._lock:
            self._faults.append(fault)

    def calls(self, method: str | None = None) -> list[SentCall]:
        """Successful calls so far, optionally of one method (case-insensitive)."""
        with self._lock:
            return [c for c in self.sent if method is None or c.method.lower() == method.lower()]

    def messages_to(self, chat_id: str | int) -> list[SentCall]:
        """Messages, documents and photos successfully sent to one chat."""
        with self._lock:
            return [
                c
                for c in self.sent
                if c.method.lower() in _SEND_METHODS and c.chat_id == str(chat_id)
            ]

    def wait_for_sent(
        self, predicate: Callable[[SentCall], bool], timeout: float = 5.0, *, count: int = 1
    ) -> list[SentCall]:
        """Block until count successful calls match predicate; return them (or raise)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [c for c in self.sent if predicate(c)]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"only {len(found)}/{count} matching calls within {timeout}s; "
                        f"sent: {[(c.method, c.chat_id, c.text[:40]) for c in self.sent]}"
                    )
                self._changed.wait(remaining)

    def wait_for_message(
        self, chat_id: str | int, timeout: float = 5.0, *, count: int = 1
    ) -> list[SentCall]:
        """Block until count messages reached chat_id; return all of them."""
        return self.wait_for_sent(
            lambda c: c.method.lower() in _SEND_METHODS and c.chat_id == str(chat_id),
            timeout,
            count=count,
        )

    def wait_for_method(
        self, method: str, timeout: float = 5.0, *, count: int = 1
    ) -> list[SentCall]:
        """Block until count calls of method succeeded."""
        return self.wait_for_sent(
            lambda c: c.method.lower() == method.lower(), timeout, count=count
        )

    def clear(self) -> None:
        """Forget recorded calls (not updates or faults)."""
        with self._lock:
            self.sent.clear()
            self.errors.clear()

    # -- HTTP --------------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        params = _normalise(await self._read_params(request))
        key = method.lower()
        fault = self._take_fault(key, params)
        if fault is not None:
            return await self._fail(method, params, fault)
        if key == "getupdates":
            return await self._get_updates(params)
        limited = self._check_limits(key, params)
        if limited is not None:
            self._record(method, params, ok=False)
            return limited
        handler = getattr(self, f"_m_{key}", None)
        if handler is None:
            with self._lock:
                self.unknown_methods.append(method)
            return _error(404, "Not Found: method not found")
        response: web.Response = handler(params)
        self._record(method, params, ok=response.status == 200)
        return response

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.method != "POST" or not request.can_read_body:
            return params
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
            return params
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                params[key] = {"filename": value.filename, "size": len(value.file.read())}
            else:
                params[key] = value
        return params

    def _take_fault(self, method: str, params: Mapping[str, Any]) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.method != method:
                    continue
                if fault.chat_id is not None and str(params.get("chat_id")) != fault.chat_id:
                    continue
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    async def _fail(self, method: str, params: dict[str, Any], fault: Fault) -> web.Response:
        self._record(method, params, ok=False)
        if fault.kind == "timeout":
            await asyncio.sleep(fault.delay)
            return _error(504, "Gateway Timeout")
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

    def _record(self, method: str, params: dict[str, Any], *, ok: bool) -> None:
        call = SentCall(method=method, params=params, time=time.monotonic(), ok=ok)
        with self._changed:
            (self.sent if ok else self.errors).append(call)
            self._changed.notify_all()

    def _check_limits(self, method: str, params: Mapping[str, Any]) -> web.Response | None:
        limits = self.limits
        if limits is None or method not in _SEND_METHODS:
            return None
        chat_id = str(params.get("chat_id", ""))
        group = chat_id.startswith("-")
        checks: list[tuple[str, int | None, float]] = [
            ("*", limits.overall_per_second, 1.0),
            (f"g{chat_id}", limits.group_per_minute if group else None, limits.group_window),
            (f"c{chat_id}", limits.chat_per_second, 1.0),
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

    async def _get_updates(self, params: Mapping[str, Any]) -> web.Response:
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
                chat = value.get("chat") or (value.get("message") or {}).get("chat")
                if isinstance(chat, dict):
                    self._chat_types[str(chat["id"])] = chat.get("type", "private")

    def _chat(self, chat_id: Any) -> dict[str, Any]:
        key = str(chat_id)
        kind = self._chat_types.get(key) or ("group" if key.startswith("-") else "private")
        chat: dict[str, Any] = {"id": int(key) if key.lstrip("-").isdigit() else key, "type": kind}
        if kind != "private":
            chat["title"] = "Nhóm"
        return chat

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
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return message

    async def _deliver_webhooks(self) -> None:
        assert self._webhook_queue is not None
        timeout = ClientTimeout(total=30)
        async with ClientSession(timeout=timeout) as session:
            while True:
                update = await self._webhook_queue.get()
                for attempt in range(5):
                    with self._lock:
                        url, secret = self._bot.webhook_url, self._bot.webhook_secret
                    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
                    try:
                        async with session.post(url, json=update, headers=headers) as response:
                            status = response.status
                    except Exception:
                        status = 0
                    with self._lock:
                        self.webhook_deliveries.append((update["update_id"], status))
                    if status == 200:
                        with self._lock:
                            self._bot.updates = [u for u in self._bot.updates if u is not update]
                        break
                    await asyncio.sleep(0.2 * (attempt + 1))

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
        with self._lock:
            self._bot.commands = commands
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

    def _m_sendmessage(self, params: Mapping[str, Any]) -> web.Response:
        text = str(params.get("text", ""))
        if not text:
            return _error(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            return _error(400, "Bad Request: message is too long")
        if params.get("chat_id") is None:
            return _error(400, "Bad Request: chat_id is empty")
        error = self._check_keyboard(params)
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
        return None

    def _m_senddocument(self, params: Mapping[str, Any]) -> web.Response:
        document = params.get("document")
        if not document:
            return _error(400, "Bad Request: there is no document in the request")
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

    def _m_sendphoto(self, params: Mapping[str, Any]) -> web.Response:
        if not params.get("photo"):
            return _error(400, "Bad Request: there is no photo in the request")
        photo = [
            {"file_id": f"ph{time.monotonic_ns()}", "file_unique_id": "p", "width": 1, "height": 1}
        ]
        content: dict[str, Any] = {"photo": photo}
        if params.get("caption"):
            content["caption"] = params["caption"]
        return _ok(self._new_message(params, **content))

    def _m_editmessagetext(self, params: Mapping[str, Any]) -> web.Response:
        if not params.get("text"):
            return _error(400, "Bad Request: message text is empty")
        message = self._new_message(params, text=params["text"])
        message["message_id"] = params.get("message_id", message["message_id"])
        message["edit_date"] = int(time.time())
        return _ok(message)

    def _m_editmessagereplymarkup(self, params: Mapping[str, Any]) -> web.Response:
        return _ok(True)

    def _m_answercallbackquery(self, params: Mapping[str, Any]) -> web.Response:
        if not params.get("callback_query_id"):
            return _error(400, "Bad Request: query id is empty")
        return _ok(True)

    def _m_sendchataction(self, params: Mapping[str, Any]) -> web.Response:
        return _ok(True)

    def _m_close(self, params: Mapping[str, Any]) -> web.Response:
        return _ok(True)

    def _m_logout(self, params: Mapping[str, Any]) -> web.Response:
        return _ok(True)

    def _m_getchat(self, params: Mapping[str, Any]) -> web.Response:
        return _ok(self._chat(params.get("chat_id")))
