"""Telegram adapter on python-telegram-bot 22: polling or webhook, AIORateLimiter for sends."""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import timedelta

from telegram import Bot as PtbBot
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.error import (
    ChatMigrated as PtbChatMigrated,
)
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot.platforms import webhook
from bot.platforms.startup import PlatformUnreachable, TokenRejected
from bot.platforms.telegram_bridge import (
    AdapterOptions,
    ChatGone,
    ChatMigrated,
    PermanentError,
    RetryLater,
    TelegramBridge,
    TransientError,
)
from bot.platforms.telegram_common import (
    ALLOWED_UPDATES,
    BotIdentity,
    Keyboard,
    command_menu,
    snapshot,
)
from core.model import Attachment
from core.ports import MessageHandler
from core.settings import Settings

log = logging.getLogger(__name__)


@contextmanager
def _startup_errors() -> Iterator[None]:
    """A refused token or an unreachable Bot API as neutral errors, without PTB's message
    (its InvalidToken names the token)."""
    try:
        yield
    except InvalidToken:
        raise TokenRejected("Telegram refused the token") from None
    except BadRequest:
        raise
    except NetworkError as exc:  # connection failures, timeouts, 5xx
        raise PlatformUnreachable(f"{type(exc).__name__}: {exc.message}") from None


@contextmanager
def _neutral_errors() -> Iterator[None]:
    """Re-raise python-telegram-bot errors as the bridge's neutral ones."""
    try:
        yield
    except Forbidden as exc:
        raise ChatGone(str(exc)) from exc
    except PtbChatMigrated as exc:
        raise ChatMigrated(str(exc.new_chat_id)) from exc
    except RetryAfter as exc:
        raise RetryLater(_seconds(exc)) from exc
    except BadRequest as exc:  # a NetworkError subclass, but final
        raise PermanentError(str(exc)) from exc
    except NetworkError as exc:  # timeouts, connection errors, 5xx
        raise TransientError(str(exc)) from exc
    except TelegramError as exc:
        raise PermanentError(str(exc)) from exc


def _seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB warns about int time periods until PTB_TIMEDELTA
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _chat(chat_id: str) -> int | str:
    return int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id


def _markup(buttons: Keyboard | None) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=data) for label, data in row]
            for row in buttons
        ]
    )


class PtbApi:
    """The bridge's send primitives on a PTB Bot (already wrapped in the rate limiter)."""

    def __init__(self, bot: PtbBot) -> None:
        self.bot = bot

    async def send_text(self, chat_id: str, text: str, buttons: Keyboard | None) -> str:
        """Send a text message; return its message id."""
        with _neutral_errors():
            message = await self.bot.send_message(
                _chat(chat_id), text, reply_markup=_markup(buttons)
            )
        return str(message.message_id)

    async def send_file(
        self, chat_id: str, file: Attachment, caption: str, buttons: Keyboard | None, photo: bool
    ) -> str:
        """Send a document (or photo); return its message id."""
        upload = InputFile(file.content, filename=file.filename)
        markup = _markup(buttons)
        message: Message
        with _neutral_errors():
            if photo:
                message = await self.bot.send_photo(
                    _chat(chat_id), upload, caption=caption or None, reply_markup=markup
                )
            else:
                message = await self.bot.send_document(
                    _chat(chat_id), upload, caption=caption or None, reply_markup=markup
                )
        return str(message.message_id)

    async def answer_callback(self, callback_id: str) -> None:
        """Acknowledge a button press."""
        with _neutral_errors():
            await self.bot.answer_callback_query(callback_id)

    async def chat_member_status(self, chat_id: str, user_id: str) -> str:
        """The user's status in the chat (getChatMember)."""
        with _neutral_errors():
            member = await self.bot.get_chat_member(_chat(chat_id), int(user_id))
        return str(getattr(member.status, "value", member.status))


def build_application(
    settings: Settings, options: AdapterOptions, *, polling: bool = True
) -> Application:  # type: ignore[type-arg]
    """A PTB Application pointed at settings.telegram_api_url, with rate limiting."""
    base = settings.telegram_api_url.rstrip("/")
    limiter = AIORateLimiter(
        overall_max_rate=options.overall_per_second,
        overall_time_period=1,
        group_max_rate=options.group_per_minute,
        group_time_period=options.group_window,
        max_retries=options.flood_retries,
    )
    timeout = options.request_timeout
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_token)
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .rate_limiter(limiter)
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
    if not polling:
        builder = builder.updater(None)
    return builder.build()


async def _register_commands(bot: PtbBot) -> None:
    from bot.commands import menu

    commands = [BotCommand(name, description) for name, description in command_menu(menu())]
    try:
        await bot.set_my_commands(commands)
    except TelegramError as exc:
        log.warning("setMyCommands failed: %s", exc)


async def _log_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("error while handling %r", update, exc_info=context.error)


async def _initialize(application: Application) -> None:  # type: ignore[type-arg]
    """getMe and the HTTP pools; on failure the pools are closed again (PTB leaves them open)."""
    try:
        with _startup_errors():
            await application.initialize()
    except BaseException:
        await application.bot.shutdown()
        raise


def _identity(bot: PtbBot) -> BotIdentity:
    return BotIdentity(id=str(bot.id), username=bot.username or "")


async def serve(
    settings: Settings, core: MessageHandler, stop: asyncio.Event, options: AdapterOptions
) -> None:
    """Run the bot (polling, or webhook when settings.webhook_url is set) until stop is set."""
    with _startup_errors():
        await _serve(settings, core, stop, options)


async def _serve(
    settings: Settings, core: MessageHandler, stop: asyncio.Event, options: AdapterOptions
) -> None:
    polling = not settings.webhook_url
    application = build_application(settings, options, polling=polling)
    await _initialize(application)
    async with application:  # a clean shutdown of the HTTP pools
        bridge = TelegramBridge(
            core, PtbApi(application.bot), _identity(application.bot), policy=options.retry
        )

        async def on_update(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
            await bridge.process(snapshot(update))

        application.add_handler(TypeHandler(Update, on_update))
        application.add_error_handler(_log_error)
        await _register_commands(application.bot)
        await application.start()
        try:
            if polling:
                assert application.updater is not None
                await application.updater.start_polling(
                    poll_interval=0,
                    timeout=timedelta(seconds=options.poll_timeout),
                    bootstrap_retries=3,
                    allowed_updates=list(ALLOWED_UPDATES),
                )
                log.info("Telegram (python-telegram-bot) polling as @%s", bridge.me.username)
                await stop.wait()
                await application.updater.stop()
            else:

                async def set_webhook(url: str, secret: str) -> None:
                    with _neutral_errors():
                        await application.bot.set_webhook(
                            url, secret_token=secret, allowed_updates=list(ALLOWED_UPDATES)
                        )

                await webhook.serve(settings, bridge, set_webhook, stop)
        finally:
            await application.stop()
            await bridge.drain()


@asynccontextmanager
async def open_sender(
    settings: Settings, core: MessageHandler, options: AdapterOptions
) -> AsyncIterator[TelegramBridge]:
    """A rate-limited sender (for reminders) sharing the adapter's send path."""
    application = build_application(settings, options, polling=False)
    await _initialize(application)
    async with application:
        bridge = TelegramBridge(
            core, PtbApi(application.bot), _identity(application.bot), policy=options.retry
        )
        try:
            yield bridge
        finally:
            await bridge.drain()
