"""Zalo adapter: Zalo Bot API updates -> Translated -> the chat bridge; its ChatClient.

Zalo has no buttons, edits or documents, and text stops at 2,000 characters, so replies are
rendered with core.limits.ZALO: choices become a numbered list answered by the number, long
text is split on line boundaries, and a file becomes a link (when DAUMOI_PUBLIC_URL points at
the instances' HTTP servers; the file is kept in the database, so any instance serves it) or
a one-line summary.

In groups Zalo delivers only messages that mention the bot, so every group message that
arrives is addressed to us; the mention is stripped before the command is parsed. Updates may
be delivered more than once: each carries a delivery key (chat and message id) that the bridge
checks against the processed_update table the router claims in the same transaction as its
answer, so a restart does not replay them either.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from bot.bridge import AdapterOptions, ChatBridge, Connection, Translated
from bot.platforms import downloads, startup, zalo_webhook
from bot.platforms.zalo_client import (
    BotInfo,
    RetryPolicy,
    ZaloClient,
    ZaloUpdate,
)
from core import chat_client as port
from core.limits import ZALO, ZALO_WITH_LINKS
from core.model import Attachment, Chat, ChatKind, Choice, Incoming, Reply, User, parse_command
from core.render import file_summary
from core.settings import Settings

log = logging.getLogger(__name__)

PLATFORM = "zalo"
TITLE = "Zalo"
TOKEN_VARIABLE = "DAUMOI_ZALO_TOKEN"
LIMITS = ZALO
RETRY_ON = (startup.PlatformUnreachable,)
EVENT_TEXT = "message.text.received"
EVENT_IMAGE = "message.image.received"
EVENT_STICKER = "message.sticker.received"
EVENT_UNSUPPORTED = "message.unsupported.received"
DEFAULT_LISTEN = "127.0.0.1:8081"
_MAX_KEY = 64  # processed_update.update_id column width
_PHOTO_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})
_ACTIONS = frozenset({"typing", "upload_photo"})  # the chat actions Zalo knows
# Descriptions of a refusal that mean the bot can no longer reach the chat at all.
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
        command=parsed.name if parsed else None,
        args=parsed.args if parsed else "",
        message_id=message.message_id,
        update_id=key,
        addressed=True,
        file_ref=file_ref,
        raw=update.raw,
    )
    return Translated(key=key, incoming=incoming, chat=chat)


# -- the ChatClient ----------------------------------------------------------------------------


class ZaloChatClient:
    """The ChatClient on the Zalo Bot API; files become expiring links when they can be served."""

    platform = PLATFORM

    def __init__(
        self,
        client: ZaloClient,
        me: BotInfo,
        *,
        files: zalo_webhook.FileLinks | None = None,
        public_url: str = "",
        timezone: str = "Asia/Ho_Chi_Minh",
    ) -> None:
        self.client = client
        self.me = me
        self.files = files if public_url else None
        self.public_url = public_url.rstrip("/")
        self.limits = ZALO_WITH_LINKS if self.files is not None else ZALO
        self._zone = ZoneInfo(timezone)

    async def send_text(
        self,
        chat_id: str,
        text: str,
        choices: Sequence[Choice] = (),
        *,
        thread_id: str | None = None,  # no topics here
    ) -> str:
        """Send text (choices were already numbered into it); its message id."""
        return (await self.client.send_message(chat_id, text, retry=False)).message_id

    async def send_file(
        self,
        chat_id: str,
        file: Attachment,
        caption: str = "",
        choices: Sequence[Choice] = (),
        *,
        thread_id: str | None = None,  # no topics here
    ) -> str:
        """Send the caption with a download link (and the photo itself for images)."""
        kept = await self.files.put(file) if self.files is not None else None
        if kept is None:
            return await self.send_text(chat_id, _joined(caption, file_summary(file)))
        path, expires_at = kept
        url = f"{self.public_url}{path}"
        until = datetime.fromtimestamp(expires_at, self._zone).strftime("%H:%M ngày %d/%m/%Y")
        line = f"{file_summary(file)}\nTải về: {url}\n(Liên kết có hiệu lực đến {until}.)"
        sent = await self.send_text(chat_id, _joined(caption, line))
        if file.mime_type in _PHOTO_TYPES:
            photo = await self.client.send_photo(
                chat_id, url, file.summary or file.filename, retry=False
            )
            sent = photo.message_id
        return sent

    async def edit(
        self, chat_id: str, message_id: str, text: str, choices: Sequence[Choice] = ()
    ) -> None:
        """Zalo cannot edit a message: send the new text instead."""
        await self.send_text(chat_id, text)

    async def answer_callback(
        self, callback_id: str, text: str = "", *, alert: bool = False
    ) -> None:
        """Zalo has no buttons: nothing to acknowledge."""

    async def chat_action(
        self, chat_id: str, action: str = "typing", *, thread_id: str | None = None
    ) -> None:
        """Show "typing…" (or a photo upload) in the chat for a few seconds."""
        await self.client.send_chat_action(chat_id, action if action in _ACTIONS else "typing")

    async def is_chat_admin(self, chat_id: str, user_id: str) -> bool | None:
        """Zalo cannot tell who administers a group."""
        return None


def _joined(text: str, line: str) -> str:
    return f"{text.rstrip()}\n\n{line}" if text.strip() else line


# -- the adapter surface -------------------------------------------------------------------------


def configured(settings: Settings) -> bool:
    """Whether a token is set."""
    return bool(settings.zalo_token)


def polls(settings: Settings) -> bool:
    """Whether updates are fetched by long polling (one instance at a time), not by webhook."""
    return not settings.config.zalo_webhook_url.strip()


async def identify(client: ZaloClient) -> BotInfo:
    """getMe: TokenRejected for a refused token (401, or 404: no such bot), PlatformUnreachable
    for a network failure, a timeout or a 5xx."""
    try:
        return await client.get_me()
    except (port.Forbidden, port.BadRequest, port.ChatGone):
        raise startup.TokenRejected("Zalo refused the token") from None
    except port.SendError as exc:
        raise startup.PlatformUnreachable(str(exc)) from None


def _as_group(chat_id: str) -> Chat:
    # Only groups can shut the bot out; a person just stops writing.
    return Chat(id=chat_id, kind=ChatKind.GROUP)


@asynccontextmanager
async def connect(settings: Settings, options: AdapterOptions) -> AsyncIterator[Connection]:
    """getMe on a fresh connection pool; the connection until the block ends."""
    if not configured(settings):
        raise ValueError("DAUMOI_ZALO_TOKEN is not set")
    retry = options.retry
    client = ZaloClient(
        settings.zalo_token,
        settings.zalo_api_url,
        timeout=options.request_timeout,
        retry=RetryPolicy(retry.attempts, retry.base_delay, retry.max_delay),
    )
    server = None
    try:
        me = await identify(client)
        log.info("Zalo bot %s (%s) ready", me.name or "?", me.id)
        files = _file_links(settings, options)
        chat_client = ZaloChatClient(
            client, me, files=files, public_url=settings.public_url, timezone=settings.timezone
        )
        if files is not None and options.serve_http and polls(settings):  # leader or not
            app = zalo_webhook.make_app(files=files, readiness=options.readiness)
            server = await zalo_webhook.start(app, _webhook_settings(settings)[2])
        yield Connection(chat_client, me.name or me.id, typing=True, chat_for_id=_as_group)
    finally:
        if server is not None:
            await server.cleanup()
        await client.aclose()


def _file_links(settings: Settings, options: AdapterOptions) -> zalo_webhook.FileLinks | None:
    """Where file links are kept: the database when the runner gave it, else memory; None
    without DAUMOI_PUBLIC_URL (files then become a summary line)."""
    if not settings.public_url:
        return None
    if options.file_store is not None:
        return zalo_webhook.DatabaseFileStore(options.file_store, options.file_ttl)
    if not options.serve_http:  # no server of this process would serve them
        return None
    return zalo_webhook.FileStore(options.file_ttl)


def _webhook_settings(settings: Settings) -> tuple[str, str, str]:
    """(webhook URL or '', secret, listen address) from DAUMOI_ZALO_* variables."""
    config = settings.config
    url = config.zalo_webhook_url.strip()
    secret = config.zalo_webhook_secret.strip() or secrets.token_urlsafe(32)
    listen = config.zalo_listen or DEFAULT_LISTEN
    return url, secret, listen


async def receive(
    settings: Settings,
    connection: Connection,
    bridge: ChatBridge,
    stop: asyncio.Event,
    options: AdapterOptions,
) -> None:
    """Poll (or serve the webhook when DAUMOI_ZALO_WEBHOOK_URL is set) until stop; the webhook
    server also serves file links and health checks (when polling, connect serves those)."""
    chat_client = connection.client
    assert isinstance(chat_client, ZaloChatClient)
    client, me = chat_client.client, chat_client.me
    webhook_url, secret, listen = _webhook_settings(settings)
    runner = None
    if webhook_url:
        app = zalo_webhook.make_app(
            bridge=bridge,
            parse=lambda update: downloads.attach_link(translate(update, me)),
            path=urlsplit(webhook_url).path or "/",
            secret=secret,
            files=chat_client.files,
            readiness=options.readiness,
        )
        runner = await zalo_webhook.start(app, listen)
    try:
        if webhook_url:
            await client.set_webhook(webhook_url, secret)
            log.info("Zalo webhook registered (listening on %s)", listen)
            await stop.wait()
        else:
            with suppress(port.SendError):
                await client.delete_webhook()
            await poll(client, me, bridge, stop, options)
    finally:
        if runner is not None:
            await runner.cleanup()


async def _wait(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep up to seconds; True if stop was set meanwhile."""
    with suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()


async def poll(
    client: ZaloClient,
    me: BotInfo,
    bridge: ChatBridge,
    stop: asyncio.Event,
    options: AdapterOptions,
) -> None:
    """Long-poll getUpdates until stop is set, handing each update to the bridge."""
    delay = options.error_backoff
    stopping = asyncio.create_task(stop.wait())
    try:
        while not stop.is_set():
            request = asyncio.create_task(client.get_updates(options.poll_timeout))
            await asyncio.wait({request, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not request.done():
                request.cancel()
                with suppress(asyncio.CancelledError, port.SendError):
                    await request
                break
            try:
                updates = request.result()
            except port.Forbidden:
                raise startup.TokenRejected("Zalo refused the token") from None
            except port.SendError as exc:
                log.warning("Zalo getUpdates failed (%s); retrying in %.1fs", exc, delay)
                if await _wait(stop, delay):
                    break
                delay = min(delay * 2, options.max_error_backoff)
                continue
            delay = options.error_backoff
            for update in updates:
                bridge.submit(downloads.attach_link(translate(update, me)))
    finally:
        stopping.cancel()
