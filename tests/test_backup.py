"""`daumoi backup` / `daumoi restore`: round trips on each backend and across, and refusals."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from data.reports.files import write_report
from data.store import backup as bk
from data.store import people
from data.store import status as st
from data.store.db import Database, make_engine
from data.store.freshness import bump
from data.store.models import (
    Base,
    ChatLinkChange,
    ChatRecord,
    FailedAttempt,
    Flow,
    PendingChoice,
    Person,
    PersonIdentity,
    ProcessedUpdate,
    ReminderKind,
    ReminderOutbox,
    ReminderRule,
    Role,
    TaskStatus,
)
from data.store.shared_state import RateSlot, SharedFile
from tests.databases import Template, database_url
from tests.report_support import agency, scope, seed_reports, task

ODD = (
    'Kết quả: “ngoặc kép” và "thẳng", dấu phẩy, chấm phẩy; xuống dòng\r\nvà tab\t, '
    "gạch chéo \\ ngược, 'nháy đơn', emoji 🚀🇻🇳, chữ Nôm 𡨸, tổ hợp Hoà/Hòa, ký tự \u200b rỗng"
)
MOMENT = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)


def populate(database: Database) -> dict[str, str]:
    """Add people, status updates, reminders, flows and every other kind of row; return secrets."""
    with database.unit_of_work() as session:
        seed_reports(session)
        author = session.scalars(select(Person).order_by(Person.id)).first()
        assert author is not None
        focal = Person(
            display_name="Nguyễn Thị Ánh — “Đầu mối”, KH&ĐT",
            role=Role.FOCAL.value,
            agency_id=agency(session, "Sở Kế hoạch và Đầu tư").id,
            active=True,
            created_at=MOMENT,
        )
        focal.identities += [
            PersonIdentity(platform="telegram", user_id="7001", private_chat_id="7001"),
            PersonIdentity(platform="zalo", user_id="zalo-uid-9", private_chat_id=None),
        ]
        revoked = Person(
            display_name="Trần Văn B",
            role=Role.OBSERVER.value,
            agency_id=agency(session, "Sở Y tế").id,
            active=False,
            created_at=MOMENT,
            revoked_at=MOMENT + timedelta(days=3),
        )
        session.add_all([focal, revoked])
        session.flush()
        _, code = people.create_invitation(
            session,
            role=Role.FOCAL,
            agency=agency(session, "Sở Y tế"),
            created_by=author,
            now=MOMENT,
        )
        first = st.record(
            session,
            task=task(session, "9.1"),
            agency=agency(session, "Sở Kế hoạch và Đầu tư"),
            year=2026,
            author=focal,
            report=st.Report(
                TaskStatus.IN_PROGRESS, 35, ODD, "Vướng: 50% “kinh phí”", "Đề xuất, ý"
            ),
            now=MOMENT,
            source_key="telegram:123456789",
        ).update
        first.file_platform, first.file_ref = "telegram", "AgACAgUAAxkBAAIB-secret-file-id"
        st.record(
            session,
            task=task(session, "9.1"),
            agency=agency(session, "Sở Tài chính"),
            year=2026,
            author=focal,
            report=st.Report(TaskStatus.DONE, 100, "Xong\nhết", "", ""),
            now=MOMENT + timedelta(hours=1),
        )
        rule = ReminderRule(
            key="cycle-1731",
            kind=ReminderKind.ONCE.value,
            text="Nhắc: “báo cáo” trước 15/12",
            fire_at=MOMENT,
            params={"days": [30, 7, 1], "note": "tiếng Việt ✓", "nested": {"a": None, "b": 1.5}},
            created_by="telegram:7001",
            created_at=MOMENT,
            updated_at=MOMENT,
        )
        session.add(rule)
        session.flush()
        session.add_all(
            [
                ReminderOutbox(
                    rule_id=rule.id,
                    platform="telegram",
                    chat_id="-1001234567890",
                    thread_id="42",
                    due_at=MOMENT,
                    kind="once",
                    text=ODD,
                    payload={"task": "9.1", "agencies": ["Sở Tài chính"], "n": 2},
                    status="sent",
                    attempts=1,
                    next_attempt_at=MOMENT,
                    sent_at=MOMENT + timedelta(seconds=2),
                    message_ids=["11", "12"],
                    created_at=MOMENT,
                ),
                ReminderOutbox(
                    rule_id=rule.id,
                    platform="zalo",
                    chat_id="zchat",
                    due_at=MOMENT + timedelta(days=1),
                    kind="once",
                    text="chờ gửi",
                    payload={},
                    next_attempt_at=MOMENT + timedelta(days=1),
                    last_error="HTTP 429: quá nhiều",
                    created_at=MOMENT,
                ),
                ChatRecord(
                    platform="telegram",
                    chat_id="-1001234567890",
                    kind="supergroup",
                    title="Nhóm “Sở Tài chính”",
                    agency_id=agency(session, "Sở Tài chính").id,
                    linked_at=MOMENT,
                    thread_id="42",
                ),
                ChatLinkChange(
                    platform="telegram",
                    chat_id="-1001234567890",
                    chat_title=None,
                    agency_after_id=agency(session, "Sở Tài chính").id,
                    by_user_id="7001",
                    by_person_id=focal.id,
                    by_role="focal",
                    by_chat_admin=None,
                    changed_at=MOMENT,
                ),
                Flow(
                    platform="telegram",
                    chat_id="7001",
                    user_id="7001",
                    kind="status",
                    step="result",
                    data={"task": "9.1", "text": ODD, "list": [1, 2.5, True, None]},
                    updated_at=MOMENT,
                    expires_at=MOMENT + timedelta(hours=1),
                ),
                PendingChoice(
                    platform="zalo",
                    chat_id="zchat",
                    user_id="zalo-uid-9",
                    token="tok-choice",
                    actions=["/nhiemvu 9.1", "/donvi Sở Y tế"],
                    created_at=MOMENT,
                ),
                ProcessedUpdate(platform="telegram", update_id="987654321", created_at=MOMENT),
                FailedAttempt(action="register", scope="user", platform="zalo", key="x", at=MOMENT),
                RateSlot(scope="telegram:global", tat=1780000000.1234567),
                SharedFile(
                    token="f" * 64,
                    filename="báo cáo 2026.xlsx",
                    mime_type="application/octet-stream",
                    content=bytes(range(256)) * 3,
                    created_at=MOMENT,
                    expires_at=MOMENT + timedelta(days=1),
                ),
            ]
        )
        session.flush()
        bump(session.connection())
    return {"code": code, "hash": people.hash_code(code), "file_ref": "secret-file-id"}


def table_rows(url: str, *, normalise: bool = False) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order (datetimes in UTC when normalising)."""
    engine = make_engine(url)
    found: dict[str, list[tuple[Any, ...]]] = {}
    try:
        with engine.connect() as connection:
            for table in Base.metadata.sorted_tables:
                query = select(table).order_by(*table.primary_key.columns)
                found[table.name] = [
                    tuple(_normal(v) if normalise else v for v in row)
                    for row in connection.execute(query)
                ]
    finally:
        engine.dispose()
    return found


