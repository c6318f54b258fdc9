"""A wrong DAUMOI_DATABASE_URL gives one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

DAUMOI = Path(sys.executable).with_name("daumoi")


def _daumoi(*args: str, url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAUMOI_")}
    env.update(DAUMOI_DATABASE_URL=url, DAUMOI_REMINDERS="0", PYTHONIOENCODING="utf-8")
    return subprocess.run(
        [str(DAUMOI), *args],
        input="",
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=cwd,  # away from the checkout, so a developer's .env cannot change the outcome
        timeout=120,
    )


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _bad_urls(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "a-file").write_text("not a directory")
    return {
        "nonsense": "nonsense",
        "unknown scheme": "foo://bar",
        "unsupported database": "mysql://user@127.0.0.1/daumoi",
        "closed port": f"postgresql://postgres@127.0.0.1:{_closed_port()}/daumoi",
        "closed port, postgres://": f"postgres://postgres@127.0.0.1:{_closed_port()}/daumoi",
        "missing directory": f"sqlite:///{tmp_path}/missing/daumoi.sqlite3",
        "parent is a file": f"sqlite:///{tmp_path}/a-file/daumoi.sqlite3",
    }


CASES = (
    "nonsense",
    "unknown scheme",
    "unsupported database",
    "closed port",
    "closed port, postgres://",
    "missing directory",
    "parent is a file",
)
# Every other command, each with one of the cases (`run` gets them all).
OTHER_COMMANDS = {
    ("chat",): "closed port",
    ("search", "san bay"): "missing directory",
    ("export",): "nonsense",
    ("report", "--format", "json", "-o", "-"): "closed port, postgres://",
    ("remind", "preview"): "parent is a file",
    ("admin", "list"): "unknown scheme",
}


@pytest.mark.parametrize("case", CASES)
def test_run_reports_a_bad_url_in_one_line(case: str, tmp_path: Path) -> None:
    result = _daumoi("run", url=_bad_urls(tmp_path)[case], cwd=tmp_path)
    _check_one_line(result)


@pytest.mark.parametrize(
    ("command", "case"),
    [pytest.param(c, case, id=f"{c[0]}-{case}") for c, case in OTHER_COMMANDS.items()],
)
def test_every_command_reports_a_bad_url_in_one_line(
    command: tuple[str, ...], case: str, tmp_path: Path
) -> None:
    result = _daumoi(*command, url=_bad_urls(tmp_path)[case], cwd=tmp_path)
    _check_one_line(result)


def _check_one_line(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "DAUMOI_DATABASE_URL" in lines[0]


def test_postgres_scheme_is_accepted_as_postgresql(pg_url: str, tmp_path: Path) -> None:
    url = pg_url.replace("postgresql://", "postgres://", 1)
    result = _daumoi("search", "san bay chu lai", url=url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "2.4 — " in result.stdout
