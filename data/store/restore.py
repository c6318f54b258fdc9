"""Restoring a logical backup (data.store.backup) into an empty database of either backend."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    MetaData,
    Table,
    bindparam,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from data.store import backup as bk
from data.store.db import startup_lock
from data.store.models import Base


def restore_backup(engine: Engine, backup: bk.BackupFile) -> bk.Summary:
    """Restore backup into the empty database behind engine, in one transaction.

    A database without tables is migrated to the backup's schema revision first and, after the
    rows are in, to the newest one. Raises BackupError (database unchanged) when the target holds
    data or another schema, or the backup is newer than this code or damaged.
    """
    revision = backup.manifest["revision"]
    known_scripts = bk.scripts()
    try:
        known = known_scripts.get_revision(revision) is not None
    except Exception:  # alembic raises its own errors for an unknown or malformed revision
        known = False
    if not known:
        raise bk.BackupError(
            f"bản sao lưu thuộc phiên bản lược đồ {revision}, mới hơn phiên bản daumoi này "
            f"({known_scripts.get_current_head()}); hãy cài phiên bản daumoi mới hơn rồi khôi phục"
        )
    backup.check()
    try:
        with startup_lock(engine), _transaction(engine) as connection:
            _require_empty(connection, revision)
            bk.migrate(connection, revision)
            metadata = _target_metadata(connection, revision)
            rows = _insert_all(connection, metadata, backup)
            if engine.dialect.name == "postgresql":
                _reset_sequences(connection, metadata)
            bk.migrate(connection, "head")
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise bk.BackupError(
            "cơ sở dữ liệu từ chối dữ liệu của bản sao lưu "
            f"({reason[0] if reason else type(exc).__name__}); chưa có thay đổi nào được ghi"
        ) from None
    return bk.Summary(revision, backup.manifest["created_at"], rows)


@contextmanager
def _transaction(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")  # DDL too, and no writer slips in
        try:
            yield connection
        except BaseException:
            connection.rollback()
            raise
        connection.commit()


EMPTY_HINT = (
    "hãy khôi phục vào một cơ sở dữ liệu trống: với SQLite, một đường dẫn tệp chưa có "
    "(sqlite:///duong/dan/moi.sqlite3); với PostgreSQL, một cơ sở dữ liệu mới "
    "(createdb ten_moi, rồi --database postgresql://…/ten_moi)"
)


def _require_empty(connection: Connection, revision: str) -> None:
    names = set(inspect(connection).get_table_names())
    if not names:
        return
    stored = bk.stored_revision(connection)
    if stored is None:
        raise bk.BackupError(f"cơ sở dữ liệu đích đã có bảng không thuộc daumoi; {EMPTY_HINT}")
    for name in sorted(names - {"alembic_version"} - bk.MIGRATION_ROWS):
        if connection.execute(text(f'SELECT 1 FROM "{name}" LIMIT 1')).first() is not None:
            raise bk.BackupError(f"cơ sở dữ liệu đích đã có dữ liệu (bảng {name}); {EMPTY_HINT}")
    if stored != revision:
        raise bk.BackupError(
            f"cơ sở dữ liệu đích đã được tạo lược đồ phiên bản {stored}, còn bản sao lưu ở "
            f"phiên bản {revision}; {EMPTY_HINT} (chưa tạo bảng nào)"
        )


def _target_metadata(connection: Connection, revision: str) -> MetaData:
    if revision == bk.head_revision():
        return Base.metadata
    metadata = MetaData()
    metadata.reflect(connection)
    return metadata


def _insert_all(
    connection: Connection, metadata: MetaData, backup: bk.BackupFile
) -> dict[str, int]:
    tables = {table.name: table for table in metadata.sorted_tables}
    unknown = sorted(set(backup.columns) - set(tables))
    if unknown:
        raise bk.BackupError(f"bản sao lưu có bảng lạ với lược đồ của nó: {', '.join(unknown)}")
    counts: dict[str, int] = {}
    for name in bk.MIGRATION_ROWS & set(backup.columns):
        connection.execute(tables[name].delete())
    for table in metadata.sorted_tables:
        if table.name in backup.columns:
            counts[table.name] = _insert_table(connection, table, backup)
    return counts


def _insert_table(connection: Connection, table: Table, backup: bk.BackupFile) -> int:
    """Insert one table's rows; columns pointing at the same table are filled in afterwards."""
    own = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
    keys = [column.name for column in table.primary_key.columns]
    later: list[dict[str, Any]] = []
    batch: list[dict[str, Any]] = []
    count = 0
    for row in backup.rows(table.name):
        if own:
            pointers = {name: row[name] for name in own if row.get(name) is not None}
            if pointers:
                later.append({**{f"_k_{k}": row[k] for k in keys}, **pointers})
                row = {**row, **dict.fromkeys(pointers)}
        batch.append(row)
        count += 1
        if len(batch) >= bk.BATCH:
            connection.execute(insert(table), batch)
            batch = []
    if batch:
        connection.execute(insert(table), batch)
    for name in own:
        values = [
            {**{f"_k_{k}": item[f"_k_{k}"] for k in keys}, f"_v_{name}": item[name]}
            for item in later
            if name in item
        ]
        if values:
            where = [table.c[k] == bindparam(f"_k_{k}") for k in keys]
            statement = update(table).where(*where).values({name: bindparam(f"_v_{name}")})
            connection.execute(statement, values)
    return count


def _reset_sequences(connection: Connection, metadata: MetaData) -> None:
    """Point every id sequence past the restored rows (PostgreSQL)."""
    for table in metadata.sorted_tables:
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, Integer):
            continue
        column = keys[0]
        sequence = connection.execute(
            select(func.pg_get_serial_sequence(table.name, column.name))
        ).scalar()
        if sequence is None:
            continue
        highest = connection.execute(select(func.max(column))).scalar()
        connection.execute(
            text("SELECT setval(CAST(:sequence AS regclass), :value, :called)"),
            {"sequence": sequence, "value": highest or 1, "called": highest is not None},
        )
