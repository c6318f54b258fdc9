"""Importer: parse the seed decision, canonicalise agencies, upsert idempotently, reject junk."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.importing.agency_names import agency_key, classify, is_collective, split_partners
from data.importing.decision_text import DecisionFormatError, ParsedDecision, parse_decision
from data.importing.importer import SEED_FILE, ImportReport, ensure_seed, import_file, import_text
from data.importing.table_file import parse_table
from data.reports.export import export_programmes
from data.search.documents import documents, seed_documents
from data.store.db import Database
from data.store.models import (
    Agency,
    AgencyAlias,
    AgencyKind,
    Measure,
    Programme,
    Sector,
    Task,
    TaskPartner,
)
from data.store.succession import apply_succession, current_agency, display_name, load_succession

FIXTURES = Path(__file__).parent / "fixtures"
SYNTHETIC = FIXTURES / "qd_2468_2022_synthetic.txt"
SEED_NUMBER = "1731/QĐ-UBND"

EXPECTED_LEADS = {
    "1.1": "Sở Thông tin và Truyền thông",
    "1.4": "Sở Thông tin và Truyền thông",
    "2.1": "Sở Văn hóa Thể thao và Du lịch",
    "2.2": "Sở Văn hóa Thể thao và Du lịch",
    "2.4": "Sở Giao thông vận tải",
    "3.1": "Sở Y tế",
    "3.4": "Ban quản lý các dự án Dân dụng và Công nghiệp",
    "4.2": "Sở Giáo dục và Đào tạo",
    "5.1": "Sở Công Thương",
    "5.2": "Sở Giao thông vận tải",
    "5.4": "Ban Quản lý dự án đầu tư xây dựng các công trình giao thông",
    "5.5": "Ban Quản lý KKT Dung Quất và các KCN tỉnh Quảng Ngãi",
    "6.1": "Sở Tài chính",
    "6.2": "Ngân hàng Nhà nước chi nhánh Quảng Ngãi",
    "7.3": "Sở Khoa học và Công nghệ",
    "8.5": "Sở Công Thương",
    "9.1": "Sở Kế hoạch và Đầu tư",
    "9.2": "Văn phòng UBND tỉnh (Trung tâm Phục vụ hành chính công)",
}


@pytest.fixture(scope="module")
def seed() -> ParsedDecision:
    return parse_decision(SEED_FILE.read_text(encoding="utf-8"), SEED_FILE.name)


@pytest.fixture(scope="module")
def seeded_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with the seed imported once per module (copied for each test)."""
    path = tmp_path_factory.mktemp("seeded") / "seed.sqlite3"
    database = Database.connect(f"sqlite:///{path}")
    report = ensure_seed(database)
    assert report is not None
    database.engine.dispose()
    return path


@pytest.fixture
def seeded(seeded_file: Path, tmp_path: Path) -> Iterator[Database]:
    copy = tmp_path / "seeded.sqlite3"
    shutil.copyfile(seeded_file, copy)
    database = Database.connect(f"sqlite:///{copy}")
    yield database
    database.engine.dispose()


def _task(session: Session, code: str, number: str = SEED_NUMBER) -> Task:
    return session.scalars(
        select(Task).join(Programme).where(Task.code == code, Programme.decision_number == number)
    ).one()


def _measures(task: Task) -> str:
    return " ".join(m.text for m in task.measures)


def _counts(session: Session) -> dict[str, int]:
    return {
        model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Programme, Sector, Task, Agency, AgencyAlias, TaskPartner, Measure)
    }


# --- parsing the seed text ---------------------------------------------------------------


def test_seed_metadata(seed: ParsedDecision) -> None:
    assert seed.decision_number == SEED_NUMBER
    assert seed.issued_on is not None and seed.issued_on.isoformat() == "2021-11-04"
    assert seed.signer == "Đặng Văn Minh"
    assert seed.title.startswith("Quyết định 1731/QĐ-UBND năm 2021")
    assert seed.coordinator == "Sở Kế hoạch và Đầu tư"
    assert any("lặp lại" in warning for warning in seed.warnings)


def test_seed_has_9_sectors_and_44_tasks(seed: ParsedDecision) -> None:
    assert [s.number for s in seed.sectors] == list(range(1, 10))
    assert [len(s.tasks) for s in seed.sectors] == [4, 7, 7, 4, 7, 3, 5, 5, 2]
    codes = [t.code for t in seed.tasks()]
    assert len(codes) == len(set(codes)) == 44
    assert codes[0] == "1.1" and codes[-1] == "9.2"
    assert seed.sectors[4].name == "Dịch vụ logistic và vận tải"


