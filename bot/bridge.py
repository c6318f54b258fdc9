"""One chat bridge for every platform: translated update -> core (in a thread) -> ChatClient.

An adapter turns its platform's updates into `Translated` and gives the bridge its
`ChatClient`; the bridge owns per-chat ordering, the core call in a worker thread, the apology
in private chats, webhook acknowledgement, rendering to the client's limits, pacing through
the platform's shared `PlatformLimiter`, retries, and turning a lost chat into chat events.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from bot import observe
from bot.hints import expected_action, needs_chat_admin_check, upload_action
from bot.keyed_locks import KeyedLocks
from core import metrics
from core.chat_client import (
    BadRequest,
    ChatClient,
    ChatGone,
    NotModified,
    RetryAfter,
    SendError,
    Transient,
)
from core.model import Chat, ChatEvent, ChatEventKind, ChatKind, Incoming, Notice, Reply
from core.pacing import Pacer
from core.ports import MessageHandler
from core.render import render
from core.settings import Settings

if TYPE_CHECKING:
    from bot.health import Readiness
    from data.store.shared_files import SharedFiles

log = logging.getLogger(__name__)

APOLOGY = (
    "Xin lỗi, hệ thống đang gặp sự cố nên chưa trả lời được. Anh/chị vui lòng thử lại sau ít phút."
)
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently failed sends are retried."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 120.0


@dataclass(frozen=True)
class AdapterOptions:
    """Knobs of one platform's adapter and bridge (tests shorten the timeouts)."""

    poll_timeout: int = 30  # long-poll seconds
    request_timeout: float = 10.0  # seconds for one API call
    concurrency: int = 4  # updates in the core at once (one at a time per chat)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    error_backoff: float = 1.0  # first wait after a failed poll
    max_error_backoff: float = 30.0
    file_ttl: float = 24 * 3600  # seconds a served file link stays valid
    file_store: SharedFiles | None = None  # files in the database: any instance serves links
    readiness: Readiness | None = None  # what /readyz asks (None: liveness only)
    serve_http: bool = True  # a polling adapter's own server (file links, health); off: one-shot

    @classmethod
    def from_settings(cls, settings: Settings, platform: str) -> AdapterOptions:
        """The platform's DAUMOI_<PLATFORM>_TIMEOUT and DAUMOI_ZALO_FILE_TTL_HOURS."""
        config = settings.config
        timeout = getattr(config, f"{platform}_timeout", cls.request_timeout)
        return cls(request_timeout=float(timeout), file_ttl=config.zalo_file_ttl_hours * 3600)


@dataclass(frozen=True)
class Translated:
    """What one update means: a message for the core, chat events, a press to acknowledge,
    or an answer of the adapter's own (`polite`, sent to `chat`)."""

    incoming: Incoming | None = None
    events: tuple[ChatEvent, ...] = ()
    callback_id: str | None = None
    key: str | None = None  # delivery key on platforms that deliver an update again
    chat: Chat | None = None
    polite: Reply | None = None
    ignored: str = ""  # why nothing is passed on (for debug logs)


def private_unless_negative(chat_id: str) -> Chat:
    """A chat known only by id: groups and channels have negative ids (Telegram)."""
    return Chat(id=chat_id, kind=ChatKind.GROUP if chat_id.startswith("-") else ChatKind.PRIVATE)


@dataclass(frozen=True)
class Connection:
    """A connected platform: its ChatClient, who the bot is there, how its bridge behaves."""

    client: ChatClient
    identity: str  # for log lines ("@daumoi_bot")
    typing: bool = False  # show "typing…" while the core works
    chat_for_id: Callable[[str], Chat] = private_unless_negative


class SeenLog(Protocol):
    """Persistent memory of handled deliveries (blocking calls; run in a worker thread)."""

    def seen(self, platform: str, key: str) -> bool:
        """Whether the delivery was handled before (in this or an earlier process)."""
        ...

    def record(self, platform: str, key: str) -> None:
        """Remember a delivery answered without the core."""
        ...


class DeliveryFailed(Exception):
    """Retries were exhausted; the reply is dropped."""


@dataclass(frozen=True)
class Outgoing:
    """Replies waiting to be sent to one chat.

    `pressed`: the message whose button was pressed (replies marked `edit` replace it);
    `announced`: a chat action for a file was already shown while the core worked.
    """

    chat: Chat
    replies: tuple[Reply, ...]
    pressed: str = ""
    announced: bool = False


