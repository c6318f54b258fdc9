"""Word decisions import through the text parser: same tasks, leads, partners and measures."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from data.importing.decision_text import DecisionFormatError
from data.importing.documents import parse_document, parse_document_file
from data.importing.importer import SEED_FILE, import_text, parse_file
from data.store.db import Database
from data.store.models import Programme
from tests.decision_documents import (
    SMALL_NUMBER,
    SMALL_TEXT,
    build_docx,
    export_json,
    import_into,
    seed_parts,
    split_decision,
)
from tests.test_cli import daumoi


@pytest.fixture(scope="module")
def seed_docx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed decision as a Word document (appendix as a real table)."""
    return build_docx(seed_parts(), tmp_path_factory.mktemp("docx") / "qd_1731_2021.docx")


@pytest.fixture(scope="module")
def small_docx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small test decision as a Word document."""
    path = tmp_path_factory.mktemp("docx") / "qd_3579_2024.docx"
    return build_docx(split_decision(SMALL_TEXT), path)


def _nothing_written(database: Database) -> bool:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(Programme)) == 0


def test_generated_document_has_merged_and_multi_paragraph_cells(seed_docx: Path) -> None:
    import docx

    document = docx.Document(str(seed_docx))
    xml = document.element.xml
    assert xml.count("<w:gridSpan") == 9  # one merged name per sector row
    assert "<w:vMerge" in xml  # a lead shared by consecutive tasks
    (table,) = document.tables
    assert len(table.rows) == 1 + 9 + 44
    cells = [cell for row in table.rows for cell in row.cells]
    assert sum(1 for cell in cells if len(cell.paragraphs) > 1) > 40


def test_docx_parses_exactly_like_the_text(seed_docx: Path) -> None:
    text = parse_file(SEED_FILE)
    document = parse_document_file(seed_docx)
    assert not document.ocr and not document.warnings
    assert document.parsed == text
    assert len(document.parsed.tasks()) == 44


def test_docx_import_exports_the_same_as_text(
    db: Database, text_db: Database, seed_docx: Path
) -> None:
    lines = import_into(db, seed_docx)
    assert "9 lĩnh vực, 44 nhiệm vụ" in lines[1]
    assert export_json(db) == export_json(text_db)


def test_second_decision_beside_the_seed_from_docx(
    seeded_db: Database, text_db: Database, small_docx: Path
) -> None:
    with text_db.unit_of_work() as session:
        report = import_text(session, SMALL_TEXT, "qd_3579_2024.txt")
    assert report.created and report.tasks == 6 and report.sectors == 2
    lines = import_into(seeded_db, small_docx)
    assert lines[0].startswith(f"Đã nhập Quyết định {SMALL_NUMBER}")
    exported = export_json(seeded_db)
    assert exported == export_json(text_db)
    assert [p["decision_number"] for p in exported["programmes"]] == ["1731/QĐ-UBND", SMALL_NUMBER]


def test_reimporting_the_docx_changes_nothing(seeded_db: Database, seed_docx: Path) -> None:
    before = export_json(seeded_db)
    lines = import_into(seeded_db, seed_docx)
    assert lines[0].startswith("Đã cập nhật Quyết định 1731/QĐ-UBND")
    assert export_json(seeded_db) == before


def test_parse_bytes_for_the_chat_flow(seed_docx: Path) -> None:
    document = parse_document(seed_docx.read_bytes(), "quyet dinh.docx")
    assert document.parsed.decision_number == "1731/QĐ-UBND"
    text = parse_document(SMALL_TEXT.encode(), "qd.txt")
    assert text.parsed.decision_number == SMALL_NUMBER and not text.ocr


def _rejected(database: Database, path: Path) -> str:
    from data.importing.importer import import_file

    with pytest.raises(DecisionFormatError) as caught, database.unit_of_work() as session:
        import_file(session, path)
    assert _nothing_written(database)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_zip_bomb_docx_rejected(db: Database, tmp_path: Path, seed_docx: Path) -> None:
    bomb = tmp_path / "bom.docx"
    with zipfile.ZipFile(seed_docx) as source, zipfile.ZipFile(bomb, "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item), zipfile.ZIP_DEFLATED)
        target.writestr("word/media/padding.xml", b" " * (60 * 1024 * 1024), zipfile.ZIP_DEFLATED)
    message = _rejected(db, bomb)
    assert "khi giải nén" in message or "nén bất thường" in message


def test_broken_and_old_word_files_rejected(db: Database, tmp_path: Path) -> None:
    broken = tmp_path / "hong.docx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    assert "không phải văn bản Word (.docx) hợp lệ" in _rejected(db, broken)
    old = tmp_path / "cu.doc"
    old.write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 100)
    assert "định dạng Word cũ (.doc)" in _rejected(db, old)


def test_docx_with_a_dtd_rejected(db: Database, tmp_path: Path, seed_docx: Path) -> None:
    evil = tmp_path / "dtd.docx"
    with zipfile.ZipFile(seed_docx) as source, zipfile.ZipFile(evil, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "word/document.xml":
                data = data.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY a "aaaa">]>', 1)
            target.writestr(item, data)
    assert "không phải văn bản Word (.docx) hợp lệ" in _rejected(db, evil)


def test_too_long_cell_rejected(db: Database, tmp_path: Path) -> None:
    parts = split_decision(SMALL_TEXT)
    parts.rows[2][1] = "Nhiệm vụ rất dài " * 400
    path = build_docx(parts, tmp_path / "dai.docx")
    assert "giới hạn là 5.000 ký tự" in _rejected(db, path)


def test_word_document_without_a_table_rejected(db: Database, tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("Thông báo lịch họp tuần sau.")
    document.save(str(tmp_path / "thong_bao.docx"))
    assert "không có bảng nhiệm vụ" in _rejected(db, tmp_path / "thong_bao.docx")


def test_cli_imports_docx_and_exports_the_same_json(tmp_path: Path, seed_docx: Path) -> None:
    text_url = f"sqlite:///{tmp_path}/text.sqlite3"
    docx_url = f"sqlite:///{tmp_path}/docx.sqlite3"
    assert daumoi("import", str(SEED_FILE), url=text_url).returncode == 0
    result = daumoi("import", str(seed_docx), url=docx_url)
    assert result.returncode == 0, result.stderr
    assert "44 nhiệm vụ" in result.stdout
    exported = [daumoi("export", "--json", url=url).stdout for url in (text_url, docx_url)]
    assert exported[0] == exported[1] and '"1731/QĐ-UBND"' in exported[0]


def test_in_memory_docx_round_trip() -> None:
    """A document built in memory parses from bytes alone (no file on disk)."""
    import docx

    parts = split_decision(SMALL_TEXT)
    buffer = io.BytesIO()
    document = docx.Document()
    for paragraph in parts.paragraphs:
        document.add_paragraph(paragraph)
    table = document.add_table(rows=0, cols=4)
    for row in parts.rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = text
    document.save(buffer)
    parsed = parse_document(buffer.getvalue(), "x.docx").parsed
    assert [t.code for t in parsed.tasks()] == ["1.1", "1.2", "1.3", "2.1", "2.2", "2.3"]
    assert parsed.tasks()[0].lead == "Sở Công Thương"
