"""Zalo adapter: Zalo Bot API updates -> Incoming -> core -> rendered sendMessage calls.

Zalo has no buttons, edits or documents, and text stops at 2,000 characters, so replies are
rendered with ZALO_CAPABILITIES: choices become a numbered list answered by the number, long
text is split on line boundaries, and a file becomes a link (when DAUMOI_PUBLIC_URL points at
this process's HTTP server) or a one-line summary.

In groups Zalo delivers only messages that mention the bot, so every group message that
arrives is addressed to us; the mention is stripped before the command is parsed. Updates may
be delivered more than once: they are deduplicated by message id, in memory and through the
processed_update table the router writes in the same transaction as its answer, so a restart
does not replay them either.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
import signal
from collections import OrderedDict
from collections.abc import Coroutine
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.platforms import startup, zalo_webhook
from bot.platforms.keyed_locks import KeyedLocks
from bot.platforms.zalo_client import (
    BotInfo,
    RetryPolicy,
    ZaloClient,
    ZaloError,
    ZaloForbidden,
    ZaloRejected,
    ZaloUnauthorized,
    ZaloUpdate,
)
from core.model import (
    ZALO_CAPABILITIES,
    Chat,
    ChatEvent,
    ChatEventKind,
    ChatKind,
    Incoming,
    Reply,
    User,
)
from core.ports import MessageHandler
from core.render import file_summary, render
from core.settings import Settings
from data.store import processed
from data.store.db import Database
from data.store.models import ProcessedUpdate

log = logging.getLogger(__name__)

PLATFORM = "zalo"
EVENT_TEXT = "message.text.received"
EVENT_IMAGE = "message.image.received"
EVENT_STICKER = "message.sticker.received"
EVENT_UNSUPPORTED = "message.unsupported.received"
DEFAULT_LISTEN = "127.0.0.1:8081"
_MAX_KEY = 64  # processed_update.update_id column width
_PHOTO_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})
_COMMAND = re.compile(r"^/(?P<name>[^\s@/]+)(?:@\S*)?(?:\s+(?P<args>.*))?$", re.DOTALL)
# "@Some Bot Name /lenh …": a mention we could not match by name, followed by a command.
_LEADING_MENTION_COMMAND = re.compile(r"^@[^\n/]*?\s(?=/\S)")

STICKER_REPLY = (
    "Cảm ơn anh/chị! Tôi chỉ đọc được tin nhắn chữ. Anh/chị gõ từ khóa cần tìm, ví dụ: "
    "san bay chu lai, hoặc /trogiup để xem các lệnh."
)
UNSUPPORTED_REPLY = (
    "Xin lỗi, tôi chưa đọc được loại tin nhắn này (tệp, âm thanh, video…). Anh/chị vui lòng "
    "gõ bằng chữ, ví dụ: /tim san bay chu lai, hoặc /trogiup để xem các lệnh."
)


# -- translation (pure) ------------------------------------------------------------------------


@dataclass(frozen=True)
class Translated:
    """What one update means: a message for the core, or a polite answer of our own."""

    key: str | None = None  # dedupe key (chat and message id)
    incoming: Incoming | None = None
    chat: Chat | None = None
    polite: Reply | None = None
    ignored: str = ""


def dedupe_key(chat_id: str, message_id: str) -> str | None:
    """The processed_update key of a message (hashed when too long for the column)."""
    if not message_id:
        return None
    key = f"{chat_id}:{message_id}"
    if len(key) > _MAX_KEY:
        key = "h:" + hashlib.sha256(key.encode()).hexdigest()[:40]
    return key


def strip_mentions(text: str, names: tuple[str, ...]) -> str:
    """Text without '@<bot name>' mentions (and an unknown leading mention before a command)."""
    for name in sorted(names, key=len, reverse=True):
        mention = rf"@{re.escape(name)}(?!\w)"
        text = re.sub(rf"^(\s*/[^\s@/]+){mention}", r"\1", text, flags=re.IGNORECASE)
        text = re.sub(rf"(?<![\w@]){mention}", " ", text, flags=re.IGNORECASE)
    text = re.sub(r"[ \t]{2,}", " ", text).strip().lstrip(",:").strip()
    return _LEADING_MENTION_COMMAND.sub("", text, count=1)


def parse_command(text: str) -> tuple[str, str] | None:
    """Split '/cmd[@bot] args' into (cmd lower-cased, args); None for plain text."""
    match = _COMMAND.match(text.strip())
    if match is None:
        return None
    return match["name"].lower(), (match["args"] or "").strip()


def translate(update: ZaloUpdate, me: BotInfo) -> Translated:
    """Turn one Zalo update into what the core should see."""
    message = update.message
    if message is None or not message.chat.id:
        return Translated(ignored=f"event {update.event_name or '?'} without a message")
    chat = Chat(
        id=message.chat.id, kind=ChatKind.GROUP if message.chat.is_group else ChatKind.PRIVATE
    )
    key = dedupe_key(chat.id, message.message_id)
    if message.sender.is_bot or (me.id and message.sender.id == me.id):
        return Translated(key=key, chat=chat, ignored="message from a bot")
    event = update.event_name
    if event == EVENT_TEXT:
        text, file_ref = message.text or "", None
    elif event == EVENT_IMAGE:
        text, file_ref = message.caption or message.text or "", message.photo_url
    else:
        polite = Reply(STICKER_REPLY if event == EVENT_STICKER else UNSUPPORTED_REPLY)
        if chat.kind is ChatKind.GROUP:  # never chatter in groups about what we cannot read
            return Translated(key=key, chat=chat, ignored=f"{event} in a group")
        return Translated(key=key, chat=chat, polite=polite, ignored=event)
    if chat.kind is ChatKind.GROUP:
        text = strip_mentions(text, me.names)
    if not text.strip() and file_ref is None:
        return Translated(key=key, chat=chat, ignored="empty message")
    parsed = parse_command(text)
    incoming = Incoming(
        platform=PLATFORM,
        chat=chat,
        user=User(id=message.sender.id, display_name=message.sender.display_name),
        text=text,
        command=parsed[0] if parsed else None,
        args=parsed[1] if parsed else "",
        message_id=message.message_id,
        update_id=key,
        addressed=True,
        file_ref=file_ref,
        raw=update.raw,
    )
    return Translated(key=key, incoming=incoming, chat=chat)


# -- adapter ------------------------------------------------------------------------------------


class SeenLog(Protocol):
    """Persistent memory of handled messages (blocking calls; run in a worker thread)."""

    def seen(self, key: str) -> bool:
        """Whether the message was handled before (in this or an earlier process)."""
        ...

    def record(self, key: str) -> None:
        """Remember a message answered without the core."""
        ...


class ProcessedLog:
    """SeenLog over the processed_update table (the router claims keys there itself)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def seen(self, key: str) -> bool:
        """Whether processed_update holds the key for Zalo."""
        with self.database.unit_of_work() as session:
            query = select(ProcessedUpdate.id).where(
                ProcessedUpdate.platform == PLATFORM, ProcessedUpdate.update_id == key
            )
            return session.scalars(query).first() is not None

    def record(self, key: str) -> None:
        """Claim the key now."""
        with self.database.unit_of_work() as session:
            processed.claim(session, PLATFORM, key, datetime.now(UTC))


