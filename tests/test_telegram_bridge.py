"""The chat bridge on Telegram updates: retries, chat events on send errors, ordering."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest

from bot.bridge import (
    APOLOGY,
    AdapterOptions,
    ChatBridge,
    DeliveryFailed,
    RetryPolicy,
    Translated,
    private_unless_negative,
)
from bot.platforms.telegram_common import BotIdentity, keyboard, translate_update
from core.chat_client import BadRequest, ChatGone, NotModified, RetryAfter, Transient
from core.limits import TELEGRAM
from core.model import Attachment, ChatEvent, ChatEventKind, Choice, Incoming, Notice, Reply
from tests.telegram_updates import as_update

ME = BotIdentity(id="777", username="daumoi_bot")
LAN = {"id": 1001, "is_bot": False, "first_name": "Lan"}


def parsed(data: dict[str, Any]) -> Translated:
    """A Bot API update, parsed and translated as the adapters do."""
    return translate_update(as_update(data), ME)


def update(chat_id: int, text: str, update_id: int = 1) -> Translated:
    kind = "group" if chat_id < 0 else "private"
    chat = (
        {"id": chat_id, "type": kind, "title": "G"}
        if chat_id < 0
        else {"id": chat_id, "type": kind}
    )
    message = {"message_id": update_id, "date": 0, "chat": chat, "from": LAN, "text": text}
    return parsed({"update_id": update_id, "message": message})


async def send(bridge: ChatBridge, chat_id: str, reply: Reply) -> list[str]:
    """Send one reply to a chat known by id."""
    return await bridge.send(private_unless_negative(chat_id), reply)


class FakeApi:
    """A ChatClient that records sends; raises scripted errors first."""

    platform = "telegram"
    limits = TELEGRAM

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str, Any]] = []
        self.errors: list[Exception] = []
        self.edit_errors: list[Exception] = []
        self.actions: list[tuple[str, str, str | None]] = []  # (chat, action, topic)
        self.threads: list[str | None] = []  # the topic of every message sent
        self.next_id = 100

    def _maybe_fail(self) -> None:
        if self.errors:
            raise self.errors.pop(0)

    async def send_text(
        self,
        chat_id: str,
        text: str,
        choices: Sequence[Choice] = (),
        *,
        thread_id: str | None = None,
    ) -> str:
        await asyncio.sleep(0)
        self._maybe_fail()
        self.calls.append(("text", chat_id, text, keyboard(choices)))
        self.threads.append(thread_id)
        self.next_id += 1
        return str(self.next_id)

    async def send_file(
        self,
        chat_id: str,
        file: Attachment,
        caption: str = "",
        choices: Sequence[Choice] = (),
        *,
        thread_id: str | None = None,
    ) -> str:
        self._maybe_fail()
        photo = file.mime_type.startswith("image/")
        self.calls.append(("photo" if photo else "document", chat_id, caption, file.filename))
        self.threads.append(thread_id)
        self.next_id += 1
        return str(self.next_id)

    async def edit(
        self, chat_id: str, message_id: str, text: str, choices: Sequence[Choice] = ()
    ) -> None:
        if self.edit_errors:
            raise self.edit_errors.pop(0)
        self.calls.append(("edit", chat_id, text, (message_id, keyboard(choices))))

    async def answer_callback(
        self, callback_id: str, text: str = "", *, alert: bool = False
    ) -> None:
        self.calls.append(("answer", text, callback_id, "alert" if alert else None))

    async def chat_action(
        self, chat_id: str, action: str = "typing", *, thread_id: str | None = None
    ) -> None:
        self.actions.append((chat_id, action, thread_id))

    async def is_chat_admin(self, chat_id: str, user_id: str) -> bool | None:
        return None


class Core:
    """Echoes commands; records events; can fail or be slow."""

    def __init__(self) -> None:
        self.seen: list[Incoming] = []
        self.events: list[ChatEvent] = []
        self.fail = False
        self.delay = 0.0
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    def handle(self, incoming: Incoming) -> list[Reply]:
        with self._lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            if self.delay:
                time.sleep(self.delay)
        finally:
            with self._lock:
                self.running -= 1
        if self.fail:
            raise RuntimeError("boom")
        with self._lock:
            self.seen.append(incoming)
        return [Reply(f"re: {incoming.text}")]

    def handle_event(self, event: ChatEvent) -> list[Reply]:
        self.events.append(event)
        return [Reply("chào nhóm")] if event.kind is ChatEventKind.BOT_ADDED else []


class Sleeps:
    """Records requested sleeps instead of sleeping."""

    def __init__(self) -> None:
        self.requested: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.requested.append(seconds)


@pytest.fixture
def api() -> FakeApi:
    return FakeApi()


@pytest.fixture
def core() -> Core:
    return Core()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def bridge(core: Core, api: FakeApi, sleeps: Sleeps) -> ChatBridge:
    policy = RetryPolicy(attempts=4, base_delay=0.5, max_delay=1.5, max_retry_after=30)
    return ChatBridge(core, api, options=AdapterOptions(retry=policy), sleep=sleeps)


async def test_process_answers_a_message(bridge: ChatBridge, api: FakeApi) -> None:
    await bridge.process(update(1001, "/start"))
    assert api.calls == [("text", "1001", "re: /start", None)]


async def test_transient_errors_are_retried_with_exponential_backoff(
    bridge: ChatBridge, api: FakeApi, sleeps: Sleeps
) -> None:
    api.errors = [Transient("timeout"), Transient("502"), Transient("500")]
    assert await send(bridge, "1001", Reply("xin chào")) == ["101"]
    assert sleeps.requested == [0.5, 1.0, 1.5]


async def test_flood_control_waits_retry_after(
    bridge: ChatBridge, api: FakeApi, sleeps: Sleeps
) -> None:
    api.errors = [RetryAfter(7)]
    assert await send(bridge, "1001", Reply("xin chào")) == ["101"]
    assert sleeps.requested == [7]


async def test_gives_up_after_the_attempts(bridge: ChatBridge, api: FakeApi) -> None:
    api.errors = [Transient("500")] * 4
    with pytest.raises(DeliveryFailed):
        await send(bridge, "1001", Reply("xin chào"))
    api.errors = [RetryAfter(3600)]  # longer than max_retry_after: give up at once
    with pytest.raises(DeliveryFailed):
        await send(bridge, "1001", Reply("xin chào"))


async def test_process_never_raises_when_delivery_fails(bridge: ChatBridge, api: FakeApi) -> None:
    api.errors = [Transient("500")] * 10
    await bridge.process(update(1001, "/start"))
    assert api.calls == []


async def test_403_reports_bot_removed_and_stops(
    bridge: ChatBridge, api: FakeApi, core: Core
) -> None:
    api.errors = [ChatGone("Forbidden: bot was kicked")]
    long = "\n".join("x" * 100 for _ in range(100))  # three parts: only one attempt is made
    assert await send(bridge, "-4001", Reply(long)) == []
    [event] = core.events
    assert event.kind is ChatEventKind.BOT_REMOVED and event.chat.id == "-4001"
    assert api.calls == []


async def test_migration_reports_event_and_resends_to_new_id(
    bridge: ChatBridge, api: FakeApi, core: Core
) -> None:
    api.errors = [ChatGone(new_chat_id="-100999")]
    long = "\n".join("y" * 100 for _ in range(100))
    ids = await send(bridge, "-4001", Reply(long))
    assert len(ids) == 3
    assert {chat for _, chat, _, _ in api.calls} == {"-100999"}
    [event] = core.events
    assert event.kind is ChatEventKind.MIGRATED and event.new_chat_id == "-100999"


async def test_permanent_errors_drop_the_part(bridge: ChatBridge, api: FakeApi) -> None:
    api.errors = [BadRequest("Bad Request: chat not found")]
    assert await send(bridge, "1001", Reply("a")) == []


async def test_core_failure_apologises_in_private_only(
    bridge: ChatBridge, api: FakeApi, core: Core
) -> None:
    core.fail = True
    await bridge.process(update(1001, "/start"))
    await bridge.process(update(-4001, "/start", update_id=2))
    assert api.calls == [("text", "1001", APOLOGY, None)]


async def test_buttons_and_files(bridge: ChatBridge, api: FakeApi) -> None:
    choice = Choice("Nhiệm vụ 2.4", "/nhiemvu 2.4", token="t.1")
    await send(bridge, "1001", Reply("chọn", choices=(choice,)))
    report = Attachment("bao-cao.xlsx", b"xlsx", "application/vnd.ms-excel")
    await send(bridge, "1001", Reply("báo cáo", file=report))
    chart = Attachment("bieu-do.png", b"png", "image/png")
    await send(bridge, "1001", Reply("x" * 2000, file=chart))  # caption too long: text first
    assert api.calls == [
        ("text", "1001", "chọn", [[("Nhiệm vụ 2.4", "t.1")]]),
        ("document", "1001", "báo cáo", "bao-cao.xlsx"),
        ("text", "1001", "x" * 2000, None),
        ("photo", "1001", "", "bieu-do.png"),
    ]


async def test_callback_is_answered_and_token_passed(
    bridge: ChatBridge, api: FakeApi, core: Core
) -> None:
    query = {
        "id": "cb9",
        "from": LAN,
        "chat_instance": "1",
        "data": "tok.1",
        "message": {"message_id": 3, "date": 0, "chat": {"id": 1001, "type": "private"}},
    }
    await bridge.process(parsed({"update_id": 5, "callback_query": query}))
    assert api.calls[0] == ("answer", "", "cb9", None)
    assert core.seen[0].choice_token == "tok.1"


async def test_bot_added_event_greets_and_removed_event_is_silent(
    bridge: ChatBridge, api: FakeApi, core: Core
) -> None:
    def change(new: str, old: str) -> Translated:
        bot = {"id": 777, "is_bot": True, "first_name": "b"}
        return parsed(
            {
                "update_id": 9,
                "my_chat_member": {
                    "chat": {"id": -4001, "type": "group", "title": "G"},
                    "from": LAN,
                    "date": 0,
                    "old_chat_member": {"user": bot, "status": old},
                    "new_chat_member": {"user": bot, "status": new},
                },
            }
        )

    await bridge.process(change("member", "left"))
    await bridge.process(change("kicked", "member"))
    assert [e.kind for e in core.events] == [ChatEventKind.BOT_ADDED, ChatEventKind.BOT_REMOVED]
    assert api.calls == [("text", "-4001", "chào nhóm", None)]


async def test_one_chat_is_answered_in_order_while_chats_run_in_parallel(
    core: Core, api: FakeApi
) -> None:
    core.delay = 0.05
    bridge = ChatBridge(core, api)
    updates = [update(1001, f"m{n}", update_id=n) for n in range(5)]
    updates += [update(1002, f"o{n}", update_id=10 + n) for n in range(5)]
    await asyncio.gather(*(bridge.process(u) for u in updates))
    texts = [text for _, chat, text, _ in api.calls if chat == "1001"]
    assert texts == [f"re: m{n}" for n in range(5)]
    assert core.most_at_once == 2  # the two chats overlapped; one chat never did


async def test_accept_refuses_a_first_failure_then_acknowledges(
    bridge: ChatBridge, api: FakeApi, core: Core
) -> None:
    core.fail = True
    assert await bridge.accept(update(1001, "/start", update_id=77), "77") is False
    assert await bridge.accept(update(1001, "/start", update_id=77), "77") is True
    await bridge.drain()
    assert api.calls == [("text", "1001", APOLOGY, None)]
    core.fail = False
    assert await bridge.accept(update(1001, "/trogiup", update_id=78), "78") is True
    await bridge.drain()
    assert api.calls[-1] == ("text", "1001", "re: /trogiup", None)


class PressCore(Core):
    """Answers every message with scripted replies."""

    def __init__(self, *replies: Reply) -> None:
        super().__init__()
        self.replies = list(replies)

    def handle(self, incoming: Incoming) -> list[Reply]:
        self.seen.append(incoming)
        return list(self.replies)


def press(message_id: int = 3, chat: dict[str, Any] | None = None) -> Translated:
    message: dict[str, Any] = {
        "message_id": message_id,
        "date": 0,
        "chat": chat or {"id": 1001, "type": "private"},
        "text": "…",
    }
    query = {"id": "cb9", "from": LAN, "chat_instance": "1", "data": "tok.1", "message": message}
    return parsed({"update_id": 5, "callback_query": query})


async def test_a_press_edits_its_message_and_the_rest_follows(api: FakeApi) -> None:
    choice = Choice("Tiếp", "/x", token="n.1")
    core = PressCore(Reply("thẻ 5.3", choices=(choice,), edit=True), Reply("nhắc"))
    await ChatBridge(core, api).process(press())
    assert api.calls == [
        ("answer", "", "cb9", None),
        ("edit", "1001", "thẻ 5.3", ("3", [[("Tiếp", "n.1")]])),
        ("text", "1001", "nhắc", None),
    ]


async def test_an_edit_that_fails_becomes_a_new_message(api: FakeApi) -> None:
    core = PressCore(Reply("thẻ", edit=True))
    api.edit_errors = [BadRequest("Bad Request: message to edit not found")]
    await ChatBridge(core, api).process(press())
    assert api.calls[1:] == [("text", "1001", "thẻ", None)]
    api.calls.clear()
    api.edit_errors = [NotModified("Bad Request: message is not modified")]
    await ChatBridge(core, api).process(press())
    assert api.calls == [("answer", "", "cb9", None)]  # nothing changed: nothing sent


async def test_a_file_answer_removes_the_keyboard_and_follows(api: FakeApi) -> None:
    report = Attachment("bao-cao.xlsx", b"x", "application/vnd.ms-excel")
    core = PressCore(Reply("", edit=True), Reply("báo cáo", file=report))
    await ChatBridge(core, api).process(press())
    assert api.calls[1:] == [
        ("edit", "1001", "", ("3", None)),
        ("document", "1001", "báo cáo", "bao-cao.xlsx"),
    ]
    assert api.actions == [("1001", "upload_document", None)]  # before the file


async def test_a_notice_answers_the_press_and_is_not_sent(api: FakeApi) -> None:
    core = PressCore(Reply("dành cho người đã hỏi", notice=Notice.ALERT))
    await ChatBridge(core, api).process(press(chat={"id": -4001, "type": "group", "title": "G"}))
    assert api.calls == [("answer", "dành cho người đã hỏi", "cb9", "alert")]


async def test_replies_stay_in_their_topic(api: FakeApi) -> None:
    forum = {"id": -100777, "type": "supergroup", "title": "F", "is_forum": True}
    message = {
        "message_id": 4,
        "date": 0,
        "chat": forum,
        "from": LAN,
        "text": "/tim x",
        "message_thread_id": 12,
        "is_topic_message": True,
    }
    core = PressCore(Reply("đây"), Reply("nơi khác", chat_id="-100888", thread_id="5"))
    await ChatBridge(core, api).process(parsed({"update_id": 6, "message": message}))
    assert [(chat, text) for _, chat, text, _ in api.calls] == [
        ("-100777", "đây"),
        ("-100888", "nơi khác"),
    ]
    assert api.threads == ["12", "5"]


async def test_a_report_command_shows_upload_document_while_the_core_works(api: FakeApi) -> None:
    core = PressCore(Reply("tóm tắt"))
    bridge = ChatBridge(core, api)
    await bridge.process(update(1001, "/baocao xlsx 2025"))
    await bridge.process(update(1001, "/baocao", update_id=2))  # the summary: text
    await bridge.drain()
    assert api.actions == [("1001", "upload_document", None)]
