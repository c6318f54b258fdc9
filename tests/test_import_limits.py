"""Imports stay within limits: size, inflated size, rows, cell and name lengths; checked first."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from data.importing import limits as limits
from data.importing.decision_text import DecisionFormatError
from data.importing.importer import SEED_FILE, import_file
from data.store.db import Database
from data.store.models import Agency, AgencyAlias, Measure, Programme, Sector, Task, TaskPartner

HEADER = ["TT", "Nhiệm vụ", "Đơn vị chủ trì", "Đơn vị phối hợp", "Số hiệu"]
TABLE = [
    HEADER,
    ["1", "Dịch vụ y tế", "", "", "5/QĐ-UBND"],
    ["1.1", "Nâng cấp trạm y tế xã.", "Sở Y tế", "Sở Tài chính", ""],
    ["1.2", "Khám chữa bệnh từ xa.", "Sở Y tế", "", ""],
]
MB = 1024 * 1024


def _nothing_written(database: Database) -> bool:
    models = (Programme, Sector, Task, Agency, AgencyAlias, TaskPartner, Measure)
    with database.session() as session:
        return all(session.scalar(select(func.count()).select_from(m)) == 0 for m in models)


def _rejected(database: Database, path: Path, decision: str | None = None) -> str:
    """Import the file, expect a refusal, check nothing was written; return the message."""
    with pytest.raises(DecisionFormatError) as caught, database.unit_of_work() as session:
        import_file(session, path, decision)
    assert _nothing_written(database)
    return str(caught.value)


def _csv(path: Path, rows: Iterable[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def _xlsx(path: Path, rows: Iterable[list[str]]) -> Path:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def _table(path: Path, rows: list[list[str]]) -> Path:
    return (_csv if path.suffix == ".csv" else _xlsx)(path, rows)


def _cell(row: int, column: str, text: str) -> bytes:
    return f'<c r="{column}{row}" t="inlineStr"><is><t>{text}</t></is></c>'.encode()


def _raw_xlsx(path: Path, sheet_xml: Iterator[bytes]) -> Path:
    """A valid workbook whose first sheet's XML is streamed from chunks (kept compressed)."""
    template = io.BytesIO()
    Workbook().save(template)
    with (
        zipfile.ZipFile(template) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out,
    ):
        for info in source.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                out.writestr(info, source.read(info))
                continue
            with out.open(info.filename, "w", force_zip64=True) as member:
                for chunk in sheet_xml:
                    member.write(chunk)
    return path


def _bomb(path: Path, spaces: int) -> Path:
    """A task table whose one title cell holds `spaces` bytes of blanks: a few hundred KB."""

    def xml() -> Iterator[bytes]:
        yield b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        yield b'<sheetData><row r="1">' + b"".join(
            _cell(1, col, name) for col, name in zip("ABCD", HEADER, strict=False)
        )
        yield b'</row><row r="2">' + _cell(2, "A", "1.1") + b'<c r="B2" t="inlineStr"><is><t>'
        block = b" " * MB
        for _ in range(spaces // MB):
            yield block
        yield b"x</t></is></c>" + _cell(2, "C", "Sở Y tế") + b"</row></sheetData></worksheet>"

    return _raw_xlsx(path, xml())


# --- zip bombs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spaces", "expected"),
    [
        (64 * MB, "khi giải nén chiếm 64 MB; giới hạn là 50 MB"),
        (8 * MB, "nén bất thường"),  # small enough in total, but packed 1000:1
    ],
)
def test_a_zip_bomb_is_refused_before_openpyxl_opens_it(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spaces: int, expected: str
) -> None:
    path = _bomb(tmp_path / "bang.xlsx", spaces)
    assert path.stat().st_size < MB
    import openpyxl

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("openpyxl opened the bomb")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    assert expected in _rejected(db, path, "5/QĐ-UBND")


