"""Read a scanned PDF: render each page, find its ruled tables, OCR it with Tesseract (vie)."""

from __future__ import annotations

import csv
import io
import itertools
import math
import os
import re
import shutil
import subprocess
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from data.importing.decision_model import DecisionFormatError
from data.importing.limits import MAX_OCR_PAGES, MAX_PAGE_PIXELS, OCR_DPI, number
from data.importing.page_layout import Box, Grid, Page, Table, Word
from data.importing.text_form import is_header

LANGUAGE = "vie"
PAGE_TIMEOUT_SECONDS = 120
DARK = 140  # grey level below which a pixel is ink
RULE_SHARE = 0.3  # a horizontal rule is an unbroken dark run this share of the page width
COLUMN_SHARE = 0.9  # a vertical rule is dark over this share of a row's height
_LOOKALIKES = str.maketrans(
    {"l": "1", "I": "1", "|": "1", "i": "1", "O": "0", "o": "0", ",": ".", ":": ".", "·": "."}
)
_CODE_CHARS = "tessedit_char_whitelist=0123456789.TS"
_CODE_RE = re.compile(r"^\d{1,2}(\.\d{1,2})?$")


@dataclass
class OcrPages:
    """Pages read by OCR and what to tell the operator."""

    pages: list[Page]
    warnings: list[str] = field(default_factory=list)


