"""Telegram on aiogram 3: its ChatClient, polling or webhook (no flood-control middleware:
pacing is the platform's PlatformLimiter)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
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
    EditMessageReplyMarkup,
    EditMessageText,
    GetChatMember,
    GetFile,
    GetMe,
    GetUpdates,
    Response,
    SendChatAction,
    SendDocument,
    SendMessage,
    SendPhoto,
    SetMyCommands,
    SetWebhook,
)
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonWebApp,
    Message,
    Update,
    WebAppInfo,
)

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

# aiogram builds `Response[<result type>]` on every call and pydantic caches parametrised
# generics only weakly: once a garbage collection drops them, each request rebuilds the model
# (~20 ms of CPU). Holding them here keeps the cache warm for the methods the bot uses.
_RESPONSE_TYPES = tuple(
    Response[method.__returning__]  # type: ignore[name-defined]
    for method in (
        AnswerCallbackQuery,
        DeleteWebhook,
        EditMessageReplyMarkup,
        EditMessageText,
        GetChatMember,
        GetFile,
        GetMe,
        GetUpdates,
        SendChatAction,
        SendDocument,
        SendMessage,
        SendPhoto,
        SetMyCommands,
        SetWebhook,
    )
)


PHOTO_TYPES = frozenset({"image/png", "image/jpeg", "image/webp"})


@contextmanager
def _port_errors() -> Iterator[None]:
    """The one place aiogram's errors become the port's."""
    try:
        yield
    except TelegramMigrateToChat as exc:
        raise port.ChatGone(exc.message, new_chat_id=str(exc.migrate_to_chat_id)) from exc
    except TelegramRetryAfter as exc:
        raise port.RetryAfter(float(exc.retry_after), exc.message) from exc
    except TelegramUnauthorizedError as exc:
        raise port.Forbidden("Telegram refused the token") from exc
    except TelegramForbiddenError as exc:  # 403: kicked, blocked, deactivated
        raise port.ChatGone(exc.message) from exc
    except TelegramEntityTooLarge as exc:  # a TelegramNetworkError subclass, but final
        raise port.BadRequest(exc.message) from exc
    except (TelegramNetworkError, TelegramServerError) as exc:  # timeouts, connection, 5xx
        raise port.Transient(exc.message) from exc
    except ClientDecodeError as exc:  # e.g. an HTML error page from a proxy
        raise port.Transient(str(exc)) from exc
    except AiogramError as exc:
        if any(hint in str(exc).lower() for hint in GONE_HINTS):
            raise port.ChatGone(str(exc)) from exc
        if NOT_MODIFIED_HINT in str(exc).lower():
            raise port.NotModified(str(exc)) from exc
        if any(hint in str(exc).lower() for hint in TOPIC_HINTS):
            raise port.TopicGone(str(exc)) from exc
        raise port.BadRequest(str(exc)) from exc


def _chat(chat_id: str) -> int | str:
    return int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id


def _markup(choices: Sequence[Choice], chat_id: str) -> InlineKeyboardMarkup | None:
    buttons = [
        [InlineKeyboardButton(text=label, callback_data=data) for label, data in row]
        for row in keyboard(choices) or []
    ]
    buttons += [
        [InlineKeyboardButton(text=label, web_app=WebAppInfo(url=url))]
        for label, url in web_app_buttons(choices, chat_id)
    ]
    return InlineKeyboardMarkup(inline_keyboard=buttons) if buttons else None


class AiogramClient:
    """The ChatClient on an aiogram Bot."""

    platform = PLATFORM
    limits = TELEGRAM

    def __init__(self, bot: Bot, identity: BotIdentity) -> None:
        self.bot = bot
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
                chat_id=_chat(chat_id),
                text=text,
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
        upload = BufferedInputFile(file.content, filename=file.filename)
        options: dict[str, Any] = {
            "chat_id": _chat(chat_id),
            "caption": caption or None,
            "parse_mode": "HTML" if caption else None,
            "reply_markup": _markup(choices, chat_id),
            "message_thread_id": thread(thread_id),
        }
        message: Message
        with _port_errors():
            if file.mime_type in PHOTO_TYPES:
                message = await self.bot.send_photo(photo=upload, **options)
            else:
                message = await self.bot.send_document(document=upload, **options)
        return str(message.message_id)

    async def edit(
        self, chat_id: str, message_id: str, text: str, choices: Sequence[Choice] = ()
    ) -> None:
        """Replace the text and buttons of a message the bot sent (empty text: the buttons)."""
        with _port_errors():
            if text:
                await self.bot.edit_message_text(
                    text=text,
                    parse_mode="HTML",
                    chat_id=_chat(chat_id),
                    message_id=int(message_id),
                    reply_markup=_markup(choices, chat_id),
                )
            else:
                await self.bot.edit_message_reply_markup(
                    chat_id=_chat(chat_id),
                    message_id=int(message_id),
                    reply_markup=_markup(choices, chat_id),
                )

    async def answer_callback(
        self, callback_id: str, text: str = "", *, alert: bool = False
    ) -> None:
        """Acknowledge a button press, with a toast or an alert when text is given."""
        shown = callback_text(text)
        with _port_errors():
            await self.bot.answer_callback_query(
                callback_query_id=callback_id,
                text=shown,
                show_alert=True if alert and shown else None,
            )

    async def chat_action(
        self, chat_id: str, action: str = "typing", *, thread_id: str | None = None
    ) -> None:
        """Show an activity in the chat (or its forum topic)."""
        with _port_errors():
            await self.bot.send_chat_action(
                chat_id=_chat(chat_id), action=action, message_thread_id=thread(thread_id)
            )

    async def is_chat_admin(self, chat_id: str, user_id: str) -> bool | None:
        """Whether the user administers the group (getChatMember)."""
        return await self.member_status(chat_id, user_id) in CHAT_ADMIN_STATUSES

    async def member_status(self, chat_id: str, user_id: str) -> str:
        """The user's status in the chat: "creator", "administrator", "member", …"""
        with _port_errors():
            member = await self.bot.get_chat_member(chat_id=_chat(chat_id), user_id=int(user_id))
        return str(getattr(member.status, "value", member.status))

    async def download(self, file_id: str, limit: int) -> bytes:
        """A sent file's content (getFile, then the file URL); FileTooBig beyond limit bytes."""
        with _port_errors():
            found = await self.bot.get_file(file_id)
            if found.file_size is not None and found.file_size > limit:
                raise FileTooBig(f"{found.file_size} bytes")
            if not found.file_path:
                raise port.BadRequest("getFile gave no file_path")
            buffer = await self.bot.download_file(found.file_path)
        content = buffer.read() if buffer is not None else b""
        if len(content) > limit:
            raise FileTooBig(f"{len(content)} bytes")
        return content


