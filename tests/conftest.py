"""Shared fixtures: databases on every backend (SQLite, PostgreSQL), seeded or empty."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from data.importing.importer import ensure_seed
from data.store.db import Database
from tests.databases import (
    BACKENDS,
    SqliteTemplate,
    Template,
    build_template,
    create_postgres,
    drop_postgres,
    postgres_admin,
    postgres_url,
)
from tests.seed_db import build_seed, load_search


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database every database fixture of this test uses: sqlite or postgres."""
    return str(request.param)


@pytest.fixture(scope="session")
def empty_template(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Template]:
    """A migrated, empty database of the backend, built once per session."""
    template = build_template(backend, tmp_path_factory.mktemp(f"empty-{backend}"))
    yield template
    template.close()


@pytest.fixture(scope="session")
def seeded_template(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Template]:
    """A migrated database of the backend holding the seed decision, built once per session."""
    if backend == "sqlite":
        template: Template = SqliteTemplate(request.getfixturevalue("seeded_file"))
    else:
        template = build_template(backend, tmp_path_factory.mktemp("seeded"), ensure_seed)
    yield template
    template.close()


@pytest.fixture
def db(empty_template: Template, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database of this test's own (on each backend)."""
    with empty_template.clone(tmp_path) as database:
        yield database


@pytest.fixture
def seeded_db(seeded_template: Template, tmp_path: Path) -> Iterator[Database]:
    """A private copy of the seeded database for one test (on each backend)."""
    with seeded_template.clone(tmp_path) as database:
        yield database


@pytest.fixture
def text_db(seeded_template: Template, tmp_path: Path) -> Iterator[Database]:
    """A second seeded database (the seed text imported), beside this test's db."""
    folder = tmp_path / "text-import"
    folder.mkdir()
    with seeded_template.clone(folder) as database:
        yield database


@pytest.fixture(scope="session")
def search_engine(seeded_template: Template) -> Any:
    """The real search engine over the seed of the backend, built once per session."""
    return load_search(seeded_template.url)


@pytest.fixture(scope="session")
def seeded_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file holding the seed decision (for tests that need a file)."""
    return build_seed(tmp_path_factory.mktemp("seed"))


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL to a fresh, empty PostgreSQL database, dropped afterwards."""
    admin = postgres_admin()
    name = create_postgres(admin)
    try:
        yield postgres_url(name)
    finally:
        drop_postgres(admin, name)
        admin.dispose()


@pytest.fixture
def pg_db(pg_url: str) -> Iterator[Database]:
    """A migrated, empty PostgreSQL database."""
    database = Database.connect(pg_url)
    yield database
    database.engine.dispose()
