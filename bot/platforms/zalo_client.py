"""A small typed async client for the Zalo Bot API (httpx), with the platform's quirks handled.

Requests go to `<base>/bot<token>/<method>` as JSON POSTs; answers look like
`{"ok": true, "result": …}`. Quirks handled here:

- `getUpdates` answers ONE update object (no update_id, no offset) and HTTP 408 when idle;
- ids are strings (coerced, in case a server sends numbers) and dates are epoch milliseconds;
- 429 and 5xx (and timeouts, network failures) are retried with backoff, honouring Retry-After;
- the token never reaches a log line or an exception message: requests are built with a
  placeholder path segment that only the transport replaces, right before the bytes go out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from core.chat_client import BadRequest, ChatGone, Forbidden, RetryAfter, Transient

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://bot-api.zaloplatforms.com"
TOKEN_SLOT = "bot***"  # what logs and errors show instead of bot<token>
IDLE_STATUS = 408
PRIVATE = "PRIVATE"
GROUP = "GROUP"


# -- errors ------------------------------------------------------------------------------------
# Failures are raised as the core's one error set (core.chat_client); this table is the one place
# Zalo's answers are read. Descriptions that mean the bot can no longer reach the chat at all:
_GONE_HINTS = ("not found", "not a member", "removed", "blocked", "no longer")


def _failure(method: str, description: str, status: int) -> str:
    return f"{method}: {description}" + (f" (HTTP {status})" if status else "")


# -- wire types --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BotInfo:
    """Who the bot is (getMe); `names` are what group members may type after '@'."""

    id: str
    name: str
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class ZaloUser:
    """The sender of a message."""

    id: str
    display_name: str = ""
    is_bot: bool = False


@dataclass(frozen=True)
class ZaloChat:
    """A private chat or a group; `chat_type` is PRIVATE or GROUP."""

    id: str
    chat_type: str = PRIVATE

    @property
    def is_group(self) -> bool:
        """Whether this is a group chat."""
        return self.chat_type.upper() == GROUP


@dataclass(frozen=True)
class ZaloMessage:
    """The message inside an update."""

    message_id: str
    sender: ZaloUser
    chat: ZaloChat
    date: datetime | None = None
    text: str | None = None
    photo_url: str | None = None
    caption: str | None = None
    sticker: str | None = None


@dataclass(frozen=True)
class ZaloUpdate:
    """One event delivered by getUpdates or the webhook."""

    event_name: str
    message: ZaloMessage | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class SentMessage:
    """What sendMessage / sendPhoto answered."""

    message_id: str
    date: datetime | None = None


@dataclass(frozen=True)
class WebhookInfo:
    """The webhook currently registered ('' when polling)."""

    url: str
    updated_at: datetime | None = None


def ms_to_datetime(value: Any) -> datetime | None:
    """An epoch-milliseconds timestamp (number or numeric string) as an aware datetime."""
    try:
        millis = float(value)
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(millis / 1000, tz=UTC)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _id(value: Any) -> str:
    return "" if value is None else str(value)


def parse_update(data: Mapping[str, Any]) -> ZaloUpdate:
    """A typed update from its JSON object (tolerant of numeric ids and missing fields)."""
    message = data.get("message")
    parsed = None
    if isinstance(message, Mapping):
        sender = _mapping(message.get("from"))
        chat = _mapping(message.get("chat"))
        photo = message.get("photo_url") or message.get("photo")
        parsed = ZaloMessage(
            message_id=_id(message.get("message_id")),
            sender=ZaloUser(
                id=_id(sender.get("id")),
                display_name=str(sender.get("display_name") or sender.get("name") or ""),
                is_bot=bool(sender.get("is_bot")),
            ),
            chat=ZaloChat(id=_id(chat.get("id")), chat_type=str(chat.get("chat_type") or PRIVATE)),
            date=ms_to_datetime(message.get("date")),
            text=_text(message.get("text")),
            photo_url=_text(photo),
            caption=_text(message.get("caption")),
            sticker=_text(message.get("sticker")),
        )
    return ZaloUpdate(event_name=str(data.get("event_name") or ""), message=parsed, raw=data)


def _bot_info(result: Any) -> BotInfo:
    data = _mapping(result)
    names: list[str] = []
    for key in ("account_name", "display_name", "name", "username"):
        value = data.get(key)
        if isinstance(value, str) and value.strip() and value.strip() not in names:
            names.append(value.strip())
    return BotInfo(id=_id(data.get("id")), name=names[0] if names else "", names=tuple(names))


def _sent(result: Any) -> SentMessage:
    data = _mapping(result)
    return SentMessage(
        message_id=_id(data.get("message_id")), date=ms_to_datetime(data.get("date"))
    )


# -- transport ---------------------------------------------------------------------------------


class _TokenTransport(httpx.AsyncBaseTransport):
    """Puts the token into the URL path only on the copy of the request that goes out."""

    def __init__(self, inner: httpx.AsyncBaseTransport, token: str) -> None:
        self._inner = inner
        self._slot = f"/{TOKEN_SLOT}/".encode()
        self._real = f"/bot{quote(token, safe=':-_.~')}/".encode()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url.copy_with(
            raw_path=request.url.raw_path.replace(self._slot, self._real, 1)
        )
        outgoing = httpx.Request(
            request.method,
            url,
            headers=request.headers,
            stream=request.stream,
            extensions=request.extensions,
        )
        return await self._inner.handle_async_request(outgoing)

    async def aclose(self) -> None:
        await self._inner.aclose()


@dataclass(frozen=True)
class RetryPolicy:
    """How failed calls are retried (attempts=1 turns retries off)."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0  # longer waits are the caller's business


