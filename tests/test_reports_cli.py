"""`daumoi report`: the acceptance commands on a fresh database, in process and as a script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from data.store.db import Database
from tests.databases import database_url
from tests.report_support import seed_reports

pytest_plugins = ("tests.bot_harness",)
DAUMOI = Path(sys.executable).with_name("daumoi")


def _run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str, *args: str
) -> tuple[int, str, str]:
    from bot.cli import main

    for key in [k for k in os.environ if k.startswith("DAUMOI_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("DAUMOI_DATABASE_URL", url)
    code = main(["report", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _codes_and_leads(path: Path) -> dict[str, str]:
    workbook = load_workbook(path)
    return {
        row[0]: row[2]
        for sheet in workbook.worksheets[1:]
        for row in sheet.iter_rows(min_row=4, values_only=True)
    }


def test_xlsx_on_a_fresh_database(tmp_path: Path) -> None:
    """The acceptance command, run as users run it: the console script, an empty database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAUMOI_")}
    env.update(
        DAUMOI_DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.sqlite3'}", PYTHONIOENCODING="utf-8"
    )
    done = subprocess.run(
        [str(DAUMOI), "report", "--year", "2026", "--format", "xlsx", "-o", "r.xlsx"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Đã ghi báo cáo năm 2026 (xlsx) vào r.xlsx: 44 nhiệm vụ" in done.stderr
    leads = _codes_and_leads(tmp_path / "r.xlsx")
    assert len(leads) == 44
    assert leads["2.4"] == "Sở Xây dựng (Sở Giao thông vận tải)"
    assert leads["3.1"] == "Sở Y tế"
    assert all(leads.values())


def test_json_one_object_per_task(
    tmp_path: Path,
    seeded_db: Database,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with seeded_db.unit_of_work() as session:
        seed_reports(session)
    url = database_url(seeded_db)
    code, _, err = _run(
        monkeypatch,
        capsys,
        url,
        "--year",
        "2026",
        "--format",
        "json",
        "-o",
        str(tmp_path / "r.json"),
    )
    assert code == 0, err
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert len(data) == 44 and len({item["code"] for item in data}) == 44
    first = data[0]
    assert first["code"] == "1.1" and first["classification"] in ("done_on_time", "done_late")
    assert [a["agency"] for a in first["agencies"]] == [
        "Sở Khoa học và Công nghệ",
        "Báo Quảng Ngãi",
    ]
    code, out, err = _run(monkeypatch, capsys, url, "--year", "2026", "--format", "json", "-o", "-")
    assert code == 0, err
    assert json.loads(out) == data


def test_png_and_docx_default_names_and_a_bad_decision(
    tmp_path: Path,
    seeded_db: Database,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = database_url(seeded_db)
    monkeypatch.chdir(tmp_path)
    code, _, err = _run(monkeypatch, capsys, url, "--year", "2026", "--format", "png")
    assert code == 0, err
    assert (tmp_path / "bieu_do_2026.png").read_bytes()[:4] == b"\x89PNG"
    code, _, err = _run(monkeypatch, capsys, url, "--format", "docx", "--decision", "1731")
    assert code == 0, err
    assert list(tmp_path.glob("du_thao_bao_cao_*.docx"))
    code, _, err = _run(monkeypatch, capsys, url, "--decision", "999/QĐ-UBND")
    assert code == 2 and "Không có quyết định 999/QĐ-UBND" in err


@pytest.mark.parametrize(
    ("year", "message"),
    [
        ("2020", "Năm báo cáo 2020 nằm ngoài thời gian thực hiện chương trình (2021–"),
        ("2015", "Năm báo cáo 2015 nằm ngoài thời gian thực hiện chương trình (2021–"),
        ("2099", "Năm báo cáo 2099 nằm ngoài thời gian thực hiện chương trình (2021–"),
        ("0", "Năm báo cáo không hợp lệ: 0."),
    ],
)
def test_a_year_outside_the_programme_is_refused(
    tmp_path: Path,
    seeded_db: Database,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    year: str,
    message: str,
) -> None:
    url = database_url(seeded_db)
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(monkeypatch, capsys, url, "--year", year, "--format", "json")
    assert code == 2 and err.startswith(message) and len(err.splitlines()) == 1
    assert out == "" and not list(tmp_path.glob("bao_cao_*"))
