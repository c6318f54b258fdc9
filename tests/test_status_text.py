"""Reading typed status reports: status words with or without marks, %, blockers, limits."""

from __future__ import annotations

import unicodedata

import pytest

from data.store.models import TaskStatus
from handlers.status_text import (
    InputError,
    clean,
    parse_line,
    parse_note,
    parse_progress,
    parse_status,
    to_report,
)

NOTE = "Đã làm việc với hãng bay về đường bay mới"


@pytest.mark.parametrize(
    ("text", "status", "progress", "result"),
    [
        (f"dang thuc hien 60% {NOTE}", TaskStatus.IN_PROGRESS, 60, NOTE),
        (f"Đang thực hiện 60 % {NOTE}", TaskStatus.IN_PROGRESS, 60, NOTE),
        (f"ĐANG TRIỂN KHAI, tiến độ 45: {NOTE}", TaskStatus.IN_PROGRESS, 45, NOTE),
        (
            unicodedata.normalize("NFD", f"Đang thực hiện 60% {NOTE}"),
            TaskStatus.IN_PROGRESS,
            60,
            NOTE,
        ),
        ("hoan thanh", TaskStatus.DONE, None, ""),
        (f"Đã hoàn thành. {NOTE}", TaskStatus.DONE, None, NOTE),
        ("chua trien khai - chờ kinh phí", TaskStatus.NOT_STARTED, None, "chờ kinh phí"),
        ("hoan thanh100%", None, None, "hoan thanh100%"),  # no word boundary: not a status
        (NOTE, None, None, NOTE),
    ],
)
def test_status_progress_and_result(
    text: str, status: TaskStatus | None, progress: int | None, result: str
) -> None:
    parsed = parse_line(text)
    assert (parsed.status, parsed.progress, parsed.result) == (status, progress, result)


def test_labelled_sections_with_or_without_marks() -> None:
    parsed = parse_line(
        "dang thuc hien 60% Đã họp với hãng bay; vuong mac: thiếu kinh phí. "
        "Đề xuất: bố trí vốn năm 2027"
    )
    assert parsed.result == "Đã họp với hãng bay"
    assert parsed.blocker_text == "thiếu kinh phí"
    assert parsed.proposal == "bố trí vốn năm 2027"
    note = parse_note("Kết quả: làm A\nKhó khăn, vướng mắc: B\nKiến nghị: C")
    assert (note.result, note.blocker_text, note.proposal) == ("làm A", "B", "C")


def test_words_without_colon_are_not_labels() -> None:
    parsed = parse_note("Gặp khó khăn về vốn nhưng đã xử lý")
    assert parsed.blocker_text == "" and not parsed.blocker_marked
    assert parsed.result == "Gặp khó khăn về vốn nhưng đã xử lý"


def test_report_defaults_and_consistency() -> None:
    assert to_report(parse_line("hoan thanh xong")).progress == 100
    assert to_report(parse_line("chua trien khai chờ vốn")).progress == 0
    with pytest.raises(InputError, match="100%"):
        to_report(parse_line("hoan thanh 50% xong một nửa"))
    with pytest.raises(InputError, match="0%"):
        to_report(parse_line("chua trien khai 20% abc"))
    with pytest.raises(InputError, match="tiến độ"):
        to_report(parse_line(f"dang thuc hien {NOTE}"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dang thuc hien 150% abc", "150% không hợp lệ"),
        ("dang thuc hien 60%", "không được để trống"),
        ("hoan thanh", "không được để trống"),
        ("dang thuc hien 60% " + "x" * 10_000, "10.000 ký tự"),
        ("dang thuc hien 60% abc vuong mac:", "vướng mắc"),
        (NOTE, "trạng thái"),
    ],
)
def test_bad_reports_explain_in_vietnamese(text: str, message: str) -> None:
    with pytest.raises(InputError) as raised:
        to_report(parse_line(text))
    assert message in raised.value.message


def test_progress_and_status_typed_alone() -> None:
    assert parse_progress("60") == 60
    assert parse_progress("75 %") == 75
    assert parse_progress("tiến độ 30") == 30
    for bad in ("150", "abc", "-5", ""):
        with pytest.raises(InputError):
            parse_progress(bad)
    assert parse_status("Hoàn thành") is TaskStatus.DONE
    assert parse_status("dang thuc hien") is TaskStatus.IN_PROGRESS
    assert parse_status("hoan thanh roi nhe") is None


def test_clean_drops_control_and_invisible_characters() -> None:
    assert clean("a\u200bb\x00c  d\r\n\r\ne") == "ab c d\ne"
