"""Engine, sessions and schema migrations (Alembic) for SQLite or PostgreSQL."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, closing, contextmanager
from pathlib import Path

from sqlalchemy import URL, Engine, create_engine, event, func, make_url, select
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from data.store.freshness import track_changes

MIGRATIONS_DIR = Path(__file__).parents[1] / "migrations"
# Key of the PostgreSQL advisory lock held while a process migrates or seeds the database.
STARTUP_LOCK_KEY = 0x6461756D6F69  # "daumoi"
WAL_SWITCH_TIMEOUT = 30.0  # seconds, as long as the busy timeout every SQLite connection gets
WAL_SWITCH_PAUSE = 0.02
STARTUP_LOCK_TIMEOUT = 600.0  # seconds one start waits for another to finish migrating/seeding


_REVISION_RE = re.compile(r"^revision(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN_RE = re.compile(r"^down_revision(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)


def migration_scripts() -> tuple[frozenset[str], frozenset[str]]:
    """(heads, every revision) of the migration scripts, read without loading Alembic (slow to
    import); both empty when a script is laid out unexpectedly."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        revision = _REVISION_RE.search(text)
        if revision is None:
            return frozenset(), frozenset()
        revisions.add(revision.group(1))
        parents.update(_DOWN_RE.findall(text))
    return frozenset(revisions - parents), frozenset(revisions)


class DatabaseUnavailable(Exception):
    """The database URL is malformed or names a database that cannot be opened (Vietnamese)."""


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets foreign keys and a busy timeout."""
    for prefix in ("postgresql://", "postgres://"):  # Heroku-style postgres:// is common
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url.removeprefix(prefix)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUnavailable(
            f"địa chỉ cơ sở dữ liệu {url!r} không đúng dạng; hãy dùng "
            "sqlite:///đường/dẫn/tệp.sqlite3 hoặc postgresql://người_dùng@máy_chủ:cổng/tên"
        ) from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseUnavailable(
            f"loại cơ sở dữ liệu {parsed.get_backend_name()!r} không được hỗ trợ; "
            "chỉ dùng được sqlite:/// hoặc postgresql://"
        )
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(parsed, connect_args={"timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return create_engine(parsed, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise DatabaseUnavailable(
            f"không dùng được địa chỉ cơ sở dữ liệu {_shown(parsed)} ({_first_line(exc)})"
        ) from None


def check_connection(engine: Engine) -> None:
    """Open one connection, turning a failure into DatabaseUnavailable with one clear line."""
    try:
        with engine.connect():
            pass
    except DBAPIError as exc:
        reason = _first_line(exc.orig if exc.orig is not None else exc)
        if engine.dialect.name == "sqlite":
            raise DatabaseUnavailable(
                f"không mở được tệp cơ sở dữ liệu SQLite {engine.url.database!r} ({reason}); "
                "hãy kiểm tra thư mục có tồn tại và có quyền ghi"
            ) from None
        raise DatabaseUnavailable(
            f"không kết nối được cơ sở dữ liệu {_shown(engine.url)} ({reason}); "
            "hãy kiểm tra máy chủ PostgreSQL đang chạy, cổng, tên cơ sở dữ liệu và quyền truy cập"
        ) from None


def _shown(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    _switch_to_wal(cursor)
    # WAL + NORMAL: a commit survives a process crash; only an OS crash can lose the last one.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _switch_to_wal(cursor: sqlite3.Cursor) -> None:
    """Put the database in WAL mode, retrying while other first connections race to do the same."""
    deadline = time.monotonic() + WAL_SWITCH_TIMEOUT
    while True:
        try:
            # WAL is persistent: only a new database's first connections need the switch.
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            # Connections opening a new database at once can deadlock on the switch; SQLite
            # then answers "locked" at once, without its busy handler: wait and try again.
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(WAL_SWITCH_PAUSE)


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
    try:
        lock = sqlite3.connect(f"{path}.lock", timeout=STARTUP_LOCK_TIMEOUT, isolation_level=None)
    except sqlite3.Error as exc:
        raise DatabaseUnavailable(
            f"không tạo được tệp khoá {path}.lock cạnh cơ sở dữ liệu SQLite ({_first_line(exc)}); "
            "hãy kiểm tra thư mục có quyền ghi"
        ) from None
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
        track_changes(engine, self._sessions)

    @classmethod
    def connect(cls, url: str, *, migrate: bool = True) -> Database:
        """Open the database at url, migrating it to the newest schema.

        Raises DatabaseUnavailable when the URL is malformed or the database cannot be opened.
        """
        engine = make_engine(url)
        check_connection(engine)
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
