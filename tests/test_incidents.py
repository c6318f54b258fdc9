"""Internal errors: logged with an incident id; a private chat hears the id, a group nothing."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any

import pytest

from bot.bridge import ChatBridge
from bot.router import apology_incident
from core.model import Reply
from tests.test_telegram_bridge import FakeApi, update

if TYPE_CHECKING:
    from tests.bot_harness import Bot

pytest_plugins = ("tests.bot_harness",)


@pytest.mark.parametrize(
    ("chat_id", "text"),
    [
        (-4001, "/nhacviec@daumoi_bot"),
        (-4001, "/nhiemvu 2.4"),
        (-4001, "@daumoi_bot so y te"),
        (1001, "/nhacviec"),
        (1001, "so y te"),
    ],
)
def test_telegram_adapter_posts_no_error_to_groups(
    bot: Bot,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    chat_id: int,
    text: str,
) -> None:
    def explode(*args: Any, **kwargs: Any) -> list[Reply]:
        raise RuntimeError("internal failure")

    monkeypatch.setattr(bot.router, "_dispatch", explode)
    api = FakeApi()
    bridge = ChatBridge(bot.router, api)
    asyncio.run(bridge.process(update(chat_id, text)))
    logged = re.findall(r"incident ([0-9a-f]{6}):", caplog.text)
    assert len(logged) == 1 and "internal failure" in caplog.text
    sent = [call for call in api.calls if call[0] == "text"]
    if chat_id < 0:
        assert sent == []
    else:
        [(_, to, said, _)] = sent
        assert to == str(chat_id) and apology_incident(said) == logged[0]
