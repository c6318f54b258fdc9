"""Library-independent Telegram flow: update -> core (in a thread) -> rendered Bot API calls.

Each adapter supplies a `BotApi` (the few send primitives, raising the neutral errors below);
the bridge owns ordering per chat, retries, and turning 403/migration answers into chat events.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, Protocol, TypeVar

from bot.platforms.keyed_locks import KeyedLocks
from bot.platforms.telegram_common import (
    CHAT_ADMIN_STATUSES,
    PLATFORM,
    BotIdentity,
    Keyboard,
    chat_for_id,
    keyboard,
    needs_chat_admin_check,
    prepare,
    translate_update,
)
from core.model import Attachment, Chat, ChatEvent, ChatEventKind, ChatKind, Incoming, Reply
from core.ports import MessageHandler

log = logging.getLogger(__name__)

APOLOGY = (
    "Xin lỗi, hệ thống đang gặp sự cố nên chưa trả lời được. Anh/chị vui lòng thử lại sau ít phút."
)
MAX_CAPTION = 1024
_PHOTO_TYPES = frozenset({"image/png", "image/jpeg", "image/webp"})
T = TypeVar("T")


class ChatGone(Exception):
    """The bot may no longer write to the chat (403: kicked, left, blocked)."""


class ChatMigrated(Exception):
    """The group became a supergroup with a new id."""

    def __init__(self, new_chat_id: str) -> None:
        super().__init__(f"chat migrated to {new_chat_id}")
        self.new_chat_id = new_chat_id


class RetryLater(Exception):
    """Flood control (429): wait `seconds` before trying again."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds}s")
        self.seconds = seconds


class TransientError(Exception):
    """A timeout, a network failure or a 5xx: worth retrying with backoff."""


class PermanentError(Exception):
    """Any other refusal (400 …): retrying would not help."""


class DeliveryFailed(Exception):
    """Retries were exhausted; the caller may try again later."""


class BotApi(Protocol):
    """The send primitives an adapter implements with its library."""

    async def send_text(self, chat_id: str, text: str, buttons: Keyboard | None) -> str:
        """Send a text message; return its message id."""
        ...

    async def send_file(
        self, chat_id: str, file: Attachment, caption: str, buttons: Keyboard | None, photo: bool
    ) -> str:
        """Send a document (or photo); return its message id."""
        ...

    async def answer_callback(self, callback_id: str) -> None:
        """Acknowledge a button press so the client stops its spinner."""
        ...

    async def chat_member_status(self, chat_id: str, user_id: str) -> str:
        """The user's status in the chat (getChatMember): "creator", "administrator", …"""
        ...


class TelegramSender(Protocol):
    """What schedulers use to push a reply into a chat."""

    async def send(self, chat_id: str, reply: Reply) -> list[str]:
        """Send one reply (split as needed); return the platform message ids."""
        ...


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently failed sends are retried."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 120.0


@dataclass(frozen=True)
class AdapterOptions:
    """Knobs shared by both adapters (tests shorten the timeouts, the bench lifts limits)."""

    poll_timeout: int = 30  # getUpdates long-poll seconds
    request_timeout: float = 10.0  # seconds for one Bot API call
    overall_per_second: float = 30  # Telegram: about 30 messages/s per bot
    group_per_minute: float = 20  # Telegram: at most 20 messages/minute into one group
    group_window: float = 60  # seconds the group allowance is counted over (tests shorten it)
    flood_retries: int = 3  # 429 retries inside the rate limiter
    concurrency: int = 4  # updates in flight at once (one at a time per chat)
    retry: RetryPolicy = RetryPolicy()


@dataclass(frozen=True)
class Outgoing:
    """Replies waiting to be sent to one chat."""

    chat: Chat
    replies: tuple[Reply, ...]


