"""Seeded SQLite files for tests: build one per session, copy it per test, search over it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot.app import build_search
from data.db import Database
from data.importer import ensure_seed


def build_seed(directory: Path) -> Path:
    """Migrate a new SQLite file in directory and load the seed decision into it."""
    path = directory / "seeded.sqlite3"
    database = Database.connect(f"sqlite:///{path}")
    ensure_seed(database)
    database.engine.dispose()
    return path


def load_search(seed: Path) -> Any:
    """The real search engine over a seeded file."""
    database = Database.connect(f"sqlite:///{seed}", migrate=False)
    try:
        return build_search(database)
    finally:
        database.engine.dispose()


@contextmanager
def seed_copy(seed: Path, directory: Path) -> Iterator[Database]:
    """A private copy of a seeded file in directory, open for the with block."""
    target = directory / "daumoi.sqlite3"
    shutil.copy(seed, target)
    database = Database.connect(f"sqlite:///{target}", migrate=False)
    try:
        yield database
    finally:
        database.engine.dispose()
