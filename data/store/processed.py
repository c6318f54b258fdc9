"""Platform updates already handled, so a redelivered one is not applied twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from data.store.db import Database
from data.store.models import ProcessedUpdate

# Platforms redeliver within hours (Telegram keeps updates for 24 h); keep a safe margin.
KEEP_FOR = timedelta(days=7)
_PURGE_EVERY = 500
_TABLE = cast(Table, ProcessedUpdate.__table__)
_STATEMENTS: dict[tuple[str, bool], Any] = {}


def claim(session: Session, platform: str, update_id: str, now: datetime) -> bool:
    """Record the update as handled in this unit of work; False if it was handled before."""
    # One INSERT … ON CONFLICT DO NOTHING RETURNING id: no row back means a duplicate. A
    # concurrent duplicate waits for the first one's transaction, then gets no row; no
    # savepoint is needed (with pysqlite the outermost SAVEPOINT would commit early).
    statement = _claim_statement(session)
    if statement is None:
        return _claim_portably(session, platform, update_id, now)
    # Core on the session's connection: this runs for every message, and the ORM layer of
    # session.execute costs more than the INSERT itself.
    row_id = (
        session.connection()
        .execute(statement, {"platform": platform, "update_id": update_id, "created_at": now})
        .scalar()
    )
    if row_id is None:
        return False
    _purge_now_and_then(session, row_id, now)
    return True


def _claim_statement(session: Session) -> Any:
    """INSERT … ON CONFLICT (platform, update_id) DO NOTHING RETURNING id, where supported."""
    dialect = session.get_bind().dialect
    key = (dialect.name, dialect.insert_returning)
    if key not in _STATEMENTS:
        # Built once: reusing the statement object spares SQLAlchemy its cache-key work.
        _STATEMENTS[key] = _build_claim_statement(*key)
    return _STATEMENTS[key]


def _build_claim_statement(dialect: str, returning: bool) -> Any:
    keys = ["platform", "update_id"]
    if returning and dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return (
            sqlite_insert(_TABLE).on_conflict_do_nothing(index_elements=keys).returning(_TABLE.c.id)
        )
    if returning and dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(_TABLE).on_conflict_do_nothing(index_elements=keys).returning(_TABLE.c.id)
    return None


def _claim_portably(session: Session, platform: str, update_id: str, now: datetime) -> bool:
    """Look, then insert (databases without INSERT … ON CONFLICT … RETURNING)."""
    seen = session.scalars(
        select(ProcessedUpdate.id).where(
            ProcessedUpdate.platform == platform, ProcessedUpdate.update_id == update_id
        )
    ).first()
    if seen is not None:
        return False
    row = ProcessedUpdate(platform=platform, update_id=update_id, created_at=now)
    if session.get_bind().dialect.name == "sqlite":
        # One writer at a time, and pysqlite's outermost SAVEPOINT would commit early.
        session.add(row)
        session.flush()
    else:
        try:
            # A concurrent duplicate fails here without spoiling the unit of work.
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            return False
    _purge_now_and_then(session, row.id, now)
    return True


def _purge_now_and_then(session: Session, row_id: int, now: datetime) -> None:
    if row_id % _PURGE_EVERY == 0:
        session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.created_at < now - KEEP_FOR))


class ProcessedLog:
    """What the chat bridge asks before handling a redelivered update (bot.bridge.SeenLog)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def seen(self, platform: str, key: str) -> bool:
        """Whether processed_update holds the key."""
        with self.database.unit_of_work() as session:
            query = select(ProcessedUpdate.id).where(
                ProcessedUpdate.platform == platform, ProcessedUpdate.update_id == key
            )
            return session.scalars(query).first() is not None

    def record(self, platform: str, key: str) -> None:
        """Claim the key now."""
        with self.database.unit_of_work() as session:
            claim(session, platform, key, datetime.now(UTC))