class TelegramBridge:
    """Runs updates through the core and sends the answers, one chat at a time."""

    def __init__(
        self,
        core: MessageHandler,
        api: BotApi,
        me: BotIdentity,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.core = core
        self.api = api
        self.me = me
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._handling = KeyedLocks()
        self._sending = KeyedLocks()
        self._background: set[asyncio.Task[None]] = set()
        self._failed_once: dict[str, None] = {}

    # -- receiving ----------------------------------------------------------------------------

    async def process(self, update: Mapping[str, Any]) -> None:
        """Handle one update completely (core, then sending); never raises."""
        try:
            outgoing = await self._handle(update, apologise=True)
            await self._deliver(outgoing)
        except Exception:
            log.exception("update %s could not be processed", update.get("update_id"))

    async def accept(self, update: Mapping[str, Any]) -> bool:
        """Handle an update and send its replies in the background (webhook mode).

        Returns False when the core failed for the first time, so the webhook answers with an
        error and Telegram delivers the update again; a second failure is acknowledged (with
        an apology in private chats) so that one bad update cannot block the queue.
        """
        key = str(update.get("update_id", ""))
        retried = key in self._failed_once
        try:
            outgoing = await self._handle(update, apologise=retried, reraise=not retried)
        except Exception:
            self._failed_once[key] = None
            while len(self._failed_once) > 1000:
                del self._failed_once[next(iter(self._failed_once))]
            return False
        self._failed_once.pop(key, None)
        task = asyncio.create_task(self._deliver_logged(outgoing))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return True

    async def drain(self) -> None:
        """Wait for background deliveries to finish (at shutdown)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def _deliver_logged(self, outgoing: list[Outgoing]) -> None:
        try:
            await self._deliver(outgoing)
        except Exception:
            log.exception("delivery failed")

    async def _handle(
        self, update: Mapping[str, Any], *, apologise: bool, reraise: bool = False
    ) -> list[Outgoing]:
        translated = translate_update(update, self.me)
        if translated.callback_id is not None:
            await self._answer_callback(translated.callback_id)
        outgoing: list[Outgoing] = []
        for event in translated.events:
            outgoing += await self._event(event)
        incoming = translated.incoming
        if incoming is None:
            if translated.ignored:
                log.debug("update %s ignored: %s", update.get("update_id"), translated.ignored)
            return outgoing
        if needs_chat_admin_check(incoming):
            incoming = replace(incoming, sender_is_chat_admin=await self._is_chat_admin(incoming))
        async with self._handling.hold(incoming.chat.id):
            try:
                replies = await asyncio.to_thread(self.core.handle, incoming)
            except Exception:
                log.exception("core failed on update %s", incoming.update_id)
                if reraise:
                    raise
                replies = self._apology(incoming) if apologise else []
        outgoing.append(Outgoing(incoming.chat, tuple(replies)))
        return outgoing

    async def _is_chat_admin(self, incoming: Incoming) -> bool:
        """Whether the sender administers the group; False when Telegram cannot be asked."""
        try:
            status = await self.api.chat_member_status(incoming.chat.id, incoming.user.id)
        except Exception as exc:  # fail closed: the link stays as it is
            log.warning("getChatMember failed for chat %s: %s", incoming.chat.id, exc)
            return False
        return status in CHAT_ADMIN_STATUSES

    @staticmethod
    def _apology(incoming: Incoming) -> list[Reply]:
        # Groups never get error messages: a failing bot must not spam them.
        return [Reply(APOLOGY)] if incoming.chat.kind is ChatKind.PRIVATE else []

    async def _answer_callback(self, callback_id: str) -> None:
        try:
            await self.api.answer_callback(callback_id)
        except Exception as exc:  # an old query cannot be answered; the press still counts
            log.info("answerCallbackQuery failed: %s", exc)

    async def _event(self, event: ChatEvent) -> list[Outgoing]:
        try:
            replies = await asyncio.to_thread(self.core.handle_event, event)
        except Exception:
            log.exception("core failed on chat event %s for %s", event.kind, event.chat.id)
            return []
        if event.kind is ChatEventKind.BOT_REMOVED or not replies:
            return []
        chat = event.chat
        if event.kind is ChatEventKind.MIGRATED and event.new_chat_id:
            chat = Chat(id=event.new_chat_id, kind=ChatKind.GROUP, title=chat.title)
        return [Outgoing(chat, tuple(replies))]

    # -- sending ------------------------------------------------------------------------------

    async def _deliver(self, outgoing: list[Outgoing]) -> None:
        for batch in outgoing:
            for reply in batch.replies:
                chat = chat_for_id(reply.chat_id) if reply.chat_id else batch.chat
                try:
                    await self._send_to(chat, reply)
                except DeliveryFailed as exc:
                    log.warning("reply to %s dropped: %s", chat.id, exc)

    async def send(self, chat_id: str, reply: Reply) -> list[str]:
        """Send one reply to chat_id; [] if the chat is gone; DeliveryFailed if retries ran out."""
        return await self._send_to(chat_for_id(chat_id), reply)

    async def _send_to(self, chat: Chat, reply: Reply) -> list[str]:
        async with self._sending.hold(chat.id):
            ids: list[str] = []
            for part in prepare(reply):
                sent = await self._send_part(chat, part)
                if sent is None:
                    return ids
                chat, new_ids = sent
                ids += new_ids
            return ids

    async def _send_part(self, chat: Chat, part: Reply) -> tuple[Chat, list[str]] | None:
        """Send one rendered piece, following a migration once; None if the chat is gone."""
        for _hop in range(2):
            try:
                return chat, await self._with_retries(partial(self._emit, chat.id, part))
            except ChatGone:
                await self._event(ChatEvent(PLATFORM, chat, ChatEventKind.BOT_REMOVED))
                return None
            except ChatMigrated as exc:
                await self._event(
                    ChatEvent(PLATFORM, chat, ChatEventKind.MIGRATED, new_chat_id=exc.new_chat_id)
                )
                chat = Chat(id=exc.new_chat_id, kind=ChatKind.GROUP, title=chat.title)
            except PermanentError as exc:
                log.warning("Telegram refused a message to %s: %s", chat.id, exc)
                return chat, []
        return None

    async def _emit(self, chat_id: str, part: Reply) -> list[str]:
        buttons = keyboard(part.choices)
        file = part.file
        if file is None:
            return [await self.api.send_text(chat_id, part.text, buttons)]
        ids: list[str] = []
        caption = part.text
        if len(caption) > MAX_CAPTION:
            ids.append(await self.api.send_text(chat_id, caption, None))
            caption = ""
        photo = file.mime_type in _PHOTO_TYPES
        ids.append(await self.api.send_file(chat_id, file, caption, buttons, photo))
        return ids

    async def _with_retries(self, call: Callable[[], Awaitable[T]]) -> T:
        policy = self.policy
        delay = policy.base_delay
        for attempt in range(1, policy.attempts + 1):
            try:
                return await call()
            except RetryLater as exc:
                if attempt == policy.attempts or exc.seconds > policy.max_retry_after:
                    raise DeliveryFailed(f"flood control after {attempt} attempts") from exc
                log.info("Telegram asks to wait %.1fs", exc.seconds)
                await self._sleep(exc.seconds)
            except TransientError as exc:
                if attempt == policy.attempts:
                    raise DeliveryFailed(f"{exc} after {attempt} attempts") from exc
                log.info("transient Telegram error (%s); retrying in %.1fs", exc, delay)
                await self._sleep(delay)
                delay = min(delay * 2, policy.max_delay)
        raise DeliveryFailed("no attempts configured")
