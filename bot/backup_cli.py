"""`daumoi backup`, `daumoi restore` and `daumoi export --people/--history`."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.settings import Settings
    from data.reports.records import Field

EXIT_FAILED = 1
EXIT_USAGE = 2


def add_parser(sub: Any) -> None:
    """Register the `backup` and `restore` subcommands on the main parser's subparsers."""
    backup = sub.add_parser(
        "backup", help="sao lưu toàn bộ cơ sở dữ liệu vào một tệp, ví dụ: -o daumoi.zip"
    )
    backup.add_argument(
        "-o", "--output", metavar="TỆP", required=True, help="tệp sao lưu ghi ra (- là stdout)"
    )
    backup.add_argument(
        "--sqlite-file",
        action="store_true",
        help="với SQLite: sao chép nguyên tệp cơ sở dữ liệu (API sao lưu trực tuyến của SQLite)",
    )
    backup.add_argument("--database", metavar="URL", help="mặc định: DAUMOI_DATABASE_URL")
    restore = sub.add_parser("restore", help="khôi phục một bản sao lưu vào cơ sở dữ liệu trống")
    restore.add_argument("path", metavar="TỆP", help="tệp do `daumoi backup` tạo")
    restore.add_argument("--database", metavar="URL", help="mặc định: DAUMOI_DATABASE_URL")


def add_export_options(export: argparse.ArgumentParser) -> None:
    """The export flags for people and status history (CSV by default, --json for JSON)."""
    which = export.add_mutually_exclusive_group()
    which.add_argument(
        "--people", action="store_true", help="danh sách người dùng (CSV; --json để ra JSON)"
    )
    which.add_argument(
        "--history", action="store_true", help="mọi lần cập nhật tình hình (CSV; --json: JSON)"
    )
    export.add_argument("-o", "--output", metavar="TỆP", help="tệp ghi ra (mặc định: stdout)")


def _error(message: str) -> None:
    print(message, file=sys.stderr)


def _url(settings: Settings, args: argparse.Namespace) -> str:
    return str(args.database or settings.database_url)


