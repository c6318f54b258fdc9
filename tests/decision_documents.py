"""Build Word and PDF decisions (text layer or scanned) from a decision text, at test time."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from data.importing.decision_table import _table_cells, find_table
from data.importing.importer import SEED_FILE
from data.store.db import Database

FONT_FILE = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
_SENTENCE_RE = re.compile(r"(?<=[.;])\s+(?=\S)")
_SECTOR_RE = re.compile(r"^\d{1,2}$")

# A second, smaller decision of the seed's form (written for the tests): 2 sectors, 6 tasks.
SMALL_NUMBER = "3579/QĐ-UBND"
SMALL_TEXT = """\
Quyết định 3579/QĐ-UBND năm 2024 về Kế hoạch phát triển dịch vụ logistics và y tế số trên địa bàn tỉnh Quảng Ngãi
Số hiệu | 3579/QĐ-UBND |
Ngày ban hành | 20/05/2024 |
Cơ quan ban hành | Tỉnh Quảng Ngãi |
Người ký | Trần Văn Kiểm |
Số: 3579/QĐ-UBND |
Quảng Ngãi, ngày 20 tháng 5 năm 2024 |
QUYẾT ĐỊNH
Điều 1. Ban hành Kế hoạch phát triển dịch vụ logistics và y tế số (văn bản dùng cho kiểm thử).
II. Các nhiệm vụ chủ yếu, giải pháp thực hiện
1. Dịch vụ logistics
- Xây dựng trung tâm logistics cảng Dung Quất
+ Hoàn thành quy hoạch chi tiết trung tâm logistics trước năm 2026.
+ Kêu gọi nhà đầu tư hạ tầng kho bãi.
- Phát triển vận tải đa phương thức
+ Kết nối đường sắt với cảng biển đến năm 2027.
- Đào tạo nhân lực logistics
+ Phối hợp với các trường mở lớp nghiệp vụ logistics hằng năm.
2. Dịch vụ y tế số
- Triển khai hồ sơ sức khỏe điện tử
+ Hoàn thành cấp hồ sơ sức khỏe điện tử cho người dân trước năm 2025.
- Phát triển khám chữa bệnh từ xa tại tuyến xã
+ Kết nối trạm y tế xã với bệnh viện tỉnh.
- Thanh toán viện phí không dùng tiền mặt
Điều 2. Các sở, ban ngành báo cáo kết quả cho UBND tỉnh (thông qua Sở Tài chính) trước ngày 10/12 hằng năm.
TT |
Nhiệm vụ chủ yếu |
Đơn vị chủ trì |
Đơn vị phối hợp |
1 |
Dịch vụ logistics |
|
|
1.1 |
Xây dựng trung tâm logistics cảng Dung Quất. Ưu tiên kết nối với khu kinh tế. |
Sở Công Thương |
Ban Quản lý KKT Dung Quất và các KCN tỉnh; Sở Xây dựng; UBND huyện Bình Sơn. |
1.2 |
Phát triển vận tải đa phương thức. |
Sở Xây dựng |
Sở Công Thương; các doanh nghiệp, tổ chức có liên quan. |
1.3 |
Đào tạo nhân lực logistics. |
Sở Giáo dục và Đào tạo |
Sở Công Thương; Sở Nội vụ. |
2 |
Dịch vụ y tế số |
|
|
2.1 |
Triển khai hồ sơ sức khỏe điện tử. |
Sở Y tế |
Bảo hiểm xã hội tỉnh Quảng Ngãi; UBND các huyện, thị xã, thành phố. |
2.2 |
Phát triển khám chữa bệnh từ xa tại tuyến xã. |
Sở Y tế |
Sở Khoa học và Công nghệ; Viễn thông Quảng Ngãi. |
2.3 |
Thanh toán viện phí không dùng tiền mặt. |
Sở Y tế |
Ngân hàng Nhà nước chi nhánh tỉnh Quảng Ngãi; các ngân hàng thương mại. |
"""  # noqa: E501


@dataclass
class DecisionParts:
    """A decision text split into its paragraphs (before the appendix) and appendix rows."""

    paragraphs: list[str]
    rows: list[list[str]]  # header, then sector rows [n, name, "", ""] and task rows


def split_decision(text: str) -> DecisionParts:
    """The paragraphs and the 4-column appendix table of a decision text of the seed's form."""
    lines = [line for line in text.split("\n") if line]
    start = find_table(lines)
    assert start is not None
    cells = _table_cells(lines[start:])
    assert len(cells) % 4 == 0
    rows = [cells[i : i + 4] for i in range(0, len(cells), 4)]
    return DecisionParts(paragraphs=lines[:start], rows=rows)


def seed_parts() -> DecisionParts:
    """The seed decision, split."""
    return split_decision(SEED_FILE.read_text(encoding="utf-8"))


