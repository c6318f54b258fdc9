"""Alembic environment: runs on the connection handed over by data.store.db.upgrade."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from data.store import (
    shared_state,  # noqa: F401  (registers its tables on Base)
    web_state,  # noqa: F401  (registers its tables on Base)
)
from data.store.models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    """Run migrations on the given connection, or on sqlalchemy.url for the alembic CLI."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///daumoi.sqlite3")
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