def test_seed_raw_cells(seed: ParsedDecision) -> None:
    tasks = {t.code: t for t in seed.tasks()}
    assert tasks["8.5"].lead == "Sỏ Công thương"
    assert tasks["5.5"].lead == "Quản lý KKT Dung Quất và các KCN tỉnh Quảng Ngãi"
    assert tasks["2.4"].title.startswith("Tăng cường hợp tác để khai thác hiệu quả sân bay Chu Lai")
    assert tasks["2.2"].partners == [
        "Sở Kế hoạch và Đầu tư",
        "Sở Giao thông vận tải",
        "Sở Xây dựng",
        "Các sở, ban ngành",
        "UBND các huyện, thị xã, thành phố",
    ]


def test_measures_attached_to_matching_tasks(seed: ParsedDecision) -> None:
    tasks = {t.code: " ".join(m.text for m in t.measures) for t in seed.tasks()}
    assert "5G" in tasks["1.2"]
    assert "Vpostcode" in tasks["1.2"]
    assert "an ninh mạng" in tasks["1.2"]
    assert "đô thị thông minh" in tasks["1.3"]
    assert "Mỹ Khê" in tasks["2.6"]
    assert "Đại học Phạm Văn Đồng" in tasks["4.2"]
    assert "Bến Đình" in tasks["2.2"]
    assert "sân bay Chu Lai" in tasks["2.4"]
    assert "Trung tâm Y tế huyện Sơn Tịnh" in tasks["3.4"]
    assert "mầm non" in tasks["4.2"]
    # The duplicated header block must not duplicate measures.
    texts = [m.text for t in seed.tasks() for m in t.measures]
    assert len(texts) == len(set(texts))
    # The 5G measure is in sector 1 only.
    assert sum("5G" in text for text in texts) == 1


def test_bare_headings_are_measures(seed: ParsedDecision) -> None:
    tasks = {t.code: t for t in seed.tasks()}
    assert any("thanh toán không dùng tiền mặt" in m.text for m in tasks["6.3"].measures)
    assert any("Tịnh Phong" in m.text for m in tasks["5.4"].measures)


def test_target_years(seed: ParsedDecision) -> None:
    tasks = {t.code: t for t in seed.tasks()}
    # "Phấn đấu đến năm 2030, đảo Lý Sơn và Khu du lịch Mỹ Khê ... khu du lịch quốc gia"
    assert 2030 in tasks["2.6"].target_years
    assert tasks["2.2"].target_years == [2021, 2030, 2050]
    assert {2025, 2030, 2045, 2050} <= set(tasks["2.7"].target_years)
    assert tasks["1.1"].target_years == []
    for task in seed.tasks():
        assert task.target_years == sorted(set(task.target_years))
        assert all(year >= 2021 for year in task.target_years)


def test_unattached_measures_are_reported_not_lost(seed: ParsedDecision) -> None:
    attached = sum(len(t.measures) for t in seed.tasks())
    assert attached >= 85
    assert len(seed.unattached_measures) <= 8


# --- agency names -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Sỏ Công thương", "Sở Công Thương"),
        ("Sở Văn hóa Thể Thao và Du lịch", "Sở Văn hóa Thể thao và Du lịch"),
        ("Sở Văn hóa, Thể thao và Du lịch", "Sở Văn hóa Thể thao và Du lịch"),
        (
            "Quản lý KKT Dung Quất và các KCN tỉnh Quảng Ngãi",
            "Ban Quản lý KKT Dung Quất và các KCN tỉnh",
        ),
        (
            "Ban Quản lý Khu kinh tế Dung Quất và các Khu công nghiệp tỉnh Quảng Ngãi",
            "Ban Quản lý KKT Dung Quất và các KCN tỉnh",
        ),
        ("Bảo hiểm xã hội tỉnh Quảng Ngãi", "BHXH tỉnh"),
        ("Các sở, ban, ngành", "Các sở, ban ngành"),
        ("Sở Kế hoạch Đầu tư", "Sở Kế hoạch và Đầu tư tỉnh Quảng Ngãi"),
        ("Sở Văn hoá - Thể thao và Du lịch", "Sở Văn hóa Thể thao và Du lịch"),
        ("NHNN chi nhánh Quảng Ngãi", "Ngân hàng Nhà nước chi nhánh Quảng Ngãi"),
    ],
)
def test_same_agency_same_key(a: str, b: str) -> None:
    assert agency_key(a) == agency_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Sở Giao thông vận tải", "Sở Giáo dục và Đào tạo"),
        ("Ngân hàng Nhà nước chi nhánh Quảng Ngãi", "Ngân hàng Nhà nước Chi nhánh Khu vực 9"),
        ("Báo Quảng Ngãi", "Đài Phát thanh Truyền hình Quảng Ngãi"),
        ("UBND các huyện, thị xã, thành phố", "UBND các xã, phường, đặc khu"),
    ],
)
def test_different_agencies_different_keys(a: str, b: str) -> None:
    assert agency_key(a) != agency_key(b)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (
            "Các sở, ban ngành; UBND các huyện, thị xã, thành phố; Báo Quảng Ngãi, "
            "Đài Phát thanh Truyền hình Quảng Ngãi.",
            [
                "Các sở, ban ngành",
                "UBND các huyện, thị xã, thành phố",
                "Báo Quảng Ngãi",
                "Đài Phát thanh Truyền hình Quảng Ngãi",
            ],
        ),
        (
            "Các sở, ban ngành; UBND các huyện, thị xã, thành phố; doanh nghiệp CNTT, viễn thông.",
            [
                "Các sở, ban ngành",
                "UBND các huyện, thị xã, thành phố",
                "doanh nghiệp CNTT, viễn thông",
            ],
        ),
        (
            "Các sở, ban ngành; các ngân hàng thương mại, tổ chức tín dụng.",
            ["Các sở, ban ngành", "các ngân hàng thương mại, tổ chức tín dụng"],
        ),
        (
            "Sở Kế hoạch và Đầu tư, Sở Công thương, Ban Quản lý KKT Dung Quất và các KCN tỉnh; "
            "các doanh nghiệp, tổ chức có liên quan",
            [
                "Sở Kế hoạch và Đầu tư",
                "Sở Công thương",
                "Ban Quản lý KKT Dung Quất và các KCN tỉnh",
                "các doanh nghiệp, tổ chức có liên quan",
            ],
        ),
        (
            "Sở Văn hóa, Thể thao và Du lịch; Sở Y tế",
            ["Sở Văn hóa, Thể thao và Du lịch", "Sở Y tế"],
        ),
        ("", []),
        ("Sỏ Công thương.", ["Sở Công thương"]),
    ],
)
def test_split_partners(cell: str, expected: list[str]) -> None:
    assert split_partners(cell) == expected