def _file_problem(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "không có tệp hoặc thư mục này"
    if isinstance(exc, IsADirectoryError):
        return "đây là một thư mục, không phải tệp"
    if isinstance(exc, PermissionError):
        return "không có quyền truy cập"
    return exc.strerror or type(exc).__name__


def _sqlite_missing(url: str) -> str | None:
    """The path of a SQLite database file that does not exist (None: it exists or is not one)."""
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return None  # make_engine explains
    path = parsed.database
    if parsed.get_backend_name() != "sqlite" or not path or path == ":memory:":
        return None
    return None if Path(path).exists() else path


# --- backup -------------------------------------------------------------------------------------


def run_backup(settings: Settings, args: argparse.Namespace) -> int:
    """Write a backup file (or, with --sqlite-file, a copy of the SQLite file)."""
    from data.store import backup as bk
    from data.store.db import Database

    url = _url(settings, args)
    missing = _sqlite_missing(url)
    if missing:
        _error(f"Không sao lưu được: không có tệp cơ sở dữ liệu SQLite {missing}.")
        return EXIT_FAILED
    output: str = args.output
    database = Database.connect(url)
    try:
        if args.sqlite_file:
            if output == "-":
                _error("Sao chép nguyên tệp SQLite cần một tên tệp (-o tệp.sqlite3), không dùng -.")
                return EXIT_USAGE
            bk.sqlite_file_copy(database.engine, output)
            print(f"Đã sao chép tệp cơ sở dữ liệu SQLite vào {output}.", file=sys.stderr)
            return 0
        if output == "-":
            summary = bk.write_backup(database.engine, sys.stdout.buffer)
            sys.stdout.flush()
        else:
            summary = bk.backup_to_file(database.engine, output)
    except bk.BackupError as exc:
        _error(f"Không sao lưu được: {exc}.")
        return EXIT_FAILED
    except BrokenPipeError:
        raise  # bot.cli.main ends quietly
    except OSError as exc:
        _error(f"Không ghi được tệp sao lưu {output}: {_file_problem(exc)}.")
        return EXIT_FAILED
    finally:
        database.engine.dispose()
    where = "stdout" if output == "-" else output
    print(
        f"Đã sao lưu vào {where}: {len(summary.rows)} bảng, {summary.total} dòng "
        f"(lược đồ {summary.revision}, lúc {summary.created_at}).",
        file=sys.stderr,
    )
    return 0


# --- restore ------------------------------------------------------------------------------------


def run_restore(settings: Settings, args: argparse.Namespace) -> int:
    """Restore a backup file into an empty database."""
    from data.store import backup as bk
    from data.store.db import DatabaseUnavailable, check_connection, make_engine
    from data.store.restore import restore_backup

    try:
        backup = bk.BackupFile(args.path)
    except bk.BackupError as exc:
        _error(f"Không khôi phục được từ {args.path}: {exc}.")
        return EXIT_FAILED
    except OSError as exc:
        _error(f"Không đọc được tệp sao lưu {args.path}: {_file_problem(exc)}.")
        return EXIT_FAILED
    url = _url(settings, args)
    created = _sqlite_missing(url)
    try:
        with _removed_on_failure(created):
            try:
                engine = make_engine(url)
                check_connection(engine)
            except DatabaseUnavailable as exc:
                _error(f"Không mở được cơ sở dữ liệu đích: {exc}.")
                return EXIT_FAILED
            try:
                summary = restore_backup(engine, backup)
            finally:
                engine.dispose()
    except bk.BackupError as exc:
        _error(f"Không khôi phục được từ {args.path}: {exc}.")
        return EXIT_FAILED
    finally:
        backup.close()
    print(
        f"Đã khôi phục {summary.total} dòng của {len(summary.rows)} bảng từ {args.path} "
        f"(sao lưu lúc {summary.created_at}, lược đồ {summary.revision}).",
        file=sys.stderr,
    )
    return 0


@contextmanager
def _removed_on_failure(path: str | None) -> Iterator[None]:
    """Remove a SQLite file this restore created when it does not succeed."""
    ok = False
    try:
        yield
        ok = True
    finally:
        if path is not None and not ok:
            for suffix in ("", "-wal", "-shm", "-journal", ".lock"):
                Path(path + suffix).unlink(missing_ok=True)


# --- export --people / --history ----------------------------------------------------------------


def export_records(settings: Settings, args: argparse.Namespace) -> int:
    """Print (or write to -o) the people or the status history as CSV or JSON."""
    from data.reports import records as rc
    from data.store.db import Database

    database = Database.connect(settings.database_url)
    fields = rc.PEOPLE_FIELDS if args.people else rc.HISTORY_FIELDS
    produce = rc.people_records if args.people else rc.history_records
    output: str | None = args.output
    try:
        with database.unit_of_work() as session:
            rows = produce(session, settings.timezone)
            if output in (None, "-"):
                count = _write(sys.stdout, fields, rows, as_json=args.json)
                sys.stdout.flush()
            else:
                # utf-8-sig: spreadsheet programs then read the Vietnamese letters correctly.
                encoding = "utf-8" if args.json else "utf-8-sig"
                with open(output, "w", encoding=encoding, newline="") as stream:
                    count = _write(stream, fields, rows, as_json=args.json)
    except BrokenPipeError:
        raise
    except OSError as exc:
        _error(f"Không ghi được tệp {output}: {_file_problem(exc)}.")
        return EXIT_FAILED
    finally:
        database.engine.dispose()
    if output not in (None, "-"):
        what = "người dùng" if args.people else "lần cập nhật"
        print(f"Đã ghi {count} {what} vào {output}.", file=sys.stderr)
    return 0


def _write(
    stream: IO[str], fields: Iterable[Field], rows: Iterable[dict[str, Any]], *, as_json: bool
) -> int:
    count = 0
    if as_json:
        stream.write("[")
        for row in rows:
            stream.write(",\n  " if count else "\n  ")
            stream.write(json.dumps(row, ensure_ascii=False))
            count += 1
        stream.write("\n]\n" if count else "]\n")
        return count
    fields = list(fields)
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow([field.header for field in fields])
    for row in rows:
        writer.writerow([_cell(row[field.key]) for field in fields])
        count += 1
    return count


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)