def build_bot(settings: Settings, options: AdapterOptions) -> Bot:
    """An aiogram Bot pointed at settings.telegram_api_url."""
    session = AiohttpSession(
        api=TelegramAPIServer.from_base(settings.telegram_api_url),
        timeout=options.request_timeout,
        limit=max(8, options.concurrency),
    )
    return Bot(settings.telegram_token, session=session)


async def _register_commands(bot: Bot) -> None:
    """Command menus by scope (groups, private chats, each admin's chat) and the descriptions."""
    from bot.commands import DESCRIPTION, SHORT_DESCRIPTION, menus_for

    for menu in await asyncio.to_thread(menus_for, PLATFORM):
        commands = [
            BotCommand(command=name, description=description)
            for name, description in command_menu(menu.commands)
        ]
        try:
            await bot.set_my_commands(commands, scope=_scope(menu.scope, menu.chat_id))
        except AiogramError as exc:
            log.warning("setMyCommands (%s) failed: %s", menu.scope, exc)
    try:
        await bot.set_my_description(description=DESCRIPTION)
        await bot.set_my_short_description(short_description=SHORT_DESCRIPTION)
    except AiogramError as exc:
        log.warning("setMyDescription failed: %s", exc)


async def _set_menu_button(bot: Bot, web_url: str) -> None:
    """The chat menu button opens the web view as a Mini App (when it has an HTTPS address)."""
    url = menu_button_url(web_url)
    if url is None:
        return
    button = MenuButtonWebApp(text=MENU_BUTTON_TEXT, web_app=WebAppInfo(url=url))
    try:
        await bot.set_chat_menu_button(menu_button=button)
    except AiogramError as exc:
        log.warning("setChatMenuButton failed: %s", exc)