def test_classification() -> None:
    assert classify("Sở Y tế") is AgencyKind.DEPARTMENT
    assert classify("Ban Quản lý KKT Dung Quất") is AgencyKind.BOARD
    assert classify("Văn phòng UBND tỉnh") is AgencyKind.OFFICE
    assert classify("Ngân hàng Nhà nước chi nhánh Quảng Ngãi") is AgencyKind.BANK
    assert classify("Bảo hiểm xã hội tỉnh Quảng Ngãi") is AgencyKind.INSURANCE
    assert classify("Báo Quảng Ngãi") is AgencyKind.MEDIA
    assert classify("UBND các huyện, thị xã, thành phố") is AgencyKind.LOCAL
    assert classify("Các sở, ban ngành") is AgencyKind.COLLECTIVE
    assert classify("doanh nghiệp CNTT, viễn thông") is AgencyKind.ENTERPRISE
    assert is_collective("UBND các huyện, thị xã, thành phố")
    assert is_collective("các ngân hàng thương mại, tổ chức tín dụng")
    assert not is_collective("Sở Công Thương")
    assert not is_collective("Văn phòng UBND tỉnh (Trung tâm Phục vụ hành chính công)")


# --- importing into the database ----------------------------------------------------------


def test_seed_import_counts_and_leads(seeded: Database) -> None:
    with seeded.session() as session:
        programme = session.scalars(select(Programme)).one()
        assert programme.decision_number == SEED_NUMBER
        assert len(programme.sectors) == 9
        assert len(programme.tasks) == 44
        for code, lead in EXPECTED_LEADS.items():
            task = _task(session, code)
            assert task.lead_agency is not None and task.lead_agency.name == lead, code
        assert programme.coordinating_agency is not None
        assert programme.coordinating_agency.name == "Sở Kế hoạch và Đầu tư"
        assert current_agency(programme.coordinating_agency).name == "Sở Tài chính"


def test_spelling_variants_merged(seeded: Database) -> None:
    with seeded.session() as session:
        leads = set(session.scalars(select(Task.lead_agency_id)))
        # STTTT, SVHTTDL, SGTVT, SYT, BQLDA DD&CN, SGDĐT, SCT, BQLDA GT, BQL KKT, STC, NHNN,
        # SKHCN, SKHĐT, VP UBND: 14 distinct leads once the misspellings are merged.
        assert len(leads) == 14
        vh = [a for a in session.scalars(select(Agency)) if "Văn hóa" in a.name]
        assert [a.name for a in vh] == ["Sở Văn hóa Thể thao và Du lịch"]
        assert _task(session, "2.1").lead_agency is _task(session, "2.2").lead_agency
        assert _task(session, "8.5").lead_agency is _task(session, "8.1").lead_agency
        assert _task(session, "5.5").lead_agency is not None
        bql = _task(session, "5.5").lead_agency
        assert bql is not None
        partner_ids = {p.agency_id for p in _task(session, "5.2").partners}
        assert bql.id in partner_ids
        variants = {a.text for a in bql.aliases}
        assert "Quản lý KKT Dung Quất và các KCN tỉnh Quảng Ngãi" in variants
        assert "BQL KKT" in variants


