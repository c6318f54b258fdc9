"""Engine, sessions and schema migrations (Alembic) for SQLite or PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, closing, contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Key of the PostgreSQL advisory lock held while a process migrates or seeds the database.
STARTUP_LOCK_KEY = 0x6461756D6F69  # "daumoi"
STARTUP_LOCK_TIMEOUT = 600.0  # seconds one start waits for another to finish migrating/seeding


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets foreign keys and a busy timeout."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # WAL + NORMAL: a commit survives a process crash; only an OS crash can lose the last one.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@contextmanager
def startup_lock(engine: Engine) -> Iterator[None]:
    """Hold a lock every process on this database shares, so one at a time migrates or seeds.

    PostgreSQL: a session advisory lock on a dedicated connection. SQLite: an immediate
    transaction on a sibling lock file (one on the database itself would block our own writes).
    """
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(select(func.pg_advisory_lock(STARTUP_LOCK_KEY)))
            try:
                yield
            finally:
                connection.execute(select(func.pg_advisory_unlock(STARTUP_LOCK_KEY)))
        return
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if not path or path == ":memory:" or path.startswith("file:"):
        yield  # in-memory or another database: nothing else can start on it at once
        return
    lock = sqlite3.connect(f"{path}.lock", timeout=STARTUP_LOCK_TIMEOUT, isolation_level=None)
    with closing(lock):
        lock.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            lock.execute("ROLLBACK")


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (one process at a time)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with startup_lock(engine), engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class Database:
    """Owns the engine and hands out one unit of work at a time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def connect(cls, url: str, *, migrate: bool = True) -> Database:
        """Open the database at url, migrating it to the newest schema."""
        engine = make_engine(url)
        if migrate:
            upgrade(engine)
        return cls(engine)

    def startup_lock(self) -> AbstractContextManager[None]:
        """The lock held while migrating or seeding (see startup_lock)."""
        return startup_lock(self.engine)

    def session(self) -> Session:
        """Return a new session the caller must close."""
        return self._sessions()

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """Yield a session that commits on success and rolls back on error."""
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