def test_a_normal_workbook_passes_the_zip_checks(db: Database, tmp_path: Path) -> None:
    path = _bomb(tmp_path / "bang.xlsx", 0)
    with db.unit_of_work() as session:
        assert import_file(session, path, "5/QĐ-UBND").tasks == 1


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc")
def test_a_rejected_bomb_import_stays_small_in_memory(tmp_path: Path) -> None:
    """The acceptance measure: peak RSS of a real `daumoi import` of a 200 MB bomb.

    VmHWM belongs to the process image, so unlike ru_maxrss it does not include the pytest
    process the child was forked from.
    """
    path = _bomb(tmp_path / "bom.xlsx", 200 * MB)
    script = (
        "import re, sys\n"
        "from bot.cli import main\n"
        "code = main(['import', sys.argv[1], '--decision', '5/QĐ-UBND'])\n"
        "status = open('/proc/self/status').read()\n"
        "print(re.search(r'VmHWM:\\s*(\\d+) kB', status).group(1), code)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAUMOI_")}
    env["DAUMOI_DATABASE_URL"] = f"sqlite:///{tmp_path / 'daumoi.sqlite3'}"
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    peak_kb, code = done.stdout.split()
    assert code == "1" and "giải nén" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1
    assert int(peak_kb) <= 300 * 1024, f"peak RSS {int(peak_kb) // 1024} MB"