def test_report_lists_merges(db: Database) -> None:
    report = ensure_seed(db)
    assert isinstance(report, ImportReport)
    assert report.merged["Sỏ Công thương"] == "Sở Công Thương"
    assert report.merged["Sở Văn hóa Thể Thao và Du lịch"] == "Sở Văn hóa Thể thao và Du lịch"
    assert (
        report.merged["Quản lý KKT Dung Quất và các KCN tỉnh Quảng Ngãi"]
        == "Ban Quản lý KKT Dung Quất và các KCN tỉnh Quảng Ngãi"
    )
    assert (report.sectors, report.tasks) == (9, 44)
    assert report.collectives == 5
    lines = report.lines()
    assert lines[0].startswith("Đã nhập Quyết định 1731/QĐ-UBND")
    assert any("44 nhiệm vụ" in line for line in lines)
    assert any("Sỏ Công thương" in line for line in lines)
    assert ensure_seed(db) is None  # already seeded


def test_partners_and_collectives(seeded: Database) -> None:
    with seeded.session() as session:
        partners = [p.agency.name for p in _task(session, "2.2").partners]
        assert partners == [
            "Sở Kế hoạch và Đầu tư",
            "Sở Giao thông vận tải",
            "Sở Xây dựng",
            "Các sở, ban ngành",
            "UBND các huyện, thị xã, thành phố",
        ]
        partners_12 = {p.agency.name: p.agency for p in _task(session, "1.2").partners}
        enterprises = partners_12["doanh nghiệp CNTT, viễn thông"]
        assert enterprises.is_collective and enterprises.kind == AgencyKind.ENTERPRISE.value
        partners_62 = [p.agency.name for p in _task(session, "6.2").partners]
        assert "các ngân hàng thương mại, tổ chức tín dụng" in partners_62
        assert partners_62[0] == "Các sở, ban ngành"
        # 9.2 lead is not split at its parenthesis, 3.6 partners include BHXH.
        assert "Bảo hiểm xã hội tỉnh Quảng Ngãi" in [
            p.agency.name for p in _task(session, "3.6").partners
        ]


def test_measures_and_years_stored(seeded: Database) -> None:
    with seeded.session() as session:
        assert "5G" in _measures(_task(session, "1.2"))
        assert "Vpostcode" in _measures(_task(session, "1.2"))
        assert "Mỹ Khê" in _measures(_task(session, "2.6"))
        assert "Đại học Phạm Văn Đồng" in _measures(_task(session, "4.2"))
        assert "đô thị thông minh" in _measures(_task(session, "1.3"))
        assert 2030 in _task(session, "2.6").target_years
        headings = {m.heading for m in _task(session, "1.2").measures}
        assert headings == {
            "Phát triển hạ tầng công nghệ thông tin và truyền thông đồng bộ, "
            "an toàn thông tin cho chuyển đổi số"
        }


def test_succession_applied(seeded: Database) -> None:
    with seeded.session() as session:
        by_name = {a.name: a for a in session.scalars(select(Agency))}
        skhdt = by_name["Sở Kế hoạch và Đầu tư"]
        assert skhdt.successor is by_name["Sở Tài chính"]
        assert skhdt.successor_confirmed
        assert skhdt.successor_effective_on is not None
        assert skhdt.successor_effective_on.isoformat() == "2025-03-01"
        assert display_name(skhdt) == "Sở Kế hoạch và Đầu tư — nay là Sở Tài chính"
        assert current_agency(by_name["Sở Giao thông vận tải"]).name == "Sở Xây dựng"
        assert current_agency(by_name["Sở Thông tin và Truyền thông"]).name == (
            "Sở Khoa học và Công nghệ"
        )
        radio = by_name["Đài Phát thanh Truyền hình Quảng Ngãi"]
        assert radio.successor is by_name["Báo Quảng Ngãi"] and not radio.successor_confirmed
        bank = by_name["Ngân hàng Nhà nước chi nhánh Quảng Ngãi"]
        assert current_agency(bank).name == "Ngân hàng Nhà nước Chi nhánh Khu vực 9"
        local = by_name["UBND các huyện, thị xã, thành phố"]
        assert local.successor is not None
        assert local.successor.name == "UBND các xã, phường, đặc khu"
        assert local.successor.is_collective and local.successor.kind == AgencyKind.LOCAL.value
        assert display_name(by_name["Sở Y tế"]) == "Sở Y tế"


