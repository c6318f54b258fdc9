"""Shared machinery of the fake Bot API servers (Telegram, Zalo) used by tests and benches.

A subclass supplies the platform's wire format: its `_m_<method>` handlers, getUpdates,
how faults look on the wire, and where webhooks go. This base runs aiohttp on 127.0.0.1
in a background thread with its own loop, records calls and queues injected faults.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Self

from aiohttp import ClientSession, ClientTimeout, web


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


def error_response(
    status: int,
    description: str,
    *,
    parameters: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """A Bot API error body `{"ok": false, …}` with the given HTTP status."""
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = dict(parameters)
    return web.json_response(body, status=status, headers=headers or None)


def ok_response(result: Any) -> web.Response:
    """A Bot API success body `{"ok": true, "result": …}`."""
    return web.json_response({"ok": True, "result": result})


class FakeBotApi:
    """Base of a Bot API–compatible server for one bot token, with test hooks."""

    platform = "Bot API"  # named in start-up errors
    fault_kinds: frozenset[str] = frozenset()
    send_methods: frozenset[str] = frozenset()  # lower-case methods that deliver a message
    json_only = False  # reject bodies that are not JSON (else accept forms and multipart too)

    def __init__(self, *, token: str) -> None:
        self.token = token
        self.port = 0
        self.sent: list[SentCall] = []
        self.errors: list[SentCall] = []
        self.unknown_methods: list[str] = []
        self.unauthorized = 0
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._new_update: asyncio.Event | None = None
        self._webhook_queue: asyncio.Queue[dict[str, Any]] | None = None
        self._closing = False
        self._delivery: asyncio.Task[None] | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The API base to configure bots with (requests go to <base>/bot<token>/<method>)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        """Start serving in a background thread; return once the port is bound."""
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError(f"fake {self.platform} server did not start")
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
    def running(self) -> Iterator[Self]:
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
        self._add_routes(app)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        self.port = int(self._runner.addresses[0][1])
        self._delivery = loop.create_task(self._deliver_webhooks())
        ready.set()
        loop.run_forever()
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()

    def _add_routes(self, app: web.Application) -> None:
        """Routes a platform serves besides its methods (Telegram: file downloads)."""

    async def _shutdown(self) -> None:
        self._closing = True
        if self._new_update is not None:
            self._new_update.set()  # release long polls
        if self._runner is not None:
            await self._runner.cleanup()

    def _announce(self, update: dict[str, Any], *, webhook: bool, copies: int = 1) -> None:
        """Hand a queued update to the webhook (copies times) or wake long polls."""
        loop = self._loop
        assert loop is not None, "server not started"
        if webhook:
            assert self._webhook_queue is not None
            for _ in range(copies):
                loop.call_soon_threadsafe(self._webhook_queue.put_nowait, update)
        else:
            assert self._new_update is not None
            loop.call_soon_threadsafe(self._new_update.set)

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
        if kind not in self.fault_kinds:
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

    def _is_message_to(self, call: SentCall, chat_id: str | int) -> bool:
        return call.method.lower() in self.send_methods and call.chat_id == str(chat_id)

    def messages_to(self, chat_id: str | int) -> list[SentCall]:
        """Messages (and files or photos) successfully sent to one chat."""
        with self._lock:
            return [c for c in self.sent if self._is_message_to(c, chat_id)]

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
        return self.wait_for_sent(lambda c: self._is_message_to(c, chat_id), timeout, count=count)

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
            with self._lock:
                self.unauthorized += 1
            return error_response(401, "Unauthorized")
        params = await self._read_params(request)
        if isinstance(params, web.Response):
            return params
        key = method.lower()
        fault = self._take_fault(key, params)
        if fault is not None:
            self._record(method, params, ok=False)
            if fault.kind == "timeout":
                await asyncio.sleep(fault.delay)
                return error_response(504, "Gateway Timeout")
            return self._fault_response(fault)
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
            return error_response(404, "Not Found: method not found")
        response: web.Response = handler(params)
        self._record(method, params, ok=response.status == 200)
        return response

    async def _read_params(self, request: web.Request) -> dict[str, Any] | web.Response:
        """Query parameters merged with a JSON, form or multipart body (files: name and size)."""
        params: dict[str, Any] = dict(request.query)
        if request.method != "POST" or not request.can_read_body:
            return self._normalise(params)
        if self.json_only or request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                return error_response(400, "Bad Request: body must be JSON")
            if isinstance(body, dict):
                params.update(body)
            return self._normalise(params)
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                params[key] = {"filename": value.filename, "size": len(value.file.read())}
            else:
                params[key] = value
        return self._normalise(params)

    def _normalise(self, params: dict[str, Any]) -> dict[str, Any]:
        """Decode platform-specific encodings of parameter values (none by default)."""
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

    def _record(self, method: str, params: dict[str, Any], *, ok: bool) -> None:
        call = SentCall(method=method, params=params, time=time.monotonic(), ok=ok)
        with self._changed:
            (self.sent if ok else self.errors).append(call)
            self._changed.notify_all()

    async def _deliver_webhooks(self) -> None:
        assert self._webhook_queue is not None
        async with ClientSession(timeout=ClientTimeout(total=30)) as session:
            while True:
                update = await self._webhook_queue.get()
                for attempt in range(5):
                    url, headers = self._webhook_target()
                    try:
                        async with session.post(url, json=update, headers=headers) as response:
                            status = response.status
                    except Exception:
                        status = 0
                    self._webhook_result(update, status)
                    if status == 200:
                        break
                    await asyncio.sleep(0.2 * (attempt + 1))

    # -- platform hooks ----------------------------------------------------------------------

    def _fault_response(self, fault: Fault) -> web.Response:
        """The answer to a call hit by fault (other than a timeout)."""
        raise NotImplementedError

    def _check_limits(self, method: str, params: Mapping[str, Any]) -> web.Response | None:
        """A 429 answer when the call breaks a flood limit (none by default)."""
        return None

    async def _get_updates(self, params: Mapping[str, Any]) -> web.Response:
        raise NotImplementedError

    def _webhook_target(self) -> tuple[str, dict[str, str]]:
        """The webhook URL and the headers to deliver an update with."""
        raise NotImplementedError

    def _webhook_result(self, update: dict[str, Any], status: int) -> None:
        """Note one delivery attempt of update (HTTP status, 0 when unreachable)."""
        raise NotImplementedError
