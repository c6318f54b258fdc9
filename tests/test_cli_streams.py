"""The `daumoi` command ends quietly: a reader that goes away (`| head`) and a shutdown in the
middle of a reminder tick print no traceback."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from scheduler.service import ReminderService

DAUMOI = Path(sys.executable).with_name("daumoi")
TRACES = ("Traceback", "BrokenPipeError", "CancelledError", "Exception ignored")


@pytest.fixture
def db_url(seeded_file: Path, tmp_path: Path) -> str:
    """A seeded database file of this test's own."""
    target = tmp_path / "cli.sqlite3"
    shutil.copy(seeded_file, target)
    return f"sqlite:///{target}"


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAUMOI_")}
    env["DAUMOI_DATABASE_URL"] = url
    env["PYTHONIOENCODING"] = "utf-8"
    return env


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (["export", "--json"], b""),  # ~100 kB: more than a pipe holds
        (["search", "--json"], b"san bay chu lai\nso y te\n" * 200),
    ],
    ids=["export", "search"],
)
def test_a_reader_that_goes_away_ends_the_command_quietly(
    db_url: str, tmp_path: Path, args: list[str], stdin: bytes
) -> None:
    process = subprocess.Popen(
        [str(DAUMOI), *args],
        env=_env(db_url),
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(stdin)
    process.stdin.close()
    assert process.stdout.read(200)  # like `| head -c 200`
    process.stdout.close()
    assert process.stderr is not None
    errors = process.stderr.read().decode("utf-8", "replace")
    process.wait(timeout=120)
    assert not any(trace in errors for trace in TRACES), errors
    assert process.returncode == 141  # as a program killed by SIGPIPE


def test_console_run_ends_without_a_traceback(db_url: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [str(DAUMOI), "run"],
        input="/trogiup\n",
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=_env(db_url),
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "/capnhat" in result.stdout
    assert not any(trace in result.stderr for trace in TRACES), result.stderr


def test_a_tick_cancelled_by_shutdown_ends_quietly(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> asyncio.Task[None]:
        started = asyncio.Event()

        async def slow_tick() -> None:
            started.set()
            await asyncio.Event().wait()

        service = SimpleNamespace(tick=slow_tick)
        task = asyncio.create_task(ReminderService._safe_tick(service))  # type: ignore[arg-type]
        await started.wait()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return task

    task = asyncio.run(main())
    assert not task.cancelled() and task.exception() is None  # nothing for APScheduler to log
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


@pytest.mark.parametrize("fmt", ["json", "xlsx", "docx", "png"])
def test_a_report_to_a_reader_already_gone_ends_quietly(
    db_url: str, tmp_path: Path, fmt: str
) -> None:
    # stdout is a pipe whose reader is closed before the report is written: every write fails
    # (deterministic, unlike racing a reader that stops after a few bytes).
    reader, writer = os.pipe()
    os.close(reader)
    try:
        result = subprocess.run(
            [str(DAUMOI), "report", "--year", "2026", "--format", fmt, "-o", "-"],
            env=_env(db_url),
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=writer,
            stderr=subprocess.PIPE,
            timeout=120,
            check=False,
        )
    finally:
        os.close(writer)
    errors = result.stderr.decode("utf-8", "replace")
    assert not any(trace in errors for trace in TRACES), errors
    assert "Không ghi được" not in errors, errors
    assert result.returncode == 141  # as a program killed by SIGPIPE