def test_succession_file_override(
    seeded: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    custom = tmp_path / "succession.csv"
    custom.write_text(
        "name_2021,successor,effective_on,basis,confirmed\n"
        "Sở Y tế,Sở Y tế và Dân số,2026-01-01,thử nghiệm,no\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("DAUMOI_SUCCESSION_FILE", str(custom))
    assert load_succession()[0].successor == "Sở Y tế và Dân số"
    with seeded.unit_of_work() as session:
        lines = apply_succession(session)
        assert any("Sở Y tế — nay là Sở Y tế và Dân số" in line for line in lines)
    with seeded.session() as session:
        by_name = {a.name: a for a in session.scalars(select(Agency))}
        assert display_name(by_name["Sở Y tế"]) == "Sở Y tế — nay là Sở Y tế và Dân số"
        # Rows no longer in the map are cleared.
        assert by_name["Sở Kế hoạch và Đầu tư"].successor is None


def test_reimport_is_idempotent(seeded: Database) -> None:
    with seeded.session() as session:
        before = _counts(session)
        ids = {t.code: t.id for t in session.scalars(select(Task))}
        measure_ids = sorted(session.scalars(select(Measure.id)))
    with seeded.unit_of_work() as session:
        report = import_file(session, SEED_FILE)
        assert not report.created
    with seeded.session() as session:
        assert _counts(session) == before
        assert {t.code: t.id for t in session.scalars(select(Task))} == ids
        assert sorted(session.scalars(select(Measure.id))) == measure_ids


def test_reimport_removes_what_disappeared(seeded: Database) -> None:
    text = SEED_FILE.read_text(encoding="utf-8")
    # Drop task 9.2's row and one partner of 2.2, and change a title.
    text = text.replace(
        "9.2 |\nTăng cường chuyển giao các dịch vụ công trong các lĩnh vực hoạt động kinh doanh "
        "cho các hiệp hội doanh nghiệp và khu vực tư nhân (cấp chứng chỉ chuyên môn, chứng chỉ "
        "nghề, các dịch vụ xác nhận, cấp phép liên quan tới hoạt động kinh doanh...). |\n"
        "Văn phòng UBND tỉnh (Trung tâm Phục vụ hành chính công) |\n"
        "Các sở, ban ngành; UBND các huyện, thị xã, thành phố. |",
        "",
    )
    text = text.replace(
        "Sở Kế hoạch và Đầu tư, Sở Giao thông vận tải, Sở Xây dựng; Các sở",
        "Sở Kế hoạch và Đầu tư, Sở Xây dựng; Các sở",
    )
    text = text.replace("Phát triển Chính quyền số. |", "Phát triển chính quyền số, đô thị số. |")
    with seeded.session() as session:
        task_13 = _task(session, "1.3").id
    with seeded.unit_of_work() as session:
        report = import_text(session, text, "sua.txt")
        assert report.removed_tasks == ["9.2"]
    with seeded.session() as session:
        codes = set(session.scalars(select(Task.code)))
        assert len(codes) == 43 and "9.2" not in codes
        assert [p.agency.name for p in _task(session, "2.2").partners][:2] == [
            "Sở Kế hoạch và Đầu tư",
            "Sở Xây dựng",
        ]
        assert _task(session, "1.3").id == task_13
        assert _task(session, "1.3").title == "Phát triển chính quyền số, đô thị số."
        assert session.scalar(select(func.count()).select_from(Programme)) == 1


def test_second_decision_beside_the_seed(seeded: Database) -> None:
    with seeded.session() as session:
        agencies_before = session.scalar(select(func.count()).select_from(Agency))
    with seeded.unit_of_work() as session:
        report = import_file(session, SYNTHETIC)
        assert report.created and report.decision_number == "2468/QĐ-UBND"
        assert (report.sectors, report.tasks) == (2, 4)
    with seeded.session() as session:
        assert session.scalar(select(func.count()).select_from(Programme)) == 2
        # Every agency of the synthetic decision already existed: none duplicated.
        assert session.scalar(select(func.count()).select_from(Agency)) == agencies_before
        seed_yt = _task(session, "3.1").lead_agency
        synth_yt = _task(session, "1.1", "2468/QĐ-UBND").lead_agency
        assert seed_yt is synth_yt
        assert (
            _task(session, "2.1", "2468/QĐ-UBND").lead_agency is _task(session, "8.5").lead_agency
        )
        assert _task(session, "2.2", "2468/QĐ-UBND").partners == []
        assert _task(session, "1.1", "2468/QĐ-UBND").target_years == [2024, 2026]
        assert "telehealth" in _measures(_task(session, "1.2", "2468/QĐ-UBND"))
        keys = [a.folded_name for a in session.scalars(select(Agency))]
        assert len(keys) == len(set(keys))
        tasks, agencies = documents(session)
        assert len(agencies) == agencies_before
        assert len(tasks) == 48
        assert {t.programme for t in tasks} == {SEED_NUMBER, "2468/QĐ-UBND"}


# --- rejecting junk -----------------------------------------------------------------------


def _junk_files(tmp_path: Path) -> list[Path]:
    binary = tmp_path / "rac.txt"
    binary.write_bytes(bytes(range(256)) * 8)
    empty = tmp_path / "rong.txt"
    empty.write_bytes(b"")
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("Quyết định".encode("utf-16-le")[1:] + b"\xff\xfe\x00")
    news = FIXTURES / "tin_tuc.txt"
    unknown = tmp_path / "quyet_dinh.pdf"
    unknown.write_bytes(b"%PDF-1.4\n")
    no_columns = tmp_path / "bang.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Họ tên", "Đơn vị", "Ghi chú"])
    sheet.append(["Nguyễn Văn A", "Sở Y tế", ""])
    workbook.save(no_columns)
    fake_xlsx = tmp_path / "hong.xlsx"
    fake_xlsx.write_bytes(b"PK\x03\x04 not really a zip")
    csv_no_number = tmp_path / "bang_nhiem_vu.csv"
    csv_no_number.write_text("TT,Nhiệm vụ,Đơn vị chủ trì,Đơn vị phối hợp\n1.1,Việc A,Sở Y tế,\n")
    return [binary, empty, latin, news, unknown, no_columns, fake_xlsx, csv_no_number]


