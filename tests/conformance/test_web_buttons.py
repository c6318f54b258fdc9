"""The web view's Mini App button, end to end, when DAUMOI_WEB_URL is set.

Telegram (ptb, aiogram): /baocao and a task card in a registered person's private chat carry a
`web_app` button with the page's HTTPS address (the fake refuses a web_app button in a group or
with an address that is not HTTPS, as Telegram does); the chat menu button opens the web view.
No button in a group or for a stranger. Zalo and the console have no Mini Apps: the choice is
left out, so it never takes a number in the numbered list.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from bot.platforms import telegram
from bot.router import Router
from core.limits import LIMITS
from core.model import Choice, Reply
from core.render import CHOOSE_BY_NUMBER, render
from core.settings import Settings
from data.store.db import Database
from handlers.web.button import WEB_APP_LABEL
from tests import fake_telegram as ft
from tests.conformance.conftest import (
    ADAPTERS,
    ADMIN_ID,
    FAST_OPTIONS,
    AdapterThread,
    ConformanceCore,
    TelegramDriver,
    make_settings,
)
from tests.fake_telegram import FakeTelegram, SentCall

WEB = "https://theodoi.example.gov.vn/web"
WEB_SETTINGS = {"DAUMOI_WEB_URL": WEB}


@pytest.fixture
def router(seeded_db: Database, search_engine: Any) -> Router:
    """The real router with the web view's public address configured."""
    settings = Settings(
        admins=(f"telegram:{ADMIN_ID}", f"zalo:{ADMIN_ID}"), extra=dict(WEB_SETTINGS)
    )
    return Router(seeded_db, search_engine, settings, LIMITS)


@pytest.fixture(params=ADAPTERS)
def tg(
    request: pytest.FixtureRequest, fake: FakeTelegram, router: Router
) -> Iterator[TelegramDriver]:
    """A Telegram library serving with DAUMOI_WEB_URL set (the menu button is set at start)."""
    library = str(request.param)
    telegram.library(library)
    settings = replace(make_settings(fake, library), extra=dict(WEB_SETTINGS))
    adapter = AdapterThread(settings, ConformanceCore(router), FAST_OPTIONS)
    adapter.start()
    fake.wait_for_method("setMyCommands", timeout=30)
    driver = TelegramDriver(fake, router.database, library)
    driver.adapter = adapter
    try:
        yield driver
    finally:
        adapter.stop()
    assert fake.unknown_methods == []
    assert fake.errors == [], [(c.method, c.params) for c in fake.errors]


def _buttons(call: SentCall) -> list[dict[str, Any]]:
    markup = call.params.get("reply_markup") or {}
    if isinstance(markup, str):
        markup = json.loads(markup)
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def _web_apps(call: SentCall) -> list[str]:
    return [b["web_app"]["url"] for b in _buttons(call) if b.get("web_app")]


def _task_id(router: Router, code: str) -> int:
    return router.catalog.get().tasks_by_code(code)[0].id


def test_baocao_and_task_card_carry_a_web_app_button(tg: TelegramDriver, router: Router) -> None:
    tg.say(tg.private, "/baocao")
    [summary] = tg.expect(tg.private)
    assert _web_apps(summary) == [f"{WEB}/"]
    last = _buttons(summary)[-1]
    assert last["text"] == WEB_APP_LABEL and "callback_data" not in last
    assert any("callback_data" in b for b in _buttons(summary)[:-1])  # the sections stay

    tg.say(tg.private, "/nhiemvu 2.4")
    [card] = tg.expect(tg.private)
    assert _web_apps(card) == [f"{WEB}/nhiemvu/{_task_id(router, '2.4')}"]


def test_menu_button_opens_the_web_view(tg: TelegramDriver) -> None:
    [call] = tg.fake.wait_for_method("setChatMenuButton", timeout=10)
    button = call.params["menu_button"]
    if isinstance(button, str):
        button = json.loads(button)
    assert button["type"] == "web_app" and button["web_app"]["url"] == f"{WEB}/"
    assert button["text"]


def test_no_web_app_button_in_a_group_or_for_a_stranger(tg: TelegramDriver) -> None:
    tg.say(tg.group, f"/baocao@{tg.bot_username}")
    [in_group] = tg.expect(tg.group)
    assert _web_apps(in_group) == []
    stranger = ft.private_chat(tg.other_user)
    tg.say(stranger, "/baocao", sender=tg.other_user)
    [answer] = tg.expect(stranger)
    assert _web_apps(answer) == []


def test_zalo_numbers_no_web_app_choice(router: Router, seeded_db: Database) -> None:
    from tests.conformance.zalo_driver import zalo_driver

    with zalo_driver(seeded_db, ConformanceCore(router)) as zalo:
        zalo.say(zalo.private, "/baocao")
        text = zalo.expect_text(zalo.private)
        assert WEB_APP_LABEL not in text and "web_app" not in text and WEB not in text
        numbers = re.findall(r"^(\d+)\. ", text, flags=re.MULTILINE)
        assert numbers and numbers == [str(n) for n in range(1, len(numbers) + 1)]
        zalo.say(zalo.private, str(len(numbers) + 1))  # one past the list: no hidden choice
        assert "từ 1 đến" in zalo.expect_text(zalo.private)


@pytest.mark.parametrize("platform", ["zalo", "console"])
def test_a_web_app_choice_never_takes_a_number(platform: str) -> None:
    reply = Reply(
        "Báo cáo",
        (Choice("Theo lĩnh vực", "/baocao linhvuc"), Choice(WEB_APP_LABEL, "/web", "t", WEB)),
    )
    [shown] = render(reply, LIMITS[platform])
    assert shown.choices == ()
    assert "1. Theo lĩnh vực" in shown.text and "2." not in shown.text
    assert WEB_APP_LABEL not in shown.text and CHOOSE_BY_NUMBER in shown.text
    [on_telegram] = render(reply, LIMITS["telegram"])
    assert on_telegram.choices[-1].web_app_url == WEB
