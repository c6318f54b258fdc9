"""Parse a decision from a file's bytes (text, Word, PDF, CSV, XLSX); the database is untouched."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from data.importing.decision_text import DecisionFormatError, ParsedDecision, parse_decision
from data.importing.limits import MAX_FILE_BYTES, check_text_lines, read_limited, too_big
from data.importing.page_layout import Table

TEXT_SUFFIXES = {".txt", ".md", ".text"}
TABLE_SUFFIXES = {".csv", ".xlsx", ".xlsm"}
DOCUMENT_SUFFIXES = {".docx", ".pdf"}
OCR_NOTE = "Nội dung đọc bằng OCR — cần kiểm tra: bản quét có thể bị đọc sai chữ hoặc sót dòng."
# An OCR'd word below this confidence (0-100) makes its row worth a look.
MIN_OCR_CONFIDENCE = 60.0
_CODE_RE = re.compile(r"^(\d{1,2})\.(\d{1,2})$")


@dataclass
class ParsedDocument:
    """A parsed decision, whether its text came from OCR, and the reader's warnings."""

    parsed: ParsedDecision
    ocr: bool = False
    warnings: list[str] = field(default_factory=list)


def unknown_type(name: str) -> DecisionFormatError:
    """The message for a file of a type the importer does not read."""
    suffix = Path(name).suffix
    return DecisionFormatError(
        f"Không nhận dạng được loại tệp “{suffix or name}”. Hãy dùng văn bản quyết định "
        "(.docx, .pdf, .txt, .md) hoặc bảng nhiệm vụ (.csv, .xlsx)."
    )


def decode_text(data: bytes, name: str) -> str:
    """A text file's content as UTF-8 (with or without BOM, or UTF-16); reject binary content."""
    if not data.strip():
        raise DecisionFormatError(f"Tệp {name} rỗng, không có nội dung để nhập.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            pass
        else:
            if "\x00" not in text:  # PostgreSQL cannot store NUL; a text never holds one
                return text
    elif b"\x00" not in data:
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            pass
    raise DecisionFormatError(
        f"Tệp {name} không phải văn bản UTF-8 (có thể là tệp nhị phân hoặc bị hỏng)."
    )


def parse_document(
    data: bytes, filename: str, decision_number: str | None = None
) -> ParsedDocument:
    """Parse a decision from a file's bytes, by the file name's suffix; nothing is written."""
    name = Path(filename).name or "tệp"
    if len(data) > MAX_FILE_BYTES:
        raise too_big(Path(name), len(data), MAX_FILE_BYTES)
    suffix = Path(name).suffix.lower()
    if suffix in TEXT_SUFFIXES:
        text = decode_text(data, name)
        check_text_lines(name, text)
        return ParsedDocument(parse_decision(text, name, decision_number=decision_number))
    if suffix in TABLE_SUFFIXES:
        from data.importing.table_file import parse_table

        with tempfile.TemporaryDirectory(prefix="daumoi-import-") as folder:
            path = Path(folder) / name
            path.write_bytes(data)
            return ParsedDocument(parse_table(path, decision_number=decision_number))
    if suffix == ".docx":
        from data.importing.docx_text import docx_lines

        lines = docx_lines(name, data)
        return ParsedDocument(_parse_lines(lines, name, decision_number))
    if suffix == ".pdf":
        return _parse_pdf(data, name, decision_number)
    if suffix == ".doc":
        raise DecisionFormatError(
            f"Tệp {name} là định dạng Word cũ (.doc). Anh/chị mở bằng Word, chọn “Lưu thành” "
            "dạng .docx rồi nhập lại."
        )
    raise unknown_type(name)


def parse_document_file(path: Path | str, decision_number: str | None = None) -> ParsedDocument:
    """Parse a decision file (read within the size limit); nothing is written."""
    path = Path(path)
    return parse_document(read_limited(path), path.name, decision_number)


def _parse_lines(lines: list[str], name: str, decision_number: str | None) -> ParsedDecision:
    text = "\n".join(lines)
    check_text_lines(name, text)
    if not text.strip():
        raise DecisionFormatError(f"Tệp {name} không có nội dung chữ để nhập.")
    return parse_decision(text, name, decision_number=decision_number)


def _parse_pdf(data: bytes, name: str, decision_number: str | None) -> ParsedDocument:
    from data.importing.isolation import read_isolated
    from data.importing.pdf_text import pdf_lines

    read = read_isolated(name, pdf_lines, name, data)
    parsed = _parse_lines(read.lines, name, decision_number)
    warnings = list(read.warnings)
    if read.ocr:
        warnings = [OCR_NOTE, *warnings, *ocr_doubts(parsed, read.tables)]
    parsed.warnings[:0] = warnings
    return ParsedDocument(parsed, ocr=read.ocr, warnings=warnings)


def ocr_doubts(parsed: ParsedDecision, tables: list[Table]) -> list[str]:
    """Rows OCR may have misread: low-confidence codes or leads, gaps in the numbering."""
    doubts: list[str] = []
    confidence: dict[str, float] = {}
    for table in tables:
        doubts.extend(table.notes)
        for row, confs in zip(table.rows, table.confidence, strict=True):
            if row and _CODE_RE.match(row[0]):
                confidence[row[0]] = min(confs[2:3] or [100.0])  # the lead
    for sector in parsed.sectors:
        numbers = sorted(int(task.code.split(".")[1]) for task in sector.tasks)
        missing = sorted(set(range(1, max(numbers, default=0) + 1)) - set(numbers))
        if missing:
            codes = ", ".join(f"{sector.number}.{n}" for n in missing)
            doubts.append(f"Không đọc được dòng nhiệm vụ {codes} trong bản quét.")
        for task in sector.tasks:
            if confidence.get(task.code, 100.0) < MIN_OCR_CONFIDENCE:
                doubts.append(
                    f"Nhiệm vụ {task.code}: đơn vị chủ trì đọc được “{task.lead}” nhưng chữ "
                    "trong bản quét mờ — cần kiểm tra."
                )
    return doubts