def test_junk_is_rejected_and_nothing_written(db: Database, tmp_path: Path) -> None:
    for path in _junk_files(tmp_path):
        with pytest.raises(DecisionFormatError) as caught, db.unit_of_work() as session:
            import_file(session, path)
        message = str(caught.value)
        assert message and any(ch in message for ch in "ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệ"), path
        with db.session() as session:
            assert all(count == 0 for count in _counts(session).values()), path


def test_format_error_is_value_error() -> None:
    with pytest.raises(ValueError, match="bảng nhiệm vụ"):
        parse_decision("Một đoạn văn bản bất kỳ.\nKhông có bảng.")


def test_news_text_rejected_with_clear_reason() -> None:
    with pytest.raises(DecisionFormatError, match="TT \\| Nhiệm vụ"):
        parse_decision((FIXTURES / "tin_tuc.txt").read_text(encoding="utf-8"))


# --- CSV and XLSX tables ------------------------------------------------------------------

TABLE = [
    ["TT", "Nhiệm vụ chủ yếu", "Đơn vị chủ trì", "Đơn vị phối hợp"],
    ["1", "Dịch vụ y tế", "", ""],
    [
        "1.1",
        "Nâng cấp trạm y tế xã đến năm 2025.",
        "Sở Y tế",
        "Sở Tài chính; UBND các huyện, thị xã, thành phố",
    ],
    ["1.2", "Khám chữa bệnh từ xa.", "Sở Y tế", ""],
    ["2", "Dịch vụ phân phối", "", ""],
    [
        "2.1",
        "Phát triển chợ đầu mối.",
        "Sỏ Công thương",
        "Các sở, ban ngành; các doanh nghiệp, tổ chức có liên quan",
    ],
]


def _write_csv(path: Path, rows: list[list[str]], delimiter: str, encoding: str) -> None:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)


@pytest.mark.parametrize(("delimiter", "encoding"), [(",", "utf-8"), (";", "utf-8-sig")])
def test_csv_table(tmp_path: Path, delimiter: str, encoding: str) -> None:
    path = tmp_path / "bang.csv"
    _write_csv(path, TABLE, delimiter, encoding)
    parsed = parse_table(path, decision_number="55/QĐ-UBND")
    assert parsed.decision_number == "55/QĐ-UBND"
    assert [(s.number, s.name, len(s.tasks)) for s in parsed.sectors] == [
        (1, "Dịch vụ y tế", 2),
        (2, "Dịch vụ phân phối", 1),
    ]
    task = parsed.sectors[0].tasks[0]
    assert task.partners == ["Sở Tài chính", "UBND các huyện, thị xã, thành phố"]
    assert task.target_years == [2025]


def test_csv_decision_number_from_column_and_filename(tmp_path: Path) -> None:
    rows = [[*row, "Số hiệu" if i == 0 else "77/QĐ-UBND"] for i, row in enumerate(TABLE)]
    path = tmp_path / "bang.csv"
    _write_csv(path, rows, ",", "utf-8")
    assert parse_table(path).decision_number == "77/QĐ-UBND"
    named = tmp_path / "88_QĐ-UBND.csv"
    _write_csv(named, TABLE, ",", "utf-8")
    assert parse_table(named).decision_number == "88/QĐ-UBND"


def test_xlsx_import_beside_seed(seeded: Database, tmp_path: Path) -> None:
    path = tmp_path / "bang.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Bảng nhiệm vụ kèm theo Quyết định"])
    sheet.append([])
    for row in TABLE:
        sheet.append([float(row[0]) if row[0].replace(".", "").isdigit() else row[0], *row[1:]])
    workbook.save(path)
    with seeded.unit_of_work() as session:
        report = import_file(session, path, decision_number="99/QĐ-UBND")
        assert (report.sectors, report.tasks) == (2, 3)
    with seeded.session() as session:
        task = _task(session, "2.1", "99/QĐ-UBND")
        assert task.lead_agency is _task(session, "8.5").lead_agency
        assert task.lead_agency is not None and task.lead_agency.name == "Sở Công Thương"
        assert _task(session, "1.1", "99/QĐ-UBND").sector.name == "Dịch vụ y tế"
    with seeded.unit_of_work() as session:
        import_file(session, path, decision_number="99/QĐ-UBND")
    with seeded.session() as session:
        assert session.scalar(select(func.count()).select_from(Programme)) == 2


