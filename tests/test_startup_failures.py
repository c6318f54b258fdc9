"""`daumoi run` against a platform that refuses the token or cannot be reached, as operators
run it (a subprocess): the token never shows, a refused token ends with one line and exit 1,
an unreachable API is retried with capped exponential backoff, one log line per attempt."""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from aiohttp import web

from tests.fake_api import FakeBotApi, error_response
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import FakeZalo

DAUMOI = Path(sys.executable).with_name("daumoi")
SECRET = "WRONGSECRET_9f8e7d6c5b4a"
TOKEN = f"999:{SECRET}"
REJECTED = "từ chối mã truy cập"
RETRYING = re.compile(r"Chưa kết nối được (\w+) \(lần (\d+): .*\); thử lại sau ([\d.]+) giây\.$")
PLATFORMS = [("telegram", "ptb"), ("telegram", "aiogram"), ("zalo", "")]
HANG_GUARD = 180  # seconds; start-up imports are slow on a busy machine


@pytest.fixture
def db_url(seeded_file: Path, tmp_path: Path) -> str:
    """A seeded database file of this test's own."""
    target = tmp_path / "run.sqlite3"
    shutil.copy(seeded_file, target)
    return f"sqlite:///{target}"


def _env(db_url: str, platform: str, library: str, api_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAUMOI_")}
    env.update(
        DAUMOI_DATABASE_URL=db_url,
        DAUMOI_CONNECT_RETRY_FIRST="0.05",
        DAUMOI_CONNECT_RETRY_MAX="0.1",
        PYTHONIOENCODING="utf-8",
    )
    if platform == "telegram":
        env.update(
            DAUMOI_TELEGRAM_TOKEN=TOKEN,
            DAUMOI_TELEGRAM_LIBRARY=library,
            DAUMOI_TELEGRAM_API_URL=api_url,
        )
    else:
        env.update(DAUMOI_ZALO_TOKEN=TOKEN, DAUMOI_ZALO_API_URL=api_url)
    return env


def _daumoi_run(platform: str, env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(DAUMOI), "run", "--platform", platform],
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
    )


class NotFoundEverywhere(FakeBotApi):
    """A Bot API that answers 404 to everything, as Telegram does for a malformed token."""

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        return error_response(404, "Not Found")


@contextmanager
def _server(kind: str, platform: str) -> Iterator[str]:
    """The API base URL of a server that refuses our token (401 or 404), or a closed port."""
    if kind == "closed":
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        yield f"http://127.0.0.1:{port}"
        return
    fake: FakeBotApi
    if kind == "404":
        fake = NotFoundEverywhere(token="1:right")
    else:
        fake = (
            FakeTelegram(token="1:RIGHT") if platform == "telegram" else FakeZalo(token="1:RIGHT")
        )
    with fake.running():
        yield fake.base_url


def _assert_no_secret(output: str) -> None:
    assert TOKEN not in output and SECRET not in output, output
    assert SECRET[:12] not in output, output


@pytest.mark.parametrize("status", ["401", "404"])
@pytest.mark.parametrize(("platform", "library"), PLATFORMS)
def test_refused_token_ends_with_one_line(
    db_url: str, tmp_path: Path, platform: str, library: str, status: str
) -> None:
    with _server(status, platform) as api_url:
        process = _daumoi_run(platform, _env(db_url, platform, library, api_url), tmp_path)
        output, _ = process.communicate(timeout=HANG_GUARD)
    _assert_no_secret(output)
    assert process.returncode == 1, output
    assert "Traceback" not in output, output
    problems = [line for line in output.splitlines() if " ERROR " in line or " CRITICAL " in line]
    assert len(problems) == 1, output
    assert REJECTED in problems[0] and f"DAUMOI_{platform.upper()}_TOKEN" in problems[0]


def test_refused_token_is_masked_even_in_debug_logs(db_url: str, tmp_path: Path) -> None:
    env = _env(db_url, "telegram", "ptb", "")
    env["DAUMOI_LOG_LEVEL"] = "DEBUG"
    with _server("401", "telegram") as api_url:
        env["DAUMOI_TELEGRAM_API_URL"] = api_url
        process = _daumoi_run("telegram", env, tmp_path)
        output, _ = process.communicate(timeout=HANG_GUARD)
    _assert_no_secret(output)
    assert process.returncode == 1, output
    assert "getMe" in output  # the libraries did log their requests at DEBUG


@pytest.mark.parametrize(("platform", "library"), PLATFORMS)
def test_unreachable_api_is_retried_with_backoff(
    db_url: str, tmp_path: Path, platform: str, library: str
) -> None:
    with _server("closed", platform) as api_url:
        process = _daumoi_run(platform, _env(db_url, platform, library, api_url), tmp_path)
        lines = _read_until(process, lambda line: _attempt(line) == 3)
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=HANG_GUARD)
    output = "\n".join(lines) + "\n" + rest
    _assert_no_secret(output)
    assert process.returncode == 0, output  # stopped by the operator, not given up
    assert "Traceback" not in output, output
    retries = [m for m in map(RETRYING.search, output.splitlines()) if m]
    assert [int(m.group(2)) for m in retries[:3]] == [1, 2, 3], output
    assert [float(m.group(3)) for m in retries[:3]] == [0.05, 0.1, 0.1]  # doubled, then capped
    assert {m.group(1) for m in retries} == {platform.capitalize()}


def _attempt(line: str) -> int:
    match = RETRYING.search(line)
    return int(match.group(2)) if match else 0


def _read_until(process: subprocess.Popen[str], done: object) -> list[str]:
    """Lines of the process's output up to the first one for which done(line) is true."""
    assert process.stdout is not None and callable(done)
    lines: queue.Queue[str | None] = queue.Queue()
    stream = process.stdout

    def pump() -> None:
        for line in iter(stream.readline, ""):
            lines.put(line.rstrip("\n"))
            if done(line.rstrip("\n")):
                break
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    while True:
        try:
            line = lines.get(timeout=HANG_GUARD)
        except queue.Empty:
            process.kill()
            pytest.fail("no retry seen:\n" + "\n".join(seen))
        if line is None:
            break
        seen.append(line)
    if not seen or not done(seen[-1]):
        process.kill()
        pytest.fail("the process ended without retrying:\n" + "\n".join(seen))
    return seen