def available() -> bool:
    """Whether Tesseract with its Vietnamese data is installed."""
    binary = shutil.which("tesseract")
    if binary is None:
        return False
    try:
        listed = subprocess.run(
            [binary, "--list-langs"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return LANGUAGE in listed.stdout.split()


def fix_code(cell: str) -> str:
    """A task or sector number as OCR misreads it ("1,2", "l.3", "2. 4.") made right."""
    fixed = cell.replace(" ", "").strip("_-—'‘’\"`~").translate(_LOOKALIKES).rstrip(".")
    return fixed if _CODE_RE.match(fixed) else cell


def fix_numbering(table: Table) -> None:
    """Make the TT column follow the table's numbering where OCR misread it; note each change.

    Sector rows count 1, 2, 3…; task rows N.1, N.2… under sector N. A reading that is not a
    code, lost its dot, or names another sector is replaced by the expected code.
    """
    sector, task = 0, 0
    for row in table.rows:
        if not row or is_header(row) or not any(row[1:]):
            continue
        read = fix_code(row[0])
        is_sector = len(row) > 2 and not any(row[2:])
        expected = str(sector + 1) if is_sector else f"{sector}.{task + 1}"
        keep = read == expected
        if not keep and not is_sector and _CODE_RE.match(read) and "." in read:
            keep = read.split(".")[0] == str(sector)  # a real gap in the numbering stays
        if not keep and read.replace(".", "") != expected.replace(".", ""):
            what = "số lĩnh vực" if is_sector else "mã nhiệm vụ"
            seen = f"đọc được “{row[0]}”" if row[0] else "không đọc được"
            table.notes.append(
                f"Dòng “{row[1][:50]}…”: {what} {seen}, đã hiểu là {expected} — cần kiểm tra."
            )
        row[0] = read if keep else expected
        if is_sector:
            sector, task = int(row[0]), 0
        else:
            task = int(row[0].split(".")[1])


def read_scanned_pdf(name: str, data: bytes, pages: int) -> OcrPages:
    """Render and OCR every page of a scanned PDF (within the page limit)."""
    if pages > MAX_OCR_PAGES:
        raise DecisionFormatError(
            f"Tệp {name} là bản quét {number(pages)} trang; chỉ đọc được bản quét tối đa "
            f"{number(MAX_OCR_PAGES)} trang bằng OCR. Anh/chị gửi bản Word hoặc PDF có lớp chữ."
        )
    import pypdfium2  # type: ignore[import-untyped]

    try:
        document = pypdfium2.PdfDocument(data)
    except Exception as exc:  # pdfium's own error type
        raise DecisionFormatError(f"Tệp {name} không phải tệp PDF hợp lệ hoặc đã bị hỏng.") from exc
    # Tesseract runs one thread a page (OMP_THREAD_LIMIT=1), so pages are read side by side,
    # one per core; PDFium renders them one at a time here, never more than that many ahead.
    workers = max(1, os.cpu_count() or 1)
    with ThreadPoolExecutor(workers, thread_name_prefix="ocr") as pool:
        reading: list[Future[Page]] = []
        try:
            for index in range(len(document)):
                pending = [future for future in reading if not future.done()]
                if len(pending) >= workers:  # a rendered page waits for a free core, not more
                    wait(pending, return_when=FIRST_COMPLETED)
                page = document[index]
                width, height = page.get_size()
                scale = OCR_DPI / 72
                scale = min(scale, math.sqrt(MAX_PAGE_PIXELS / max(1.0, width * height * 1.0)))
                image = page.render(scale=scale, grayscale=True).to_numpy()
                grey = np.asarray(image).reshape(image.shape[0], -1)
                reading.append(pool.submit(read_image, name, grey))
        finally:
            document.close()
        return OcrPages(pages=[future.result() for future in reading])


def read_image(name: str, grey: Any) -> Page:
    """One page image (grey levels, rows × columns): its ruled tables and OCR'd words."""
    ink = np.asarray(grey) < DARK
    grids, rules = find_grids(ink)
    clean = np.asarray(grey).copy()
    for top, bottom, left, right in rules:  # rules confuse the recogniser
        clean[max(0, top - 2) : bottom + 3, max(0, left - 2) : right + 3] = 255
    words = _tesseract(name, clean)
    codes = [row[0] for grid in grids for row in grid.rows if row and row[0] is not None]
    if codes:
        # Short numbers alone in a narrow column are often skipped on the page: read them apart.
        words = [w for w in words if not any(_centre_in(w, box) for box in codes)]
        words += _read_codes(name, clean, codes)
    return Page(words=words, grids=grids)


def _centre_in(word: Word, box: Box) -> bool:
    x, y = (word.x0 + word.x1) / 2, (word.top + word.bottom) / 2
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def _read_codes(name: str, grey: Any, boxes: list[Box]) -> list[Word]:
    """OCR the code cells stacked in one strip, digits and "TT" only; words placed back."""
    gap = 40
    crops: list[tuple[Box, Any]] = []
    for box in boxes:
        x0, top, x1, bottom = (int(v) for v in box)
        crop = grey[top + 4 : bottom - 3, x0 + 4 : x1 - 3]
        ink_rows = np.flatnonzero((crop < DARK).any(axis=1))
        if crop.size == 0 or ink_rows.size == 0:
            continue
        crops.append((box, crop[max(0, ink_rows[0] - 10) : ink_rows[-1] + 11]))
    if not crops:
        return []
    width = max(crop.shape[1] for _, crop in crops) + 2 * gap
    strip = np.full((sum(c.shape[0] + gap for _, c in crops) + gap, width), 255, np.uint8)
    places: list[tuple[int, int, Box]] = []
    y = gap
    for box, crop in crops:
        strip[y : y + crop.shape[0], gap : gap + crop.shape[1]] = crop
        places.append((y, y + crop.shape[0], box))
        y += crop.shape[0] + gap
    found: list[Word] = []
    for word in _tesseract(name, strip, ["--psm", "6", "-c", _CODE_CHARS]):
        middle = (word.top + word.bottom) / 2
        for start, end, box in places:
            if start <= middle <= end:
                placed = box[1] + 4 + (word.top - start)
                found.append(
                    Word(
                        box[0] + 4,
                        placed,
                        box[0] + 4 + word.x1 - word.x0,
                        placed + word.bottom - word.top,
                        word.text,
                        word.conf,
                    )
                )
    return found


def _runs(row: Any, gap: int = 4) -> list[tuple[int, int]]:
    """(start, end) of each run of True in a 1-D boolean array, bridging gaps up to gap."""
    padded = np.concatenate(([False], row, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    runs: list[tuple[int, int]] = []
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        if runs and int(a) - runs[-1][1] <= gap:
            runs[-1] = (runs[-1][0], int(b) - 1)
        else:
            runs.append((int(a), int(b) - 1))
    return runs


def _clusters(values: list[int], gap: int = 2) -> list[tuple[int, int]]:
    groups: list[tuple[int, int]] = []
    for value in values:
        if groups and value - groups[-1][1] <= gap:
            groups[-1] = (groups[-1][0], value)
        else:
            groups.append((value, value))
    return groups


def find_grids(ink: Any) -> tuple[list[Grid], list[tuple[int, int, int, int]]]:
    """Ruled tables of a page image, and the rule rectangles (top, bottom, left, right)."""
    width = ink.shape[1]
    candidates = np.flatnonzero(ink.sum(axis=1) >= RULE_SHARE * width)
    spans: dict[int, tuple[int, int]] = {}
    for y in candidates:
        start, end = max(_runs(ink[y]), key=lambda run: run[1] - run[0])
        if end - start + 1 >= RULE_SHARE * width:
            spans[int(y)] = (start, end)
    rules = [
        (top, bottom, spans[top][0], spans[top][1]) for top, bottom in _clusters(sorted(spans))
    ]
    tables: list[list[tuple[int, int, int, int]]] = []
    for rule in rules:
        if tables and _overlap(tables[-1][0], rule) >= 0.5:
            tables[-1].append(rule)
        else:
            tables.append([rule])
    grids: list[Grid] = []
    erase = list(rules)
    for table in (t for t in tables if len(t) >= 2):
        grid, verticals = _grid(ink, table)
        grids.append(grid)
        erase.extend(verticals)
    return grids, erase


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """How much of the wider rule the two rules' horizontal extents share."""
    shared = min(a[3], b[3]) - max(a[2], b[2])
    return max(0.0, shared / max(a[3] - a[2], b[3] - b[2], 1))


def _grid(
    ink: Any, table: list[tuple[int, int, int, int]]
) -> tuple[Grid, list[tuple[int, int, int, int]]]:
    """Cells of one table from its horizontal rules and the vertical rules in each band."""
    left = min(rule[2] for rule in table)
    right = max(rule[3] for rule in table)
    bands: list[tuple[int, int, list[int]]] = []
    verticals: list[tuple[int, int, int, int]] = []
    for upper, lower in itertools.pairwise(table):
        top, bottom = upper[1] + 1, lower[0] - 1
        if bottom - top < 3:
            continue
        profile = ink[top : bottom + 1, left : right + 1].mean(axis=0)
        columns = _clusters([int(x) + left for x in np.flatnonzero(profile >= COLUMN_SHARE)])
        verticals += [(top, bottom, a, b) for a, b in columns]
        edges = sorted({left, right, *((a + b) // 2 for a, b in columns)})
        bands.append((top, bottom, _merge_close(edges)))
    boundaries = _merge_close(sorted({x for band in bands for x in band[2]}), 12)
    rows: list[list[Box | None]] = []
    for top, bottom, edges in bands:
        row: list[Box | None] = [None] * (len(boundaries) - 1)
        for a, b in itertools.pairwise(edges):
            column = min(range(len(boundaries) - 1), key=lambda i: abs(boundaries[i] - a))
            row[column] = (float(a), float(top), float(b), float(bottom))
        rows.append(row)
    box = (float(left), float(table[0][0]), float(right), float(table[-1][1]))
    return Grid(box=box, rows=rows), verticals


def _merge_close(values: list[int], gap: int = 8) -> list[int]:
    merged: list[int] = []
    for value in values:
        if merged and value - merged[-1] <= gap:
            continue
        merged.append(value)
    return merged


def _tesseract(name: str, grey: Any, options: list[str] | None = None) -> list[Word]:
    """Words and their boxes from Tesseract's TSV output for one page image."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(grey, dtype=np.uint8)).save(buffer, format="PNG")
    environment = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        done = subprocess.run(
            ["tesseract", "stdin", "stdout", "-l", LANGUAGE, *(options or ["--psm", "3"]), "tsv"],
            input=buffer.getvalue(),
            capture_output=True,
            timeout=PAGE_TIMEOUT_SECONDS,
            env=environment,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise DecisionFormatError(
            f"Không chạy được OCR (Tesseract) để đọc bản quét {name}; anh/chị thử lại sau "
            "hoặc gửi bản Word (.docx)."
        ) from exc
    if done.returncode != 0:
        raise DecisionFormatError(
            f"OCR (Tesseract) không đọc được bản quét {name}; anh/chị gửi bản Word (.docx) "
            "hoặc PDF có lớp chữ."
        )
    words: list[Word] = []
    reader = csv.DictReader(
        io.StringIO(done.stdout.decode("utf-8", "replace")), delimiter="\t", quoting=csv.QUOTE_NONE
    )
    for row in reader:
        text = (row.get("text") or "").strip()
        if row.get("level") != "5" or not text.strip("_|¦"):
            continue  # rule remnants read as "_" or "|"
        x, y = float(row["left"]), float(row["top"])
        words.append(
            Word(x, y, x + float(row["width"]), y + float(row["height"]), text, float(row["conf"]))
        )
    return words