# -- client ------------------------------------------------------------------------------------


class ZaloClient:
    """Typed Zalo Bot API calls over one pooled httpx connection."""

    def __init__(
        self,
        token: str,
        base_url: str = DEFAULT_API_URL,
        *,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not token:
            raise ValueError("a Zalo bot token is required")
        self._token = token
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            transport=_TokenTransport(transport or httpx.AsyncHTTPTransport(), token),
            timeout=timeout,
            headers={"User-Agent": "daumoi"},
        )

    def __repr__(self) -> str:
        return f"ZaloClient({self.base_url!r})"

    async def __aenter__(self) -> ZaloClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    def redact(self, text: str) -> str:
        """Text with the token (and its URL-quoted form) replaced by ***."""
        for form in {self._token, quote(self._token, safe=":-_.~"), quote(self._token, safe="")}:
            text = text.replace(form, "***")
        return text

    # -- methods ---------------------------------------------------------------------------

    async def get_me(self) -> BotInfo:
        """The bot's own id and names."""
        return _bot_info(await self.call("getMe"))

    async def get_updates(self, timeout: int = 30) -> list[ZaloUpdate]:
        """Long-poll for the next update: [] when idle (HTTP 408), else (normally) one update."""
        result = await self.call(
            "getUpdates", {"timeout": str(timeout)}, timeout=timeout + 10.0, retry=False
        )
        if result is None:
            return []
        items = result if isinstance(result, list) else [result]
        return [parse_update(item) for item in items if isinstance(item, Mapping) and item]

    async def set_webhook(self, url: str, secret_token: str) -> None:
        """Deliver updates to url, each POST carrying X-Bot-Api-Secret-Token."""
        await self.call("setWebhook", {"url": url, "secret_token": secret_token})

    async def delete_webhook(self) -> None:
        """Stop webhook delivery (getUpdates works again)."""
        await self.call("deleteWebhook")

    async def get_webhook_info(self) -> WebhookInfo:
        """The webhook currently registered."""
        result = await self.call("getWebhookInfo")
        data = _mapping(result)
        return WebhookInfo(
            url=str(data.get("url") or ""), updated_at=ms_to_datetime(data.get("updated_at"))
        )

    async def send_message(self, chat_id: str, text: str, *, retry: bool = True) -> SentMessage:
        """Send text (at most 2000 characters) to a chat."""
        return _sent(
            await self.call("sendMessage", {"chat_id": chat_id, "text": text}, retry=retry)
        )

    async def send_photo(
        self, chat_id: str, photo_url: str, caption: str = "", *, retry: bool = True
    ) -> SentMessage:
        """Send a photo the Zalo servers fetch from photo_url."""
        payload = {"chat_id": chat_id, "photo": photo_url}
        if caption:
            payload["caption"] = caption
        return _sent(await self.call("sendPhoto", payload, retry=retry))

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> None:
        """Show 'typing…' in the chat for a few seconds."""
        await self.call("sendChatAction", {"chat_id": chat_id, "action": action}, retry=False)

    # -- plumbing --------------------------------------------------------------------------

    async def call(
        self,
        method: str,
        payload: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        retry: bool = True,
    ) -> Any:
        """POST one method and return its result, retrying 429/5xx/network failures."""
        policy = self.retry
        attempts = max(1, policy.attempts) if retry else 1
        delay = policy.base_delay
        for attempt in range(1, attempts + 1):
            try:
                return await self._once(method, payload, timeout)
            except RetryAfter as exc:
                if attempt == attempts or exc.seconds > policy.max_retry_after:
                    raise
                log.info("Zalo %s rate limited; waiting %.1fs", method, exc.seconds)
                await self._sleep(exc.seconds)
            except Transient as exc:
                if attempt == attempts:
                    raise
                log.info("Zalo %s failed (%s); retrying in %.1fs", method, exc, delay)
                await self._sleep(delay)
                delay = min(delay * 2, policy.max_delay)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _once(
        self, method: str, payload: Mapping[str, Any] | None, timeout: float | None
    ) -> Any:
        url = f"{self.base_url}/{TOKEN_SLOT}/{method}"
        try:
            response = await self._http.post(
                url, json=dict(payload or {}), timeout=self.timeout if timeout is None else timeout
            )
        except httpx.TimeoutException as exc:
            raise Transient(_failure(method, f"timeout ({type(exc).__name__})", 0)) from None
        except httpx.HTTPError as exc:
            detail = self.redact(f"{type(exc).__name__}: {exc}")
            raise Transient(_failure(method, detail, 0)) from None
        return self._result(method, response)

    def _result(self, method: str, response: httpx.Response) -> Any:
        try:
            body = response.json()
        except ValueError:
            body = None
        data = _mapping(body)
        status = response.status_code
        if status == 200 and data.get("ok") is True:
            return data.get("result")
        code = data.get("error_code")
        error_code = code if isinstance(code, int) else None
        description = self.redact(str(data.get("description") or response.reason_phrase or "error"))
        effective = status if status != 200 else (error_code or 400)
        detail = _failure(method, description, status)
        if effective == IDLE_STATUS and method == "getUpdates":
            return None  # nothing arrived during the long poll
        if effective == 429:
            raise RetryAfter(_retry_after(response, data), detail)
        if effective == IDLE_STATUS or effective >= 500:
            raise Transient(detail)
        if effective == 401:
            raise Forbidden(detail)
        if effective == 403 or any(hint in description.lower() for hint in _GONE_HINTS):
            raise ChatGone(detail)
        raise BadRequest(detail)


def _retry_after(response: httpx.Response, data: Mapping[str, Any]) -> float:
    """Seconds to wait from the Retry-After header or a Telegram-style body; 1 s if neither."""
    header = response.headers.get("Retry-After", "")
    params = _mapping(data.get("parameters"))
    for value in (header, params.get("retry_after"), data.get("retry_after")):
        try:
            seconds = float(str(value))
        except (TypeError, ValueError):
            continue
        if seconds >= 0:
            return seconds
    return 1.0
