"""Untrusted files are read in a child process: a bomb, a crash or a hang costs only that read."""

from __future__ import annotations

import io
import os
import time
import zlib

import pytest

from data.importing import isolation
from data.importing.decision_text import DecisionFormatError
from data.importing.documents import parse_document
from data.importing.isolation import read_isolated
from data.importing.limits import MAX_FILE_BYTES
from data.importing.pdf_text import pdf_lines
from tests.decision_documents import FONT_FILE

HEAVY = "quá nặng để đọc"


def pid_and_sum(numbers: list[int]) -> tuple[int, int]:
    return os.getpid(), sum(numbers)


def refuse(message: str) -> None:
    raise DecisionFormatError(message)


def allocate(megabytes: int) -> int:
    return len(bytearray(megabytes * 1024 * 1024))


def crash() -> None:
    os.abort()


def hang() -> None:
    time.sleep(60)


def fail() -> None:
    raise KeyError("lost")


def test_the_result_comes_back_from_another_process() -> None:
    child, total = read_isolated("a.pdf", pid_and_sum, [1, 2, 3])
    assert (total, child != os.getpid()) == (6, True)


def test_a_refusal_in_the_child_is_the_same_refusal_here() -> None:
    with pytest.raises(DecisionFormatError, match=r"^Tệp a\.pdf có mật khẩu$"):
        read_isolated("a.pdf", refuse, "Tệp a.pdf có mật khẩu")


def test_memory_over_the_limit_is_a_file_too_heavy_and_this_process_is_untouched() -> None:
    with pytest.raises(DecisionFormatError, match=HEAVY):
        read_isolated("a.pdf", allocate, 1024, memory_bytes=600 * 1024 * 1024)
    assert read_isolated("a.pdf", allocate, 16, memory_bytes=600 * 1024 * 1024) == 16 * 1024**2


def test_a_crash_in_c_code_is_a_file_too_heavy() -> None:
    with pytest.raises(DecisionFormatError, match=HEAVY):
        read_isolated("a.pdf", crash)


def test_a_read_past_the_time_limit_is_stopped() -> None:
    started = time.monotonic()
    with pytest.raises(DecisionFormatError, match=HEAVY):
        read_isolated("a.pdf", hang, seconds=0.5)
    assert time.monotonic() - started < 30  # the child was killed, not waited for


def test_a_bug_in_the_reader_stays_a_bug() -> None:
    with pytest.raises(RuntimeError, match="KeyError"):
        read_isolated("a.pdf", fail)


def flate_bomb_pdf(inflated_mb: int) -> bytes:
    """A one-page PDF whose content stream is inflated_mb MB of spaces, deflated."""
    packer = zlib.compressobj(1)
    block = b" " * (1024 * 1024)
    body = b"".join(packer.compress(block) for _ in range(inflated_mb)) + packer.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(body) + body + b"\nendstream",
    ]
    pdf = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body_of in enumerate(objects, 1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n" % number + body_of + b"\nendobj\n"
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(pdf)


def test_a_pdf_bomb_is_refused_with_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = flate_bomb_pdf(inflated_mb=640)
    assert len(bomb) < MAX_FILE_BYTES / 3  # an upload the size check lets through
    monkeypatch.setattr(isolation, "MAX_READ_MEMORY", 500 * 1024 * 1024)
    with pytest.raises(DecisionFormatError, match=HEAVY) as refused:
        parse_document(bomb, "bom.pdf")
    assert "\n" not in str(refused.value) and ".docx" in str(refused.value)


def dense_pdf(pages: int) -> bytes:
    """A text PDF of pages full pages of Vietnamese lines (no decision in it)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("DejaVu", str(FONT_FILE)))
    out = io.BytesIO()
    sheet = canvas.Canvas(out, pagesize=A4, invariant=1)
    line = "Phát triển dịch vụ logistics, thương mại điện tử và du lịch của tỉnh Quảng Ngãi"
    for page in range(pages):
        sheet.setFont("DejaVu", 10)
        for row in range(60):
            sheet.drawString(40, 800 - row * 13, f"{page}.{row} {line}")
        sheet.showPage()
    sheet.save()
    return out.getvalue()


def test_a_long_text_pdf_is_read_a_page_at_a_time() -> None:
    """pdfplumber keeps every page's objects unless each is closed: 11 MB a dense page."""
    if not FONT_FILE.exists():
        pytest.skip(f"the font {FONT_FILE} (fonts-dejavu-core) is missing")
    read = read_isolated("dai.pdf", pdf_lines, "dai.pdf", dense_pdf(24), memory_bytes=350 * 1024**2)
    assert not read.ocr and "23.59 Phát triển dịch vụ" in "\n".join(read.lines)
