"""The migrations build exactly the schema the models describe, on every database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from data.store import (
    shared_state,  # noqa: F401  (registers its tables on Base)
    web_state,  # noqa: F401  (registers its tables on Base)
)
from data.store.db import MIGRATIONS_DIR, Database, make_engine
from data.store.models import Base
from tests.databases import create_postgres, drop_postgres, postgres_admin, postgres_url


def test_migrations_match_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


@contextmanager
def _empty_database(backend: str, tmp_path: Path) -> Iterator[Engine]:
    """A new, unmigrated database of the backend (dropped afterwards)."""
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
        try:
            yield engine
        finally:
            engine.dispose()
        return
    admin = postgres_admin()
    name = create_postgres(admin)
    engine = make_engine(postgres_url(name))
    try:
        yield engine
    finally:
        engine.dispose()
        drop_postgres(admin, name)
        admin.dispose()


def _migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def test_0006_adds_forum_topics_to_an_existing_database(backend: str, tmp_path: Path) -> None:
    with _empty_database(backend, tmp_path) as engine:
        _migrate(engine, "0005")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO chat (platform, chat_id, kind, title, active)"
                    " VALUES ('telegram', '-1001', 'group', 'Nhóm', true)"
                )
            )
        _migrate(engine, "head")
        with engine.begin() as connection:
            assert connection.execute(text("SELECT chat_id, thread_id FROM chat")).all() == [
                ("-1001", None)
            ]
            connection.execute(text("UPDATE chat SET thread_id = '7'"))
        columns = {
            table: {column["name"] for column in inspect(engine).get_columns(table)}
            for table in ("chat", "reminder_outbox", "chat_link_change")
        }
        assert "thread_id" in columns["chat"] and "thread_id" in columns["reminder_outbox"]
        assert {"thread_before", "thread_after"} <= columns["chat_link_change"]
        _migrate(engine, "0005", down=True)  # and back, keeping the chats
        assert "thread_id" not in {c["name"] for c in inspect(engine).get_columns("chat")}
        with engine.connect() as connection:
            assert connection.execute(text("SELECT chat_id FROM chat")).all() == [("-1001",)]
