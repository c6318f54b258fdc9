"""Every DAUMOI_* variable is declared once, typed; bad values are one line, exit 2 (issue 15)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.cli import main
from bot.config_cli import reference_table
from core.config import NOT_SETTINGS, Config, ConfigError, unknown_variables
from core.settings import Settings

README = Path(__file__).resolve().parents[1] / "README.md"
SOURCES = ("core", "data", "scheduler", "handlers", "bot")


def test_the_readme_table_is_the_configuration() -> None:
    text = README.read_text(encoding="utf-8")
    found = re.search(r"<!-- settings-table -->\n(.*?)\n<!-- /settings-table -->", text, re.S)
    assert found is not None, "README has no settings table"
    assert found.group(1).strip() == reference_table(), "run `daumoi config --markdown`"


def test_every_variable_the_code_names_is_declared() -> None:
    root = Path(__file__).resolve().parents[1]
    named: set[str] = set()
    for package in SOURCES:
        for path in (root / package).rglob("*.py"):
            named |= set(re.findall(r"DAUMOI_[A-Z0-9_]*[A-Z0-9]", path.read_text(encoding="utf-8")))
    prefixes = {"DAUMOI_TELEGRAM", "DAUMOI_ZALO", "DAUMOI_REMINDER", "DAUMOI_WORKING"}
    examples = {"DAUMOI_X"}  # in docstrings
    assert named - prefixes - examples - NOT_SETTINGS - set(Config.variables()) == set()


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("DAUMOI_REMINDER_TICK_SECONDS", "30s", "một số"),
        ("DAUMOI_REMINDER_TIME", "25:00", "HH:MM"),
        ("DAUMOI_REMINDER_TIME", "sáng", "HH:MM"),
        ("DAUMOI_TELEGRAM_LIBRARY", "pyrogram", "ptb"),
        ("DAUMOI_TIMEZONE", "Hanoi", "Asia/Ho_Chi_Minh"),
        ("DAUMOI_WEBHOOK_LISTEN", "8080", "máy:cổng"),
        ("DAUMOI_DIGEST_DAY", "hôm nay", "thu2"),
        ("DAUMOI_EXTRA_HOLIDAYS", "2026-02-30", "YYYY-MM-DD"),
        ("DAUMOI_WORKING_DAYS", "mon-fri", "0 đến 6"),
        ("DAUMOI_REMINDERS", "maybe", "1 hoặc 0"),
        ("DAUMOI_REMINDER_MAX_ATTEMPTS", "0", "lớn hơn 0"),
    ],
)
def test_a_bad_value_names_the_variable_and_what_it_expects(
    name: str, value: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({name: value})
    assert f"{name}={value!r}" in str(refused.value) and expected in str(refused.value)


def test_typed_values_reach_the_settings() -> None:
    settings = Settings.from_env(
        {"DAUMOI_REMINDER_TICK_SECONDS": "5", "DAUMOI_REMINDERS": "0", "DAUMOI_LOG_LEVEL": "debug"}
    )
    assert settings.config.reminder_tick_seconds == 5.0
    assert settings.config.reminders is False and settings.config.log_level == "DEBUG"
    assert Settings().config.reminder_tick_seconds == 30.0  # defaults when nothing is set


def test_an_unknown_variable_is_named_with_the_closest_known_one() -> None:
    lines = unknown_variables({"DAUMOI_REMINDR_TIME": "8:00", "DAUMOI_ZZZ": "1"}, frozenset())
    assert lines == [
        "Biến DAUMOI_REMINDR_TIME không được dùng — có phải DAUMOI_REMINDER_TIME?",
        "Biến DAUMOI_ZZZ không được dùng",
    ]
    assert unknown_variables({"DAUMOI_ECHO_TOKEN": "x"}, frozenset({"DAUMOI_ECHO_TOKEN"})) == []


def test_the_cli_refuses_a_bad_value_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DAUMOI_REMINDER_TICK_SECONDS", "30s")
    assert main(["config"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "DAUMOI_REMINDER_TICK_SECONDS" in err[0]


def test_config_prints_every_setting_with_secrets_masked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DAUMOI_TELEGRAM_TOKEN", "123456:SECRET-token-value")
    monkeypatch.setenv("DAUMOI_ZALO_WEBHOOK_SECRET", "zalo-secret-value")
    monkeypatch.setenv("DAUMOI_REMINDER_TIME", "07:45")
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "SECRET-token-value" not in out and "zalo-secret-value" not in out
    assert "DAUMOI_TELEGRAM_TOKEN=***" in out and "DAUMOI_REMINDER_TIME=07:45" in out
    assert len(out.strip().splitlines()) == len(Config.variables())
