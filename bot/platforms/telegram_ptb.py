"""Telegram on python-telegram-bot 22: its ChatClient, polling or webhook (no rate limiter:
pacing is the platform's PlatformLimiter)."""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import timedelta
from typing import Any

from telegram import Bot as PtbBot
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    MenuButtonWebApp,
    Update,
    WebAppInfo,
)
from telegram import error as ptb
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot.bridge import AdapterOptions, ChatBridge
from bot.platforms import downloads, webhook
from bot.platforms.startup import PlatformUnreachable, TokenRejected
from bot.platforms.telegram_common import (
    ALLOWED_UPDATES,
    CHAT_ADMIN_STATUSES,
    GONE_HINTS,
    MENU_BUTTON_TEXT,
    NOT_MODIFIED_HINT,
    PLATFORM,
    TOPIC_HINTS,
    BotIdentity,
    callback_text,
    command_menu,
    keyboard,
    menu_button_url,
    thread,
    translate_update,
    web_app_buttons,
)
from core import chat_client as port
from core.limits import TELEGRAM
from core.model import Attachment, Choice, FileTooBig
from core.settings import Settings

log = logging.getLogger(__name__)
PHOTO_TYPES = frozenset({"image/png", "image/jpeg", "image/webp"})


@contextmanager
def _startup_errors() -> Iterator[None]:
    """A refused token or an unreachable Bot API as neutral errors, without PTB's message
    (its InvalidToken names the token)."""
    try:
        yield
    except ptb.InvalidToken:
        raise TokenRejected("Telegram refused the token") from None
    except ptb.BadRequest:
        raise
    except ptb.NetworkError as exc:  # connection failures, timeouts, 5xx
        raise PlatformUnreachable(f"{type(exc).__name__}: {exc.message}") from None


@contextmanager
def _port_errors() -> Iterator[None]:
    """The one place python-telegram-bot's errors become the port's."""
    try:
        yield
    except ptb.ChatMigrated as exc:
        raise port.ChatGone(str(exc), new_chat_id=str(exc.new_chat_id)) from exc
    except ptb.RetryAfter as exc:
        raise port.RetryAfter(_seconds(exc)) from exc
    except ptb.InvalidToken as exc:
        raise port.Forbidden("Telegram refused the token") from exc
    except ptb.Forbidden as exc:  # 403: kicked, blocked, deactivated
        raise port.ChatGone(str(exc)) from exc
    except ptb.BadRequest as exc:  # a NetworkError subclass, but final
        if any(hint in str(exc).lower() for hint in GONE_HINTS):
            raise port.ChatGone(str(exc)) from exc
        if NOT_MODIFIED_HINT in str(exc).lower():
            raise port.NotModified(str(exc)) from exc
        if any(hint in str(exc).lower() for hint in TOPIC_HINTS):
            raise port.TopicGone(str(exc)) from exc
        raise port.BadRequest(str(exc)) from exc
    except ptb.NetworkError as exc:  # timeouts, connection errors, 5xx
        raise port.Transient(str(exc)) from exc
    except ptb.TelegramError as exc:
        raise port.BadRequest(str(exc)) from exc


