"""Logical backups: every table in one consistent snapshot, as a zip any backend can restore.

A backup is a zip holding `manifest.json` (format, schema revision, time, and per table its
columns with their kinds, row count and SHA-256) and one JSON Lines part per table
(`tables/<name>.jsonl`, a JSON array of values per row, in primary-key order). Values are typed
by kind so they come back identical: datetimes in UTC with their offset, dates, JSON as JSON,
bytes as base64. It is written from one read snapshot (PostgreSQL: a REPEATABLE READ, read-only
transaction; SQLite: one read transaction) and restored in one transaction into an empty database
of either backend (data.store.restore), so it also moves a database between SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    LargeBinary,
    Table,
    inspect,
    select,
    text,
)

from data.store import (
    shared_state,  # noqa: F401  (registers its tables on Base)
    web_state,  # noqa: F401  (registers its tables on Base)
)
from data.store.db import MIGRATIONS_DIR
from data.store.models import Base

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory

FORMAT = "daumoi-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
BATCH = 1000  # rows fetched, written or inserted at a time
# Rows a freshly migrated database already holds; a restore replaces them.
MIGRATION_ROWS = frozenset({"data_version"})
SQLITE_HEADER = b"SQLite format 3\x00"


class BackupError(Exception):
    """A backup cannot be written or restored (the message is one Vietnamese line)."""


@dataclass(frozen=True)
class Summary:
    """What a backup holds or a restore wrote."""

    revision: str
    created_at: str
    rows: dict[str, int]

    @property
    def total(self) -> int:
        """Rows in every table."""
        return sum(self.rows.values())


# --- values -------------------------------------------------------------------------------------


def column_kind(column: Any) -> str:
    """How a column's values are written: datetime, date, json, bytes, bool, int, float or str."""
    kind = column.type
    for cls, name in (
        (DateTime, "datetime"),
        (Date, "date"),
        (JSON, "json"),
        (LargeBinary, "bytes"),
        (Boolean, "bool"),
        (Float, "float"),
        (Integer, "int"),
    ):
        if isinstance(kind, cls):
            return name
    return "str"


def encode(kind: str, value: Any) -> Any:
    """A JSON value standing for value (None stays None)."""
    if value is None:
        return None
    if kind == "datetime":
        # SQLite hands back naive datetimes for timezone-aware columns; they are UTC.
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat()
    if kind == "date":
        return value.isoformat()
    if kind == "bytes":
        return base64.b64encode(bytes(value)).decode("ascii")
    if kind == "bool":
        return bool(value)
    return value


def decode(kind: str, value: Any) -> Any:
    """The Python value encode() wrote as value."""
    if value is None:
        return None
    if kind == "datetime":
        return datetime.fromisoformat(value)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "bytes":
        return base64.b64decode(value.encode("ascii"), validate=True)
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"not a boolean: {value!r}")
        return value
    return value


# --- schema revisions ---------------------------------------------------------------------------


def _config() -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config())


def head_revision() -> str:
    """The newest schema revision this code knows."""
    return str(scripts().get_current_head())


def stored_revision(connection: Connection) -> str | None:
    if "alembic_version" not in inspect(connection).get_table_names():
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def migrate(connection: Connection, revision: str) -> None:
    from alembic import command

    config = _config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


# --- writing ------------------------------------------------------------------------------------


def _tables() -> list[Table]:
    return list(Base.metadata.sorted_tables)


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection whose reads all see one consistent state of the database."""
    if engine.dialect.name == "postgresql":
        options: dict[str, Any] = {"postgresql_readonly": True}
        isolated = engine.connect().execution_options(isolation_level="REPEATABLE READ", **options)
        with isolated as connection, connection.begin():
            yield connection
        return
    with engine.connect() as connection:
        connection.exec_driver_sql("BEGIN")  # pysqlite would not start one for reads
        try:
            yield connection
        finally:
            connection.rollback()


def _rows(connection: Connection, table: Table) -> Iterator[Sequence[Any]]:
    order = list(table.primary_key.columns) or list(table.columns)
    result = connection.execution_options(stream_results=True, yield_per=BATCH).execute(
        select(table).order_by(*order)
    )
    for partition in result.partitions():
        yield from partition


def write_backup(engine: Engine, target: IO[bytes], now: datetime | None = None) -> Summary:
    """Write a backup of the database (at the newest schema) to a binary stream."""
    created_at = (now or datetime.now(UTC)).astimezone(UTC).isoformat()
    parts: list[dict[str, Any]] = []
    with _snapshot(engine) as connection:
        revision = stored_revision(connection)
        if revision != head_revision():
            raise BackupError(
                f"cơ sở dữ liệu đang ở phiên bản lược đồ {revision or '(chưa có)'}, "
                f"khác phiên bản {head_revision()} của daumoi này"
            )
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            stamp = datetime.fromisoformat(created_at).timetuple()[:6]
            for table in _tables():
                parts.append(_write_table(archive, connection, table, stamp))
            manifest = {
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "revision": revision,
                "created_at": created_at,
                "backend": engine.dialect.name,
                "tables": parts,
            }
            archive.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
    return Summary(revision, created_at, {part["name"]: part["rows"] for part in parts})


def _write_table(
    archive: zipfile.ZipFile, connection: Connection, table: Table, stamp: tuple[int, ...]
) -> dict[str, Any]:
    columns = [(column.name, column_kind(column)) for column in table.columns]
    digest = hashlib.sha256()
    count = 0
    info = zipfile.ZipInfo(f"tables/{table.name}.jsonl", date_time=stamp)  # type: ignore[arg-type]
    info.compress_type = zipfile.ZIP_DEFLATED
    with archive.open(info, "w", force_zip64=True) as part:
        for row in _rows(connection, table):
            values = [encode(kind, value) for (_, kind), value in zip(columns, row, strict=True)]
            line = (json.dumps(values, ensure_ascii=False) + "\n").encode("utf-8", "surrogatepass")
            digest.update(line)
            part.write(line)
            count += 1
    return {
        "name": table.name,
        "columns": [{"name": name, "kind": kind} for name, kind in columns],
        "rows": count,
        "sha256": digest.hexdigest(),
    }


def backup_to_file(engine: Engine, path: str | Path, now: datetime | None = None) -> Summary:
    """Write a backup to path, atomically: a failure never leaves a partial file under path."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(handle, "wb") as stream:
            summary = write_backup(engine, stream, now)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return summary


