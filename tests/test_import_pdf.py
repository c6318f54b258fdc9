"""PDF decisions: the text layer (table across page breaks) and scans read by OCR."""

from __future__ import annotations

import fcntl
import os
import pickle
from pathlib import Path

import pytest
from sqlalchemy import func, select

from data.importing import isolation, ocr, pdf_text
from data.importing.decision_text import DecisionFormatError
from data.importing.documents import OCR_NOTE, ParsedDocument, parse_document_file
from data.importing.importer import SEED_FILE, import_file, import_parsed, import_text, parse_file
from data.store.db import Database
from data.store.models import Programme
from tests.databases import REQUIRE_SERVICES
from tests.decision_documents import (
    FONT_FILE,
    SMALL_NUMBER,
    SMALL_TEXT,
    build_pdf,
    build_scan,
    export_json,
    import_into,
    seed_parts,
    split_decision,
)
from tests.test_cli import daumoi

if not FONT_FILE.exists():
    pytest.skip(f"the font {FONT_FILE} (fonts-dejavu-core) is missing", allow_module_level=True)


@pytest.fixture(scope="module")
def seed_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed decision as a PDF with a text layer."""
    return build_pdf(seed_parts(), tmp_path_factory.mktemp("pdf") / "qd_1731_2021.pdf")


@pytest.fixture(scope="module")
def small_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small test decision as a PDF with a text layer."""
    path = tmp_path_factory.mktemp("pdf") / "qd_3579_2024.pdf"
    return build_pdf(split_decision(SMALL_TEXT), path)


@pytest.fixture
def read_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read PDFs in this process, so a test's patched limit or OCR check applies to the read."""
    monkeypatch.setattr(isolation, "read_isolated", lambda _name, read, *args: read(*args))


def _need_ocr() -> None:
    if not ocr.available():
        reason = (
            "Tesseract with Vietnamese data (tesseract-ocr, tesseract-ocr-vie) is not installed"
        )
        if REQUIRE_SERVICES:
            pytest.fail(reason + " but DAUMOI_REQUIRE_SERVICES=1")
        pytest.skip(reason + "; set DAUMOI_REQUIRE_SERVICES=1 to make this a failure")


@pytest.fixture(scope="module")
def seed_scan(seed_pdf: Path, tmp_path_factory: pytest.TempPathFactory) -> ParsedDocument:
    """The seed decision scanned (pages as 200 dpi images), read by OCR once per test run.

    OCR takes half a minute; pytest may set a module fixture up again (a new backend, another
    worker), so the result is kept in this run's temporary folder, shared by its workers.
    """
    _need_ocr()
    run = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        run = run.parent  # the folder of this run, above each worker's own
    cache = run / "seed_scan.pickle"
    with open(run / "seed_scan.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second worker waits for the first one's reading
        if cache.exists():
            read: ParsedDocument = pickle.loads(cache.read_bytes())
            return read
        scan = build_scan(seed_pdf, tmp_path_factory.mktemp("scan") / "qd_1731_2021_scan.pdf")
        read = parse_document_file(scan)
        cache.write_bytes(pickle.dumps(read))
        return read


def _programmes(database: Database) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(Programme)) or 0)


# --- text layer ------------------------------------------------------------------------------


def test_table_spans_page_breaks(seed_pdf: Path) -> None:
    import pdfplumber

    with pdfplumber.open(seed_pdf) as pdf:
        pages_with_table = [i for i, page in enumerate(pdf.pages) if page.find_tables()]
    assert len(pages_with_table) >= 3


def test_pdf_parses_exactly_like_the_text(seed_pdf: Path) -> None:
    document = parse_document_file(seed_pdf)
    assert not document.ocr and not document.warnings
    assert document.parsed == parse_file(SEED_FILE)


def test_pdf_import_exports_the_same_as_text(
    db: Database, text_db: Database, seed_pdf: Path
) -> None:
    lines = import_into(db, seed_pdf)
    assert "9 lĩnh vực, 44 nhiệm vụ" in lines[1]
    assert export_json(db) == export_json(text_db)


def test_second_decision_beside_the_seed_from_pdf(
    seeded_db: Database, text_db: Database, small_pdf: Path
) -> None:
    with text_db.unit_of_work() as session:
        import_text(session, SMALL_TEXT, "qd_3579_2024.txt")
    lines = import_into(seeded_db, small_pdf)
    assert lines[0].startswith(f"Đã nhập Quyết định {SMALL_NUMBER}")
    assert "2 lĩnh vực, 6 nhiệm vụ" in lines[1]
    assert export_json(seeded_db) == export_json(text_db)


def test_cli_imports_pdf(tmp_path: Path, seed_pdf: Path) -> None:
    text_url = f"sqlite:///{tmp_path}/text.sqlite3"
    pdf_url = f"sqlite:///{tmp_path}/pdf.sqlite3"
    assert daumoi("import", str(SEED_FILE), url=text_url).returncode == 0
    result = daumoi("import", str(seed_pdf), url=pdf_url)
    assert result.returncode == 0, result.stderr
    exported = [daumoi("export", "--json", url=url).stdout for url in (text_url, pdf_url)]
    assert exported[0] == exported[1]


