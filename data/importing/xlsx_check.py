"""Vet an XLSX before openpyxl opens it: zip directory sizes, then a constant-memory XML scan."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO
from xml.parsers import expat

from data.importing.decision_text import DecisionFormatError
from data.importing.limits import (
    MAX_CELLS_PER_ROW,
    MAX_COMPRESSION_RATIO,
    MAX_ROWS,
    MAX_UNCOMPRESSED_BYTES,
    MAX_XML_ELEMENTS,
    MAX_ZIP_MEMBERS,
    RATIO_CHECKED_FROM_BYTES,
    number,
    open_limited,
    size,
    too_many_rows,
)

_SHEETS = "xl/worksheets/"
_VALUE_TAGS = {"v", "is", "f"}


def _broken(path: Path) -> DecisionFormatError:
    return DecisionFormatError(
        f"Tệp {path.name} không phải bảng Excel (.xlsx) hợp lệ hoặc đã bị hỏng."
    )


def check_xlsx(path: Path) -> None:
    """Reject a workbook that would make openpyxl inflate or build too much."""
    with open_limited(path) as handle:
        check_package(path, handle)


def check_package(
    path: Path, source: IO[bytes], broken: Callable[[Path], DecisionFormatError] = _broken
) -> None:
    """Reject a zip package (XLSX, DOCX) whose directory or XML parts are too big to open;
    broken(path) when it is not a readable zip."""
    try:
        with zipfile.ZipFile(source) as archive:
            members = archive.infolist()
            check_members(path, members)
            scan = XmlScan(path, broken)
            for member in members:
                if member.filename.endswith((".xml", ".rels")):
                    with archive.open(member) as part:
                        scan.part(member.filename, part)
    except DecisionFormatError:
        raise
    # zlib errors and truncated members surface as OSError
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError) as exc:
        raise broken(path) from exc


def check_members(path: Path, members: list[zipfile.ZipInfo]) -> None:
    """Judge the declared sizes in the central directory, before anything is inflated.

    Python's zipfile never inflates a member past its declared size, so these are binding.
    """
    if len(members) > MAX_ZIP_MEMBERS:
        raise DecisionFormatError(
            f"Tệp {path.name} có {number(len(members))} phần bên trong; giới hạn là "
            f"{number(MAX_ZIP_MEMBERS)}. Đây không giống một bảng Excel thông thường."
        )
    total = sum(member.file_size for member in members)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise DecisionFormatError(
            f"Tệp {path.name} khi giải nén chiếm {size(total)}; giới hạn là "
            f"{size(MAX_UNCOMPRESSED_BYTES)}. Anh/chị xóa bớt các trang tính không cần thiết "
            "hoặc lưu riêng bảng nhiệm vụ rồi nhập lại."
        )
    for member in members:
        ratio = member.file_size / max(1, member.compress_size)
        if member.file_size >= RATIO_CHECKED_FROM_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise DecisionFormatError(
                f"Tệp {path.name} bị nén bất thường (phần {member.filename[:60]} nén "
                f"{number(int(ratio))} lần; giới hạn là {MAX_COMPRESSION_RATIO} lần), "
                "có thể là tệp độc hại nên không nhập."
            )


class XmlScan:
    """Counts elements, cells per row and rows holding values with expat (no tree is built)."""

    def __init__(self, path: Path, broken: Callable[[Path], DecisionFormatError] = _broken) -> None:
        self.path = path
        self.broken = broken
        self.elements = 0
        self.cells = 0
        self.rows = 0
        self.row_counted = False
        self.in_sheet = False

    def part(self, name: str, source: IO[bytes]) -> None:
        """Scan one XML part of the package."""
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.StartElementHandler = self._start
        parser.StartDoctypeDeclHandler = self._doctype  # no DTD, so no entity expansion
        parser.EntityDeclHandler = self._doctype
        self.in_sheet = name.startswith(_SHEETS)
        self.rows = 0
        try:
            parser.ParseFile(source)
        except expat.ExpatError as exc:
            raise self.broken(self.path) from exc

    def _start(self, tag: str, attributes: object) -> None:
        self.elements += 1
        if self.elements > MAX_XML_ELEMENTS:
            raise DecisionFormatError(
                f"Tệp {self.path.name} quá phức tạp (hơn {number(MAX_XML_ELEMENTS)} phần tử "
                "XML). Anh/chị lưu riêng bảng nhiệm vụ vào một tệp mới rồi nhập lại."
            )
        if not self.in_sheet:
            return
        local = tag.rpartition(" ")[2]
        if local == "row":
            self.cells, self.row_counted = 0, False
        elif local == "c":
            self.cells += 1
            if self.cells > MAX_CELLS_PER_ROW:
                raise DecisionFormatError(
                    f"Một dòng trong tệp {self.path.name} có hơn {number(MAX_CELLS_PER_ROW)} ô, "
                    "vượt giới hạn của Excel; tệp có thể đã bị sửa đổi bất thường."
                )
        elif local in _VALUE_TAGS and not self.row_counted:
            self.row_counted = True
            self.rows += 1
            if self.rows > MAX_ROWS:
                raise too_many_rows(self.path.name)

    def _doctype(self, *args: object) -> None:
        raise self.broken(self.path)
