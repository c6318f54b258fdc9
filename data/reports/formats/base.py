"""What a report format is: a name, a file type, the words users type for it, and a writer."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:  # the registry stays light: `daumoi --help` lists formats without SQLAlchemy
    from data.reports.summary import Summary
    from data.reports.task_reports import TaskReport


@dataclass(frozen=True)
class ReportData:
    """What a writer reads: the tasks as they stream in and the summary that counts them."""

    tasks: Iterable[TaskReport]  # one pass: read it through summary.observe(tasks)
    summary: Summary  # complete once the tasks have been read
    coordinator: str  # the coordinating agency as named today (2021 name in brackets)


Writer = Callable[[ReportData, IO[bytes]], None]


@dataclass(frozen=True)
class ReportFormat:
    """One report format; `daumoi report --format` and /baocao offer every registered one."""

    name: str  # the registry key and the value of --format
    extension: str  # without the dot
    mime_type: str
    label: str  # the file's caption in chat: "Bảng tổng hợp (Excel)"
    write: Writer
    stem: str = "bao_cao"  # file name before "_<year>"
    # What users may type after /baocao, folded (no marks, lower case), the first one shown in
    # the usage line; none: the format is only for `daumoi report`.
    aliases: tuple[str, ...] = ()
    offer: str = ""  # how the usage line names it: "/baocao xlsx (bảng Excel)"
    note: str = ""  # a line added under the caption when the file is sent
    detailed: bool = False  # names every agency's gaps: sent only in the agency's own group
    # A library the writer needs that is an optional extra, and the line said when it is absent.
    requires: str = ""
    missing: str = ""

    def unavailable(self) -> str | None:
        """The line to say instead of the file when the writer's library is not installed."""
        if not self.requires:
            return None
        try:
            importlib.import_module(self.requires)
        except ImportError:
            return self.missing or f"Xin lỗi, định dạng {self.name} chưa được cài trên máy chủ này."
        return None

    def filename(self, year: int) -> str:
        """ "bao_cao_2026.xlsx"."""
        return f"{self.stem}_{year}.{self.extension}"
