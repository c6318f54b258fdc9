"""What a decision parser produces: the decision, its sectors, tasks and measures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

TABLE_MISSING = (
    "Tệp không có bảng nhiệm vụ (TT | Nhiệm vụ | Đơn vị chủ trì | Đơn vị phối hợp) "
    "với các mã nhiệm vụ dạng 1.1, 1.2…, nên không phải là văn bản quyết định có thể nhập."
)


class DecisionFormatError(ValueError):
    """The input is not a decision or task table the importer understands."""


@dataclass
class ParsedMeasure:
    """A concrete measure from section II, under its `- ` heading."""

    heading: str
    text: str


@dataclass
class ParsedTask:
    """One appendix row: code, title, lead and partner cells, and attached measures."""

    code: str
    title: str
    lead: str
    partners: list[str] = field(default_factory=list)
    measures: list[ParsedMeasure] = field(default_factory=list)
    target_years: list[int] = field(default_factory=list)


@dataclass
class ParsedSector:
    """A sector row of the appendix table and its tasks."""

    number: int
    name: str
    tasks: list[ParsedTask] = field(default_factory=list)


@dataclass
class ParsedDecision:
    """Everything the importer needs from one decision."""

    decision_number: str
    issued_on: date | None = None
    issuer: str = ""
    signer: str | None = None
    title: str = ""
    sectors: list[ParsedSector] = field(default_factory=list)
    unattached_measures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    coordinator: str = ""  # the agency reports go through ("thông qua Sở …")
    report_by: tuple[int, int] | None = None  # (day, month) of the yearly report deadline
    preamble: list[str] = field(default_factory=list)  # lines before the table (facts live here)

    def tasks(self) -> list[ParsedTask]:
        """Return all tasks in table order."""
        return [task for sector in self.sectors for task in sector.tasks]