def test_table_without_number_rejected(tmp_path: Path) -> None:
    path = tmp_path / "bang.csv"
    _write_csv(path, TABLE, ",", "utf-8")
    with pytest.raises(DecisionFormatError, match="số hiệu"):
        parse_table(path)


# --- documents and export -----------------------------------------------------------------


def test_seed_documents() -> None:
    tasks, agencies = seed_documents()
    assert len(tasks) == 44
    by_code = {t.code: t for t in tasks}
    assert by_code["1.2"].programme == SEED_NUMBER
    assert by_code["1.2"].sector == "Dịch vụ công nghệ thông tin và truyền thông"
    assert any("5G" in m for m in by_code["1.2"].measures)
    assert any(m.startswith("Phát triển hạ tầng công nghệ") for m in by_code["1.2"].measures)
    assert by_code["9.1"].lead == "Sở Kế hoạch và Đầu tư — nay là Sở Tài chính"
    assert by_code["3.1"].lead == "Sở Y tế"
    names = {a.name: a for a in agencies}
    skhdt = names["Sở Kế hoạch và Đầu tư"]
    assert skhdt.current_name == "Sở Tài chính"
    assert "SKHĐT" in skhdt.abbreviations and "KH&ĐT" in skhdt.abbreviations
    assert skhdt.successor_names == ("Sở Tài chính",)
    assert names["Các sở, ban ngành"].is_collective
    assert "Sở Văn hóa Thể Thao và Du lịch" in names["Sở Văn hóa Thể thao và Du lịch"].variants
    # Ambiguous BQLDA is offered on both project boards.
    boards = [a for a in agencies if "BQLDA" in a.abbreviations]
    assert len(boards) == 2
    assert seed_documents()[0] == tasks  # cached, same content


def test_export(seeded: Database) -> None:
    with seeded.session() as session:
        data = export_programmes(session)
    (programme,) = data["programmes"]
    assert programme["decision_number"] == SEED_NUMBER
    assert programme["coordinating_agency_current"] == "Sở Tài chính"
    assert len(programme["sectors"]) == 9 and len(programme["tasks"]) == 44
    task = next(t for t in programme["tasks"] if t["code"] == "2.4")
    assert task["lead"] == "Sở Giao thông vận tải" and task["lead_current"] == "Sở Xây dựng"
    assert task["sector"] == 2
    agency = next(a for a in data["agencies"] if a["name"] == "Sở Kế hoạch và Đầu tư")
    assert agency["successor"] == {
        "name": "Sở Tài chính",
        "effective_on": "2025-03-01",
        "basis": agency["successor"]["basis"],
        "confirmed": True,
    }
    assert "19/02/2025" in agency["successor"]["basis"]
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data


# --- robustness of the text parser --------------------------------------------------------

SMALL = """Quyết định 5/QĐ-UBND năm 2023 về thử nghiệm
Số hiệu | 5/QĐ-UBND |
Ngày ban hành | 02/01/2023 |
II. Các nhiệm vụ chủ yếu, giải pháp thực hiện
1. Dịch vụ thử nghiệm
- Giai đoạn 2021 - 2025: tốc độ tăng trưởng bình quân 8-9%
- Xây dựng cổng dữ liệu mở của tỉnh
+ Công bố bộ dữ liệu mở đầu tiên trước năm 2027.
- Đào tạo kỹ năng số cho người dân
TT |
Nhiệm vụ |
Đơn vị chủ trì |
Đơn vị phối hợp |
1 |
Dịch vụ thử nghiệm |
|
|
1.1 |
Xây dựng cổng dữ liệu
mở của tỉnh. |
Sở Thông tin và Truyền thông |
1.2 |
Đào tạo kỹ năng số cho người dân. |
Sở Giáo dục và Đào tạo |
Các sở, ban ngành |
"""


def test_multiline_cell_missing_partner_cell_and_unattached_block() -> None:
    parsed = parse_decision(SMALL)
    tasks = {t.code: t for t in parsed.tasks()}
    assert tasks["1.1"].title == "Xây dựng cổng dữ liệu mở của tỉnh."
    assert tasks["1.1"].lead == "Sở Thông tin và Truyền thông"
    assert tasks["1.1"].partners == []
    assert tasks["1.2"].partners == ["Các sở, ban ngành"]
    assert [m.text for m in tasks["1.1"].measures] == [
        "Công bố bộ dữ liệu mở đầu tiên trước năm 2027."
    ]
    assert tasks["1.1"].target_years == [2027]
    assert [m.text for m in tasks["1.2"].measures] == ["Đào tạo kỹ năng số cho người dân"]
    assert parsed.unattached_measures == [
        "Giai đoạn 2021 - 2025: tốc độ tăng trưởng bình quân 8-9%"
    ]


