"""Read a PDF decision: its text layer with pdfplumber, or its page images with OCR."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from data.importing.decision_model import DecisionFormatError
from data.importing.limits import MAX_PDF_PAGES, number
from data.importing.page_layout import Grid, Page, Table, Word, document_text

# A page with fewer characters than this in its text layer counts as an image (a scan).
MIN_PAGE_CHARS = 20


@dataclass
class PdfText:
    """A PDF's decision text, whether OCR read it, and what the reader noticed."""

    lines: list[str]
    ocr: bool = False
    warnings: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


def broken_pdf(name: str) -> DecisionFormatError:
    """The message for a file that is not a readable PDF."""
    return DecisionFormatError(f"Tệp {name} không phải tệp PDF hợp lệ hoặc đã bị hỏng.")


def too_many_pages(name: str, found: int, limit: int = MAX_PDF_PAGES) -> DecisionFormatError:
    """The message for a PDF over the page limit."""
    return DecisionFormatError(
        f"Tệp {name} có {number(found)} trang; giới hạn là {number(limit)} trang. "
        "Anh/chị chỉ gửi phần quyết định và phụ lục nhiệm vụ."
    )


def pdf_lines(name: str, data: bytes) -> PdfText:
    """Read the PDF's text layer; OCR the pages when it has none (a scan)."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect

    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            if len(pdf.pages) > MAX_PDF_PAGES:
                raise too_many_pages(name, len(pdf.pages), MAX_PDF_PAGES)
            if not pdf.pages:
                raise broken_pdf(name)
            chars: list[int] = []
            pages: list[Page] = []
            for page in pdf.pages:
                chars.append(len(page.chars))
                pages.append(_page(page))
                page.close()  # pdfplumber keeps every page's objects otherwise: 12 MB a page
            if sum(1 for count in chars if count >= MIN_PAGE_CHARS) == 0:
                return _ocr(name, data, len(pdf.pages))
    except DecisionFormatError:
        raise
    except PDFPasswordIncorrect as exc:
        raise DecisionFormatError(
            f"Tệp {name} được đặt mật khẩu nên không đọc được. Anh/chị gửi bản không mật khẩu."
        ) from exc
    except Exception as exc:  # pdfminer fails on damaged files in many ways
        if _ran_out_of_memory(exc):  # not damage: the reader's memory limit says too heavy
            raise MemoryError(name) from exc
        raise broken_pdf(name) from exc
    lines, tables = document_text(pages, name)
    warnings: list[str] = []
    images = sum(1 for count in chars if count < MIN_PAGE_CHARS)
    if images:
        warnings.append(
            f"Có {images} trang chỉ có hình ảnh (không có lớp chữ), nội dung các trang đó "
            "chưa được đọc."
        )
    return PdfText(lines=lines, warnings=warnings, tables=tables)


def _ran_out_of_memory(error: BaseException | None) -> bool:
    """Whether error is, or was raised while handling, a MemoryError (pdfplumber wraps it)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, MemoryError):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def _page(page: Any) -> Page:
    """Words and ruled tables of one pdfplumber page."""
    words = [
        Word(float(w["x0"]), float(w["top"]), float(w["x1"]), float(w["bottom"]), str(w["text"]))
        for w in page.extract_words(keep_blank_chars=False, use_text_flow=False)
    ]
    grids: list[Grid] = []
    for table in page.find_tables():
        rows = [[_box(cell) for cell in row.cells] for row in table.rows]
        grids.append(Grid(box=_box(table.bbox) or (0, 0, 0, 0), rows=rows))
    return Page(words=words, grids=grids)


def _box(value: Any) -> tuple[float, float, float, float] | None:
    if value is None:
        return None
    x0, top, x1, bottom = value
    return float(x0), float(top), float(x1), float(bottom)


def _ocr(name: str, data: bytes, pages: int) -> PdfText:
    from data.importing import ocr

    if not ocr.available():
        from data.importing.text_form import scan_message

        raise scan_message(name)
    read = ocr.read_scanned_pdf(name, data, pages)
    lines, tables = document_text(read.pages, name, ocr.fix_numbering)
    return PdfText(lines=lines, ocr=True, warnings=read.warnings, tables=tables)
