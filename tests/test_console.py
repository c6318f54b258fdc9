"""The console adapter: piped and interactive use, numbered choices, exit."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from bot.platforms.console import BANNER, PROMPT, run_console

if TYPE_CHECKING:
    from tests.bot_harness import Bot

pytest_plugins = ("tests.bot_harness",)


class TtyInput(io.StringIO):
    """Input that claims to be a terminal."""

    def isatty(self) -> bool:
        return True


def _run(bot: Bot, text: str, stdin_type: type[io.StringIO] = io.StringIO) -> tuple[int, str]:
    out = io.StringIO()
    status = run_console(bot.router, stdin_type(text), out)
    return status, out.getvalue()


def test_piped_input_has_no_prompt_and_exits_zero_at_eof(bot: Bot) -> None:
    status, out = _run(bot, "/tim san bay chu lai\n")
    assert status == 0
    assert PROMPT not in out and BANNER not in out
    assert "2.4 — " in out and "5.3 — " in out
    assert "Trả lời bằng số để chọn." in out


def test_digit_answers_the_numbered_list(bot: Bot) -> None:
    _, out = _run(bot, "/linhvuc\n2\n")
    assert "Lĩnh vực 2: Dịch vụ du lịch (7 nhiệm vụ)" in out


def test_exit_command_stops_reading(bot: Bot) -> None:
    status, out = _run(bot, "/thoát\n/start\n")
    assert status == 0 and "Xin chào" not in out


def test_blank_lines_are_skipped(bot: Bot) -> None:
    _, out = _run(bot, "\n   \n")
    assert out == ""


def test_interactive_session_shows_banner_and_prompts(bot: Bot) -> None:
    status, out = _run(bot, "/start\n", TtyInput)
    assert status == 0
    assert out.startswith(BANNER)
    assert out.count(PROMPT) == 2  # before /start and before EOF
    assert "Xin chào" in out and out.rstrip().endswith("Tạm biệt!")


class InterruptedInput(TtyInput):
    """A terminal where the user presses Ctrl-C at the first prompt."""

    def readline(self, size: int | None = -1) -> str:
        raise KeyboardInterrupt


def test_ctrl_c_exits_cleanly(bot: Bot) -> None:
    status, out = _run(bot, "", InterruptedInput)
    assert status == 0 and out.rstrip().endswith("Tạm biệt!")
