"""Several processes starting at once on an empty database: all start, the seed loads once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from data.store.db import Database
from data.store.models import Programme, Task

STARTS = 2
# One `daumoi run` start-up (migrate, seed, index), released by a go-file once every process
# has imported everything, so the start-ups overlap.
STARTER = """
import pathlib, sys, time
from bot.app import build_app
from core.settings import Settings

print("ready", flush=True)
go = pathlib.Path(sys.argv[2])
while not go.exists():
    time.sleep(0.002)
app = build_app(Settings(database_url=sys.argv[1]))
print("seeded" if app.seed_report is not None else "found", flush=True)
app.close()
"""


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a database that does not exist yet (SQLite) or has no table (PostgreSQL)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/first.sqlite3"
    return str(request.getfixturevalue("pg_url"))


@pytest.mark.parametrize("migrated", [False, True], ids=["empty", "migrated"])
def test_simultaneous_first_starts_all_succeed_and_seed_once(
    empty_url: str, migrated: bool, tmp_path: Path
) -> None:
    if migrated:  # the schema exists, the seed does not: the race is in seeding alone
        Database.connect(empty_url).engine.dispose()
    go = tmp_path / "go"
    starts = [
        subprocess.Popen(
            [sys.executable, "-c", STARTER, empty_url, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(STARTS)
    ]
    try:
        for process in starts:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "ready"
        go.touch()
        results = [process.communicate(timeout=120) for process in starts]
    finally:
        for process in starts:
            if process.poll() is None:
                process.kill()
    for process, (_out, err) in zip(starts, results, strict=True):
        assert process.returncode == 0, err
    outcomes = sorted(out.strip() for out, _err in results)
    assert outcomes == ["found"] * (STARTS - 1) + ["seeded"]
    database = Database.connect(empty_url, migrate=False)
    try:
        with database.session() as session:
            assert session.scalar(select(func.count()).select_from(Programme)) == 1
            assert session.scalar(select(func.count()).select_from(Task)) == 44
    finally:
        database.engine.dispose()
