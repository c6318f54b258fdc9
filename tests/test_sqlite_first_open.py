"""A new SQLite database opened by several connections at once: the WAL switch waits its turn."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from data.store import db
from data.store.db import check_connection, make_engine


class RacingCursor:
    """A cursor whose WAL switch meets the lock deadlock `locked_times` times, then succeeds."""

    def __init__(self, locked_times: int, error: str = "database is locked") -> None:
        self.locked_times = locked_times
        self.error = error
        self.mode = "delete"
        self.switch_attempts = 0

    def execute(self, sql: str) -> RacingCursor:
        if sql == "PRAGMA journal_mode=WAL":
            self.switch_attempts += 1
            if self.switch_attempts <= self.locked_times:
                raise sqlite3.OperationalError(self.error)
            self.mode = "wal"
        return self

    def fetchone(self) -> tuple[str]:
        return (self.mode,)


def test_the_switch_is_retried_while_another_first_connection_holds_the_lock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(db, "WAL_SWITCH_PAUSE", 0.0)
    cursor = RacingCursor(locked_times=3)
    db._switch_to_wal(cursor)  # type: ignore[arg-type]
    assert (cursor.mode, cursor.switch_attempts) == ("wal", 4)


def test_a_database_already_in_wal_is_not_switched_again() -> None:
    cursor = RacingCursor(locked_times=0)
    cursor.mode = "wal"
    db._switch_to_wal(cursor)  # type: ignore[arg-type]
    assert cursor.switch_attempts == 0


def test_other_errors_and_a_lock_past_the_deadline_are_raised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        db._switch_to_wal(RacingCursor(locked_times=1, error="disk I/O error"))  # type: ignore[arg-type]
    monkeypatch.setattr(db, "WAL_SWITCH_TIMEOUT", 0.0)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        db._switch_to_wal(RacingCursor(locked_times=2))  # type: ignore[arg-type]


def test_eight_connections_opening_a_new_file_at_once_all_open_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/new.sqlite3"
    engines = [make_engine(url) for _ in range(8)]
    start = threading.Barrier(len(engines))
    failures: list[BaseException] = []

    def open_one(index: int) -> None:
        start.wait()
        try:
            check_connection(engines[index])
        except BaseException as exc:  # collected so the assertion names it
            failures.append(exc)

    threads = [threading.Thread(target=open_one, args=(i,)) for i in range(len(engines))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for engine in engines:
        engine.dispose()
    assert failures == []
    with sqlite3.connect(tmp_path / "new.sqlite3") as check:
        assert check.execute("PRAGMA journal_mode").fetchone() == ("wal",)
