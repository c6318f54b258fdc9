"""Report files opened the way their readers open them: values must match the database."""

from __future__ import annotations

import io
import json

import pytest
from docx import Document
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select

from data.reports.excel import HEADERS, row_height, sheet_title
from data.reports.files import report_bytes
from data.reports.summary import Summary
from data.store.db import Database
from data.store.models import Task
from data.store.succession import current_agency
from tests.report_support import EXPECTED_CLASS, NEVER_REPORTED, scope

pytest_plugins = ("tests.bot_harness", "tests.report_support")

CLASS_TEXT = {
    "done_on_time": "Hoàn thành đúng hạn",
    "done_late": "Hoàn thành quá hạn",
    "on_time": "Đang thực hiện trong hạn",
    "overdue": "Quá hạn",
}


@pytest.fixture(scope="module")
def leads(report_db: Database) -> dict[str, str]:
    """Each task's lead, named as today with the 2021 name in brackets, from the database."""
    with report_db.session() as session:
        found = {}
        for task in session.scalars(select(Task)):
            assert task.lead_agency is not None
            today = current_agency(task.lead_agency)
            name = task.lead_agency.name
            found[task.code] = name if today is task.lead_agency else f"{today.name} ({name})"
        return found


def _file(database: Database, fmt: str) -> tuple[bytes, Summary]:
    with database.session() as session:
        return report_bytes(session, scope(), fmt)


# --- Excel --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workbook(report_db: Database) -> object:
    content, _ = _file(report_db, "xlsx")
    return load_workbook(io.BytesIO(content))


def _task_rows(workbook: object) -> dict[str, tuple[object, ...]]:
    rows = {}
    for sheet in workbook.worksheets[1:]:  # type: ignore[attr-defined]
        assert [c.value for c in sheet[3]] == list(HEADERS)
        for row in sheet.iter_rows(min_row=4, values_only=True):
            rows[row[0]] = row
    return rows


def test_workbook_has_every_task_with_its_lead(workbook: object, leads: dict[str, str]) -> None:
    rows = _task_rows(workbook)
    assert len(rows) == 44
    assert {code: row[2] for code, row in rows.items()} == leads


def test_workbook_cells_match_the_reports(workbook: object) -> None:
    rows = _task_rows(workbook)
    for code, expected in EXPECTED_CLASS.items():
        assert str(rows[code][8]).splitlines()[0] == CLASS_TEXT[expected], code
    blocked = rows["1.1"]
    assert "Báo Quảng Ngãi (phối hợp): Đang thực hiện (50%), báo cáo ngày 02/11/2026" in str(
        blocked[4]
    )
    assert "Ban hành Kế hoạch chuyển đổi số năm 2026" in str(blocked[5])
    assert blocked[6] == "- Báo Quảng Ngãi: Thiếu kinh phí sản xuất phóng sự"
    assert blocked[7] == "- Báo Quảng Ngãi: Bổ sung kinh phí tuyên truyền"
    assert rows["3.1"][6] == "- Sở Y tế: Chưa có mặt bằng xây dựng bệnh viện"
    assert rows["3.5"][5] == "Đã xong"  # one agency on the task: no name needed
    assert rows["3.5"][6] is None  # its blocker was cleared by the later report
    assert "Báo cáo bị trả lại để bổ sung: Thiếu số liệu" in str(rows["3.3"][4])
    assert "Sở Tài chính (Sở Kế hoạch và Đầu tư) (phối hợp): Chưa triển khai" in str(rows["2.2"][4])


def test_workbook_layout(workbook: object) -> None:
    names = workbook.sheetnames  # type: ignore[attr-defined]
    assert names[0] == "Tổng hợp" and len(names) == 10
    assert names[1] == "1. Công nghệ thông tin" and names[2] == "2. Du lịch"
    sheet = workbook.worksheets[2]  # type: ignore[attr-defined]
    assert sheet.freeze_panes == "C4"
    assert sheet.print_title_rows == "$3:$3"
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
    assert sheet.page_setup.fitToWidth == 1 and sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.column_dimensions["B"].width == 32
    assert sheet["B4"].alignment.wrap_text and sheet["A3"].font.bold
    assert sheet.auto_filter.ref == "A3:I10"
    assert sheet.row_dimensions[5].height and sheet.row_dimensions[5].height > 30  # long title


def test_summary_sheet_totals(workbook: object) -> None:
    sheet = workbook.worksheets[0]  # type: ignore[attr-defined]
    rows = list(sheet.iter_rows(values_only=True))
    total = next(row for row in rows if row[1] == "Tổng cộng")
    # total, on time, late, in time, overdue, unreported (not due), blocked, done share
    assert total[2:9] == (44, 3, 1, 0, 40, 0, 2)
    assert total[9] == pytest.approx(4 / 44, abs=1e-4)
    texts = [str(row[0]) for row in rows if row[0]]
    for name in NEVER_REPORTED:
        assert any(name in text for text in texts), name
    health = next(row for row in rows if row[1] == "Sở Y tế")
    assert health[2:10] == (7, 6, 1, 3, 2, 5, 1, "3.3, 3.4, 3.6, 3.7")