# --- limits and refusals ---------------------------------------------------------------------


def _rejected(database: Database, path: Path) -> str:
    with pytest.raises(DecisionFormatError) as caught, database.unit_of_work() as session:
        import_file(session, path)
    assert _programmes(database) == 0
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_broken_pdf_rejected(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "hong.pdf"
    path.write_bytes(b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF")
    assert "không phải tệp PDF hợp lệ" in _rejected(db, path)


@pytest.mark.usefixtures("read_in_process")
def test_too_many_pages_rejected(
    db: Database, seed_pdf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pdf_text, "MAX_PDF_PAGES", 5)
    assert "giới hạn là 5 trang" in _rejected(db, seed_pdf)


def test_too_big_pdf_rejected(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "lon.pdf"
    path.write_bytes(b"%PDF-1.4\n" + b"0" * (11 * 1024 * 1024))
    assert "quá lớn" in _rejected(db, path)


@pytest.mark.usefixtures("read_in_process")
def test_scan_without_ocr_explains_what_to_do(
    db: Database, small_pdf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scan = build_scan(small_pdf, tmp_path / "quet.pdf", dpi=100)
    monkeypatch.setattr(ocr, "available", lambda: False)
    message = _rejected(db, scan)
    assert "là bản quét" in message and "tesseract-ocr-vie" in message and ".docx" in message


@pytest.mark.usefixtures("read_in_process")
def test_scan_over_the_ocr_page_limit_rejected(
    db: Database, seed_pdf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _need_ocr()
    scan = build_scan(seed_pdf, tmp_path / "quet.pdf", dpi=50)
    monkeypatch.setattr(ocr, "MAX_OCR_PAGES", 3)
    assert "tối đa 3 trang" in _rejected(db, scan)


# --- OCR -------------------------------------------------------------------------------------


@pytest.mark.timeout(900)
def test_ocr_reads_every_code_and_lead(seed_scan: ParsedDocument) -> None:
    reference = parse_file(SEED_FILE)
    parsed = seed_scan.parsed
    assert seed_scan.ocr and seed_scan.warnings[0] == OCR_NOTE
    assert [t.code for t in parsed.tasks()] == [t.code for t in reference.tasks()]
    assert [s.number for s in parsed.sectors] == [s.number for s in reference.sectors]
    misread = [
        t.code for t, r in zip(parsed.tasks(), reference.tasks(), strict=True) if t.lead != r.lead
    ]
    # Any lead read differently must be named in the report.
    assert all(any(code in w for w in seed_scan.warnings) for code in misread)
    assert len(misread) <= 2


@pytest.mark.timeout(900)
def test_ocr_result_imports_with_its_warning(db: Database, seed_scan: ParsedDocument) -> None:
    with db.unit_of_work() as session:
        report = import_parsed(session, seed_scan.parsed, "qd_1731_2021_scan.pdf")
    lines = report.lines()
    assert "44 nhiệm vụ" in lines[1]
    assert any("OCR — cần kiểm tra" in line for line in lines)
    exported = export_json(db)["programmes"][0]
    assert exported["decision_number"] == "1731/QĐ-UBND" and len(exported["tasks"]) == 44


@pytest.mark.timeout(600)
def test_small_decision_scan_beside_the_seed(
    seeded_db: Database, small_pdf: Path, tmp_path: Path
) -> None:
    _need_ocr()
    scan = build_scan(small_pdf, tmp_path / "qd_3579_2024_scan.pdf")
    lines = import_into(seeded_db, scan)
    assert lines[0].startswith(f"Đã nhập Quyết định {SMALL_NUMBER}")
    reference = parse_document_file(small_pdf).parsed
    exported = export_json(seeded_db)["programmes"][1]
    assert [t["code"] for t in exported["tasks"]] == [t.code for t in reference.tasks()]
    assert [t["lead"] for t in exported["tasks"]] == [t.lead for t in reference.tasks()]


def test_fix_numbering_follows_the_sequence() -> None:
    from data.importing.page_layout import Table

    rows = [
        ["TT", "Nhiệm vụ", "Đơn vị chủ trì", "Đơn vị phối hợp"],
        ["l", "Dịch vụ y tế", "", ""],
        ["11", "Nâng cấp trạm y tế.", "Sở Y tế", ""],
        ["", "Khám từ xa.", "Sở Y tế", ""],
        ["3", "Dịch vụ thương mại", "", ""],
        ["2,1", "Chợ đầu mối.", "Sở Công Thương", ""],
    ]
    table = Table(rows=rows, confidence=[[100.0] * 4 for _ in rows])
    ocr.fix_numbering(table)
    assert [row[0] for row in table.rows] == ["TT", "1", "1.1", "1.2", "2", "2.1"]
    assert len(table.notes) == 2 and "1.2" in table.notes[0] and "đã hiểu là 2" in table.notes[1]
