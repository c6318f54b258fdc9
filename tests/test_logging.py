"""Logging as configured at start: text or JSON lines, secrets masked in both, and the debug
lines of updates and sends that never carry what a user wrote in a private chat."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.bridge import ChatBridge, Translated
from bot.logsafe import JSON_FIELDS, MASK, logging_config
from bot.platforms.telegram_common import BotIdentity, translate_update
from core.limits import RateLimits
from core.model import ChatEvent, Incoming, Reply
from data.store.db import Database
from scheduler import outbox
from scheduler.config import ReminderConfig
from scheduler.delivery import Delivery
from tests.scheduler_support import FakeClock, ScriptedClient, plain_rule, rows_for_chats
from tests.telegram_updates import as_update

if TYPE_CHECKING:
    from tests.bot_harness import Bot

pytest_plugins = ("tests.bot_harness",)

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:AAH-secret_Part-xyz"
SECRET = TOKEN.split(":", 1)[1]
ME = BotIdentity(id="777", username="daumoi_bot")
PRIVATE = "Số điện thoại của tôi là 0905 123 456, nhà ở kiệt 7 Hải Phòng"
TEXT_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (INFO|WARNING|ERROR|CRITICAL) \S+: ")

# What a process logs once configured: secrets in messages, arguments, a traceback, an
# `extra` attribute, a chatty library line, and an uncaught exception at the end.
SCRIPT = textwrap.dedent(
    """
    import logging, sys
    from bot import logsafe
    from core.settings import Settings

    token = sys.argv[1]
    settings = Settings(telegram_token=token, extra={"DAUMOI_LOG_FORMAT": sys.argv[2]})
    logsafe.configure(settings, "INFO")
    log = logging.getLogger("daumoi.test")
    log.info("kết nối với token %s", token)
    log.debug("not shown at INFO")
    try:
        raise ValueError("token " + token + " refused")
    except ValueError:
        log.exception("could not connect")
    log.warning("with extra", extra={"leak": token, "url": "bot" + token})
    logging.getLogger("httpx").info("HTTP Request: POST https://x/bot%s/getMe", token)
    raise RuntimeError("uncaught " + token)
    """
)


def _logged(log_format: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, TOKEN, log_format],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 1  # the uncaught exception
    return done.stderr


def test_json_logs_are_one_masked_object_per_line() -> None:
    output = _logged("json")
    assert SECRET not in output and TOKEN not in output
    records = [json.loads(line) for line in output.splitlines()]
    assert [r["level"] for r in records] == ["INFO", "ERROR", "WARNING", "CRITICAL"]
    for record in records:
        assert set(record) <= set(JSON_FIELDS)
        assert {"time", "level", "logger", "message"} <= set(record)
        datetime.fromisoformat(record["time"])
    first, failed, extra, uncaught = records
    assert first["logger"] == "daumoi.test"
    assert first["message"] == f"kết nối với token {MASK}"  # Vietnamese as is, not \\u escapes
    assert "kết nối" in output
    assert "Traceback" in failed["exc_info"] and f"token {MASK} refused" in failed["exc_info"]
    assert extra["message"] == "with extra" and "leak" not in extra  # no unfiltered extras
    assert uncaught["logger"] == "daumoi" and "RuntimeError" in uncaught["exc_info"]


def test_text_logs_are_time_level_logger_message() -> None:
    output = _logged("text")
    assert SECRET not in output and TOKEN not in output
    heads = [line for line in output.splitlines() if TEXT_LINE.match(line)]
    assert [line.split()[2] for line in heads] == ["INFO", "ERROR", "WARNING", "CRITICAL"]
    assert heads[0].endswith(f"daumoi.test: kết nối với token {MASK}")
    assert "Traceback" in output and f"uncaught {MASK}" in output


def test_the_cli_configures_json_logging_at_start(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DAUMOI_DATABASE_URL": f"sqlite:///{tmp_path / 'daumoi.sqlite3'}",
        "DAUMOI_LOG_FORMAT": "json",
        "DAUMOI_LOG_LEVEL": "INFO",
        "DAUMOI_TELEGRAM_TOKEN": TOKEN,
    }
    done = subprocess.run(
        [str(Path(sys.executable).parent / "daumoi"), "search", "san bay chu lai"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines  # the first start migrates and loads the seed, at INFO
    for line in lines:
        record = json.loads(line)
        assert {"time", "level", "logger", "message"} <= set(record) <= set(JSON_FIELDS)


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_the_configuration_is_a_valid_dict_config(log_format: str) -> None:
    config = logging_config("DEBUG", log_format)
    assert config["disable_existing_loggers"] is False  # libraries' loggers keep working
    assert config["handlers"]["stderr"]["level"] == "DEBUG"


# -- what a private chat says stays out of the logs ----------------------------------------------


class FailingCore:
    """A core that fails on every message (the error is logged with its traceback)."""

    def handle(self, incoming: Incoming) -> list[Reply]:
        """Fail."""
        raise RuntimeError("the database went away")

    def handle_event(self, event: ChatEvent) -> list[Reply]:
        """Nothing."""
        return []


def private(update_id: int, text: str) -> Translated:
    user = {"id": 4242, "is_bot": False, "first_name": "Lan"}
    chat = {"id": 4242, "type": "private"}
    body = {"message_id": update_id, "date": 0, "chat": chat, "from": user, "text": text}
    return translate_update(as_update({"update_id": update_id, "message": body}), ME)


def test_private_text_never_reaches_info_logs(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    texts = [PRIVATE, f"/tim {PRIVATE}", f"/dangky {PRIVATE}", f"/khongco {PRIVATE}"]

    async def talk() -> None:
        bridge = ChatBridge(bot.router, ScriptedClient())
        for number, text in enumerate(texts, 1):
            await bridge.process(private(number, text))
        await ChatBridge(FailingCore(), ScriptedClient()).process(private(99, PRIVATE))

    asyncio.run(talk())
    words = ("0905", "kiệt 7", "Hải Phòng")
    shown = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert any(r.levelno >= logging.ERROR for r in shown)  # the failing core was logged
    for record in shown:
        line = record.getMessage() + (record.exc_text or "")
        assert not any(word in line for word in words), line
    ours = [r for r in caplog.records if r.name in ("bot.observe", "core.metrics", "bot.bridge")]
    assert not any(word in r.getMessage() for r in ours for word in words)
    lines = [r.getMessage() for r in ours if r.levelno == logging.DEBUG]
    assert "telegram update text in private chat 4242" in lines
    assert "telegram update tim in private chat 4242" in lines
    assert "telegram update other in private chat 4242" in lines
    assert any(re.fullmatch(r"telegram reply send to chat 4242: ok in \d+ ms", x) for x in lines)
    assert any(re.fullmatch(r"telegram update answered with 1 replies in \d+ ms", x) for x in lines)


def test_each_reminder_send_is_a_debug_line(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="core.metrics")
    now = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)
    with db.unit_of_work() as session:
        rule = plain_rule(session, now)
        outbox.insert(session, rows_for_chats(rule.id, ["-7"], 1, now), now)
    clock = FakeClock(now)
    config = ReminderConfig().with_limits("telegram", RateLimits())
    delivery = Delivery(db, {"telegram": ScriptedClient(clock=clock)}, config, clock=clock)
    try:
        asyncio.run(delivery.deliver_due())
    finally:
        delivery.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "core.metrics"]
    assert any(re.fullmatch(r"telegram reminder send to chat -7: ok in \d+ ms", x) for x in lines)
    assert not any("Nhắc việc" in line for line in lines)  # the reminder's text is not logged