def test_nfd_and_crlf_input_parse_the_same(seed: ParsedDecision) -> None:
    import unicodedata

    text = unicodedata.normalize("NFD", SEED_FILE.read_text(encoding="utf-8"))
    parsed = parse_decision(text.replace("\n", "\r\n"))
    assert [t.code for t in parsed.tasks()] == [t.code for t in seed.tasks()]
    assert [t.lead for t in parsed.tasks()] == [t.lead for t in seed.tasks()]
    assert sum(len(t.measures) for t in parsed.tasks()) == sum(
        len(t.measures) for t in seed.tasks()
    )


def test_unmatched_measures_go_to_the_sector_general_task(seed: ParsedDecision) -> None:
    tasks = {t.code: " ".join(m.text for m in t.measures) for t in seed.tasks()}
    assert "trung gian thanh toán" in tasks["6.1"]
    assert "hiệp hội doanh nghiệp" in tasks["9.1"]
    assert "sở hữu trí tuệ" in tasks["7.1"]
    assert "sở hữu trí tuệ" not in tasks["7.2"]
    assert any("nhiệm vụ chung của lĩnh vực, 6.1" in warning for warning in seed.warnings)
    # Measures restating another task's title move to that task; the rest stay with the heading.
    assert "bệnh viện đa khoa tư nhân" in tasks["3.5"]
    assert "bệnh viện đa khoa tư nhân" not in tasks["3.4"]


def test_sector_row_without_its_empty_cells() -> None:
    text = SMALL.replace("1 |\nDịch vụ thử nghiệm |\n|\n|\n", "1 |\nDịch vụ thử nghiệm |\n")
    text = text.replace(
        "Các sở, ban ngành |\n",
        "Các sở, ban ngành |\n2 |\nDịch vụ khác |\n2.1 |\nViệc khác. |\nSở Y tế |\n",
    )
    parsed = parse_decision(text)
    assert [(s.number, s.name, [t.code for t in s.tasks]) for s in parsed.sectors] == [
        (1, "Dịch vụ thử nghiệm", ["1.1", "1.2"]),
        (2, "Dịch vụ khác", ["2.1"]),
    ]
    assert parsed.sectors[0].tasks[1].partners == ["Các sở, ban ngành"]


def test_successor_created_with_its_abbreviation(seeded: Database) -> None:
    with seeded.session() as session:
        communes = session.scalars(
            select(Agency).where(Agency.name == "UBND các xã, phường, đặc khu")
        ).one()
        assert [a.text for a in communes.aliases] == ["UBND xã"]


def test_report_deadline_read_from_text(seeded: Database, seed: ParsedDecision) -> None:
    assert seed.report_by == (15, 12)
    with seeded.session() as session:
        programme = session.scalars(select(Programme)).one()
        assert (programme.report_day, programme.report_month) == (15, 12)


def test_number_given_when_text_lacks_it(db: Database) -> None:
    text = SMALL.replace("Số hiệu | 5/QĐ-UBND |\n", "").replace("5/QĐ-UBND", "")
    with pytest.raises(DecisionFormatError, match="số hiệu"):
        parse_decision(text)
    with db.unit_of_work() as session:
        report = import_text(session, text, "thu.txt", decision_number="6/QĐ-UBND")
        assert report.decision_number == "6/QĐ-UBND"


def test_reimport_drops_a_vanished_sector(db: Database) -> None:
    text = SYNTHETIC.read_text(encoding="utf-8")
    with db.unit_of_work() as session:
        import_text(session, text, SYNTHETIC.name)
    shorter = text[: text.index("2 |\nDịch vụ thương mại |\n|\n|\n")]
    with db.unit_of_work() as session:
        report = import_text(session, shorter, SYNTHETIC.name)
        assert sorted(report.removed_tasks) == ["2.1", "2.2"]
    with db.session() as session:
        programme = session.scalars(select(Programme)).one()
        assert [s.number for s in programme.sectors] == [1]
        assert [t.code for t in programme.tasks] == ["1.1", "1.2"]
        assert session.scalar(select(func.count()).select_from(Sector)) == 1


def test_csv_fixture_beside_seed(seeded: Database) -> None:
    path = FIXTURES / "bang_55_QĐ-UBND.csv"
    with seeded.unit_of_work() as session:
        report = import_file(session, path)
        assert report.decision_number == "55/QĐ-UBND" and report.tasks == 2
    with seeded.session() as session:
        vh = _task(session, "2.1").lead_agency
        assert _task(session, "1.1", "55/QĐ-UBND").lead_agency is vh
        assert _task(session, "1.2", "55/QĐ-UBND").lead_agency is vh
        partners = [p.agency.name for p in _task(session, "1.1", "55/QĐ-UBND").partners]
        assert partners == ["UBND các huyện, thị xã, thành phố", "Sở Công Thương"]
        assert _task(session, "1.1", "55/QĐ-UBND").target_years == [2030]
