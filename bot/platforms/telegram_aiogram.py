"""Telegram adapter on aiogram 3: polling or webhook, aiolimiter flood control for sends."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    AiogramError,
    ClientDecodeError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteWebhook,
    GetChatMember,
    GetMe,
    GetUpdates,
    Response,
    SendDocument,
    SendMessage,
    SendPhoto,
    SetMyCommands,
    SetWebhook,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from aiolimiter import AsyncLimiter

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

# aiogram builds `Response[<result type>]` on every call and pydantic caches parametrised
# generics only weakly: once a garbage collection drops them, each request rebuilds the model
# (~20 ms of CPU). Holding them here keeps the cache warm for the methods the bot uses.
_RESPONSE_TYPES = tuple(
    Response[method.__returning__]  # type: ignore[name-defined]
    for method in (
        AnswerCallbackQuery,
        DeleteWebhook,
        GetChatMember,
        GetMe,
        GetUpdates,
        SendDocument,
        SendMessage,
        SendPhoto,
        SetMyCommands,
        SetWebhook,
    )
)


class FloodControl(BaseRequestMiddleware):
    """Telegram's flood limits for aiogram, like PTB's AIORateLimiter: ≤ N/s overall,
    ≤ M/min per group, and a 429 pauses every request for retry_after before retrying."""

    def __init__(
        self,
        overall_per_second: float,
        group_rate: float,
        retries: int,
        group_window: float = 60,
    ) -> None:
        self._overall = AsyncLimiter(overall_per_second, 1) if overall_per_second else None
        self._group_rate = group_rate
        self._group_window = group_window
        self._groups: dict[str, AsyncLimiter] = {}
        self._retries = retries
        self._resume = asyncio.Event()
        self._resume.set()

    def _group(self, chat_id: str) -> AsyncLimiter | None:
        if not self._group_rate or not chat_id.startswith("-"):
            return None
        if len(self._groups) > 512:  # forget idle groups
            for key, idle in list(self._groups.items()):
                if key != chat_id and idle.has_capacity(idle.max_rate):
                    del self._groups[key]
        if chat_id not in self._groups:
            self._groups[chat_id] = AsyncLimiter(self._group_rate, self._group_window)
        return self._groups[chat_id]

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        chat_id = getattr(method, "chat_id", None)
        if chat_id is None:  # getUpdates, getMe, setMyCommands …
            return await make_request(bot, method)
        group = self._group(str(chat_id))
        for attempt in range(self._retries + 1):
            try:
                if group is not None:
                    await group.acquire()
                if self._overall is not None:
                    await self._overall.acquire()
                await self._resume.wait()
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if attempt == self._retries:
                    raise
                log.info("flood control: waiting %ss", exc.retry_after)
                self._resume.clear()
                try:
                    await asyncio.sleep(exc.retry_after + 0.1)
                finally:
                    self._resume.set()
        raise AssertionError("unreachable")


@contextmanager
def _neutral_errors() -> Iterator[None]:
    """Re-raise aiogram errors as the bridge's neutral ones."""
    try:
        yield
    except TelegramForbiddenError as exc:
        raise ChatGone(exc.message) from exc
    except TelegramMigrateToChat as exc:
        raise ChatMigrated(str(exc.migrate_to_chat_id)) from exc
    except TelegramRetryAfter as exc:
        raise RetryLater(float(exc.retry_after)) from exc
    except TelegramEntityTooLarge as exc:  # a TelegramNetworkError subclass, but final
        raise PermanentError(exc.message) from exc
    except (TelegramNetworkError, TelegramServerError) as exc:  # timeouts, connection, 5xx
        raise TransientError(exc.message) from exc
    except ClientDecodeError as exc:  # e.g. an HTML error page from a proxy
        raise TransientError(str(exc)) from exc
    except AiogramError as exc:
        raise PermanentError(str(exc)) from exc


def _chat(chat_id: str) -> int | str:
    return int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id


