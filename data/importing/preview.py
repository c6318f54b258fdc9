"""What importing a parsed decision would change, read without writing; and the parsed decision
as JSON, so a preview can be kept in the database and applied later by any instance."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.textnorm import nfc
from data.importing.agency_names import NameResolver, default_table
from data.importing.decision_model import (
    ParsedDecision,
    ParsedMeasure,
    ParsedSector,
    ParsedTask,
)
from data.importing.lengths import check_lengths
from data.store.models import Agency, Programme, Task


@dataclass
class TaskChange:
    """One task whose row would change: its code and what differs (Vietnamese words)."""

    code: str
    what: list[str]


@dataclass
class ImportPreview:
    """The difference between a parsed decision and what the database holds."""

    decision_number: str
    exists: bool  # the decision is loaded already (an update, not a new programme)
    programmes: int  # decisions loaded now
    added: list[str] = field(default_factory=list)  # task codes
    changed: list[TaskChange] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    new_agencies: list[str] = field(default_factory=list)
    details: bool = False  # the decision's own data (title, date, signer, deadline) differs

    @property
    def unchanged(self) -> bool:
        """Whether applying would leave the loaded data as it is."""
        return self.exists and not (
            self.added or self.changed or self.removed or self.new_agencies or self.details
        )


def preview_import(session: Session, parsed: ParsedDecision) -> ImportPreview:
    """Compare parsed with the stored programme of the same number; nothing is written.

    Raises DecisionFormatError for names longer than their columns, as the import would.
    """
    resolver = NameResolver(table=default_table())
    for task in parsed.tasks():
        if task.lead:
            resolver.add(task.lead)
        for partner in task.partners:
            resolver.add(partner)
    check_lengths(parsed, resolver)
    keys = resolver.merge_keys()
    known = set(session.scalars(select(Agency.folded_name).where(Agency.folded_name.in_(keys))))
    programme = session.scalars(
        select(Programme).where(Programme.decision_number == parsed.decision_number)
    ).first()
    preview = ImportPreview(
        decision_number=parsed.decision_number,
        exists=programme is not None,
        programmes=len(session.scalars(select(Programme.id)).all()),
        new_agencies=[resolver.canonical(key) for key in keys if key not in known],
    )
    if programme is None:
        preview.added = [task.code for task in parsed.tasks()]
        return preview
    preview.details = _details_differ(programme, parsed)
    stored = {task.code: task for task in programme.tasks}
    for parsed_sector in parsed.sectors:
        sector = (parsed_sector.number, parsed_sector.name)
        for task in parsed_sector.tasks:
            row = stored.pop(task.code, None)
            if row is None:
                preview.added.append(task.code)
            elif what := _task_differences(row, task, sector, resolver):
                preview.changed.append(TaskChange(task.code, what))
    preview.removed = sorted(stored, key=_code_order)
    return preview


def _details_differ(programme: Programme, parsed: ParsedDecision) -> bool:
    report_by = (programme.report_day, programme.report_month)
    return (
        programme.title != parsed.title
        or programme.issued_on != parsed.issued_on
        or programme.issuer != parsed.issuer
        or programme.signer != parsed.signer
        or (parsed.report_by is not None and report_by != tuple(parsed.report_by))
    )


def _task_differences(
    row: Task, task: ParsedTask, sector: tuple[int, str], resolver: NameResolver
) -> list[str]:
    what: list[str] = []
    if nfc(row.title) != nfc(task.title):
        what.append("tên nhiệm vụ")
    lead = row.lead_agency.folded_name if row.lead_agency is not None else None
    if lead != (resolver.key_of(task.lead) if task.lead else None):
        what.append("đơn vị chủ trì")
    wanted = list(dict.fromkeys(resolver.key_of(p) for p in task.partners))
    wanted = [key for key in wanted if key != lead]
    partners = [p.agency.folded_name for p in row.partners if p.agency is not None]
    if partners != wanted:
        what.append("đơn vị phối hợp")
    measures = [(m.heading, m.text) for m in row.measures]
    if measures != [(m.heading, m.text) for m in task.measures]:
        what.append("giải pháp")
    if (row.sector.number, row.sector.name) != sector:
        what.append("lĩnh vực")
    if list(row.target_years) != list(task.target_years) and not what:
        what.append("mốc năm")
    return what


def _code_order(code: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in code.split("."))


# -- JSON --------------------------------------------------------------------------------------


def to_json(parsed: ParsedDecision) -> dict[str, Any]:
    """The parsed decision as JSON-ready data (from_json reads it back)."""
    data = asdict(parsed)
    data["issued_on"] = parsed.issued_on.isoformat() if parsed.issued_on else None
    data["report_by"] = list(parsed.report_by) if parsed.report_by else None
    return data


def from_json(data: dict[str, Any]) -> ParsedDecision:
    """The parsed decision to_json wrote."""
    sectors = [
        ParsedSector(
            number=int(sector["number"]),
            name=str(sector["name"]),
            tasks=[_task(task) for task in sector["tasks"]],
        )
        for sector in data["sectors"]
    ]
    issued = data.get("issued_on")
    report_by = data.get("report_by")
    return ParsedDecision(
        decision_number=str(data["decision_number"]),
        issued_on=date.fromisoformat(issued) if issued else None,
        issuer=str(data.get("issuer") or ""),
        signer=data.get("signer"),
        title=str(data.get("title") or ""),
        sectors=sectors,
        unattached_measures=list(data.get("unattached_measures") or []),
        warnings=list(data.get("warnings") or []),
        coordinator=str(data.get("coordinator") or ""),
        report_by=(int(report_by[0]), int(report_by[1])) if report_by else None,
        preamble=list(data.get("preamble") or []),
    )


def _task(data: dict[str, Any]) -> ParsedTask:
    return ParsedTask(
        code=str(data["code"]),
        title=str(data["title"]),
        lead=str(data["lead"]),
        partners=list(data.get("partners") or []),
        measures=[ParsedMeasure(str(m["heading"]), str(m["text"])) for m in data["measures"]],
        target_years=[int(year) for year in data.get("target_years") or []],
    )