def _seconds(exc: ptb.RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB warns about int time periods until PTB_TIMEDELTA
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _chat(chat_id: str) -> int | str:
    return int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id


def _markup(choices: Sequence[Choice], chat_id: str) -> InlineKeyboardMarkup | None:
    buttons = [
        [InlineKeyboardButton(label, callback_data=data) for label, data in row]
        for row in keyboard(choices) or []
    ]
    buttons += [
        [InlineKeyboardButton(label, web_app=WebAppInfo(url))]
        for label, url in web_app_buttons(choices, chat_id)
    ]
    return InlineKeyboardMarkup(buttons) if buttons else None


class PtbClient:
    """The ChatClient on a PTB Bot."""

    platform = PLATFORM
    limits = TELEGRAM

    def __init__(self, application: Application, identity: BotIdentity) -> None:  # type: ignore[type-arg]
        self.application = application
        self.bot: PtbBot = application.bot
        self.identity = identity

    async def send_text(
        self,
        chat_id: str,
        text: str,
        choices: Sequence[Choice] = (),
        *,
        thread_id: str | None = None,
    ) -> str:
        """Send a text message (into a forum topic when thread_id is set); its message id."""
        with _port_errors():
            message = await self.bot.send_message(
                _chat(chat_id),
                text,
                parse_mode="HTML",
                reply_markup=_markup(choices, chat_id),
                message_thread_id=thread(thread_id),
            )
        return str(message.message_id)

    async def send_file(
        self,
        chat_id: str,
        file: Attachment,
        caption: str = "",
        choices: Sequence[Choice] = (),
        *,
        thread_id: str | None = None,
    ) -> str:
        """Send a document (a photo for images); its message id."""
        upload = InputFile(file.content, filename=file.filename)
        options: dict[str, Any] = {
            "caption": caption or None,
            "parse_mode": "HTML" if caption else None,
            "reply_markup": _markup(choices, chat_id),
            "message_thread_id": thread(thread_id),
        }
        with _port_errors():
            if file.mime_type in PHOTO_TYPES:
                message = await self.bot.send_photo(_chat(chat_id), upload, **options)
            else:
                message = await self.bot.send_document(_chat(chat_id), upload, **options)
        return str(message.message_id)

    async def edit(
        self, chat_id: str, message_id: str, text: str, choices: Sequence[Choice] = ()
    ) -> None:
        """Replace the text and buttons of a message the bot sent (empty text: the buttons)."""
        with _port_errors():
            if text:
                await self.bot.edit_message_text(
                    text,
                    _chat(chat_id),
                    int(message_id),
                    parse_mode="HTML",
                    reply_markup=_markup(choices, chat_id),
                )
            else:
                await self.bot.edit_message_reply_markup(
                    _chat(chat_id), int(message_id), reply_markup=_markup(choices, chat_id)
                )

    async def answer_callback(
        self, callback_id: str, text: str = "", *, alert: bool = False
    ) -> None:
        """Acknowledge a button press, with a toast or an alert when text is given."""
        shown = callback_text(text)
        with _port_errors():
            await self.bot.answer_callback_query(
                callback_id, shown, show_alert=True if alert and shown else None
            )

    async def chat_action(
        self, chat_id: str, action: str = "typing", *, thread_id: str | None = None
    ) -> None:
        """Show an activity in the chat (or its forum topic)."""
        with _port_errors():
            await self.bot.send_chat_action(
                _chat(chat_id), action, message_thread_id=thread(thread_id)
            )

    async def is_chat_admin(self, chat_id: str, user_id: str) -> bool | None:
        """Whether the user administers the group (getChatMember)."""
        return await self.member_status(chat_id, user_id) in CHAT_ADMIN_STATUSES

    async def member_status(self, chat_id: str, user_id: str) -> str:
        """The user's status in the chat: "creator", "administrator", "member", …"""
        with _port_errors():
            member = await self.bot.get_chat_member(_chat(chat_id), int(user_id))
        return str(getattr(member.status, "value", member.status))

    async def download(self, file_id: str, limit: int) -> bytes:
        """A sent file's content (getFile, then the file URL); FileTooBig beyond limit bytes."""
        with _port_errors():
            found = await self.bot.get_file(file_id)
            if found.file_size is not None and found.file_size > limit:
                raise FileTooBig(f"{found.file_size} bytes")
            content = bytes(await found.download_as_bytearray())
        if len(content) > limit:
            raise FileTooBig(f"{len(content)} bytes")
        return content


def build_application(settings: Settings, options: AdapterOptions) -> Application:  # type: ignore[type-arg]
    """A PTB Application pointed at settings.telegram_api_url (polling unless a webhook)."""
    base = settings.telegram_api_url.rstrip("/")
    timeout = options.request_timeout
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_token)
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .concurrent_updates(options.concurrency)
        .connect_timeout(timeout)
        .read_timeout(timeout)
        .write_timeout(timeout)
        .pool_timeout(timeout)
        .connection_pool_size(max(8, options.concurrency))
        .get_updates_connect_timeout(timeout)
        .get_updates_read_timeout(timeout)
        .get_updates_pool_timeout(timeout)
    )
    if settings.webhook_url:
        builder = builder.updater(None)
    return builder.build()


