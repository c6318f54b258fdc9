"""Menus by scope and role, bot descriptions and deep-link invitations, end to end.

Telegram (ptb, aiogram): the group and private-chat menus hold no admin command, each admin's
known private chat gets the full menu, the description and short description are set; /moi in
the admin's private chat gives https://t.me/<bot>?start=<payload>, and the invitee's
`/start <payload>` registers. `/dangky <code>` still works everywhere; on Zalo the invitation
says to type it.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot import commands, runner
from bot.bridge import AdapterOptions
from bot.platforms import telegram
from bot.router import Router
from core.settings import Settings
from data.store import people
from data.store.db import Database
from handlers.basic import Audience, Where
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

ADMIN_ONLY = {c.name for c in commands.COMMANDS if c.audience is Audience.ADMIN}
PRIVATE_ONLY = {c.name for c in commands.COMMANDS if c.where is Where.PRIVATE}


class ServingWithDatabase(AdapterThread):
    """The adapter as `daumoi run` serves it: admins' private chats read from the database."""

    def __init__(
        self, settings: Settings, core: Any, options: AdapterOptions, database: Database
    ) -> None:
        super().__init__(settings, core, options)
        self.database = database

    async def _serve(self, stop: asyncio.Event) -> None:
        await runner.serve(
            "telegram", self.settings, self.core, stop, options=self.options, database=self.database
        )


@pytest.fixture(params=ADAPTERS)
def served(
    request: pytest.FixtureRequest, fake: FakeTelegram, seeded_db: Database, router: Router
) -> Iterator[FakeTelegram]:
    """A Telegram library serving, with Lan (the configured admin) known in her private chat."""
    with seeded_db.unit_of_work() as session:
        people.add_admin(
            session,
            "telegram",
            str(ADMIN_ID),
            name="Lan",
            now=datetime.now(UTC),
            private_chat_id=str(ADMIN_ID),
        )
    library = str(request.param)
    telegram.library(library)
    adapter = ServingWithDatabase(
        make_settings(fake, library), ConformanceCore(router), FAST_OPTIONS, seeded_db
    )
    adapter.start()
    try:
        fake.wait_for_method("setMyShortDescription", timeout=30)
        yield fake
    finally:
        adapter.stop()
    assert fake.unknown_methods == []


def _scope(call: SentCall) -> tuple[str, str]:
    scope = call.params.get("scope") or {"type": "default"}
    if isinstance(scope, str):
        scope = json.loads(scope)
    return str(scope["type"]), str(scope.get("chat_id", ""))


def _names(call: SentCall) -> set[str]:
    return {entry["command"] for entry in call.params["commands"]}


def test_menus_by_scope_and_descriptions(served: FakeTelegram) -> None:
    menus = {_scope(call): _names(call) for call in served.calls("setMyCommands")}
    group = menus[("all_group_chats", "")]
    private = menus[("all_private_chats", "")]
    admin = menus[("chat", str(ADMIN_ID))]
    assert {"tim", "nhiemvu", "lienket", "capnhat"} <= group
    assert {"tim", "dangky", "capnhat"} <= private
    assert not ADMIN_ONLY & (group | private)
    assert not PRIVATE_ONLY & group
    assert ADMIN_ONLY | {"tim", "dangky"} <= admin and "lienket" not in admin
    assert ("default", "") not in menus
    [description] = served.calls("setMyDescription")
    [short] = served.calls("setMyShortDescription")
    assert description.params["description"] == commands.DESCRIPTION
    assert short.params["short_description"] == commands.SHORT_DESCRIPTION
    assert len(commands.DESCRIPTION) <= 512 and len(commands.SHORT_DESCRIPTION) <= 120
    assert "Quyết định 1731" in commands.DESCRIPTION


def _invite(driver: TelegramDriver) -> str:
    driver.say(driver.private, "/moi so y te")
    return driver.expect_text(driver.private)


def test_deep_link_invitation_registers_with_start(driver: TelegramDriver) -> None:
    invitee = driver.other_user
    chat = ft.private_chat(invitee)
    invitation = _invite(driver)
    if driver.platform == "telegram":
        base = f"https://t.me/{driver.bot_username}?start="
        link = re.search(re.escape(base) + r"(\S+)", invitation)
        assert link, invitation
        payload = link.group(1)
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", payload)
        driver.say(chat, f"/start {payload}", sender=invitee)
    else:  # Zalo: no deep links, the invitation says to type /dangky
        assert "https://" not in invitation
        code = re.search(r"/dangky (\S+)", invitation)
        assert code, invitation
        driver.say(chat, f"/dangky {code.group(1)}", sender=invitee)
    welcome = driver.expect_text(chat)
    assert "Chào mừng" in welcome and "Sở Y tế" in welcome


def test_dangky_still_registers(driver: TelegramDriver) -> None:
    invitee = driver.other_user
    chat = ft.private_chat(invitee)
    code = re.search(r"/dangky (\S+)", _invite(driver))
    assert code
    driver.say(chat, f"/dangky {code.group(1)}", sender=invitee)
    assert "Chào mừng" in driver.expect_text(chat)
    driver.say(driver.private, "/start")
    assert driver.expect_text(driver.private).startswith("Xin chào")  # a bare /start greets
