"""The report formats are one registry: /baocao and `daumoi report` offer whatever is registered."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

import pytest

from core.textnorm import fold
from data.reports.formats import FORMATS, ReportData, ReportFormat, in_chat, register
from data.store.db import Database
from data.store.models import Role
from handlers.reports import parse_args, usage
from tests.databases import database_url
from tests.report_support import seed_reports

if TYPE_CHECKING:
    from tests.status_harness import Desk

pytest_plugins = ("tests.status_harness",)


# --- a throwaway format: all a new format takes is a module like this and register(...) ------


def _write_csv(data: ReportData, out: IO[bytes]) -> None:
    out.write(b"code,status\n")
    for task in data.summary.observe(data.tasks):
        out.write(f"{task.code},{task.status_key}\n".encode())


CSV = ReportFormat(
    name="csv",
    extension="csv",
    mime_type="text/csv",
    label="Bảng CSV",
    write=_write_csv,
    aliases=("csv", "bang phay"),
    offer="bảng CSV",
)


@pytest.fixture
def csv_format() -> Iterator[ReportFormat]:
    """The throwaway format, registered for one test."""
    register(CSV)
    try:
        yield CSV
    finally:
        del FORMATS[CSV.name]


# --- the registry ----------------------------------------------------------------------------


def test_the_formats_and_the_words_for_them() -> None:
    assert list(FORMATS) == ["xlsx", "docx", "png", "json"]
    assert [fmt.name for fmt in in_chat()] == ["xlsx", "docx", "png"]  # JSON: only the CLI
    for fmt in FORMATS.values():
        assert fmt.filename(2026) == f"{fmt.stem}_2026.{fmt.extension}"
        for word in fmt.aliases:
            assert fold(word) == word
            assert parse_args(f"{word} 2026") == (fmt.name, 2026, True)


def test_a_repeated_name_or_word_is_refused() -> None:
    with pytest.raises(ValueError, match="repeats"):
        register(FORMATS["xlsx"])
    with pytest.raises(ValueError, match="repeats"):
        register(
            ReportFormat(
                "xls", "xls", "application/vnd.ms-excel", "x", _write_csv, aliases=("excel",)
            )
        )
    assert "xls" not in FORMATS


# --- a new format is offered everywhere ------------------------------------------------------


@pytest.fixture
def reports_desk(desk: Desk) -> Desk:
    """The seeded router with the mix of reports and an observer."""
    with desk.database.unit_of_work() as session:
        seed_reports(session)
    desk.add_person("leader", Role.OBSERVER, None, platform="telegram")
    return desk


def test_baocao_offers_a_registered_format(csv_format: ReportFormat, reports_desk: Desk) -> None:
    assert parse_args("bang phay năm 2026") == ("csv", 2026, True)
    assert "/baocao csv (bảng CSV)" in usage()
    assert "/baocao csv (bảng CSV)" in reports_desk.say("/baocao pdf")
    assert "/baocao csv (bảng CSV)" in reports_desk.say("/baocao")
    (reply,) = reports_desk.send("/baocao csv", "leader", platform="telegram").replies
    assert reply.file is not None
    assert (reply.file.filename, reply.file.mime_type) == ("bao_cao_2026.csv", "text/csv")
    assert reply.text.startswith("Bảng CSV năm 2026 — 44 nhiệm vụ, 9 lĩnh vực")
    lines = reply.file.content.decode().splitlines()
    assert len(lines) == 45 and lines[1].startswith("1.1,")


def test_the_cli_offers_a_registered_format(
    csv_format: ReportFormat,
    seeded_db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.cli import main

    for key in [k for k in os.environ if k.startswith("DAUMOI_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("DAUMOI_DATABASE_URL", database_url(seeded_db))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    assert "{xlsx,docx,png,json,csv}" in capsys.readouterr().out
    assert main(["report", "--year", "2026", "--format", "csv"]) == 0
    assert "Đã ghi báo cáo năm 2026 (csv) vào bao_cao_2026.csv: 44 nhiệm vụ" in (
        capsys.readouterr().err
    )
    assert len((tmp_path / "bao_cao_2026.csv").read_text().splitlines()) == 45