@dataclass(frozen=True)
class ZaloOptions:
    """Knobs of the adapter (tests shorten the timeouts)."""

    poll_timeout: int = 30  # getUpdates long-poll seconds
    request_timeout: float = 10.0  # seconds for one API call
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    error_backoff: float = 1.0  # first wait after a failed getUpdates
    max_error_backoff: float = 30.0
    concurrency: int = 4  # messages handled by the core at once (one at a time per chat)
    typing: bool = True  # show "typing…" while the core works
    file_ttl: float = 24 * 3600  # seconds a file link stays valid
    remembered: int = 10_000  # message keys kept in memory for fast dedupe

    @classmethod
    def from_settings(cls, settings: Settings) -> ZaloOptions:
        """Read DAUMOI_ZALO_TIMEOUT and DAUMOI_ZALO_FILE_TTL_HOURS."""
        extra = settings.extra
        options = cls()
        if value := extra.get("DAUMOI_ZALO_TIMEOUT", "").strip():
            options = replace(options, request_timeout=float(value))
        if value := extra.get("DAUMOI_ZALO_FILE_TTL_HOURS", "").strip():
            options = replace(options, file_ttl=float(value) * 3600)
        return options


@dataclass(frozen=True)
class _Outgoing:
    chat_id: str
    reply: Reply


