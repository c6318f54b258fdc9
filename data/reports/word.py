"""The Word draft of the yearly report to the UBND (python-docx), structured by sector."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, cast
from xml.sax.saxutils import escape

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph

from data.reports import text as rt
from data.reports.summary import Note, Summary
from data.reports.task_reports import CLASS_KEYS, TaskReport

FONT = "Times New Roman"
# Column widths (cm) of the per-sector tables: 16 cm of text width on A4 portrait.
Columns = tuple[tuple[str, float], ...]
TASK_COLUMNS: Columns = (
    ("TT", 1.0),
    ("Nhiệm vụ", 4.2),
    ("Đơn vị chủ trì", 2.8),
    ("Tình hình thực hiện, kết quả", 5.6),
    ("Đánh giá", 2.4),
)
SUMMARY_COLUMNS: Columns = (
    ("TT", 0.9),
    ("Lĩnh vực", 3.8),
    ("Số NV", 1.2),
    *((rt.class_label(key), 1.55) for key in CLASS_KEYS),
    ("Vướng mắc", 2.1),
)
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_TWIPS_PER_CM = 567
_ROWS_PER_PARSE = 200


def _text(value: str) -> str:
    return escape(_ILLEGAL.sub("", value))


def _run_xml(text: str, *, bold: bool = False, italic: bool = False, size: int = 11) -> str:
    props = f'<w:rFonts w:ascii="{FONT}" w:hAnsi="{FONT}" w:cs="{FONT}"/>'
    props += "<w:b/>" if bold else ""
    props += "<w:i/>" if italic else ""
    props += f'<w:sz w:val="{size * 2}"/>'
    return f'<w:r><w:rPr>{props}</w:rPr><w:t xml:space="preserve">{_text(text)}</w:t></w:r>'


def _cell_xml(text: str, width_cm: float, *, bold: bool = False, center: bool = False) -> str:
    """A table cell; each line of text becomes a paragraph."""
    width = round(width_cm * _TWIPS_PER_CM)
    align = '<w:jc w:val="center"/>' if center else ""
    spacing = '<w:spacing w:before="20" w:after="20"/>'
    paragraphs = "".join(
        f"<w:p><w:pPr>{spacing}{align}</w:pPr>{_run_xml(line, bold=bold)}</w:p>"
        for line in (text.split("\n") if text else [""])
    )
    return f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/></w:tcPr>{paragraphs}</w:tc>'


def _row_xml(
    values: Sequence[str],
    widths: Sequence[float],
    *,
    header: bool = False,
    bold: bool = False,
    centered: Sequence[int] = (),
) -> str:
    # Built as text and parsed once per row: an order of magnitude faster than cell-by-cell
    # python-docx calls, which matters for reports of thousands of tasks.
    props = "<w:trPr><w:tblHeader/><w:cantSplit/></w:trPr>" if header else ""
    cells = "".join(
        _cell_xml(value, width, bold=header or bold, center=header or index in centered)
        for index, (value, width) in enumerate(zip(values, widths, strict=True))
    )
    return f"<w:tr>{props}{cells}</w:tr>"  # parsed inside a <w:tbl> that declares w:


class _Draft:
    """The document being written, with helpers in the house style of administrative reports."""

    def __init__(self) -> None:
        self.document = Document()
        section = self.document.sections[0]
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Cm(21), Cm(29.7)
        section.top_margin = section.bottom_margin = Cm(2)
        section.left_margin, section.right_margin = Cm(3), Cm(2)
        style = self.document.styles["Normal"]
        style.font.name = FONT
        style.font.size = Pt(13)
        fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
        fonts.set(qn("w:cs"), FONT)
        fonts.set(qn("w:eastAsia"), FONT)
        style.paragraph_format.space_after = Pt(4)
        self._section = self.document.element.body[-1]  # sectPr: new blocks go before it
        self._table: Table | None = None
        self._rows: list[str] = []

    def paragraph(
        self,
        text: str = "",
        *,
        bold: bool = False,
        italic: bool = False,
        center: bool = False,
        indent: bool = True,
        size: int | None = None,
        keep_next: bool = False,
    ) -> Paragraph:
        """Append a paragraph (as XML: python-docx's add_paragraph rescans the whole body)."""
        self.flush()
        props = "<w:keepNext/>" if keep_next else ""
        if center:
            props += '<w:jc w:val="center"/>'
        else:
            props += '<w:ind w:firstLine="567"/>' if indent else ""
            props += '<w:jc w:val="both"/>'
        run = ""
        if text:
            marks = ("<w:b/>" if bold else "") + ("<w:i/>" if italic else "")
            marks += f'<w:sz w:val="{size * 2}"/>' if size else ""
            run = f'<w:r><w:rPr>{marks}</w:rPr><w:t xml:space="preserve">{_text(text)}</w:t></w:r>'
        element = parse_xml(f"<w:p {nsdecls('w')}><w:pPr>{props}</w:pPr>{run}</w:p>")
        self._section.addprevious(element)
        return Paragraph(element, self.document._body)

    def heading(self, text: str) -> None:
        self.paragraph(text, bold=True, keep_next=True)

    def flush(self) -> None:
        """Parse the buffered table rows (many rows per parse: parsing is per call costly)."""
        if self._rows and self._table is not None:
            wrapper = parse_xml(f"<w:tbl {nsdecls('w')}>{''.join(self._rows)}</w:tbl>")
            self._table._tbl.extend(list(wrapper))
        self._rows = []

    def table(self, columns: Sequence[tuple[str, float]]) -> Table:
        self.flush()
        table = self.document.add_table(rows=0, cols=len(columns))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        for column, (_, width) in zip(table.columns, columns, strict=True):
            column.width = Cm(width)
        self.row(table, columns, [name for name, _ in columns], header=True)
        return cast(Table, table)

    def row(
        self,
        table: Table,
        columns: Sequence[tuple[str, float]],
        values: Sequence[str],
        **options: object,
    ) -> None:
        if table is not self._table:
            self.flush()
            self._table = table
        widths = [width for _, width in columns]
        self._rows.append(_row_xml(values, widths, **options))  # type: ignore[arg-type]
        if len(self._rows) >= _ROWS_PER_PARSE:
            self.flush()

    def letterhead(self, summary: Summary, coordinator: str) -> None:
        today = summary.scope.today
        agency = (coordinator.split(" (")[0] or "CƠ QUAN THƯỜNG TRỰC").upper()
        table = self.document.add_table(rows=1, cols=2)
        table.autofit = False
        left, right = table.rows[0].cells
        left.width, right.width = Cm(6.5), Cm(9.5)
        table.columns[0].width, table.columns[1].width = Cm(6.5), Cm(9.5)
        lines_left = (("UBND TỈNH QUẢNG NGÃI", False), (agency, True), ("Số:      /BC-…", False))
        lines_right = (
            ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", True),
            ("Độc lập - Tự do - Hạnh phúc", True),
            (f"Quảng Ngãi, ngày …… tháng …… năm {today.year}", False),
        )
        for cell, lines in ((left, lines_left), (right, lines_right)):
            cell.paragraphs[0]._p.getparent().remove(cell.paragraphs[0]._p)
            for text, bold in lines:
                paragraph = cell.add_paragraph()
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
                run = paragraph.add_run(text)
                run.bold = bold
                run.italic = text.startswith("Quảng Ngãi,")
                run.font.size = Pt(12)


def _notes(draft: _Draft, summary: Summary, notes: list[Note], text_of: str, empty: str) -> None:
    if not notes:
        draft.paragraph(empty, italic=True)
        return
    for note in notes:
        body = note.text if text_of == "text" else note.proposal
        label = summary.task_label(note.programme, note.code)
        draft.paragraph(f"- Nhiệm vụ {label} ({note.agency}): {' '.join(body.split())}")


def _overview(draft: _Draft, summary: Summary) -> None:
    """Section I.1: the counts in words and the summary table by sector."""
    overall = summary.overall
    done = overall.by_class["done_on_time"] + overall.by_class["done_late"]
    draft.paragraph(
        f"Tổng số nhiệm vụ: {overall.total}. Đã hoàn thành {done} nhiệm vụ "
        f"({overall.percent(done)}%), trong đó hoàn thành đúng hạn "
        f"{overall.by_class['done_on_time']}, hoàn thành quá hạn {overall.by_class['done_late']}; "
        f"đang thực hiện trong hạn {overall.by_class['on_time']}; quá hạn "
        f"{overall.by_class['overdue']}; chưa có báo cáo (chưa đến hạn) "
        f"{overall.by_class['unreported']}. Có {overall.blocked} nhiệm vụ còn khó khăn, vướng mắc."
    )
    reporting = len(summary.agencies)
    complete = sum(1 for agency in summary.agencies.values() if not agency.missing)
    draft.paragraph(
        f"Về báo cáo của các đơn vị: {complete}/{reporting} đơn vị đã báo cáo đầy đủ, "
        f"{len(summary.partly_reported())} đơn vị báo cáo chưa đầy đủ, "
        f"{len(summary.never_reported())} đơn vị chưa báo cáo (chi tiết tại mục II)."
    )
    draft.paragraph(
        "Bảng 1. Tổng hợp kết quả thực hiện theo lĩnh vực (đánh giá theo báo cáo của đơn vị "
        "chủ trì)",
        italic=True,
        center=True,
        size=12,
    )
    table = draft.table(SUMMARY_COLUMNS)
    centered = (0, *range(2, len(SUMMARY_COLUMNS)))
    for index, sector in enumerate(summary.sectors.values(), start=1):
        tally = sector.tally
        label = rt.sector_title(
            sector.number, sector.name, sector.programme if summary.several_programmes else ""
        )
        values = [str(index), label, str(tally.total)]
        values += [str(tally.by_class[key]) for key in CLASS_KEYS] + [str(tally.blocked)]
        draft.row(table, SUMMARY_COLUMNS, values, centered=centered)
    values = ["", "Tổng cộng", str(overall.total)]
    values += [str(overall.by_class[key]) for key in CLASS_KEYS] + [str(overall.blocked)]
    draft.row(table, SUMMARY_COLUMNS, values, bold=True, centered=centered)


def _task_values(task: TaskReport, timezone: str) -> list[str]:
    progress = rt.progress_cell(task, timezone)
    extra = []
    for label, text in (
        ("Kết quả", rt.result_cell(task)),
        ("Khó khăn, vướng mắc", rt.blocker_cell(task)),
        ("Đề xuất", rt.proposal_cell(task)),
    ):
        if text:
            extra.append(f"{label}:\n{text}")
    return [
        task.code,
        task.title,
        task.lead,
        "\n".join([progress, *extra]),
        rt.assessment_cell(task),
    ]


def _sector_intro(task: TaskReport, several: bool) -> str:
    name = task.sector_name[:1].upper() + task.sector_name[1:]
    return f"{name} (Quyết định số {task.programme})" if several else name


def write_docx(
    tasks: Iterable[TaskReport],
    summary: Summary,
    target: str | Path | IO[bytes],
    *,
    coordinator: str = "",
) -> Summary:
    """Write the draft report from a stream of tasks; the summary is filled on the way."""
    draft = _Draft()
    scope = summary.scope
    draft.letterhead(summary, coordinator)
    draft.paragraph("")
    draft.paragraph("BÁO CÁO", bold=True, center=True, size=14)
    draft.paragraph(
        f"Kết quả thực hiện {rt.PROGRAMME_TITLE}, năm {scope.year}", bold=True, center=True
    )
    draft.paragraph("Kính gửi: Ủy ban nhân dân tỉnh Quảng Ngãi.", center=True)
    who = coordinator.split(" (")[0] or "Cơ quan thường trực"
    # The opening names the decisions, known only once the stream has been read: placeholder.
    opening = draft.paragraph("")
    draft.heading("I. KẾT QUẢ THỰC HIỆN")
    draft.heading("1. Tình hình chung")
    anchor = draft.document.add_paragraph()
    draft.heading("2. Kết quả thực hiện theo lĩnh vực")
    current: tuple[int, int] | None = None
    table: Table | None = None
    several = False
    number = 0
    for task in summary.observe(tasks):
        key = (task.programme_id, task.sector_number)
        if key != current:
            several = several or (current is not None and current[0] != task.programme_id)
            current = key
            number += 1
            draft.heading(f"2.{number}. {_sector_intro(task, several)}")
            table = draft.table(TASK_COLUMNS)
        assert table is not None
        draft.row(table, TASK_COLUMNS, _task_values(task, scope.timezone), centered=(0,))
    if number == 0:
        draft.paragraph("Chưa có nhiệm vụ nào trong cơ sở dữ liệu.", italic=True)
    _move_before(anchor, draft, lambda: _overview(draft, summary))
    decisions = ", ".join(summary.programmes.values()) or "…"
    opening.add_run(
        f"Thực hiện Quyết định số {decisions} của UBND tỉnh, trên cơ sở báo cáo của các sở, ban, "
        f"ngành và địa phương, {who} tổng hợp báo cáo kết quả thực hiện năm {scope.year} "
        f"({rt.as_of(scope).lower()}) như sau:"
    )
    _closing(draft, summary, who)
    draft.flush()
    draft.document.save(target)  # type: ignore[arg-type]
    return summary


def _move_before(anchor: Paragraph, draft: _Draft, build: Callable[[], None]) -> None:
    """Run build (which appends to the body), then move what it added to the anchor's place."""
    body = draft.document.element.body
    count = len(body)  # new blocks go just before the final sectPr
    build()
    ends_with_section = body[-1].tag == qn("w:sectPr")
    added = list(body)[count - 1 if ends_with_section else count :]
    marker = anchor._p
    for element in added:
        if element.tag != qn("w:sectPr"):
            marker.addprevious(element)
    body.remove(marker)


def _closing(draft: _Draft, summary: Summary, who: str) -> None:
    draft.heading("II. TÌNH HÌNH BÁO CÁO CỦA CÁC ĐƠN VỊ")
    never = summary.never_reported()
    partly = summary.partly_reported()
    if not never and not partly:
        draft.paragraph("Tất cả các đơn vị đã báo cáo đầy đủ các nhiệm vụ được giao.")
    if never:
        draft.paragraph(f"Các đơn vị chưa báo cáo ({len(never)}):")
        for agency in never:
            draft.paragraph(f"- {agency.label}: {agency.total} nhiệm vụ.")
    if partly:
        draft.paragraph(f"Các đơn vị báo cáo chưa đầy đủ ({len(partly)}):")
        for agency in partly:
            draft.paragraph(
                f"- {agency.label}: còn {len(agency.missing)}/{agency.total} nhiệm vụ chưa báo "
                f"cáo ({summary.missing_text(agency)})."
            )
    draft.heading("III. KHÓ KHĂN, VƯỚNG MẮC")
    _notes(
        draft, summary, summary.blockers, "text", "Các đơn vị không báo cáo khó khăn, vướng mắc."
    )
    draft.heading("IV. ĐỀ XUẤT, KIẾN NGHỊ")
    _notes(
        draft,
        summary,
        summary.all_proposals(),
        "proposal",
        "Các đơn vị không có đề xuất, kiến nghị.",
    )
    draft.paragraph(
        f"[{who} bổ sung nhận định chung và đề xuất, kiến nghị với UBND tỉnh.]", italic=True
    )
    draft.paragraph(f"Trên đây là báo cáo kết quả thực hiện năm {summary.scope.year} của {who}.")
    table = draft.document.add_table(rows=1, cols=2)
    table.autofit = False
    left, right = table.rows[0].cells
    left.width, right.width = Cm(8), Cm(8)
    table.columns[0].width, table.columns[1].width = Cm(8), Cm(8)
    left.paragraphs[0].add_run("Nơi nhận:").bold = True
    for line in ("- Như trên;", "- UBND tỉnh (b/c);", "- Lưu: VT."):
        left.add_paragraph(line).runs[0].font.size = Pt(11)
    right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    right.paragraphs[0].add_run("GIÁM ĐỐC").bold = True
    signed = right.add_paragraph("(Ký, ghi rõ họ tên)")
    signed.alignment = WD_ALIGN_PARAGRAPH.CENTER
    signed.runs[0].italic = True
