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
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

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


@dataclass(frozen=True)
class SentCall:
    """One API call the bot made (anything but getUpdates)."""

    method: str
    params: dict[str, Any]
    time: float
    ok: bool = True

    @property
    def chat_id(self) -> str:
        """The chat the call addressed ('' when none)."""
        value = self.params.get("chat_id")
        return "" if value is None else str(value)

    @property
    def text(self) -> str:
        """The text (or caption) the call carried."""
        return str(self.params.get("text") or self.params.get("caption") or "")


@dataclass
class Fault:
    """A failure to inject into the next matching call."""

    method: str
    kind: str
    retry_after: int = 1
    chat_id: str | None = None
    delay: float = 3.0
    times: int = 1


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
    body = {"ok": False, "error_code": status, "description": description}
    return web.json_response(body, status=status, headers=headers or None)


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


class FakeZalo:
    """A Zalo Bot API–compatible server for one bot token, with test hooks."""

    def __init__(
        self, *, token: str = DEFAULT_TOKEN, bot_name: str = BOT_NAME, repeat: int = 0
    ) -> None:
        self.token = token
        self.bot_name = bot_name
        self.me = {
            "id": BOT_ID,
            "account_name": bot_name,
            "account_type": "BASIC",
            "can_join_groups": True,
        }
        self.repeat = repeat
        self.port = 0
        self.sent: list[SentCall] = []
        self.errors: list[SentCall] = []
        self.unknown_methods: list[str] = []
        self.unauthorized = 0
        self.polls = 0  # getUpdates calls received
        self.undelivered: list[dict[str, Any]] = []  # group messages without a mention
        self.webhook_deliveries: list[tuple[str, int]] = []  # (message_id, HTTP status)
        self._bot = _Bot()
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._new_update: asyncio.Event | None = None
        self._webhook_queue: asyncio.Queue[dict[str, Any]] | None = None
        self._closing = False

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The API base to configure bots with (requests go to <base>/bot<token>/<method>)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeZalo:
        """Start serving in a background thread; return once the port is bound."""
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake Zalo server did not start")
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
    def running(self) -> Iterator[FakeZalo]:
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
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        delivery = loop.create_task(self._deliver_webhooks())
        ready.set()
        loop.run_forever()
        delivery.cancel()
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()

    async def _shutdown(self) -> None:
        self._closing = True
        if self._new_update is not None:
            self._new_update.set()
        if self._runner is not None:
            await self._runner.cleanup()

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
        loop = self._loop
        assert loop is not None, "server not started"
        if webhook:
            assert self._webhook_queue is not None
            for _ in range(1 + self.repeat):
                loop.call_soon_threadsafe(self._webhook_queue.put_nowait, stored)
        else:
            assert self._new_update is not None
            loop.call_soon_threadsafe(self._new_update.set)
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

    def fail_next(
        self,
        method: str,
        kind: str,
        *,
        retry_after: int = 1,
        chat_id: str | int | None = None,
        delay: float = 3.0,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls of method (for chat_id, if given) fail with kind."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        fault = Fault(
            method=method.lower(),
            kind=kind,
            retry_after=retry_after,
            chat_id=None if chat_id is None else str(chat_id),
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
        """Messages and photos successfully sent to one chat."""
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

    def wait_for_polls(self, count: int = 1, timeout: float = 10.0) -> None:
        """Block until getUpdates was called count times."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.polls < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"only {self.polls}/{count} getUpdates calls")
                self._changed.wait(remaining)

    def clear(self) -> None:
        """Forget recorded calls (not updates or faults)."""
        with self._lock:
            self.sent.clear()
            self.errors.clear()

    # -- HTTP --------------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            with self._lock:
                self.unauthorized += 1
            return _error(401, "Unauthorized")
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            try:
                body = await request.json()
            except ValueError:
                return _error(400, "Bad Request: body must be JSON")
            if isinstance(body, dict):
                params.update(body)
        key = method.lower()
        fault = self._take_fault(key, params)
        if fault is not None:
            return await self._fail(method, params, fault)
        if key == "getupdates":
            return await self._get_updates(params)
        handler = getattr(self, f"_m_{key}", None)
        if handler is None:
            with self._lock:
                self.unknown_methods.append(method)
            return _error(404, "Not Found: method not found")
        response: web.Response = handler(params)
        self._record(method, params, ok=response.status == 200)
        return response

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

    def _record(self, method: str, params: dict[str, Any], *, ok: bool) -> None:
        call = SentCall(method=method, params=params, time=time.monotonic(), ok=ok)
        with self._changed:
            (self.sent if ok else self.errors).append(call)
            self._changed.notify_all()

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

    async def _deliver_webhooks(self) -> None:
        assert self._webhook_queue is not None
        async with ClientSession(timeout=ClientTimeout(total=30)) as session:
            while True:
                update = await self._webhook_queue.get()
                message_id = str((update.get("message") or {}).get("message_id", ""))
                for attempt in range(5):
                    with self._lock:
                        url, secret = self._bot.webhook_url, self._bot.webhook_secret
                    try:
                        async with session.post(
                            url, json=update, headers={SECRET_HEADER: secret}
                        ) as response:
                            status = response.status
                    except Exception:
                        status = 0
                    with self._changed:
                        self.webhook_deliveries.append((message_id, status))
                        self._changed.notify_all()
                    if status == 200:
                        break
                    await asyncio.sleep(0.2 * (attempt + 1))

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
