"""Test databases on every backend: one template built per session, a private clone per test.

SQLite templates are files copied per test; PostgreSQL templates are databases cloned with
`CREATE DATABASE … TEMPLATE …` (milliseconds, where migrating and seeding takes seconds).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

import psycopg
import pytest
from sqlalchemy import Engine, create_engine, text

from data.store.db import Database

BACKENDS = ("sqlite", "postgres")
POSTGRES_URL = os.environ.get(
    "DAUMOI_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REQUIRE_SERVICES = os.environ.get("DAUMOI_REQUIRE_SERVICES", "") not in ("", "0", "false")

Prepare = Callable[[Database], object]


def service_unavailable(name: str, reason: str) -> None:
    """Skip the test, or fail it when CI requires the services."""
    message = f"{name} unavailable ({reason})"
    if REQUIRE_SERVICES:
        pytest.fail(message + " but DAUMOI_REQUIRE_SERVICES=1")
    pytest.skip(message + "; set DAUMOI_REQUIRE_SERVICES=1 to make this a failure")


def database_url(database: Database) -> str:
    """The URL of an open database, password included (for reconnecting or a subprocess)."""
    return database.engine.url.render_as_string(hide_password=False)


def postgres_admin() -> Engine:
    """An autocommit engine on the test server's maintenance database (skips when absent)."""
    admin = create_engine(
        POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1),
        isolation_level="AUTOCOMMIT",
    )
    try:
        with admin.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # any connection failure means the service is absent
        admin.dispose()
        service_unavailable("PostgreSQL", str(exc).splitlines()[0])
    return admin


def postgres_url(name: str) -> str:
    """The URL of database name on the test server."""
    return f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}"


def create_postgres(admin: Engine, *, template: str | None = None) -> str:
    """Create a database with a unique name (optionally a copy of template); return its name."""
    name = f"daumoi_test_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    return name


def drop_postgres(admin: Engine, name: str) -> None:
    """Drop a test database, closing whatever connections a test left open."""
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class Template(Protocol):
    """A prepared database that tests get private copies of."""

    backend: str
    url: str

    def clone(self, directory: Path) -> AbstractContextManager[Database]:
        """A private copy, open for the with block (directory holds files it needs)."""
        ...

    def derive(self, directory: Path, prepare: Prepare) -> Template:
        """A new template: a copy of this one, changed by prepare."""
        ...

    def close(self) -> None:
        """Remove the template."""
        ...


class SqliteTemplate:
    """A migrated (and prepared) SQLite file, copied for each test."""

    backend = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = f"sqlite:///{path}"

    @classmethod
    def build(cls, path: Path, prepare: Prepare | None = None) -> SqliteTemplate:
        """Migrate a new file at path and run prepare on it."""
        database = Database.connect(f"sqlite:///{path}")
        try:
            if prepare is not None:
                prepare(database)
        finally:
            database.engine.dispose()
        return cls(path)

    @contextmanager
    def clone(self, directory: Path) -> Iterator[Database]:
        """A copy of the file in directory."""
        target = directory / "daumoi.sqlite3"
        shutil.copy(self.path, target)
        database = Database.connect(f"sqlite:///{target}", migrate=False)
        try:
            yield database
        finally:
            database.engine.dispose()

    def derive(self, directory: Path, prepare: Prepare) -> SqliteTemplate:
        """A copy of the file in directory, changed by prepare."""
        target = directory / "template.sqlite3"
        shutil.copy(self.path, target)
        _prepare(f"sqlite:///{target}", prepare)
        return SqliteTemplate(target)

    def close(self) -> None:
        """Nothing to do: pytest removes temporary files."""