class ZaloAdapter:
    """Runs updates through the core and sends the answers, one chat at a time."""

    def __init__(
        self,
        core: MessageHandler,
        client: ZaloClient,
        me: BotInfo,
        *,
        seen: SeenLog | None = None,
        files: zalo_webhook.FileStore | None = None,
        public_url: str = "",
        timezone: str = "Asia/Ho_Chi_Minh",
        options: ZaloOptions | None = None,
    ) -> None:
        self.core = core
        self.client = client
        self.me = me
        self.seen = seen
        self.files = files if public_url else None
        self.public_url = public_url.rstrip("/")
        self.options = options or ZaloOptions()
        self._zone = ZoneInfo(timezone)
        self._gate = asyncio.Semaphore(max(1, self.options.concurrency))
        self._handling = KeyedLocks()
        self._sending = KeyedLocks()
        self._remembered: OrderedDict[str, None] = OrderedDict()
        self._background: set[asyncio.Task[None]] = set()

    # -- receiving --------------------------------------------------------------------------

    def submit(self, update: ZaloUpdate) -> None:
        """Process an update in the background (polling); per-chat order is kept."""
        self._spawn(self.process(update))

    async def process(self, update: ZaloUpdate) -> None:
        """Handle one update completely (core, then sending); never raises."""
        chat_id = update.message.chat.id if update.message else ""
        try:
            async with self._handling.hold(chat_id):
                await self._deliver(await self._handle(update))
        except Exception:
            log.exception("Zalo update %s could not be processed", update.event_name)

    async def accept(self, update: ZaloUpdate) -> bool:
        """Handle an update now and send its answers in the background (webhook mode)."""
        chat_id = update.message.chat.id if update.message else ""
        try:
            async with self._handling.hold(chat_id):
                outgoing = await self._handle(update)
        except Exception:
            log.exception("Zalo webhook update %s failed", update.event_name)
            return False
        self._spawn(self._deliver_logged(outgoing))
        return True

    async def drain(self) -> None:
        """Wait for background work to finish (at shutdown)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _handle(self, update: ZaloUpdate) -> list[_Outgoing]:
        translated = translate(update, self.me)
        key = translated.key
        if key is not None and await self._already_seen(key):
            log.debug("Zalo message %s delivered again; ignored", key)
            return []
        if translated.incoming is None:
            if translated.polite is None or translated.chat is None:
                log.debug("Zalo update ignored: %s", translated.ignored)
                return []
            if key is not None:
                self._remember(key)
                if self.seen is not None:
                    await asyncio.to_thread(self.seen.record, key)
            return [_Outgoing(translated.chat.id, translated.polite)]
        incoming = translated.incoming
        if self.options.typing:
            self._spawn(self._typing(incoming.chat.id))
        async with self._gate:
            replies = await asyncio.to_thread(self.core.handle, incoming)
        if key is not None:
            self._remember(key)
        return [_Outgoing(reply.chat_id or incoming.chat.id, reply) for reply in replies]

    async def _already_seen(self, key: str) -> bool:
        if key in self._remembered:
            return True
        if self.seen is None:
            return False
        try:
            found = await asyncio.to_thread(self.seen.seen, key)
        except Exception:  # the router's own claim still prevents a double update
            log.exception("could not check whether Zalo message %s was handled", key)
            return False
        if found:
            self._remember(key)
        return found

    def _remember(self, key: str) -> None:
        self._remembered[key] = None
        while len(self._remembered) > self.options.remembered:
            self._remembered.popitem(last=False)

    async def _typing(self, chat_id: str) -> None:
        with suppress(ZaloError):
            await self.client.send_chat_action(chat_id, "typing")

    # -- sending ----------------------------------------------------------------------------

    async def _deliver_logged(self, outgoing: list[_Outgoing]) -> None:
        try:
            await self._deliver(outgoing)
        except Exception:
            log.exception("Zalo delivery failed")

    async def _deliver(self, outgoing: list[_Outgoing]) -> None:
        for item in outgoing:
            await self.send(item.chat_id, item.reply)

    async def send(self, chat_id: str, reply: Reply) -> list[str]:
        """Send one reply (split, numbered, file as link); [] if the bot left the chat."""
        reply, photo = self._place_file(reply)
        ids: list[str] = []
        async with self._sending.hold(chat_id):
            try:
                for part in render(reply, ZALO_CAPABILITIES):
                    if part.text.strip():
                        ids.append(await self._send_text(chat_id, part.text))
                if photo is not None:
                    sent = await self.client.send_photo(chat_id, photo[0], photo[1])
                    ids.append(sent.message_id)
            except ZaloForbidden as exc:
                log.info("Zalo chat %s is closed to the bot: %s", chat_id, exc)
                await self._chat_gone(chat_id)
            except ZaloError as exc:
                log.warning("reply to Zalo chat %s dropped: %s", chat_id, exc)
        return ids

    async def _send_text(self, chat_id: str, text: str) -> str:
        try:
            return (await self.client.send_message(chat_id, text)).message_id
        except ZaloRejected as exc:  # one bad piece must not swallow the rest of the reply
            log.warning("Zalo refused a message to %s: %s", chat_id, exc)
            return ""

    def _place_file(self, reply: Reply) -> tuple[Reply, tuple[str, str] | None]:
        """Turn the file into a link (and a photo for images) when files can be served."""
        file = reply.file
        if file is None or self.files is None:
            return reply, None
        path, expires_at = self.files.add(file)
        url = f"{self.public_url}{path}"
        until = datetime.fromtimestamp(expires_at, self._zone).strftime("%H:%M ngày %d/%m/%Y")
        line = f"{file_summary(file)}\nTải về: {url}\n(Liên kết có hiệu lực đến {until}.)"
        text = f"{reply.text.rstrip()}\n\n{line}" if reply.text.strip() else line
        photo = (url, file.summary or file.filename) if file.mime_type in _PHOTO_TYPES else None
        return replace(reply, text=text, file=None), photo

    async def _chat_gone(self, chat_id: str) -> None:
        kind = ChatKind.GROUP  # only groups can shut the bot out; a person just stops writing
        event = ChatEvent(PLATFORM, Chat(id=chat_id, kind=kind), ChatEventKind.BOT_REMOVED)
        try:
            await asyncio.to_thread(self.core.handle_event, event)
        except Exception:
            log.exception("core failed on Zalo chat event for %s", chat_id)


# -- running ------------------------------------------------------------------------------------


async def identify(client: ZaloClient) -> BotInfo:
    """getMe: TokenRejected for a refused token (401, or 404: no such bot), PlatformUnreachable
    for a network failure, a timeout or a 5xx."""
    try:
        return await client.get_me()
    except (ZaloUnauthorized, ZaloRejected):
        raise startup.TokenRejected("Zalo refused the token") from None
    except ZaloError as exc:
        raise startup.PlatformUnreachable(str(exc)) from None


async def _wait(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep up to seconds; True if stop was set meanwhile."""
    with suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()


