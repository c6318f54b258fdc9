"""Seeded databases for tests: the seeded SQLite file and the search engine over a seed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.app import build_search
from data.importing.importer import ensure_seed
from data.store.db import Database


def build_seed(directory: Path) -> Path:
    """Migrate a new SQLite file in directory and load the seed decision into it."""
    path = directory / "seeded.sqlite3"
    database = Database.connect(f"sqlite:///{path}")
    ensure_seed(database)
    database.engine.dispose()
    return path


def load_search(url: str) -> Any:
    """The real search engine over a seeded database."""
    database = Database.connect(url, migrate=False)
    try:
        return build_search(database)
    finally:
        database.engine.dispose()