def sqlite_file_copy(engine: Engine, path: str | Path) -> None:
    """Copy a SQLite database file with SQLite's online backup API (a consistent copy)."""
    source_path = engine.url.database
    if engine.dialect.name != "sqlite" or not source_path or source_path == ":memory:":
        raise BackupError("chỉ sao chép nguyên tệp được khi cơ sở dữ liệu là một tệp SQLite")
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    os.close(handle)
    try:
        with (
            closing(sqlite3.connect(source_path)) as source,
            closing(sqlite3.connect(temporary)) as copy,
        ):
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        os.replace(temporary, path)
    except sqlite3.Error as exc:
        Path(temporary).unlink(missing_ok=True)
        raise BackupError(f"không sao chép được tệp SQLite ({exc})") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# --- reading ------------------------------------------------------------------------------------


class BackupFile:
    """An open backup file: its manifest, and its rows table by table, checked as they are read."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        with open(self.path, "rb") as probe:  # OSError: the caller names the problem
            head = probe.read(len(SQLITE_HEADER))
        if head == SQLITE_HEADER:
            raise BackupError(
                "đây là một tệp cơ sở dữ liệu SQLite, không phải bản sao lưu của daumoi backup; "
                "muốn dùng nó, hãy đặt DAUMOI_DATABASE_URL=sqlite:///<đường dẫn tệp>"
            )
        try:
            self.archive = zipfile.ZipFile(self.path)
            manifest = json.loads(self.archive.read(MANIFEST).decode("utf-8"))
        except Exception:  # anything going wrong reading an unknown file: it is not a backup
            raise BackupError(_NOT_A_BACKUP) from None
        self.manifest = _checked_manifest(manifest)
        self.columns = {
            part["name"]: [(c["name"], c["kind"]) for c in part["columns"]]
            for part in self.manifest["tables"]
        }

    @property
    def summary(self) -> Summary:
        """The manifest's revision, time and row counts."""
        rows = {part["name"]: int(part["rows"]) for part in self.manifest["tables"]}
        return Summary(self.manifest["revision"], self.manifest["created_at"], rows)

    def close(self) -> None:
        """Close the zip."""
        self.archive.close()

    def rows(self, name: str) -> Iterator[dict[str, Any]]:
        """The rows of one table as column → value, failing on any damage to the part."""
        part = next(p for p in self.manifest["tables"] if p["name"] == name)
        columns = self.columns[name]
        digest = hashlib.sha256()
        count = 0
        try:
            with self.archive.open(f"tables/{name}.jsonl") as stream:
                for line in stream:
                    digest.update(line)
                    values = json.loads(line.decode("utf-8", "surrogatepass"))
                    if not isinstance(values, list) or len(values) != len(columns):
                        raise ValueError("row shape")
                    count += 1
                    yield {
                        column: decode(kind, value)
                        for (column, kind), value in zip(columns, values, strict=True)
                    }
        except BackupError:
            raise
        except Exception:  # zip, zlib, JSON or value errors: the part is damaged
            raise BackupError(f"{_DAMAGED} (bảng {name})") from None
        if count != part["rows"] or digest.hexdigest() != part["sha256"]:
            raise BackupError(f"{_DAMAGED} (bảng {name}: số dòng hoặc mã kiểm tra không khớp)")

    def check(self) -> None:
        """Read every part once, so damage is found before the database is touched."""
        for name in self.columns:
            for _row in self.rows(name):
                pass


_NOT_A_BACKUP = "tệp này không phải bản sao lưu của daumoi (hoặc đã bị hỏng, bị cắt cụt)"
_DAMAGED = "bản sao lưu bị hỏng hoặc bị cắt cụt"


def _checked_manifest(manifest: Any) -> dict[str, Any]:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(_NOT_A_BACKUP)
    version = manifest.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise BackupError(
            f"bản sao lưu có định dạng {version!r}, mới hơn phiên bản daumoi này đọc được; "
            "hãy cài phiên bản daumoi mới hơn rồi khôi phục"
        )
    try:
        for part in manifest["tables"]:
            str(part["name"]), int(part["rows"]), str(part["sha256"])
            [(str(c["name"]), str(c["kind"])) for c in part["columns"]]
        str(manifest["revision"]), str(manifest["created_at"])
    except (KeyError, TypeError, ValueError):
        raise BackupError(_NOT_A_BACKUP) from None
    return manifest
