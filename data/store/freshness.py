"""The data version: bumped by every committed write to the catalog tables, by any process.

Every unit of work that wrote to a table the catalog and the search index are built from
bumps the `data_version` row in the same transaction (and, on PostgreSQL, sends a NOTIFY on
`CHANNEL`, delivered at commit); running instances compare the version, or listen, and reload.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, event, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from data.store.models import Programme
from data.store.shared_state import DataVersion

CHANNEL = "daumoi_data"
VERSION_NAME = "catalog"
# Writes to these tables make a loaded catalog and search index stale.
CATALOG_TABLES = frozenset(
    {
        "programme",
        "programme_fact",
        "sector",
        "task",
        "task_partner",
        "measure",
        "agency",
        "agency_alias",
    }
)
_WRITE_RE = re.compile(
    r"\s*(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|UPDATE|DELETE\s+FROM)\s+(?:\"?\w+\"?\.)?\"?(\w+)",
    re.IGNORECASE,
)
_CHANGED = "daumoi.data_changed"  # a catalog table was written in the open transaction

DataStamp = tuple[int, int, str]


def written_table(statement: str) -> str | None:
    """The table an INSERT, UPDATE or DELETE statement writes to (None for anything else)."""
    if statement[:1] not in "IUDiud \n":
        return None
    match = _WRITE_RE.match(statement)
    return match.group(1).lower() if match is not None else None


def track_changes(engine: Engine, sessions: sessionmaker[Session]) -> None:
    """Bump the data version in every session transaction that wrote to a catalog table."""

    def executed(conn: Connection, _cursor: Any, statement: str, *_rest: Any) -> None:
        if written_table(statement) in CATALOG_TABLES:
            conn.info[_CHANGED] = True

    def ended(conn: Connection) -> None:  # a commit outside a session, or a rollback
        conn.info.pop(_CHANGED, None)

    def before_commit(session: Session) -> None:
        if not session.in_transaction():
            return
        session.flush()  # the last flush would otherwise come after this hook
        connection = session.connection()
        if connection.info.pop(_CHANGED, False):
            bump(connection)

    event.listen(engine, "after_cursor_execute", executed)
    event.listen(engine, "commit", ended)
    event.listen(engine, "rollback", ended)
    event.listen(sessions, "before_commit", before_commit)


def bump(connection: Connection) -> int:
    """Add one to the data version (and notify listeners at commit); return the new version."""
    now = datetime.now(UTC)
    version = connection.execute(
        update(DataVersion)
        .where(DataVersion.name == VERSION_NAME)
        .values(version=DataVersion.version + 1, changed_at=now)
        .returning(DataVersion.version)
    ).scalar()
    if version is None:  # the row was removed by hand: start again
        version = 1
        connection.execute(
            insert(DataVersion).values(name=VERSION_NAME, version=version, changed_at=now)
        )
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_notify(CHANNEL, str(version))))
    return int(version)


def data_version(session: Session) -> DataStamp:
    """(version, programmes, latest import time): different after any change by any process."""
    version = session.scalar(select(DataVersion.version).where(DataVersion.name == VERSION_NAME))
    count, latest = session.execute(
        select(func.count(Programme.id), func.max(Programme.imported_at))
    ).one()
    stamp = latest.isoformat() if latest is not None else ""
    return int(version or 0), int(count), stamp