def _markup(buttons: Keyboard | None) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    rows = [
        [InlineKeyboardButton(text=label, callback_data=data) for label, data in row]
        for row in buttons
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


class AiogramApi:
    """The bridge's send primitives on an aiogram Bot (flood control in its session)."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send_text(self, chat_id: str, text: str, buttons: Keyboard | None) -> str:
        """Send a text message; return its message id."""
        with _neutral_errors():
            message = await self.bot.send_message(
                chat_id=_chat(chat_id), text=text, reply_markup=_markup(buttons)
            )
        return str(message.message_id)

    async def send_file(
        self, chat_id: str, file: Attachment, caption: str, buttons: Keyboard | None, photo: bool
    ) -> str:
        """Send a document (or photo); return its message id."""
        upload = BufferedInputFile(file.content, filename=file.filename)
        markup = _markup(buttons)
        message: Message
        with _neutral_errors():
            if photo:
                message = await self.bot.send_photo(
                    chat_id=_chat(chat_id),
                    photo=upload,
                    caption=caption or None,
                    reply_markup=markup,
                )
            else:
                message = await self.bot.send_document(
                    chat_id=_chat(chat_id),
                    document=upload,
                    caption=caption or None,
                    reply_markup=markup,
                )
        return str(message.message_id)

    async def answer_callback(self, callback_id: str) -> None:
        """Acknowledge a button press."""
        with _neutral_errors():
            await self.bot.answer_callback_query(callback_query_id=callback_id)

    async def chat_member_status(self, chat_id: str, user_id: str) -> str:
        """The user's status in the chat (getChatMember)."""
        with _neutral_errors():
            member = await self.bot.get_chat_member(chat_id=_chat(chat_id), user_id=int(user_id))
        return str(getattr(member.status, "value", member.status))


def build_bot(settings: Settings, options: AdapterOptions) -> Bot:
    """An aiogram Bot pointed at settings.telegram_api_url, with flood control."""
    session = AiohttpSession(
        api=TelegramAPIServer.from_base(settings.telegram_api_url),
        timeout=options.request_timeout,
        limit=max(8, options.concurrency),
    )
    session.middleware(
        FloodControl(
            options.overall_per_second,
            options.group_per_minute,
            options.flood_retries,
            group_window=options.group_window,
        )
    )
    return Bot(settings.telegram_token, session=session)


async def _register_commands(bot: Bot) -> None:
    from bot.commands import menu

    commands = [
        BotCommand(command=name, description=description)
        for name, description in command_menu(menu())
    ]
    try:
        await bot.set_my_commands(commands)
    except AiogramError as exc:
        log.warning("setMyCommands failed: %s", exc)


async def _identity(bot: Bot) -> BotIdentity:
    """getMe: the first call, so a refused token or an unreachable API shows here."""
    try:
        me = await bot.me()
    except (TelegramUnauthorizedError, TelegramNotFound):
        raise TokenRejected("Telegram refused the token") from None
    except (TelegramNetworkError, TelegramServerError, ClientDecodeError) as exc:
        raise PlatformUnreachable(f"{type(exc).__name__}: {exc}") from None
    return BotIdentity(id=str(me.id), username=me.username or "")


async def serve(
    settings: Settings, core: MessageHandler, stop: asyncio.Event, options: AdapterOptions
) -> None:
    """Run the bot (polling, or webhook when settings.webhook_url is set) until stop is set."""
    bot = build_bot(settings, options)
    try:
        bridge = TelegramBridge(core, AiogramApi(bot), await _identity(bot), policy=options.retry)
        await _register_commands(bot)
        try:
            if settings.webhook_url:

                async def set_webhook(url: str, secret: str) -> None:
                    with _neutral_errors():
                        await bot.set_webhook(
                            url=url, secret_token=secret, allowed_updates=list(ALLOWED_UPDATES)
                        )

                await webhook.serve(settings, bridge, set_webhook, stop)
            else:
                await _poll(bot, bridge, stop, options)
        finally:
            await bridge.drain()
    finally:
        await bot.session.close()


async def _poll(
    bot: Bot, bridge: TelegramBridge, stop: asyncio.Event, options: AdapterOptions
) -> None:
    dispatcher = Dispatcher()

    async def on_update(_event: object, event_update: Update) -> None:
        await bridge.process(snapshot(event_update))

    for observer in (dispatcher.message, dispatcher.callback_query, dispatcher.my_chat_member):
        observer.register(on_update)
    with _neutral_errors():
        await bot.delete_webhook()  # getUpdates is refused while a webhook is set
    polling = asyncio.create_task(
        dispatcher.start_polling(
            bot,
            polling_timeout=options.poll_timeout,
            handle_signals=False,
            close_bot_session=False,
            allowed_updates=list(ALLOWED_UPDATES),
            tasks_concurrency_limit=options.concurrency,
        )
    )
    log.info("Telegram (aiogram) polling as @%s", bridge.me.username)
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({polling, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        if not polling.done():
            await dispatcher.stop_polling()
        await polling


@asynccontextmanager
async def open_sender(
    settings: Settings, core: MessageHandler, options: AdapterOptions
) -> AsyncIterator[TelegramBridge]:
    """A rate-limited sender (for reminders) sharing the adapter's send path."""
    bot = build_bot(settings, options)
    try:
        bridge = TelegramBridge(core, AiogramApi(bot), await _identity(bot), policy=options.retry)
        try:
            yield bridge
        finally:
            await bridge.drain()
    finally:
        await bot.session.close()