class PostgresTemplate:
    """A migrated (and prepared) PostgreSQL database; tests get clones of it.

    Each clone is made with `CREATE DATABASE … TEMPLATE …`. A clone a test has finished with is
    not dropped but reset to the template's rows (kept in the SNAPSHOT schema of every clone)
    and handed to the next test: copying a whole database, catalogs included, writes megabytes
    of WAL, while resetting the few hundred seed rows takes milliseconds.
    """

    backend = "postgres"

    def __init__(self, admin: Engine, name: str) -> None:
        self.admin = admin
        self.name = name
        self.url = postgres_url(name)
        self.reset_sql = _take_snapshot(self.url)
        self._free: list[str] = []
        self._clones: set[str] = set()

    @classmethod
    def build(cls, prepare: Prepare | None = None) -> PostgresTemplate:
        """Create, migrate and prepare a template database (skips when PostgreSQL is absent)."""
        admin = postgres_admin()
        name = create_postgres(admin)
        try:
            database = Database.connect(postgres_url(name))
            try:
                if prepare is not None:
                    prepare(database)
            finally:
                database.engine.dispose()  # a template must have no open connections
            return cls(admin, name)
        except BaseException:
            drop_postgres(admin, name)
            admin.dispose()
            raise

    @contextmanager
    def clone(self, directory: Path) -> Iterator[Database]:
        """A database equal to the template, for the with block only."""
        del directory
        name = self._free.pop() if self._free else self._create()
        try:
            database = Database.connect(postgres_url(name), migrate=False)
            try:
                yield database
            finally:
                database.engine.dispose()
        finally:
            self._release(name)

    def derive(self, directory: Path, prepare: Prepare) -> PostgresTemplate:
        """A clone of this template, changed by prepare."""
        del directory
        name = create_postgres(self.admin, template=self.name)
        try:
            _prepare(postgres_url(name), prepare)
            return PostgresTemplate(postgres_admin(), name)
        except BaseException:
            drop_postgres(self.admin, name)
            raise

    def close(self) -> None:
        """Drop every clone and the template database."""
        for name in sorted(self._clones):
            drop_postgres(self.admin, name)
        drop_postgres(self.admin, self.name)
        self.admin.dispose()

    def _create(self) -> str:
        name = create_postgres(self.admin, template=self.name)
        self._clones.add(name)
        return name

    def _release(self, name: str) -> None:
        """Reset a clone for the next test, or drop it if it cannot be reset."""
        try:
            with self.admin.connect() as conn:  # threads a test left running may hold locks
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
            with psycopg.connect(_libpq_url(postgres_url(name))) as conn:
                conn.execute(self.reset_sql.encode())
        except Exception:
            self._clones.discard(name)
            drop_postgres(self.admin, name)
            raise
        self._free.append(name)


SNAPSHOT = "daumoi_test_snapshot"


def _libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _take_snapshot(url: str) -> str:
    """Copy every table of the database at url into SNAPSHOT; return SQL restoring them."""
    with psycopg.connect(_libpq_url(url)) as conn:
        tables = [
            str(row[0])
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        sequences = conn.execute(
            "SELECT format('%I.%I', schemaname, sequencename), last_value, start_value"
            " FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1"
        ).fetchall()
        conn.execute(f'DROP SCHEMA IF EXISTS "{SNAPSHOT}" CASCADE')
        conn.execute(f'CREATE SCHEMA "{SNAPSHOT}"')
        restore = ["SET LOCAL session_replication_role = replica"]  # no FK order needed
        for table in tables:
            conn.execute(f'CREATE TABLE "{SNAPSHOT}"."{table}" AS TABLE public."{table}"')
            restore.append(f'DELETE FROM public."{table}"')
            restore.append(f'INSERT INTO public."{table}" TABLE "{SNAPSHOT}"."{table}"')
        for name, last_value, start_value in sequences:
            value, called = (start_value, "false") if last_value is None else (last_value, "true")
            restore.append(f"SELECT setval('{name}', {value}, {called})")
    return ";\n".join(restore)


def _prepare(url: str, prepare: Prepare) -> None:
    """Run prepare on the database at url, then close every connection to it."""
    database = Database.connect(url, migrate=False)
    try:
        prepare(database)
    finally:
        database.engine.dispose()


def build_template(backend: str, directory: Path, prepare: Prepare | None = None) -> Template:
    """A template of backend, migrated and prepared."""
    if backend == "sqlite":
        return SqliteTemplate.build(directory / "template.sqlite3", prepare)
    return PostgresTemplate.build(prepare)
