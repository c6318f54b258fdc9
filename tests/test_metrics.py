"""/metrics over real HTTP: updates, replies, searches, sends, reminders, imports, outbox gauges."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine

from bot import observe, runner
from bot.bridge import AdapterOptions, ChatBridge, RetryPolicy, Translated
from bot.platforms import health_http, webhook
from bot.platforms.telegram_common import BotIdentity, translate_update
from core import metrics
from core.chat_client import BadRequest, ChatGone, Forbidden, NotModified, RetryAfter, Transient
from core.limits import RateLimits
from core.model import Chat, ChatKind, Incoming, User
from core.settings import Settings
from data.importing.decision_text import DecisionFormatError
from data.importing.importer import SEED_FILE, import_file, import_text
from data.search.types import Confidence
from data.store.db import Database
from scheduler import outbox
from scheduler.config import ReminderConfig
from scheduler.delivery import Delivery
from scheduler.outbox_gauges import OutboxCollector
from tests.conformance.zalo_driver import zalo_settings
from tests.fake_zalo import FakeZalo
from tests.http_support import LoopThread, free_port, get, loop_thread, served
from tests.scheduler_support import FakeClock, ScriptedClient, plain_rule, rows_for_chats
from tests.telegram_updates import as_update

if TYPE_CHECKING:
    from tests.bot_harness import Bot

ME = BotIdentity(id="777", username="daumoi_bot")
HOOK = "/telegram/hook"
SECRET = "hook-secret"
NOW = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)
CONFIG = ReminderConfig(backoff_base=60, max_attempts=3).with_limits("telegram", RateLimits())
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

pytest_plugins = ("tests.bot_harness",)


@pytest.fixture
def loop() -> Iterator[LoopThread]:
    with loop_thread() as thread:
        yield thread


def scrape(base: str) -> Samples:
    """GET /metrics and read every sample of the text exposition."""
    status, body, headers = get(base + "/metrics")
    assert status == 200
    assert headers["Content-Type"] == metrics.CONTENT_TYPE
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value (0 when absent)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def grew(before: Samples, after: Samples, name: str, **labels: str) -> float:
    """How much a sample grew between two scrapes."""
    return value(after, name, **labels) - value(before, name, **labels)


async def _no_sleep(_seconds: float) -> None:
    return None


def message(update_id: int, chat_id: int, text: str) -> dict[str, Any]:
    """A Bot API update with a private message."""
    user = {"id": chat_id, "is_bot": False, "first_name": "Lan"}
    chat = {"id": chat_id, "type": "private"}
    body = {"message_id": update_id, "date": 0, "chat": chat, "from": user, "text": text}
    return {"update_id": update_id, "message": body}


def press(update_id: int, chat_id: int, token: str) -> dict[str, Any]:
    """A Bot API update with a button press on an earlier message."""
    user = {"id": chat_id, "is_bot": False, "first_name": "Lan"}
    chat = {"id": chat_id, "type": "private"}
    shown = {"message_id": 5, "date": 0, "chat": chat, "text": "Chọn một mục"}
    query = {"id": f"cb{update_id}", "from": user, "message": shown, "data": token}
    return {"update_id": update_id, "callback_query": query}


def post(base: str, update: dict[str, Any]) -> int:
    """Deliver an update to the webhook as Telegram does."""
    request = urllib.request.Request(
        base + HOOK,
        data=json.dumps(update).encode(),
        headers={"Content-Type": "application/json", webhook.SECRET_HEADER: SECRET},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(response.status)


def telegram_app(bridge: ChatBridge) -> Any:
    def parse(body: dict[str, Any]) -> Translated:
        return translate_update(as_update(body), ME)

    return webhook.make_app(bridge, parse, HOOK, SECRET)


def _enqueue(database: Database, chats: list[str], per_chat: int, due: datetime) -> None:
    with database.unit_of_work() as session:
        rule = plain_rule(session, NOW)
        outbox.insert(session, rows_for_chats(rule.id, chats, per_chat, due), NOW)


# -- the whole path, on the Telegram webhook app ----------------------------------------------


def test_telegram_webhook_serves_every_metric(
    bot: Bot,
    seeded_db: Database,
    loop: LoopThread,
) -> None:
    """Updates through a real bridge and router, a reminder pass and two imports, then
    /metrics on the webhook server shows each with the right counts."""
    client = ScriptedClient()
    client.fail("1002", RetryAfter(1))  # flood control once, then the reply goes out
    client.fail("1003", ChatGone("blocked"))  # the user blocked the bot
    options = AdapterOptions(retry=RetryPolicy(base_delay=0))
    bridge = ChatBridge(bot.router, client, options=options, sleep=_no_sleep)
    updates = [
        message(1, 1001, "/tim 2.4"),  # a task code: an exact answer
        message(2, 1001, "/tim qwzx vbnmq"),  # nothing found
        message(3, 1001, "/trogiup@daumoi_bot"),
        message(4, 1001, "/khongcolenhnay"),  # unknown: "other", never its name
        message(5, 1002, "/start"),
        message(6, 1003, "/start"),
        press(7, 1001, "no-such-token"),
    ]
    with served(loop, telegram_app(bridge)) as base:
        before = scrape(base)
        for update in updates:
            assert post(base, update) == 200
        loop.run(bridge.drain())
        clock = FakeClock(NOW)
        _enqueue(seeded_db, ["-1"], 2, NOW)
        sender = ScriptedClient(clock=clock)
        delivery = Delivery(seeded_db, {"telegram": sender}, CONFIG, Settings(), clock=clock)
        try:
            loop.run(delivery.deliver_due())
        finally:
            delivery.close()
        with seeded_db.unit_of_work() as session:
            import_file(session, SEED_FILE)
        with pytest.raises(DecisionFormatError), seeded_db.unit_of_work() as session:
            import_text(session, "", "rong.txt")
        after = scrape(base)

    def updates_grew(command: str) -> float:
        return grew(before, after, "daumoi_updates_total", platform="telegram", command=command)

    assert updates_grew("tim") == 2
    assert updates_grew("trogiup") == 1
    assert updates_grew("other") == 1
    assert updates_grew("start") == 2
    assert updates_grew("button") == 1
    assert not any("khongcolenhnay" in str(labels) for (_name, labels) in after), (
        "an unknown command's name became a label value"
    )
    assert grew(before, after, "daumoi_search_total", outcome="exact") == 1
    assert grew(before, after, "daumoi_search_total", outcome="none") == 1
    replied = grew(before, after, "daumoi_reply_seconds_count", platform="telegram")
    assert replied == 6  # every message got an answer; the press's answer is its notice
    assert grew(before, after, "daumoi_reply_seconds_sum", platform="telegram") > 0
    in_a_minute = grew(before, after, "daumoi_reply_seconds_bucket", platform="telegram", le="60.0")
    assert in_a_minute == replied

    def sends_grew(path: str, result: str) -> float:
        labels = {"platform": "telegram", "path": path, "result": result}
        return grew(before, after, "daumoi_sends_total", **labels)

    assert sends_grew("reply", "429") == 1
    assert sends_grew("reply", "gone") == 1
    assert sends_grew("reply", "ok") == len(client.sent) >= 5
    assert sends_grew("reminder", "ok") == 1  # two rows, one message
    assert grew(before, after, "daumoi_reminders_total", result="sent") == 2
    assert grew(before, after, "daumoi_reminders_total", result="dead") == 0
    assert grew(before, after, "daumoi_imports_total", result="ok") == 1
    assert grew(before, after, "daumoi_imports_total", result="refused") == 1
    assert value(after, "process_resident_memory_bytes") > 0  # the process collector is there


def test_every_server_has_the_metrics_route(loop: LoopThread) -> None:
    from bot.platforms import zalo_webhook

    apps = [
        telegram_app(ChatBridge(NoCore(), ScriptedClient())),
        zalo_webhook.make_app(readiness=None),
    ]
    for app in apps:
        with served(loop, app) as base:
            samples = scrape(base)
        assert ("daumoi_reminders_total", frozenset({("result", "sent")})) in samples
    port = free_port()
    server = loop.run(health_http.start_health(f"127.0.0.1:{port}", None))
    try:
        assert ("daumoi_imports_total", frozenset({("result", "ok")})) in scrape(
            f"http://127.0.0.1:{port}"
        )
    finally:
        loop.run(server.cleanup())


class NoCore:
    """A core with nothing to say."""

    def handle(self, incoming: Incoming) -> list[Any]:
        """Nothing."""
        return []

    def handle_event(self, event: Any) -> list[Any]:
        """Nothing."""
        return []


# -- reminders and the outbox gauges, on the standalone metrics server ------------------------


def test_reminder_delivery_and_outbox_gauges(db: Database, loop: LoopThread) -> None:
    clock = FakeClock(NOW)
    _enqueue(db, ["-1", "-2"], 2, NOW - timedelta(seconds=90))  # due 90 s and 91 s ago
    _enqueue(db, ["-3"], 1, NOW + timedelta(hours=1))  # not due yet
    sender = ScriptedClient(clock=clock)
    sender.fail("-2", ChatGone("kicked"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with metrics.collecting(OutboxCollector(db, clock)):
        server = loop.run(health_http.start_metrics(f"127.0.0.1:{port}"))
        try:
            assert get(base + "/healthz")[0] == 404  # metrics only
            before = scrape(base)
            delivery = Delivery(db, {"telegram": sender}, CONFIG, Settings(), clock=clock)
            try:
                loop.run(delivery.deliver_due())
            finally:
                delivery.close()
            clock.advance(hours=2)  # the last row is due now, for an hour
            after = scrape(base)
        finally:
            loop.run(server.cleanup())
    assert value(before, "daumoi_outbox_query_ok") == 1
    assert value(before, "daumoi_outbox_pending") == 5
    assert value(before, "daumoi_outbox_oldest_due_seconds") == 91
    assert value(after, "daumoi_outbox_pending") == 1
    assert value(after, "daumoi_outbox_oldest_due_seconds") == 3600
    assert grew(before, after, "daumoi_reminders_total", result="sent") == 2
    assert grew(before, after, "daumoi_reminders_total", result="dead") == 2
    reminder = {"platform": "telegram", "path": "reminder"}
    assert grew(before, after, "daumoi_sends_total", **reminder, result="ok") == 1
    assert grew(before, after, "daumoi_sends_total", **reminder, result="gone") == 1
    # Once the with block ends, the gauges leave the registry.
    assert metrics.REGISTRY.get_sample_value("daumoi_outbox_pending") is None


def test_an_empty_outbox_has_nothing_due(db: Database) -> None:
    with metrics.collecting(OutboxCollector(db)):
        assert metrics.REGISTRY.get_sample_value("daumoi_outbox_pending") == 0
        assert metrics.REGISTRY.get_sample_value("daumoi_outbox_oldest_due_seconds") == 0


def test_a_failing_outbox_query_does_not_break_metrics(
    loop: LoopThread, caplog: pytest.LogCaptureFixture
) -> None:
    broken = Database(create_engine("sqlite://"))  # no tables: every query fails
    with metrics.collecting(OutboxCollector(broken)), served(loop, metrics_app()) as base:
        samples = scrape(base)
    assert value(samples, "daumoi_outbox_query_ok") == 0
    assert not any(name == "daumoi_outbox_pending" for name, _labels in samples)
    assert "outbox gauges unavailable" in caplog.text


def test_a_second_collector_of_the_same_gauges_is_left_out(db: Database) -> None:
    with metrics.collecting(OutboxCollector(db)), metrics.collecting(OutboxCollector(db)):
        text = metrics.exposition().decode()
    assert text.count("\ndaumoi_outbox_pending ") == 1
    assert metrics.REGISTRY.get_sample_value("daumoi_outbox_pending") is None


def metrics_app() -> Any:
    from aiohttp import web

    app = web.Application()
    health_http.add_metrics_route(app)
    return app


# -- labels ------------------------------------------------------------------------------------


def test_search_outcomes_are_the_engines_verdicts() -> None:
    assert tuple(c.value for c in Confidence) == metrics.SEARCH_OUTCOMES


@pytest.mark.parametrize(
    ("error", "result"),
    [
        (None, "ok"),
        (NotModified("same"), "ok"),
        (RetryAfter(3), "429"),
        (Transient("502"), "5xx"),
        (ChatGone("kicked"), "gone"),
        (ChatGone(new_chat_id="-100"), "moved"),
        (Forbidden("token"), "forbidden"),
        (BadRequest("bad"), "bad_request"),
        (RuntimeError("bug"), "error"),
    ],
)
def test_send_results(error: BaseException | None, result: str) -> None:
    assert metrics.send_result(error) == result
    assert result in metrics.SEND_RESULTS


def _incoming(text: str, **fields: Any) -> Incoming:
    return Incoming("telegram", Chat("1", ChatKind.PRIVATE), User("1"), text, **fields)


@pytest.mark.parametrize(
    ("incoming", "kind"),
    [
        (_incoming("/tim san bay"), "tim"),
        (_incoming("/search san bay"), "tim"),  # an alias counts as its command
        (_incoming("/TroGiup@daumoi_bot"), "trogiup"),
        (_incoming("", command="tim", args="x"), "tim"),
        (_incoming("/" + "x" * 300), "other"),
        (_incoming("xin chào"), "text"),
        (_incoming("", file_ref="F1"), "file"),
        (_incoming("1", choice_token="abc"), "button"),
        (None, "ignored"),
    ],
)
def test_update_kinds_are_bounded(incoming: Incoming | None, kind: str) -> None:
    assert observe.kind_of(incoming, 0) == kind


def test_chat_events_count_as_events() -> None:
    assert observe.kind_of(None, 2) == "event"


# -- the runner --------------------------------------------------------------------------------


def _run_zalo(database: Database, extra: dict[str, str], while_running: Any) -> int:
    with FakeZalo().running() as fake, loop_thread() as thread:
        settings = zalo_settings(fake, database, extra={"DAUMOI_REMINDERS": "0", **extra})
        stop = asyncio.Event()
        running = asyncio.run_coroutine_threadsafe(
            runner.run_platforms(settings, NoCore(), ["zalo"], database=database, stop=stop),
            thread.loop,
        )
        try:
            while_running(fake, running)
        finally:
            thread.loop.call_soon_threadsafe(stop.set)
        return int(running.result(30))


def test_the_runner_serves_metrics_listen_with_the_outbox_gauges(seeded_db: Database) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    found: list[Samples] = []

    def scrape_when_up(fake: FakeZalo, _running: Any) -> None:
        fake.wait_for_polls(1)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                found.append(scrape(base))
                return
            except OSError:
                time.sleep(0.05)

    code = _run_zalo(seeded_db, {"DAUMOI_METRICS_LISTEN": f"127.0.0.1:{port}"}, scrape_when_up)
    assert code == 0
    (samples,) = found
    assert value(samples, "daumoi_outbox_query_ok") == 1
    assert value(samples, "daumoi_outbox_pending") == 0
    assert metrics.REGISTRY.get_sample_value("daumoi_outbox_query_ok") is None  # removed at stop


def test_a_metrics_port_in_use_stops_the_runner_with_one_line(
    seeded_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = _run_zalo(seeded_db, {"DAUMOI_METRICS_LISTEN": f"127.0.0.1:{port}"}, lambda *_: None)
    assert code == 1
    (line,) = [r.getMessage() for r in caplog.records if "DAUMOI_METRICS_LISTEN" in r.getMessage()]
    assert f"127.0.0.1:{port}" in line and "metrics" in line and "\n" not in line
