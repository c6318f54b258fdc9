"""`daumoi export --people` and `--history`: what the coordinating agency gets, and no secrets."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from data.reports.records import HISTORY_FIELDS, PEOPLE_FIELDS
from data.store.db import Database
from data.store.models import Person, StatusUpdate
from tests.databases import database_url
from tests.test_backup import ODD, Cli, cli, populate

__all__ = ["cli"]  # the fixture, shared with the backup tests


def _count(database: Database, model: type[Person] | type[StatusUpdate]) -> int:
    with database.unit_of_work() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _secrets_absent(text: str, secrets: dict[str, str]) -> None:
    for value in (*secrets.values(), "7001", "zalo-uid-9", "telegram:123456789", "-100123"):
        assert value not in text, value


def test_people_csv(seeded_db: Database, cli: Cli) -> None:
    secrets = populate(seeded_db)
    code, out, err = cli(database_url(seeded_db), "export", "--people")
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == [field.header for field in PEOPLE_FIELDS]
    assert len(rows) - 1 == _count(seeded_db, Person)
    by_name = {row[1]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    focal = by_name["Nguyễn Thị Ánh — “Đầu mối”, KH&ĐT"]
    assert focal["Đơn vị (tên hiện nay)"] == "Sở Tài chính"  # after the 2025 merger
    assert focal["Đơn vị (tên khi đăng ký)"] == "Sở Kế hoạch và Đầu tư"
    assert focal["Nền tảng đã liên kết"] == "telegram, zalo"
    assert focal["Vai trò"] == "Cán bộ đầu mối" and focal["Đang hoạt động"] == "có"
    assert focal["Tạo lúc"] == "2026-03-04T12:06:07+07:00"  # local time, with its offset
    revoked = by_name["Trần Văn B"]
    assert revoked["Đang hoạt động"] == "không" and revoked["Thu hồi lúc"].startswith("2026-03-07")
    _secrets_absent(out, secrets)


def test_history_json(seeded_db: Database, cli: Cli) -> None:
    secrets = populate(seeded_db)
    code, out, err = cli(database_url(seeded_db), "export", "--history", "--json")
    assert code == 0, err
    records = json.loads(out)
    assert len(records) == _count(seeded_db, StatusUpdate)
    assert all(list(record) == [f.key for f in HISTORY_FIELDS] for record in records)
    odd = next(record for record in records if record["result"] == ODD)
    assert odd["task"] == "9.1" and odd["programme"] == "1731/QĐ-UBND"
    assert odd["agency"] == "Sở Tài chính" and odd["agency_recorded"] == "Sở Kế hoạch và Đầu tư"
    assert odd["state"] == "superseded" and odd["blocker"] is True
    assert odd["blocker_text"] == "Vướng: 50% “kinh phí”"
    assert odd["author"] == "Nguyễn Thị Ánh — “Đầu mối”, KH&ĐT"
    newer = next(record for record in records if record["supersedes"] == odd["id"])
    assert newer["state"] == "active" and newer["status_label"] == "Hoàn thành"
    returned = next(record for record in records if record["state"] == "returned")
    assert returned["returned_reason"] == "Thiếu số liệu" and returned["returned_by"]
    _secrets_absent(out, secrets)


def test_history_csv_to_a_file_keeps_odd_text(
    seeded_db: Database, cli: Cli, tmp_path: Path
) -> None:
    populate(seeded_db)
    target = tmp_path / "lich_su.csv"
    code, out, err = cli(database_url(seeded_db), "export", "--history", "-o", str(target))
    assert code == 0 and out == "", err
    assert err.startswith(f"Đã ghi {_count(seeded_db, StatusUpdate)} lần cập nhật vào ")
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # spreadsheet programs read it as UTF-8
    with target.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert ODD in [row["Kết quả"] for row in rows]  # quotes, commas, CR LF and tabs survive


def test_export_to_a_bad_path(seeded_db: Database, cli: Cli, tmp_path: Path) -> None:
    code, _, err = cli(
        database_url(seeded_db), "export", "--people", "-o", str(tmp_path / "no" / "x.csv")
    )
    assert code == 1
    assert err.count("\n") == 1 and "Traceback" not in err and "Không ghi được tệp" in err


def test_plain_export_still_works(seeded_db: Database, cli: Cli) -> None:
    url = database_url(seeded_db)
    code, out, _ = cli(url, "export")
    assert code == 0
    assert out == cli(url, "export", "--json")[1]
    assert len(json.loads(out)["programmes"][0]["tasks"]) == 44


def test_people_and_history_are_exclusive(cli: Cli, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli(f"sqlite:///{tmp_path}/x.sqlite3", "export", "--people", "--history")
    assert exit_.value.code == 2