@asynccontextmanager
async def connect(settings: Settings, options: AdapterOptions) -> AsyncIterator[PtbClient]:
    """getMe and the HTTP pools; the client until the block ends."""
    application = build_application(settings, options)
    try:
        with _startup_errors():
            await application.initialize()
    except BaseException:
        await application.bot.shutdown()  # PTB leaves its pools open when getMe fails
        raise
    try:
        bot = application.bot
        yield PtbClient(application, BotIdentity(id=str(bot.id), username=bot.username or ""))
    finally:
        await application.shutdown()


async def _register_commands(bot: PtbBot) -> None:
    """Command menus by scope (groups, private chats, each admin's chat) and the descriptions."""
    from bot.commands import DESCRIPTION, SHORT_DESCRIPTION, menus_for

    for menu in await asyncio.to_thread(menus_for, PLATFORM):
        commands = [
            BotCommand(name, description) for name, description in command_menu(menu.commands)
        ]
        try:
            await bot.set_my_commands(commands, scope=_scope(menu.scope, menu.chat_id))
        except ptb.TelegramError as exc:
            log.warning("setMyCommands (%s) failed: %s", menu.scope, exc)
    try:
        await bot.set_my_description(DESCRIPTION)
        await bot.set_my_short_description(SHORT_DESCRIPTION)
    except ptb.TelegramError as exc:
        log.warning("setMyDescription failed: %s", exc)


async def _set_menu_button(bot: PtbBot, web_url: str) -> None:
    """The chat menu button opens the web view as a Mini App (when it has an HTTPS address)."""
    url = menu_button_url(web_url)
    if url is None:
        return
    try:
        await bot.set_chat_menu_button(
            menu_button=MenuButtonWebApp(MENU_BUTTON_TEXT, WebAppInfo(url))
        )
    except ptb.TelegramError as exc:
        log.warning("setChatMenuButton failed: %s", exc)


def _scope(scope: str, chat_id: str | None) -> Any:
    """The BotCommandScope of a menu."""
    from telegram import (
        BotCommandScopeAllGroupChats,
        BotCommandScopeAllPrivateChats,
        BotCommandScopeChat,
    )

    from bot.commands import GROUP_CHATS, PRIVATE_CHATS

    if scope == GROUP_CHATS:
        return BotCommandScopeAllGroupChats()
    if scope == PRIVATE_CHATS:
        return BotCommandScopeAllPrivateChats()
    return BotCommandScopeChat(_chat(chat_id or ""))


async def _log_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("error while handling %r", update, exc_info=context.error)


async def receive(
    settings: Settings,
    client: PtbClient,
    bridge: ChatBridge,
    stop: asyncio.Event,
    options: AdapterOptions,
) -> None:
    """Poll (or serve the webhook when settings.webhook_url is set) until stop is set."""
    application = client.application
    me = client.identity

    async def on_update(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        await bridge.process(downloads.attach(translate_update(update, me), client.download))

    application.add_handler(TypeHandler(Update, on_update))
    application.add_error_handler(_log_error)
    await _register_commands(application.bot)
    await _set_menu_button(application.bot, settings.config.web_url)
    await application.start()
    try:
        if application.updater is not None:
            with _startup_errors():
                await application.updater.start_polling(
                    poll_interval=0,
                    timeout=timedelta(seconds=options.poll_timeout),
                    bootstrap_retries=3,
                    allowed_updates=list(ALLOWED_UPDATES),
                )
            log.info("Telegram (python-telegram-bot) polling as @%s", me.username)
            await stop.wait()
            await application.updater.stop()
        else:

            async def set_webhook(url: str, secret: str) -> None:
                with _port_errors():
                    await client.bot.set_webhook(
                        url, secret_token=secret, allowed_updates=list(ALLOWED_UPDATES)
                    )

            def parse(body: dict[str, Any]) -> Any:
                translated = translate_update(Update.de_json(body, client.bot), me)
                return downloads.attach(translated, client.download)

            await webhook.serve(settings, bridge, parse, set_webhook, stop, options.readiness)
    finally:
        await application.stop()
