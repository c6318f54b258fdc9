"""Shared fixtures: fresh databases (SQLite file, PostgreSQL schema) and service checks."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from data.db import Database
from tests.seed_db import build_seed, load_search, seed_copy

POSTGRES_URL = os.environ.get(
    "DAUMOI_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REQUIRE_SERVICES = os.environ.get("DAUMOI_REQUIRE_SERVICES", "") not in ("", "0", "false")


def service_unavailable(name: str, reason: str) -> None:
    """Skip the test, or fail it when CI requires the services."""
    message = f"{name} unavailable ({reason})"
    if REQUIRE_SERVICES:
        pytest.fail(message + " but DAUMOI_REQUIRE_SERVICES=1")
    pytest.skip(message + "; set DAUMOI_REQUIRE_SERVICES=1 to make this a failure")


@pytest.fixture
def db(tmp_path: object) -> Iterator[Database]:
    """A migrated, empty SQLite database in a temporary file."""
    database = Database.connect(f"sqlite:///{tmp_path}/daumoi.sqlite3")  # type: ignore[str-format]
    yield database
    database.engine.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL to a fresh, empty PostgreSQL database, dropped afterwards."""
    admin_url = POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # any connection failure means the service is absent
        service_unavailable("PostgreSQL", str(exc).splitlines()[0])
    name = f"daumoi_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = POSTGRES_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_db(pg_url: str) -> Iterator[Database]:
    """A migrated, empty PostgreSQL database."""
    database = Database.connect(pg_url)
    yield database
    database.engine.dispose()


@pytest.fixture(scope="session")
def seeded_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file holding the seed decision, built once per session."""
    return build_seed(tmp_path_factory.mktemp("seed"))


@pytest.fixture(scope="session")
def search_engine(seeded_file: Path) -> Any:
    """The real search engine over the seed, built once per session."""
    return load_search(seeded_file)


@pytest.fixture
def seeded_db(seeded_file: Path, tmp_path: Path) -> Iterator[Database]:
    """A private copy of the seeded database for one test."""
    with seed_copy(seeded_file, tmp_path) as database:
        yield database
