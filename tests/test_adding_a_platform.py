"""Adding a platform is one adapter module and one ADAPTERS line (tests/echo_platform.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import bot.platforms
from bot.app import build_app
from bot.runner import run_platforms
from core.settings import Settings
from tests import echo_platform


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    # The one registration line of the README's checklist.
    adapters = {**bot.platforms.ADAPTERS, "echo": "tests.echo_platform"}
    monkeypatch.setattr(bot.platforms, "ADAPTERS", adapters)
    monkeypatch.setattr("bot.app.ADAPTERS", adapters)
    monkeypatch.setattr("bot.runner.ADAPTERS", adapters)
    echo_platform.SENT.clear()


async def _until(condition: object, seconds: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_a_registered_module_is_served_by_the_runner(
    registered: None, tmp_path: Path
) -> None:
    environ = {
        "DAUMOI_DATABASE_URL": f"sqlite:///{tmp_path / 'echo.sqlite3'}",
        "DAUMOI_ECHO_TOKEN": "x",
        "DAUMOI_REMINDERS": "0",
    }
    settings = Settings.from_env(environ)
    app = build_app(settings)
    stop = asyncio.Event()
    running = asyncio.create_task(
        run_platforms(settings, app.router, ["echo"], database=app.database, stop=stop)
    )
    try:
        await echo_platform.INBOX.put(("42", "/trogiup"))
        await echo_platform.INBOX.put(("42", "san bay chu lai"))
        await _until(lambda: any("Chu Lai" in text for _, text in echo_platform.SENT))
    finally:
        stop.set()
        assert await running == 0
        app.close()
    texts = [text for chat, text in echo_platform.SENT if chat == "42"]
    assert len(texts) >= 2
    # The router rendered for the adapter's own LIMITS, read through the registry.
    assert app.router.capabilities("echo").max_text_len == 700
    assert all(len(text) <= 700 for text in texts)