# --- file size ----------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".txt", ".md", ".csv", ".xlsx"])
def test_a_file_over_the_size_limit_is_refused_unread(
    db: Database, tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"qd{suffix}"
    with path.open("wb") as handle:
        handle.truncate(limits.MAX_FILE_BYTES + 1)  # sparse: nothing is written to disk
    message = _rejected(db, path)
    assert "quá lớn (10 MB); giới hạn là 10 MB" in message


def test_a_directory_or_a_missing_file_is_refused(db: Database, tmp_path: Path) -> None:
    (tmp_path / "bang.csv").mkdir()
    assert "không phải là một tệp thông thường" in _rejected(db, tmp_path / "bang.csv")
    assert "Không tìm thấy tệp thieu.xlsx" in _rejected(db, tmp_path / "thieu.xlsx")


# --- rows and cells -----------------------------------------------------------------------------


def _many_rows(count: int) -> list[list[str]]:
    junk = [["ghi chú", "dòng không phải nhiệm vụ", "", "", ""]] * (count - len(TABLE))
    return [*TABLE, *junk]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_rows_over_the_limit_are_refused(db: Database, tmp_path: Path, suffix: str) -> None:
    path = _table(tmp_path / f"bang{suffix}", _many_rows(limits.MAX_ROWS + 1))
    message = _rejected(db, path)
    assert "có hơn 20.000 dòng, vượt giới hạn 20.000 dòng" in message


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_rows_at_the_limit_are_imported_and_the_report_is_short(
    db: Database, tmp_path: Path, suffix: str
) -> None:
    path = _table(tmp_path / f"bang{suffix}", _many_rows(limits.MAX_ROWS))
    with db.unit_of_work() as session:
        report = import_file(session, path)
    assert report.tasks == 2
    lines = report.lines()
    assert len(lines) <= 10 + limits.MAX_REPORT_ITEMS
    assert (
        lines[-1] == f"  … và {limits.MAX_ROWS - len(TABLE) - limits.MAX_REPORT_ITEMS} lưu ý khác."
    )


def test_blank_rows_far_below_the_table_are_not_counted(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "bang.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    for row in TABLE:
        sheet.append(row)
    sheet.cell(row=200_000, column=2).number_format = "0.00"  # formatting, no value
    workbook.save(path)
    csv_path = _csv(tmp_path / "bang.csv", [*TABLE, *([["", "", ""]] * (limits.MAX_ROWS + 5))])
    for each in (path, csv_path):
        with db.unit_of_work() as session:
            assert import_file(session, each).tasks == 2


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize("column", [1, 2, 3])
def test_a_cell_over_the_limit_is_refused(
    db: Database, tmp_path: Path, suffix: str, column: int
) -> None:
    rows = [list(row) for row in TABLE]
    rows[2][column] = "Sở " + "a" * (limits.MAX_CELL_CHARS - 2)
    message = _rejected(db, _table(tmp_path / f"bang{suffix}", rows))
    assert "Dòng 3 của tệp" in message and "dài 5.001 ký tự; giới hạn là 5.000 ký tự" in message


def test_a_title_at_the_cell_limit_is_imported(db: Database, tmp_path: Path) -> None:
    rows = [list(row) for row in TABLE]
    rows[2][1] = "a" * limits.MAX_CELL_CHARS
    with db.unit_of_work() as session:
        assert import_file(session, _csv(tmp_path / "bang.csv", rows)).tasks == 2


# --- decision texts -----------------------------------------------------------------------------


def test_a_text_line_over_the_limit_is_refused(db: Database, tmp_path: Path) -> None:
    seed = SEED_FILE.read_text(encoding="utf-8")
    path = tmp_path / "qd.txt"
    path.write_text(seed + "\n" + "x" * (limits.MAX_LINE_CHARS + 1) + "\n", encoding="utf-8")
    assert "dài 10.001 ký tự; giới hạn là 10.000 ký tự một dòng" in _rejected(db, path)


def test_a_text_with_too_many_lines_is_refused(db: Database, tmp_path: Path) -> None:
    seed = SEED_FILE.read_text(encoding="utf-8")
    path = tmp_path / "qd.txt"
    path.write_text(seed + "\n-\n" * limits.MAX_TEXT_LINES, encoding="utf-8")
    assert "có hơn 50.000 dòng" in _rejected(db, path)


def test_a_utf16_text_with_nul_is_refused(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "qd.txt"
    path.write_bytes(
        SEED_FILE.read_text(encoding="utf-8").replace("Sở Y tế", "Sở\x00Y tế").encode("utf-16")
    )
    assert "không phải văn bản UTF-8" in _rejected(db, path)


# --- names longer than their columns, on both databases ----------------------------------------


def _long(length: int) -> str:
    return ("Ban quản lý dự án " + "a" * length)[:length]


LONG_NAMES = [
    pytest.param(2, 400, "Tên đơn vị", id="lead-400"),
    pytest.param(2, 256, "Tên đơn vị", id="lead-256"),
    pytest.param(3, 300, "Tên đơn vị", id="partner-300"),
    pytest.param(1, 5000, "Tên đơn vị", id="lead-5000"),
]


@pytest.mark.parametrize(("column", "length", "what"), LONG_NAMES)
def test_a_name_longer_than_its_column_is_refused(
    db: Database, tmp_path: Path, column: int, length: int, what: str
) -> None:
    database = db
    rows = [list(row) for row in TABLE]
    if column == 1:  # a sector row's title is the sector's name
        rows[1][1] = _long(length)
        what = "Tên lĩnh vực 1"
    else:
        rows[2][column] = _long(length)
    message = _rejected(database, _csv(tmp_path / "bang.csv", rows))
    assert message.startswith(what) and f"dài {limits.number(length)} ký tự" in message
    assert "giới hạn là 255 ký tự" in message


def test_names_at_their_column_length_are_stored(db: Database, tmp_path: Path) -> None:
    database = db
    rows = [list(row) for row in TABLE]
    rows[1][1], rows[2][2], rows[2][3] = _long(255), _long(255), "Sở " + "b" * 252
    with database.unit_of_work() as session:
        import_file(session, _csv(tmp_path / "bang.csv", rows), "x" * 64)
    with database.session() as session:
        assert max(len(name) for name in session.scalars(select(Agency.name))) == 255


def test_a_decision_number_longer_than_its_column_is_refused(db: Database, tmp_path: Path) -> None:
    database = db
    message = _rejected(database, _csv(tmp_path / "bang.csv", TABLE), "9" * 65 + "/QĐ")
    assert message.startswith("Số hiệu quyết định") and "giới hạn là 64 ký tự" in message


# --- `daumoi import` ------------------------------------------------------------------------------


def _bad_files(tmp_path: Path) -> dict[str, Path]:
    rows = [list(row) for row in TABLE]
    rows[2][2] = _long(400)
    return {
        "bomb": _bomb(tmp_path / "bom.xlsx", 64 * MB),
        "rows": _csv(tmp_path / "dai.csv", _many_rows(limits.MAX_ROWS + 1)),
        "name": _csv(tmp_path / "ten.csv", rows),
        "missing": tmp_path / "khong_co.csv",
        "cell": _csv(tmp_path / "o.csv", [*TABLE, ["1.3", "a" * 6000, "Sở Y tế", "", ""]]),
    }


def test_the_import_command_answers_bad_files_in_one_line(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    backend: str,
) -> None:
    from bot.cli import main

    url = (
        f"sqlite:///{tmp_path / 'daumoi.sqlite3'}"
        if backend == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    for key in [k for k in os.environ if k.startswith("DAUMOI_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("DAUMOI_DATABASE_URL", url)
    for kind, path in _bad_files(tmp_path).items():
        code = main(["import", str(path)])
        captured = capsys.readouterr()
        assert code == 1, kind
        assert captured.out == "", kind
        assert len(captured.err.splitlines()) == 1 and "Traceback" not in captured.err, kind
        assert captured.err.startswith(f"Không nhập được tệp {path}: "), kind
    database = Database.connect(url, migrate=False)
    try:
        assert _nothing_written(database)
    finally:
        database.engine.dispose()