class ChatBridge:
    """Runs updates through the core and sends the answers, one chat at a time."""

    def __init__(
        self,
        core: MessageHandler,
        client: ChatClient,
        *,
        pacer: Pacer | None = None,
        options: AdapterOptions | None = None,
        seen: SeenLog | None = None,
        typing: bool = False,
        chat_for_id: Callable[[str], Chat] = private_unless_negative,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.core = core
        self.client = client
        self.pacer = pacer
        self.options = options or AdapterOptions()
        self.seen = seen
        self.typing = typing
        self.chat_for_id = chat_for_id
        self._sleep = sleep
        self._gate = asyncio.Semaphore(max(1, self.options.concurrency))
        self._handling = KeyedLocks()
        self._sending = KeyedLocks()
        self._background: set[asyncio.Task[None]] = set()
        self._failed_once: dict[str, None] = {}
        self._remembered: OrderedDict[str, None] = OrderedDict()

    @property
    def platform(self) -> str:
        """The platform the client writes to."""
        return self.client.platform

    # -- receiving ----------------------------------------------------------------------------

    def submit(self, update: Translated) -> None:
        """Process an update in the background (polling); per-chat order is kept."""
        self._spawn(self.process(update))

    async def process(self, update: Translated) -> None:
        """Handle one update completely (core, then sending); never raises."""
        started = observe.received(self.platform, update.incoming, len(update.events))
        try:
            await self._deliver(await self._handle(update, apologise=True), started)
        except Exception:
            log.exception("%s update could not be processed", self.platform)

    async def accept(self, update: Translated, key: str) -> bool:
        """Handle an update and send its replies in the background (webhook mode).

        Returns False when the core failed for the first time, so the webhook answers with an
        error and the platform delivers the update again; a second failure is acknowledged
        (with an apology in private chats) so that one bad update cannot block the queue.
        """
        started = observe.received(self.platform, update.incoming, len(update.events))
        retried = key in self._failed_once
        try:
            outgoing = await self._handle(update, apologise=retried, reraise=not retried)
        except Exception:
            self._failed_once[key] = None
            while len(self._failed_once) > 1000:
                del self._failed_once[next(iter(self._failed_once))]
            return False
        self._failed_once.pop(key, None)
        self._spawn(self._deliver_logged(outgoing, started))
        return True

    async def drain(self) -> None:
        """Wait for background work to finish (at shutdown)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _deliver_logged(self, outgoing: list[Outgoing], started: float) -> None:
        try:
            await self._deliver(outgoing, started)
        except Exception:
            log.exception("%s delivery failed", self.platform)

    async def _handle(
        self, update: Translated, *, apologise: bool, reraise: bool = False
    ) -> list[Outgoing]:
        if update.callback_id is None:
            return await self._outgoing(update, apologise=apologise, reraise=reraise)
        answered = False
        try:
            outgoing, notice = _take_notice(
                await self._outgoing(update, apologise=apologise, reraise=reraise)
            )
            answered = True
            await self._answer_callback(update.callback_id, notice)
            return outgoing
        finally:
            if not answered and not reraise:  # a redelivered update answers it with its reply
                await self._answer_callback(update.callback_id, None)

    async def _outgoing(
        self, update: Translated, *, apologise: bool, reraise: bool
    ) -> list[Outgoing]:
        outgoing: list[Outgoing] = []
        for event in update.events:
            outgoing += await self._event(event)
        incoming = update.incoming
        chat = incoming.chat if incoming is not None else update.chat
        if chat is None or (incoming is None and update.polite is None):
            if update.ignored:
                log.debug("%s update ignored: %s", self.platform, update.ignored)
            return outgoing
        async with self._handling.hold(chat.id):
            if update.key is not None and await self._already_seen(update.key):
                log.debug("%s delivery %s came again; ignored", self.platform, update.key)
                return outgoing
            if incoming is None:
                assert update.polite is not None
                await self._remember(update.key, record=True)
                return [*outgoing, Outgoing(chat, (update.polite,))]
            action = expected_action(incoming)
            replies = await self._core(incoming, action, apologise=apologise, reraise=reraise)
            await self._remember(update.key)
        pressed = incoming.message_id if incoming.choice_token is not None else ""
        batch = Outgoing(incoming.chat, tuple(replies), pressed, announced=action is not None)
        return [*outgoing, batch]

    async def _core(
        self, incoming: Incoming, action: str | None, *, apologise: bool, reraise: bool
    ) -> list[Reply]:
        if needs_chat_admin_check(incoming):
            incoming = replace(incoming, sender_is_chat_admin=await self._is_chat_admin(incoming))
        if self.typing or action is not None:
            self._spawn(self._chat_action(incoming.chat, action or "typing"))
        try:
            async with self._gate:
                return await asyncio.to_thread(self.core.handle, incoming)
        except Exception:
            log.exception("core failed on %s update %s", self.platform, incoming.update_id)
            if reraise:
                raise
            # Groups never get error messages: a failing bot must not spam them.
            private = incoming.chat.kind is ChatKind.PRIVATE
            return [Reply(APOLOGY)] if apologise and private else []

    async def _already_seen(self, key: str) -> bool:
        if key in self._remembered:
            return True
        if self.seen is None:
            return False
        try:
            found = await asyncio.to_thread(self.seen.seen, self.platform, key)
        except Exception:  # the router's own claim still prevents a double update
            log.exception("could not check whether %s delivery %s was handled", self.platform, key)
            return False
        if found:
            await self._remember(key)
        return found

    async def _remember(self, key: str | None, *, record: bool = False) -> None:
        if key is None:
            return
        self._remembered[key] = None
        while len(self._remembered) > 10_000:
            self._remembered.popitem(last=False)
        if record and self.seen is not None:
            await asyncio.to_thread(self.seen.record, self.platform, key)

    async def _is_chat_admin(self, incoming: Incoming) -> bool | None:
        """Whether the sender administers the group; False when the platform cannot be asked."""
        try:
            return await self.client.is_chat_admin(incoming.chat.id, incoming.user.id)
        except SendError as exc:  # fail closed: the link stays as it is
            log.warning("admin check failed for chat %s: %s", incoming.chat.id, exc)
            return False

    async def _chat_action(self, chat: Chat, action: str = "typing") -> None:
        try:
            await self.client.chat_action(chat.id, action, thread_id=chat.thread_id)
        except SendError as exc:
            log.debug("chat action failed: %s", exc)

    async def _answer_callback(self, callback_id: str, notice: Reply | None) -> None:
        text = notice.text if notice is not None else ""
        alert = notice is not None and notice.notice is Notice.ALERT
        try:
            await self.client.answer_callback(callback_id, text, alert=alert)
        except SendError as exc:  # an old query cannot be answered; the press still counts
            log.info("answering a button press failed: %s", exc)

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

    async def _deliver(self, outgoing: list[Outgoing], started: float | None = None) -> None:
        for batch in outgoing:
            for reply in batch.replies:
                chat = self._target(batch.chat, reply)
                try:
                    if reply.edit and batch.pressed and chat is batch.chat:
                        await self._replace(chat, batch.pressed, reply)
                        continue
                    if reply.file is not None and not batch.announced:
                        await self._chat_action(chat, upload_action(reply.file))
                    await self.send(chat, reply)
                except DeliveryFailed as exc:
                    log.warning("reply to %s:%s dropped: %s", self.platform, chat.id, exc)
        observe.replied(self.platform, started, sum(len(batch.replies) for batch in outgoing))

    def _target(self, chat: Chat, reply: Reply) -> Chat:
        """Where a reply goes: the message's chat (and topic), or the chat (topic) it names."""
        if reply.chat_id and reply.chat_id != chat.id:
            return replace(self.chat_for_id(reply.chat_id), thread_id=reply.thread_id)
        if reply.thread_id and reply.thread_id != chat.thread_id:
            return replace(chat, thread_id=reply.thread_id)
        return chat

    async def _replace(self, chat: Chat, message_id: str, reply: Reply) -> None:
        """Edit the pressed message into the reply (the rest of a long reply follows as new
        messages); a message that cannot be edited any more gets the reply as a new one."""
        parts = render(reply, self.client.limits) if reply.text else [reply]
        first = parts[0] if parts else replace(reply, text="")
        rest = parts[1:]
        if first.file is not None:  # a file cannot replace a text: the keyboard goes instead
            first, rest = replace(reply, text="", choices=(), file=None), parts
        edit = partial(self.client.edit, chat.id, message_id, first.text, first.choices)
        try:
            async with self._sending.hold(chat.id):
                await self._call(chat.id, edit)
        except NotModified:
            pass
        except (BadRequest, ChatGone) as exc:  # too old, deleted, or no text to edit
            log.info("%s could not edit message %s: %s", self.platform, message_id, exc)
            if first.text:
                rest = parts
        await self._send_rendered(chat, rest)

    async def send(self, chat: Chat, reply: Reply) -> list[str]:
        """Send one reply; [] if the chat is gone; DeliveryFailed if retries ran out."""
        return await self._send_rendered(chat, render(reply, self.client.limits))

    async def _send_rendered(self, chat: Chat, parts: list[Reply]) -> list[str]:
        """Send the pieces of a reply rendered for the client, in order."""
        async with self._sending.hold(chat.id):
            ids: list[str] = []
            for part in parts:
                if not part.text.strip() and part.file is None:
                    continue
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
                return chat, await self._emit(chat, part)
            except ChatGone as exc:
                if exc.new_chat_id is None:
                    log.info("%s chat %s is closed to the bot: %s", self.platform, chat.id, exc)
                    await self._event(ChatEvent(self.platform, chat, ChatEventKind.BOT_REMOVED))
                    return None
                event = ChatEvent(
                    self.platform, chat, ChatEventKind.MIGRATED, new_chat_id=exc.new_chat_id
                )
                await self._event(event)
                chat = Chat(id=exc.new_chat_id, kind=ChatKind.GROUP, title=chat.title)
            except BadRequest as exc:  # one bad piece must not swallow the rest of the reply
                log.warning("%s refused a message to %s: %s", self.platform, chat.id, exc)
                return chat, []
        return None

    async def _emit(self, chat: Chat, part: Reply) -> list[str]:
        client, chat_id, thread_id = self.client, chat.id, chat.thread_id
        file = part.file
        if file is None:
            send_text = partial(
                client.send_text, chat_id, part.text, part.choices, thread_id=thread_id
            )
            return [await self._call(chat_id, send_text)]
        ids: list[str] = []
        caption = part.text
        if len(caption) > client.limits.max_caption_len:
            send_caption = partial(client.send_text, chat_id, caption, thread_id=thread_id)
            ids.append(await self._call(chat_id, send_caption))
            caption = ""
        send = partial(client.send_file, chat_id, file, caption, part.choices, thread_id=thread_id)
        ids.append(await self._call(chat_id, send))
        return ids

    async def _call(self, chat_id: str, call: Callable[[], Awaitable[T]]) -> T:
        """One API call, paced, retried on flood control and transient failures."""
        policy = self.options.retry
        delay = policy.base_delay
        for attempt in range(1, policy.attempts + 1):
            if self.pacer is not None:
                await self.pacer.acquire(chat_id, reply=True)
            try:
                return await metrics.timed_send(self.platform, metrics.REPLY, chat_id, call)
            except RetryAfter as exc:
                if attempt == policy.attempts or exc.seconds > policy.max_retry_after:
                    raise DeliveryFailed(f"flood control after {attempt} attempts") from exc
                log.info("%s asks to wait %.1fs", self.platform, exc.seconds)
                if self.pacer is not None:
                    self.pacer.pause(exc.seconds)
                await self._sleep(exc.seconds)
            except Transient as exc:
                if attempt == policy.attempts:
                    raise DeliveryFailed(f"{exc} after {attempt} attempts") from exc
                log.info("transient %s error (%s); retrying in %.1fs", self.platform, exc, delay)
                await self._sleep(delay)
                delay = min(delay * 2, policy.max_delay)
            except (ChatGone, BadRequest):
                raise
            except SendError as exc:  # Forbidden: the platform refuses this bot
                raise DeliveryFailed(str(exc)) from exc
        raise DeliveryFailed("no attempts configured")


def _take_notice(outgoing: list[Outgoing]) -> tuple[list[Outgoing], Reply | None]:
    """The first reply that answers the press itself, and the rest to send."""
    notice: Reply | None = None
    kept: list[Outgoing] = []
    for batch in outgoing:
        replies = []
        for reply in batch.replies:
            if reply.notice is None:
                replies.append(reply)
            elif notice is None:
                notice = reply
        kept.append(replace(batch, replies=tuple(replies)))
    return kept, notice