def _paragraphs_of(cell: str) -> list[str]:
    """A cell's text as Word paragraphs: split after each sentence or list item."""
    return _SENTENCE_RE.split(cell)


def build_docx(parts: DecisionParts, path: Path) -> Path:
    """A Word document: the paragraphs, then the appendix as a real table.

    Sector rows merge the name across three columns; cells holding several sentences or
    agencies are several paragraphs; a lead shared by consecutive tasks is merged down.
    """
    import docx

    document = docx.Document()
    for paragraph in parts.paragraphs:
        document.add_paragraph(paragraph)
    table = document.add_table(rows=len(parts.rows), cols=4)
    table.style = "Table Grid"
    merge_from: int | None = None
    for r, row in enumerate(parts.rows):
        cells = table.rows[r].cells
        if _SECTOR_RE.match(row[0]) and not row[2] and not row[3]:
            cells[0].text = row[0]
            merged = cells[1].merge(cells[3])
            merged.text = row[1]
            merge_from = None
            continue
        for c, text in enumerate(row):
            if c == 2 and r > 1 and merge_from is not None and parts.rows[r - 1][2] == text:
                top = table.cell(merge_from, 2)
                top.merge(cells[2])  # the lower cell is empty, so the text stays one copy
                continue
            pieces = _paragraphs_of(text) if r else [text]
            cells[c].text = pieces[0]
            for piece in pieces[1:]:
                cells[c].add_paragraph(piece)
            if c == 2:
                merge_from = r
    document.save(str(path))
    return path


def _fonts() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVuSans", str(FONT_FILE)))
    return "DejaVuSans"


def build_pdf(parts: DecisionParts, path: Path) -> Path:
    """A PDF with a text layer: justified paragraphs, then the table across page breaks."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_JUSTIFY
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import cm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

    font = _fonts()
    body = ParagraphStyle(
        "body",
        fontName=font,
        fontSize=10,
        leading=13,
        spaceBefore=8,
        firstLineIndent=28,
        alignment=TA_JUSTIFY,
    )
    cell = ParagraphStyle("cell", fontName=font, fontSize=9, leading=11)
    story: list[object] = [Paragraph(escape(text), body) for text in parts.paragraphs]
    data = [[Paragraph(escape(text), cell) for text in row] for row in parts.rows]
    table = Table(data, colWidths=[1.2 * cm, 7.3 * cm, 3.8 * cm, 4.7 * cm], repeatRows=1)
    style = [
        ("GRID", (0, 0), (-1, -1), 0.8, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    for r, row in enumerate(parts.rows):
        if r and _SECTOR_RE.match(row[0]) and not row[2] and not row[3]:
            style.append(("SPAN", (1, r), (3, r)))
    table.setStyle(TableStyle(style))
    story.append(table)

    def page_number(canvas: object, doc: object) -> None:
        canvas.setFont(font, 9)  # type: ignore[attr-defined]
        canvas.drawCentredString(A4[0] / 2, A4[1] - 1.2 * cm, str(doc.page))  # type: ignore[attr-defined]

    document = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=2 * cm,
        rightMargin=2 * cm,
        topMargin=2 * cm,
        bottomMargin=2 * cm,
        invariant=1,
        title="decision",
    )
    document.build(story, onLaterPages=page_number)
    return path


def build_scan(pdf: Path, path: Path, dpi: int = 200) -> Path:
    """A scanned-style PDF: every page of pdf rendered to a grey image, no text layer."""
    import pypdfium2
    from PIL import Image

    document = pypdfium2.PdfDocument(str(pdf))
    images: list[Image.Image] = []
    try:
        for index in range(len(document)):
            bitmap = document[index].render(scale=dpi / 72, grayscale=True)
            images.append(bitmap.to_pil().convert("L"))
    finally:
        document.close()
    buffer = io.BytesIO()
    images[0].save(buffer, format="PDF", save_all=True, append_images=images[1:], resolution=dpi)
    path.write_bytes(buffer.getvalue())
    return path


def word_decisions(folder: Path) -> dict[str, bytes]:
    """The seed ("seed.docx") and the second decision ("qd3579.docx") as Word files."""
    return {
        "seed.docx": build_docx(seed_parts(), folder / "seed.docx").read_bytes(),
        "qd3579.docx": build_docx(split_decision(SMALL_TEXT), folder / "q.docx").read_bytes(),
    }


def export_json(database: Database) -> dict[str, Any]:
    """`daumoi export --json` data of a database (programmes, tasks, agencies)."""
    from data.reports.export import export_programmes

    with database.session() as session:
        return export_programmes(session)


def import_into(database: Database, path: Path) -> list[str]:
    """Import a file into database; return the report's lines."""
    from data.importing.importer import import_file

    with database.unit_of_work() as session:
        return import_file(session, path).lines()
