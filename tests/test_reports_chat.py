"""/baocao in a chat: who sees what, the one-screen summary, files as attachments."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from bot.commands import find
from data.store.models import Role
from handlers.reports import parse_args
from tests.report_support import seed_reports

if TYPE_CHECKING:
    from tests.status_harness import Desk

pytest_plugins = ("tests.status_harness",)


@pytest.fixture
def reports_desk(desk: Desk) -> Desk:
    """The seeded router with the mix of reports; a focal point, an observer, an admin."""
    with desk.database.unit_of_work() as session:
        seed_reports(session)
    desk.add_person("yte", Role.FOCAL, "Sở Y tế", platform="telegram")
    desk.add_person("leader", Role.OBSERVER, None, platform="telegram")
    return desk


def test_the_command_is_in_the_table() -> None:
    command = find("baocao")
    assert command is not None and find("report") is command and find("BÁO CÁO") is None
    assert command.in_groups


def test_admin_sees_the_whole_picture(reports_desk: Desk) -> None:
    summary = reports_desk.say("/baocao")
    assert len(summary.split("\n\n1. Theo lĩnh vực")[0].split("\n")) <= 15  # one screen
    # The parts are one tap away: by sector, by agency, open blockers.
    parts = [reports_desk.say(f"/baocao {part}") for part in ("linhvuc", "donvi", "vuongmac")]
    text = "\n".join([summary, *parts])
    assert text.startswith("📊 Báo cáo năm 2026 — Quyết định 1731/QĐ-UBND")
    assert "Tổng số 44 nhiệm vụ" in text
    assert "hoàn thành 4 · đang thực hiện 3 · chưa triển khai 1 · chưa báo cáo 36" in text
    assert "• 3. Y tế: 2/7" in text
    assert "Đơn vị chưa báo cáo nhiệm vụ nào (6):" in text
    assert "• Sở Giáo dục và Đào tạo (4 nhiệm vụ)" in text
    assert "• Sở Tài chính (Sở Kế hoạch và Đầu tư): còn 7/8" in text
    assert "Vướng mắc đang mở (2):" in text and "3.1 — Sở Y tế: Chưa có mặt bằng" in text
    assert "Đơn vị của anh/chị" not in text


def test_focal_point_sees_their_agency_first(reports_desk: Desk) -> None:
    text = reports_desk.say("/baocao", "yte", platform="telegram")
    first = text.split("\n\n")[1]
    assert first.startswith("Đơn vị của anh/chị — Sở Y tế: 7 nhiệm vụ (6 chủ trì, 1 phối hợp)")
    assert "Còn thiếu báo cáo: 3.3, 3.4, 3.6, 3.7." in first
    assert "Tổng số 44 nhiệm vụ" in text and "Vướng mắc đang mở" in text


def test_strangers_get_counts_only_and_no_files(reports_desk: Desk) -> None:
    text = reports_desk.say("/baocao", "stranger")
    assert "Tổng số 44 nhiệm vụ" in text and "Theo lĩnh vực" in text
    assert "Vướng mắc đang mở" not in text and "Sở Giáo dục" not in text
    assert "/dangky" in text
    sent = reports_desk.send("/baocao xlsx", "stranger", platform="telegram")
    assert all(reply.file is None for reply in sent.replies)
    assert "chỉ gửi cho người dùng đã đăng ký" in sent.here


def test_observer_gets_the_workbook_as_a_file(reports_desk: Desk) -> None:
    sent = reports_desk.send("/baocao excel", "leader", platform="telegram")
    (reply,) = sent.replies
    assert reply.file is not None
    assert reply.file.filename == "bao_cao_2026.xlsx"
    assert reply.file.mime_type.endswith("spreadsheetml.sheet")
    assert reply.text.startswith("Bảng tổng hợp (Excel) năm 2026 — 44 nhiệm vụ, 9 lĩnh vực")
    assert len(reply.text) < 1024  # fits a Telegram caption
    workbook = load_workbook(io.BytesIO(reply.file.content))
    codes = [
        row[0]
        for sheet in workbook.worksheets[1:]
        for row in sheet.iter_rows(min_row=4, values_only=True)
    ]
    assert len(codes) == 44


def test_word_and_chart_files(reports_desk: Desk) -> None:
    word = reports_desk.send("/baocao word", "yte", platform="telegram").replies[0]
    assert word.file is not None and word.file.filename == "du_thao_bao_cao_2026.docx"
    assert word.file.content[:2] == b"PK"
    chart = reports_desk.send("/baocao bieu do").replies[0]  # raw reply: the file is kept
    assert chart.file is not None and chart.file.mime_type == "image/png"
    assert chart.file.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_console_shows_a_summary_in_place_of_the_file(reports_desk: Desk) -> None:
    text = reports_desk.say("/baocao docx")
    assert "Tệp du_thao_bao_cao_2026.docx: 44 nhiệm vụ" in text
    assert "daumoi report --year 2026 --format docx" in text


def test_another_year_and_unknown_words(reports_desk: Desk) -> None:
    text = reports_desk.say("/baocao 2025")
    assert text.startswith("📊 Báo cáo năm 2025")
    assert "hoàn thành 1 ·" in text  # 4.1 was done in 2025
    assert "Chưa rõ loại báo cáo “pdf”" in reports_desk.say("/baocao pdf")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("", (None, None, True)),
        ("xlsx", ("xlsx", None, True)),
        ("Excel năm 2025", ("xlsx", 2025, True)),
        ("BIỂU ĐỒ", ("png", None, True)),
        ("bieudo 2026", ("png", 2026, True)),
        ("word", ("docx", None, True)),
        ("2024", (None, 2024, True)),
        ("pdf", (None, None, False)),
    ],
)
def test_parse_args(args: str, expected: tuple[object, ...]) -> None:
    assert parse_args(args) == expected


@given(year=st.integers(1000, 9999), kind=st.sampled_from(["", "xlsx ", "bieu do năm "]))
def test_every_four_digit_year_is_read_as_a_year(year: int, kind: str) -> None:
    _fmt, found, understood = parse_args(f"{kind}{year}")
    assert found == year and understood


# --- years outside the programme ------------------------------------------------------------


@pytest.mark.parametrize("year", [1000, 1900, 1999, 2000, 2019, 2020, 2031, 2045, 2099, 2100, 9999])
@pytest.mark.parametrize("kind", ["", "xlsx "])
def test_a_year_outside_the_programme_is_refused(reports_desk: Desk, year: int, kind: str) -> None:
    text = reports_desk.say(f"/baocao {kind}{year}")
    assert f"Năm {year} nằm ngoài thời gian thực hiện chương trình (2021–2030)" in text
    assert "/baocao 2026" in text
    assert "quá hạn" not in text and "Tệp" not in text


@pytest.mark.parametrize("year", [2021, 2026, 2030])
def test_a_year_inside_the_programme_is_reported(reports_desk: Desk, year: int) -> None:
    assert reports_desk.say(f"/baocao {year}").startswith(f"📊 Báo cáo năm {year}")