def _scope(scope: str, chat_id: str | None) -> Any:
    """The BotCommandScope of a menu."""
    from aiogram.types import (
        BotCommandScopeAllGroupChats,
        BotCommandScopeAllPrivateChats,
        BotCommandScopeChat,
    )

    from bot.commands import GROUP_CHATS, PRIVATE_CHATS

    if scope == GROUP_CHATS:
        return BotCommandScopeAllGroupChats()
    if scope == PRIVATE_CHATS:
        return BotCommandScopeAllPrivateChats()
    return BotCommandScopeChat(chat_id=_chat(chat_id or ""))


async def _identity(bot: Bot) -> BotIdentity:
    """getMe: the first call, so a refused token or an unreachable API shows here."""
    try:
        me = await bot.me()
    except (TelegramUnauthorizedError, TelegramNotFound):
        raise TokenRejected("Telegram refused the token") from None
    except (TelegramNetworkError, TelegramServerError, ClientDecodeError) as exc:
        raise PlatformUnreachable(f"{type(exc).__name__}: {exc}") from None
    return BotIdentity(id=str(me.id), username=me.username or "")


@asynccontextmanager
async def connect(settings: Settings, options: AdapterOptions) -> AsyncIterator[AiogramClient]:
    """getMe on a fresh session; the client until the block ends."""
    bot = build_bot(settings, options)
    try:
        yield AiogramClient(bot, await _identity(bot))
    finally:
        await bot.session.close()


async def receive(
    settings: Settings,
    client: AiogramClient,
    bridge: ChatBridge,
    stop: asyncio.Event,
    options: AdapterOptions,
) -> None:
    """Poll (or serve the webhook when settings.webhook_url is set) until stop is set."""
    bot = client.bot
    await _register_commands(bot)
    await _set_menu_button(bot, settings.config.web_url)
    if settings.webhook_url:

        async def set_webhook(url: str, secret: str) -> None:
            with _port_errors():
                await bot.set_webhook(
                    url=url, secret_token=secret, allowed_updates=list(ALLOWED_UPDATES)
                )

        def parse(body: dict[str, Any]) -> Any:
            translated = translate_update(
                Update.model_validate(body, context={"bot": bot}), client.identity
            )
            return downloads.attach(translated, client.download)

        await webhook.serve(settings, bridge, parse, set_webhook, stop, options.readiness)
    else:
        await _poll(client, bridge, stop, options)


async def _poll(
    client: AiogramClient, bridge: ChatBridge, stop: asyncio.Event, options: AdapterOptions
) -> None:
    dispatcher = Dispatcher()
    me = client.identity

    async def on_update(_event: object, event_update: Update) -> None:
        await bridge.process(downloads.attach(translate_update(event_update, me), client.download))

    observers = (
        dispatcher.message,
        dispatcher.edited_message,
        dispatcher.callback_query,
        dispatcher.my_chat_member,
    )
    for observer in observers:
        observer.register(on_update)
    with _port_errors():
        await client.bot.delete_webhook()  # getUpdates is refused while a webhook is set
    polling = asyncio.create_task(
        dispatcher.start_polling(
            client.bot,
            polling_timeout=options.poll_timeout,
            handle_signals=False,
            close_bot_session=False,
            allowed_updates=list(ALLOWED_UPDATES),
            tasks_concurrency_limit=options.concurrency,
        )
    )
    log.info("Telegram (aiogram) polling as @%s", me.username)
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({polling, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        if not polling.done():
            await dispatcher.stop_polling()
        await polling