def _normal(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    return value


def report_json(url: str) -> Any:
    """The 2026 JSON report of the database, judged on a fixed day."""
    database = Database.connect(url, migrate=False)
    try:
        stream = io.BytesIO()
        with database.unit_of_work() as session:
            write_report(session, scope(), "json", stream)
        return json.loads(stream.getvalue())
    finally:
        database.engine.dispose()


Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def empty(empty_template: Template, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database beside seeded_db (whose SQLite file sits in tmp_path)."""
    directory = tmp_path / "target"
    directory.mkdir()
    with empty_template.clone(directory) as database:
        yield database


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Cli:
    """Run `daumoi ARGS` in this process with DAUMOI_DATABASE_URL=url: (status, stdout, stderr)."""
    from bot.cli import main

    monkeypatch.chdir(tmp_path)  # no developer's .env

    def run(url: str, *args: str) -> tuple[int, str, str]:
        monkeypatch.setenv("DAUMOI_DATABASE_URL", url)
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def exported(cli: Cli, url: str) -> str:
    code, out, err = cli(url, "export", "--json")
    assert code == 0, err
    return out


def one_line(err: str) -> None:
    assert err.strip() and "\n" not in err.strip(), err
    assert "Traceback" not in err


def test_round_trip_into_a_migrated_empty_database(
    seeded_db: Database, empty: Database, cli: Cli, tmp_path: Path
) -> None:
    secrets = populate(seeded_db)
    source, target = database_url(seeded_db), database_url(empty)
    backup = tmp_path / "daumoi.zip"
    code, _, err = cli(source, "backup", "-o", str(backup))
    assert code == 0, err
    assert f"vào {backup}" in err and "lược đồ 0008" in err
    raw = backup.read_bytes()
    assert secrets["code"].encode() not in raw  # only the hash is stored, as in the database

    code, _, err = cli(source, "restore", str(backup), "--database", target)
    assert code == 0, err
    assert err.startswith("Đã khôi phục ")
    assert table_rows(target) == table_rows(source)
    assert exported(cli, target) == exported(cli, source)
    assert report_json(target) == report_json(source)

    # New rows get fresh ids after the restored ones (PostgreSQL sequences were moved on).
    with empty.unit_of_work() as session:
        person = Person(display_name="Mới", role="admin", active=True, created_at=MOMENT)
        session.add(person)
        session.flush()
        highest = session.scalar(select(func.max(Person.id)).where(Person.id != person.id))
        assert person.id > highest


def test_restore_across_backends(
    seeded_db: Database, backend: str, cli: Cli, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    populate(seeded_db)
    source = database_url(seeded_db)
    if backend == "sqlite":
        target = str(request.getfixturevalue("pg_url"))  # created, never migrated
    else:
        target = f"sqlite:///{tmp_path / 'moved.sqlite3'}"  # not there yet
    backup = tmp_path / "move.zip"
    assert cli(source, "backup", "-o", str(backup))[0] == 0
    code, _, err = cli(source, "restore", str(backup), "--database", target)
    assert code == 0, err
    assert table_rows(target, normalise=True) == table_rows(source, normalise=True)
    assert exported(cli, target) == exported(cli, source)
    assert report_json(target) == report_json(source)


def test_backup_reads_one_snapshot(seeded_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """A person added while the backup runs is not in it: every table comes from one moment."""
    write_table = bk._write_table
    with seeded_db.unit_of_work() as session:
        before = session.scalar(select(func.count()).select_from(Person))

    def writing_meanwhile(archive: Any, connection: Any, table: Any, stamp: Any) -> Any:
        part = write_table(archive, connection, table, stamp)
        if table.name == "agency":  # the first table: the snapshot is taken, person not read
            with seeded_db.unit_of_work() as session:
                session.add(Person(display_name="Muộn", role="admin", created_at=MOMENT))
        return part

    monkeypatch.setattr(bk, "_write_table", writing_meanwhile)
    summary = bk.write_backup(seeded_db.engine, io.BytesIO())
    assert summary.rows["person"] == before
    with seeded_db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == before + 1


def _rewrite(source: Path, target: Path, change: Callable[[dict[str, Any]], set[str]]) -> None:
    """Copy a backup, editing its manifest; change returns the table parts to leave out."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        manifest = json.loads(old.read(bk.MANIFEST))
        dropped = change(manifest)
        manifest["tables"] = [t for t in manifest["tables"] if t["name"] not in dropped]
        for info in old.infolist():
            if info.filename != bk.MANIFEST and info.filename[7:-6] not in dropped:
                new.writestr(info, old.read(info))
        new.writestr(bk.MANIFEST, json.dumps(manifest))


def _damaged(backup: Path, target: Path) -> None:
    data = bytearray(backup.read_bytes())
    with zipfile.ZipFile(backup) as archive:
        part = archive.getinfo("tables/task.jsonl")
    middle = part.header_offset + 60 + part.compress_size // 2
    for offset in range(middle, middle + 16):
        data[offset] ^= 0x5A
    target.write_bytes(bytes(data))


def _bad_files(backup: Path, directory: Path, seeded_file: Path) -> dict[str, Path]:
    made = {name: directory / f"{name}.zip" for name in ("truncated", "damaged", "text")}
    made["truncated"].write_bytes(backup.read_bytes()[: backup.stat().st_size // 2])
    _damaged(backup, made["damaged"])
    made["text"].write_text("không phải bản sao lưu\n", encoding="utf-8")
    made["zip"] = directory / "other.zip"
    with zipfile.ZipFile(made["zip"], "w") as archive:
        archive.writestr("readme.txt", "xin chào")
    made["newer"] = directory / "newer.zip"
    _rewrite(backup, made["newer"], lambda m: m.update(revision="0099") or set())
    made["format"] = directory / "format.zip"
    _rewrite(backup, made["format"], lambda m: m.update(version=bk.FORMAT_VERSION + 1) or set())
    made["counts"] = directory / "counts.zip"
    _rewrite(backup, made["counts"], lambda m: m["tables"][0].update(rows=1) or set())
    made["sqlite"] = seeded_file
    made["missing"] = directory / "absent.zip"
    made["directory"] = directory
    return made


REASONS = {
    "truncated": "không phải bản sao lưu của daumoi",
    "damaged": "bị hỏng hoặc bị cắt cụt (bảng task)",
    "text": "không phải bản sao lưu của daumoi",
    "zip": "không phải bản sao lưu của daumoi",
    "newer": "mới hơn phiên bản daumoi này",
    "format": "mới hơn phiên bản daumoi này",
    "counts": "không khớp",
    "sqlite": "tệp cơ sở dữ liệu SQLite",
    "missing": "không có tệp",
    "directory": "thư mục",
}


def test_restore_refuses_bad_files_leaving_the_database_unchanged(
    seeded_db: Database, empty: Database, cli: Cli, tmp_path: Path, seeded_file: Path
) -> None:
    populate(seeded_db)
    backup = tmp_path / "good.zip"
    assert cli(database_url(seeded_db), "backup", "-o", str(backup))[0] == 0
    target = database_url(empty)
    before = table_rows(target)
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    for name, path in _bad_files(backup, bad_dir, seeded_file).items():
        code, _, err = cli(target, "restore", str(path), "--database", target)
        assert code == 1, (name, err)
        one_line(err)
        assert REASONS[name] in err, (name, err)
        assert table_rows(target) == before, name
    fresh = tmp_path / "fresh.sqlite3"  # a file a failed restore created is removed again
    code, _, err = cli(
        target, "restore", str(bad_dir / "damaged.zip"), "--database", f"sqlite:///{fresh}"
    )
    assert code == 1 and not fresh.exists(), err


def test_restore_refuses_a_database_with_data(
    seeded_db: Database, cli: Cli, tmp_path: Path
) -> None:
    url = database_url(seeded_db)
    backup = tmp_path / "b.zip"
    assert cli(url, "backup", "-o", str(backup))[0] == 0
    before = table_rows(url)
    code, _, err = cli(url, "restore", str(backup), "--database", url)
    assert code == 1
    one_line(err)
    assert "đã có dữ liệu" in err and "createdb" in err
    assert table_rows(url) == before


def test_older_backup_is_restored_then_migrated(
    seeded_db: Database, empty: Database, cli: Cli, tmp_path: Path
) -> None:
    """A backup from schema 0006 (before the 0007 tables) restores into a new database."""
    populate(seeded_db)
    source = database_url(seeded_db)
    backup, older = tmp_path / "now.zip", tmp_path / "older.zip"
    assert cli(source, "backup", "-o", str(backup))[0] == 0
    added = {"rate_slot", "shared_file", "data_version", "web_key", "web_once"}
    _rewrite(backup, older, lambda m: m.update(revision="0006") or added)

    # A database already migrated to 0008 has another schema: refused, with what to do.
    code, _, err = cli(source, "restore", str(older), "--database", database_url(empty))
    assert code == 1 and "phiên bản 0008" in err and "0006" in err
    one_line(err)

    target = f"sqlite:///{tmp_path / 'from-0006.sqlite3'}"
    code, _, err = cli(source, "restore", str(older), "--database", target)
    assert code == 0, err
    restored, original = table_rows(target, normalise=True), table_rows(source, normalise=True)
    for name in set(original) - added:
        assert restored[name] == original[name], name
    assert [row[:2] for row in restored["data_version"]] == [("catalog", 0)]  # from migration
    assert exported(cli, target) == exported(cli, source)


def test_backup_to_a_bad_path_says_so(seeded_db: Database, cli: Cli, tmp_path: Path) -> None:
    url = database_url(seeded_db)
    where = tmp_path / "out"
    (where / "taken").mkdir(parents=True)
    for output in (where / "no" / "such" / "dir.zip", where / "taken"):
        code, _, err = cli(url, "backup", "-o", str(output))
        assert code == 1
        one_line(err)
        assert "Không ghi được tệp sao lưu" in err
    assert [p.name for p in where.iterdir()] == ["taken"]  # no half-written temporary file


def test_backup_of_a_missing_sqlite_file_is_refused(cli: Cli, tmp_path: Path) -> None:
    code, _, err = cli(f"sqlite:///{tmp_path / 'nothing.sqlite3'}", "backup", "-o", "x.zip")
    assert code == 1
    one_line(err)
    assert not (tmp_path / "nothing.sqlite3").exists()


def test_sqlite_file_copy(seeded_db: Database, backend: str, cli: Cli, tmp_path: Path) -> None:
    if backend != "sqlite":
        pytest.skip("the file-level copy is SQLite's online backup API")
    populate(seeded_db)
    url = database_url(seeded_db)
    copy = tmp_path / "copy.sqlite3"
    code, _, err = cli(url, "backup", "--sqlite-file", "-o", str(copy))
    assert code == 0, err
    assert table_rows(f"sqlite:///{copy}") == table_rows(url)
    # Such a copy is used as it is; `restore` says so rather than guessing.
    code, _, err = cli(url, "restore", str(copy), "--database", f"sqlite:///{tmp_path}/n.sqlite3")
    assert code == 1 and "DAUMOI_DATABASE_URL=sqlite:///" in err


def test_sqlite_file_copy_needs_sqlite(seeded_db: Database, backend: str, cli: Cli) -> None:
    if backend != "postgres":
        pytest.skip("on SQLite the copy works")
    code, _, err = cli(database_url(seeded_db), "backup", "--sqlite-file", "-o", "c.sqlite3")
    assert code == 1
    one_line(err)
    assert "pg_dump" not in err and "SQLite" in err


def test_values_come_back_with_their_types() -> None:
    stamp = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    cases = [
        ("datetime", stamp),
        ("date", stamp.date()),
        ("bytes", b"\x00\xff"),
        ("bool", False),
        ("json", {"a": [1, None]}),
        ("float", 0.1),
        ("str", ODD),
    ]
    for kind, value in cases:
        assert bk.decode(kind, json.loads(json.dumps(bk.encode(kind, value)))) == value
    naive = datetime(2026, 1, 2, 3, 4, 5)  # SQLite's way of handing back a UTC time
    assert bk.decode("datetime", bk.encode("datetime", naive)) == naive.replace(tzinfo=UTC)


def test_backup_to_stdout_and_restore(seeded_file: Path, tmp_path: Path) -> None:
    """`daumoi backup -o - > file` as a cron job would run it (installed entry point)."""
    import os
    import shutil
    import subprocess
    import sys

    shutil.copy(seeded_file, tmp_path / "source.sqlite3")
    source = f"sqlite:///{tmp_path / 'source.sqlite3'}"
    daumoi = Path(sys.executable).with_name("daumoi")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAUMOI_")}
    env["DAUMOI_DATABASE_URL"] = source
    backup = tmp_path / "out.zip"
    with backup.open("wb") as out:
        done = subprocess.run(
            [str(daumoi), "backup", "-o", "-"],
            stdout=out,
            stderr=subprocess.PIPE,
            env=env,
            cwd=tmp_path,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr.decode()
    target = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    done = subprocess.run(
        [str(daumoi), "restore", str(backup), "--database", target],
        capture_output=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert table_rows(target) == table_rows(source)