def test_sheet_titles_are_valid() -> None:
    assert sheet_title(5, "Dịch vụ logistic và vận tải") == "5. Logistic và vận tải"
    long = sheet_title(1, "Dịch vụ công nghệ thông tin và truyền thông")
    assert len(long) <= 31 and not long.endswith("và")
    assert "/" not in sheet_title(2, "Du lịch", "1731/QĐ-UBND")
    assert row_height(["x" * 100], [10]) == 9 * 14.5 + 3 and row_height(["ngắn"], [10]) is None


# --- Word ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def document(report_db: Database) -> object:
    content, _ = _file(report_db, "docx")
    return Document(io.BytesIO(content))


def test_word_draft_has_every_task_and_the_summary_table(
    document: object, leads: dict[str, str]
) -> None:
    tables = document.tables  # type: ignore[attr-defined]
    summary = tables[1]
    assert summary.rows[0].cells[1].text == "Lĩnh vực"
    totals = ["Tổng cộng", "44", "3", "1", "0", "40", "0", "2"]
    assert [c.text for c in summary.rows[-1].cells][1:] == totals
    sector_tables = tables[2:11]
    seen = {}
    for table in sector_tables:
        assert table.rows[0].cells[0].text == "TT"
        for row in table.rows[1:]:
            cells = [c.text for c in row.cells]
            seen[cells[0]] = cells
    assert len(seen) == 44
    assert {code: cells[2] for code, cells in seen.items()} == leads
    for code, expected in EXPECTED_CLASS.items():
        assert seen[code][4].splitlines()[0] == CLASS_TEXT[expected], code
    assert "Khó khăn, vướng mắc:\n- Báo Quảng Ngãi: Thiếu kinh phí" in seen["1.1"][3]


def test_word_draft_sections(document: object) -> None:
    paragraphs = [p.text for p in document.paragraphs]  # type: ignore[attr-defined]
    text = "\n".join(paragraphs)
    order = [
        "BÁO CÁO",
        "I. KẾT QUẢ THỰC HIỆN",
        "1. Tình hình chung",
        "Tổng số nhiệm vụ: 44.",
        "2. Kết quả thực hiện theo lĩnh vực",
        "2.1. Dịch vụ công nghệ thông tin và truyền thông",
        "2.9. Dịch vụ hỗ trợ kinh doanh",
        "II. TÌNH HÌNH BÁO CÁO CỦA CÁC ĐƠN VỊ",
        "III. KHÓ KHĂN, VƯỚNG MẮC",
        "IV. ĐỀ XUẤT, KIẾN NGHỊ",
    ]
    positions = [text.index(part) for part in order]
    assert positions == sorted(positions)
    assert "Sở Tài chính tổng hợp báo cáo kết quả thực hiện năm 2026" in text
    assert "Quyết định số 1731/QĐ-UBND" in text
    assert "- Nhiệm vụ 3.1 (Sở Y tế): Chưa có mặt bằng xây dựng bệnh viện" in paragraphs
    assert "- Nhiệm vụ 3.1 (Sở Y tế): UBND tỉnh chỉ đạo bố trí quỹ đất" in paragraphs
    for name in NEVER_REPORTED:
        assert any(p.startswith(f"- {name}:") for p in paragraphs), name
    head = document.tables[0].rows[0].cells  # type: ignore[attr-defined]
    assert "SỞ TÀI CHÍNH" in head[0].text and "Độc lập - Tự do - Hạnh phúc" in head[1].text


# --- chart and JSON -----------------------------------------------------------------------------


def test_chart_png_is_drawn(report_db: Database) -> None:
    content, summary = _file(report_db, "png")
    image = Image.open(io.BytesIO(content))
    assert image.format == "PNG"
    width, height = image.size
    assert width >= 1000 and height >= 500
    colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 50  # text, bars, anti-aliasing: not blank
    present = {rgb for _count, rgb in colours}
    assert (0x2E, 0x7D, 0x32) in present  # "on time" green bars
    assert (0xE5, 0x39, 0x35) in present  # "overdue" red bars
    assert summary.overall.total == 44


def test_json_has_one_object_per_task(report_db: Database, leads: dict[str, str]) -> None:
    content, _ = _file(report_db, "json")
    data = json.loads(content.decode("utf-8"))
    assert isinstance(data, list) and len(data) == 44
    by_code = {item["code"]: item for item in data}
    assert {code: item["lead"] for code, item in by_code.items()} == leads
    for code, expected in EXPECTED_CLASS.items():
        assert by_code[code]["classification"] == expected, code
    agencies = {a["agency"]: a for a in by_code["1.1"]["agencies"]}
    assert agencies["Báo Quảng Ngãi"]["blocker_text"] == "Thiếu kinh phí sản xuất phóng sự"
    assert agencies["Sở Khoa học và Công nghệ"]["agency_2021"] == "Sở Thông tin và Truyền thông"
    assert agencies["Sở Khoa học và Công nghệ"]["status"] == "done"
    assert by_code["3.3"]["agencies"][0]["returned"] is True
