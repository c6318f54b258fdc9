"""The Zalo adapter: translation, dedupe (also across restarts), rendering, files, webhook."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest

from bot import runner
from bot.bridge import AdapterOptions
from bot.platforms import zalo
from bot.platforms.zalo_client import BotInfo, ZaloUpdate, parse_update
from bot.platforms.zalo_webhook import FileStore, update_of
from core.model import (
    Attachment,
    ChatEvent,
    ChatEventKind,
    ChatKind,
    Choice,
    Incoming,
    Reply,
)
from core.render import CHOOSE_BY_NUMBER
from core.settings import Settings
from data.store import processed
from data.store.db import Database
from tests import fake_zalo as fz
from tests.conformance.zalo_driver import FAST_OPTIONS, ZaloAdapterThread, zalo_settings
from tests.fake_zalo import FakeZalo

ME = BotInfo(id=fz.BOT_ID, name="daumoi_bot", names=("daumoi_bot", "Trợ lý Đầu mối"))
LAN = fz.user("1001", "Lan Nguyễn")
PRIVATE = fz.private_chat(LAN)
GROUP = fz.group_chat("g77")


def update(event: str = "message.text.received", chat: dict[str, Any] = PRIVATE, **content: Any):  # type: ignore[no-untyped-def]
    """A parsed update as the client hands it over."""
    message = {"from": LAN, "chat": chat, "message_id": "m1", "date": fz.now_ms(), **content}
    return parse_update({"event_name": event, "message": message})


# -- translation ---------------------------------------------------------------------------------


def test_private_text_becomes_an_incoming_with_its_command() -> None:
    found = zalo.translate(update(text="/Tim san bay chu lai"), ME)
    incoming = found.incoming
    assert incoming is not None
    assert (incoming.platform, incoming.chat.id, incoming.chat.kind) == ("zalo", "1001", "private")
    assert (incoming.command, incoming.args) == ("tim", "san bay chu lai")
    assert incoming.user.display_name == "Lan Nguyễn"
    assert incoming.update_id == found.key == "1001:m1" and incoming.addressed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@daumoi_bot /lienket so y te", "/lienket so y te"),
        ("@DAUMOI_BOT, so y te", "so y te"),
        ("/tim@daumoi_bot san bay", "/tim san bay"),
        ("/tim @daumoi_bot san bay", "/tim san bay"),
        ("@Trợ lý Đầu mối /trogiup", "/trogiup"),
        ("@Tên Khác Của Bot /huylienket", "/huylienket"),  # a display name getMe did not give
        ("chiều nay @daumoi_bot tra giúp so y te", "chiều nay tra giúp so y te"),
        ("@daumoi_bot /capnhat 2.4\nDòng hai", "/capnhat 2.4\nDòng hai"),
    ],
)
def test_group_messages_lose_the_mention_and_are_addressed(text: str, expected: str) -> None:
    incoming = zalo.translate(update(chat=GROUP, text=text), ME).incoming
    assert incoming is not None
    assert incoming.text == expected
    assert incoming.chat.kind is ChatKind.GROUP and incoming.addressed


def test_image_with_caption_carries_text_and_photo() -> None:
    photo = "https://photo.example.invalid/a.jpg"
    found = zalo.translate(
        update("message.image.received", photo_url=photo, caption="/capnhat 2.4 hoan thanh"), ME
    )
    assert found.incoming is not None
    assert found.incoming.command == "capnhat" and found.incoming.file_ref == photo
    bare = zalo.translate(update("message.image.received", photo_url=photo), ME).incoming
    assert bare is not None and bare.text == "" and bare.file_ref == photo


def test_stickers_and_unsupported_messages_get_a_polite_answer_in_private_only() -> None:
    sticker = zalo.translate(update("message.sticker.received", sticker="s1"), ME)
    assert sticker.incoming is None and sticker.polite is not None
    assert sticker.polite.text.startswith("Cảm ơn")
    other = zalo.translate(update("message.unsupported.received"), ME)
    assert other.polite is not None and other.polite.text.startswith("Xin lỗi")
    unknown = zalo.translate(update("message.video.received"), ME)
    assert unknown.polite is not None
    in_group = zalo.translate(update("message.sticker.received", chat=GROUP), ME)
    assert in_group.polite is None and in_group.incoming is None


def test_messages_from_bots_and_empty_updates_are_ignored() -> None:
    robot = parse_update(
        {
            "event_name": "message.text.received",
            "message": {
                "from": {"id": "b2", "is_bot": True},
                "chat": PRIVATE,
                "message_id": "m",
                "text": "hi",
            },
        }
    )
    assert zalo.translate(robot, ME).incoming is None
    assert zalo.translate(ZaloUpdate("message.text.received"), ME).ignored
    assert zalo.translate(update(chat=GROUP, text="@daumoi_bot"), ME).incoming is None


def test_dedupe_keys_fit_the_column() -> None:
    key = zalo.dedupe_key("c" * 40, "m" * 40)
    assert key is not None and len(key) <= 64
    assert key == zalo.dedupe_key("c" * 40, "m" * 40) != zalo.dedupe_key("c" * 40, "n" * 40)
    assert zalo.dedupe_key("c", "") is None


def test_webhook_bodies_bare_or_wrapped() -> None:
    body = {"event_name": "message.text.received", "message": {"chat": PRIVATE, "text": "x"}}
    assert update_of(body) is not None
    wrapped = update_of({"ok": True, "result": body})
    assert wrapped is not None and wrapped.message is not None
    assert update_of({"hello": 1}) is None and update_of([1]) is None


def test_file_store_tokens_are_random_and_expire() -> None:
    now = [1000.0]
    store = FileStore(60, clock=lambda: now[0])
    report = Attachment("báo cáo.xlsx", b"PK", "application/vnd.ms-excel")
    path, expires = store.add(report)
    other, _ = store.add(report)
    token = path.split("/")[3]
    assert len(token) >= 32 and path != other and expires == 1060.0
    assert path.endswith("/b%C3%A1o%20c%C3%A1o.xlsx")
    assert store.get(token) == report
    now[0] = 1061.0
    assert store.get(token) is None and store.get("guess") is None


# -- the adapter against the fake server ---------------------------------------------------------


class RecordingCore:
    """A core that claims updates like the router and answers with what `answer` returns."""

    def __init__(
        self, database: Database, answer: Callable[[Incoming], list[Reply]] | None = None
    ) -> None:
        self.database = database
        self.answer = answer or (lambda incoming: [Reply(f"Đã nhận: {incoming.text}")])
        self.incoming: list[Incoming] = []
        self.events: list[ChatEvent] = []

    def handle(self, incoming: Incoming) -> list[Reply]:
        """Record and answer (a redelivered update_id is refused like the router does)."""
        from datetime import UTC, datetime

        if incoming.update_id:
            with self.database.unit_of_work() as session:
                if not processed.claim(session, "zalo", incoming.update_id, datetime.now(UTC)):
                    return [Reply("trùng lặp")]
        self.incoming.append(incoming)
        return self.answer(incoming)

    def handle_event(self, event: ChatEvent) -> list[Reply]:
        """Record the event."""
        self.events.append(event)
        return []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(
    fake: FakeZalo, core: RecordingCore, *, wait_for_poll: bool = True, **overrides: Any
) -> Iterator[ZaloAdapterThread]:
    settings = zalo_settings(fake, core.database, **overrides)
    adapter = ZaloAdapterThread(settings, core, FAST_OPTIONS, core.database).start()
    try:
        if wait_for_poll:
            fake.wait_for_polls(1)
        yield adapter
    finally:
        adapter.stop()


@pytest.fixture
def fake() -> Iterator[FakeZalo]:
    with FakeZalo().running() as server:
        yield server


def texts(fake: FakeZalo, chat_id: str) -> list[str]:
    return [call.text for call in fake.messages_to(chat_id)]


def test_repeated_updates_are_answered_once(fake: FakeZalo, db: Database) -> None:
    fake.repeat = 2
    core = RecordingCore(db)
    with serving(fake, core):
        for word in ("một", "hai", "ba"):
            fake.push_message(PRIVATE, word)
        fake.wait_for_message("1001", count=3)
        deadline = time.monotonic() + 5
        while fake.pending_updates and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
    assert fake.pending_updates == 0  # every repeat was handed out …
    assert texts(fake, "1001") == ["Đã nhận: một", "Đã nhận: hai", "Đã nhận: ba"]  # … once
    assert [i.text for i in core.incoming] == ["một", "hai", "ba"]


def test_a_restart_does_not_replay_handled_messages(fake: FakeZalo, db: Database) -> None:
    core = RecordingCore(db)
    with serving(fake, core):
        old = fake.push_message(PRIVATE, "cũ")
        fake.wait_for_message("1001")
    assert old is not None
    with serving(fake, RecordingCore(db)) as _restarted:
        fake.push_update(old)  # Zalo hands the already-read update out again
        fake.push_message(PRIVATE, "mới")
        fake.wait_for_message("1001", count=2)
        time.sleep(0.2)
    assert texts(fake, "1001") == ["Đã nhận: cũ", "Đã nhận: mới"]


def test_unreadable_messages_are_answered_politely(fake: FakeZalo, db: Database) -> None:
    core = RecordingCore(db)
    with serving(fake, core):
        fake.push_sticker(PRIVATE)
        fake.push_unsupported(PRIVATE)
        fake.push_sticker(GROUP)
        fake.push_message(PRIVATE, "xong")
        fake.wait_for_message("1001", count=3)
        time.sleep(0.2)
    sent = texts(fake, "1001")
    assert sent[0].startswith("Cảm ơn") and sent[1].startswith("Xin lỗi")
    assert fake.messages_to("g77") == []
    assert [i.text for i in core.incoming] == ["xong"]


def test_long_replies_are_split_and_choices_numbered(fake: FakeZalo, db: Database) -> None:
    long_text = "\n".join(f"Dòng {n:03d}: " + " ".join(["nội dung"] * 8) for n in range(1, 121))

    def answer(incoming: Incoming) -> list[Reply]:
        options = (Choice("2.4 — Sân bay Chu Lai", "/nhiemvu 2.4"), Choice("5.3", "/nhiemvu 5.3"))
        return [Reply(long_text, options)]

    with serving(fake, RecordingCore(db, answer)):
        fake.push_message(PRIVATE, "/baocao")
        fake.wait_for_message("1001", count=4)
        time.sleep(0.3)
    sent = texts(fake, "1001")
    assert len(sent) >= 4 and all(len(part) <= 2000 for part in sent)
    lines = [line for part in sent for line in part.split("\n")]
    assert [line for line in lines if line.startswith("Dòng")] == long_text.split("\n")
    assert "\n".join(sent).endswith(f"1. 2.4 — Sân bay Chu Lai\n2. 5.3\n{CHOOSE_BY_NUMBER}")


def test_typing_is_shown_while_the_core_works(fake: FakeZalo, db: Database) -> None:
    with serving(fake, RecordingCore(db)):
        fake.push_message(PRIVATE, "chào")
        fake.wait_for_message("1001")
        [action] = fake.wait_for_method("sendChatAction")
    assert action.params == {"chat_id": "1001", "action": "typing"}


def test_forbidden_send_reports_the_bot_removed(fake: FakeZalo, db: Database) -> None:
    core = RecordingCore(db)
    with serving(fake, core):
        fake.fail_next("sendMessage", "403", chat_id="g77")
        fake.push_message(GROUP, "@daumoi_bot /trogiup")
        deadline = time.monotonic() + 5
        while not core.events and time.monotonic() < deadline:
            time.sleep(0.05)
    [event] = core.events
    assert (event.platform, event.chat.id, event.kind) == ("zalo", "g77", ChatEventKind.BOT_REMOVED)


REPORT = Attachment("bao-cao-2026.xlsx", b"PK\x03\x04report", "application/vnd.ms-excel", "44 dòng")
CHART = Attachment("bieu-do.png", b"\x89PNGchart", "image/png", "Biểu đồ tiến độ")


def _with_files(incoming: Incoming) -> list[Reply]:
    return [Reply("Báo cáo tổng hợp:", file=REPORT), Reply("", file=CHART)]


def _get(url: str) -> tuple[int, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def test_files_become_expiring_links_when_a_public_url_is_set(fake: FakeZalo, db: Database) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    extra = {"DAUMOI_ZALO_LISTEN": f"127.0.0.1:{port}"}
    with serving(fake, RecordingCore(db, _with_files), public_url=base, extra=extra):
        fake.push_message(PRIVATE, "/baocao")
        report, chart_text, chart = fake.wait_for_message("1001", count=3)
        link = next(w for w in report.text.split() if w.startswith(base))
        status, body, headers = _get(link)
        assert status == 200 and body == REPORT.content
        assert "attachment" in headers["Content-Disposition"]
        assert _get(link.replace(link.split("/")[-2], "guessed-token"))[0] == 404
        assert chart.method == "sendPhoto" and chart.params["photo"].startswith(base)
        assert _get(chart.params["photo"])[1] == CHART.content
    assert report.text.startswith("Báo cáo tổng hợp:")
    assert "Tệp bao-cao-2026.xlsx: 44 dòng" in report.text and "hiệu lực đến" in report.text
    assert chart_text.text.startswith("Tệp bieu-do.png")


def test_files_become_a_summary_without_a_public_url(fake: FakeZalo, db: Database) -> None:
    with serving(fake, RecordingCore(db, _with_files)):
        fake.push_message(PRIVATE, "/baocao")
        report, chart = fake.wait_for_message("1001", count=2)
        time.sleep(0.2)
    assert report.text == "Báo cáo tổng hợp:\n\nTệp bao-cao-2026.xlsx: 44 dòng"
    assert chart.text == "Tệp bieu-do.png: Biểu đồ tiến độ"
    assert fake.calls("sendPhoto") == []


SECRET = "zalo-webhook-secret_42"


def _post(url: str, body: Any, secret: str = SECRET) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "X-Bot-Api-Secret-Token": secret},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_webhook_mode_verifies_the_secret_and_answers_once(fake: FakeZalo, db: Database) -> None:
    fake.repeat = 1
    port = free_port()
    url = f"http://127.0.0.1:{port}/zalo/hook"
    extra = {
        "DAUMOI_ZALO_WEBHOOK_URL": url,
        "DAUMOI_ZALO_WEBHOOK_SECRET": SECRET,
        "DAUMOI_ZALO_LISTEN": f"127.0.0.1:{port}",
    }
    core = RecordingCore(db)
    with serving(fake, core, wait_for_poll=False, extra=extra):
        [registered] = fake.wait_for_method("setWebhook", timeout=10)
        assert registered.params == {"url": url, "secret_token": SECRET}
        fake.push_message(PRIVATE, "qua webhook")
        fake.wait_for_message("1001")
        message = fake.message(PRIVATE, text="gói trong result")
        wrapped = {
            "ok": True,
            "result": {"event_name": "message.text.received", "message": message},
        }
        assert _post(url, wrapped, secret="wrong") == 401
        assert _post(url, wrapped) == 200
        assert _post(url, wrapped) == 200  # delivered again: acknowledged, not answered
        assert _post(url, {"nothing": "here"}) == 400
        fake.wait_for_message("1001", count=2)
        time.sleep(0.3)
    assert fake.polls == 0
    assert [status for _, status in fake.webhook_deliveries] == [200, 200]
    assert texts(fake, "1001") == ["Đã nhận: qua webhook", "Đã nhận: gói trong result"]


def test_run_reports_a_refused_token(fake: FakeZalo, db: Database) -> None:
    settings = replace(zalo_settings(fake, db), zalo_token="0:refused")
    assert asyncio.run(runner.run_platforms(settings, RecordingCore(db), ["zalo"])) == 1
    assert fake.unauthorized == 1


def test_options_from_settings() -> None:
    settings = Settings(extra={"DAUMOI_ZALO_TIMEOUT": "4.5", "DAUMOI_ZALO_FILE_TTL_HOURS": "2"})
    options = AdapterOptions.from_settings(settings, "zalo")
    assert options.request_timeout == 4.5 and options.file_ttl == 7200
