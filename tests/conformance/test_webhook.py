"""Webhook mode of each adapter: the fake server delivers updates by HTTP POST."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from bot.platforms import telegram
from bot.router import Router
from core.model import ChatEvent, Incoming, Reply
from tests import fake_telegram as ft
from tests.conformance.conftest import (
    ADAPTERS,
    FAST_OPTIONS,
    AdapterThread,
    ConformanceCore,
    make_settings,
)
from tests.fake_telegram import FakeTelegram

SECRET = "conformance-secret_42"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Webhook:
    """An adapter serving in webhook mode, and its public address."""

    def __init__(self, fake: FakeTelegram, adapter: AdapterThread, port: int) -> None:
        self.fake = fake
        self.adapter = adapter
        self.base = f"http://127.0.0.1:{port}"
        self.url = f"{self.base}/telegram/hook"

    def post(self, body: Any, secret: str = SECRET) -> tuple[int, float]:
        """POST an update like Telegram would; (status, seconds taken)."""
        request = urllib.request.Request(
            self.url,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
        )
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, time.monotonic() - started
        except urllib.error.HTTPError as exc:
            return exc.code, time.monotonic() - started


def start_webhook(fake: FakeTelegram, library: str, core: Any) -> Webhook:
    """Run the adapter in webhook mode against fake; return once setWebhook was called."""
    telegram.library(library)
    port = free_port()
    settings = make_settings(
        fake,
        library,
        webhook_url=f"http://127.0.0.1:{port}/telegram/hook",
        webhook_listen=f"127.0.0.1:{port}",
        webhook_secret=SECRET,
    )
    adapter = AdapterThread(settings, core, FAST_OPTIONS).start()
    fake.wait_for_method("setWebhook", timeout=30)
    return Webhook(fake, adapter, port)


@pytest.fixture(params=ADAPTERS)
def library(request: pytest.FixtureRequest) -> str:
    """Each Telegram library in turn."""
    return str(request.param)


@pytest.fixture
def hook(fake: FakeTelegram, library: str, router: Router) -> Iterator[Webhook]:
    """The real bot in webhook mode."""
    webhook = start_webhook(fake, library, ConformanceCore(router))
    try:
        yield webhook
    finally:
        webhook.adapter.stop()


def test_webhook_answers_start_and_search(hook: Webhook) -> None:
    [call] = hook.fake.calls("setWebhook")
    assert call.params["url"] == hook.url
    assert call.params["secret_token"] == SECRET
    chat = ft.private_chat(ft.user())
    hook.fake.push_message(chat, "/start")
    assert hook.fake.wait_for_message(chat["id"])[0].text.startswith("Xin chào")
    hook.fake.push_message(chat, "/tim san bay chu lai")
    text = hook.fake.wait_for_message(chat["id"], count=2)[1].text
    assert "2.4" in text and "5.3" in text
    assert {status for _, status in hook.fake.webhook_deliveries} == {200}


def test_webhook_rejects_a_wrong_secret(hook: Webhook) -> None:
    update = {"update_id": 1, "message": hook.fake.message(ft.private_chat(ft.user()), "/start")}
    status, _ = hook.post(update, secret="wrong")
    assert status == 401
    status, _ = hook.post(update, secret="")
    assert status == 401
    time.sleep(0.2)
    assert hook.fake.calls("sendMessage") == []


def test_healthz(hook: Webhook) -> None:
    with urllib.request.urlopen(f"{hook.base}/healthz", timeout=5) as response:
        assert response.status == 200
        assert json.loads(response.read()) == {"status": "ok"}


class SlowCore:
    """Takes its time over every message and remembers when it finished."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.finished: list[float] = []
        self.failures_left = 0
        self._lock = threading.Lock()

    def handle(self, incoming: Incoming) -> list[Reply]:
        time.sleep(self.delay)
        with self._lock:
            if self.failures_left:
                self.failures_left -= 1
                raise RuntimeError("database is locked")
            self.finished.append(time.monotonic())
        return [Reply("xong")]

    def handle_event(self, event: ChatEvent) -> list[Reply]:
        return []


def test_update_is_acknowledged_only_after_the_core_committed(
    fake: FakeTelegram, library: str
) -> None:
    core = SlowCore(delay=0.5)
    webhook = start_webhook(fake, library, core)
    try:
        update = {"update_id": 7, "message": fake.message(ft.private_chat(ft.user()), "/start")}
        status, took = webhook.post(update)
        assert status == 200
        assert took >= 0.5
        assert len(core.finished) == 1
    finally:
        webhook.adapter.stop()


def test_failed_update_is_refused_once_then_acknowledged(fake: FakeTelegram, library: str) -> None:
    core = SlowCore(delay=0.0)
    core.failures_left = 2
    webhook = start_webhook(fake, library, core)
    try:
        chat = ft.private_chat(ft.user())
        update = {"update_id": 8, "message": fake.message(chat, "/start")}
        assert webhook.post(update)[0] == 500  # Telegram will deliver it again
        assert webhook.post(update)[0] == 200  # a second failure must not block the queue
        apology = fake.wait_for_message(chat["id"])[0].text
        assert apology.startswith("Xin lỗi")
    finally:
        webhook.adapter.stop()