async def poll(
    client: ZaloClient, adapter: ZaloAdapter, stop: asyncio.Event, options: ZaloOptions
) -> None:
    """Long-poll getUpdates until stop is set, handing each update to the adapter."""
    delay = options.error_backoff
    stopping = asyncio.create_task(stop.wait())
    try:
        while not stop.is_set():
            request = asyncio.create_task(client.get_updates(options.poll_timeout))
            await asyncio.wait({request, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not request.done():
                request.cancel()
                with suppress(asyncio.CancelledError, ZaloError):
                    await request
                break
            try:
                updates = request.result()
            except ZaloUnauthorized:
                raise
            except ZaloError as exc:
                log.warning("Zalo getUpdates failed (%s); retrying in %.1fs", exc, delay)
                if await _wait(stop, delay):
                    break
                delay = min(delay * 2, options.max_error_backoff)
                continue
            delay = options.error_backoff
            for update in updates:
                adapter.submit(update)
    finally:
        stopping.cancel()


def _webhook_settings(settings: Settings) -> tuple[str, str, str]:
    """(webhook URL or '', secret, listen address) from DAUMOI_ZALO_* variables."""
    extra = settings.extra
    url = extra.get("DAUMOI_ZALO_WEBHOOK_URL", "").strip()
    secret = extra.get("DAUMOI_ZALO_WEBHOOK_SECRET", "").strip() or secrets.token_urlsafe(32)
    listen = extra.get("DAUMOI_ZALO_LISTEN", "").strip() or DEFAULT_LISTEN
    return url, secret, listen


async def serve(
    settings: Settings,
    core: MessageHandler,
    stop: asyncio.Event,
    options: ZaloOptions | None = None,
    *,
    seen: SeenLog | None = None,
) -> None:
    """Serve Zalo (polling, or webhook when DAUMOI_ZALO_WEBHOOK_URL is set) until stop."""
    if not settings.zalo_token:
        raise ValueError("DAUMOI_ZALO_TOKEN is not set")
    options = options or ZaloOptions.from_settings(settings)
    database = None
    if seen is None:
        database = Database.connect(settings.database_url, migrate=False)
        seen = ProcessedLog(database)
    webhook_url, secret, listen = _webhook_settings(settings)
    client = ZaloClient(
        settings.zalo_token,
        settings.zalo_api_url,
        timeout=options.request_timeout,
        retry=options.retry,
    )
    runner = None
    try:
        me = await identify(client)
        log.info("Zalo bot %s (%s) ready", me.name or "?", me.id)
        files = zalo_webhook.FileStore(options.file_ttl) if settings.public_url else None
        adapter = ZaloAdapter(
            core,
            client,
            me,
            seen=seen,
            files=files,
            public_url=settings.public_url,
            timezone=settings.timezone,
            options=options,
        )
        if webhook_url or files is not None:
            path = (urlsplit(webhook_url).path or "/") if webhook_url else ""
            app = zalo_webhook.make_app(
                sink=adapter if webhook_url else None, path=path, secret=secret, files=files
            )
            runner = await zalo_webhook.start(app, listen)
        try:
            if webhook_url:
                await client.set_webhook(webhook_url, secret)
                log.info("Zalo webhook registered (listening on %s)", listen)
                await stop.wait()
            else:
                with suppress(ZaloError):
                    await client.delete_webhook()
                await poll(client, adapter, stop, options)
        finally:
            await adapter.drain()
    finally:
        if runner is not None:
            await runner.cleanup()
        await client.aclose()
        if database is not None:
            database.engine.dispose()


def quiet_http_logs() -> None:
    """Keep per-request HTTP client logs out of INFO."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


def run(settings: Settings, core: MessageHandler) -> int:
    """Serve Zalo until SIGINT or SIGTERM (blocking; also works in a non-main thread).

    An unreachable API is retried with backoff (DAUMOI_CONNECT_RETRY_FIRST/_MAX seconds); a
    refused token ends the run with one line and 1.
    """
    if not settings.zalo_token:
        raise ValueError("DAUMOI_ZALO_TOKEN is not set")
    quiet_http_logs()
    backoff = startup.Backoff.from_settings(settings)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, stop.set)
        await startup.keep_connecting(
            lambda: serve(settings, core, stop), stop, platform="Zalo", backoff=backoff
        )

    try:
        asyncio.run(main())
    except (startup.TokenRejected, ZaloUnauthorized):
        log.error(startup.rejected_message("Zalo", "DAUMOI_ZALO_TOKEN"))
        return 1
    return 0
