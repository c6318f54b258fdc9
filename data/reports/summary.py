"""The summary of a report: counts by status, classification, sector and agency, and notes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.reports.task_reports import AgencyPart, Scope, TaskReport, agency_label
from data.store import status as st
from data.store.models import Programme, TaskStatus


def names_label(name: str, names_2021: Iterable[str]) -> str:
    """Today's name with the other 2021 names it stands for in brackets."""
    former = [other for other in dict.fromkeys(names_2021) if other != name]
    return f"{name} ({', '.join(former)})" if former else name


# --- aggregating --------------------------------------------------------------------------------


@dataclass
class Tally:
    """Counts of tasks by status and by classification, and tasks with an open blocker."""

    total: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    by_class: Counter[str] = field(default_factory=Counter)
    blocked: int = 0

    def add(self, task: TaskReport) -> None:
        """Count one task."""
        self.total += 1
        self.by_status[task.status_key] += 1
        self.by_class[task.class_key] += 1
        self.blocked += bool(task.blockers)

    @property
    def done(self) -> int:
        """Tasks completed (on time or late)."""
        return self.by_status[TaskStatus.DONE.value]

    def percent(self, count: int) -> int:
        """count as a whole percentage of the total."""
        return round(100 * count / self.total) if self.total else 0


@dataclass
class SectorTally:
    """A sector's counts."""

    programme: str
    number: int
    name: str
    tally: Tally = field(default_factory=Tally)


@dataclass
class AgencyTally:
    """One agency of today: its tasks, what it reported, what it still owes."""

    id: int
    name: str
    names_2021: list[str] = field(default_factory=list)
    lead: int = 0
    partner: int = 0
    reported: int = 0
    done: int = 0
    overdue: int = 0
    blockers: int = 0
    missing: list[str] = field(default_factory=list)  # task codes without an active report
    missing_in: list[str] = field(default_factory=list)  # the decision of each missing code

    @property
    def label(self) -> str:
        """Today's name with the 2021 names it stands for."""
        return names_label(self.name, self.names_2021)

    @property
    def total(self) -> int:
        """Tasks it reports on."""
        return self.lead + self.partner


@dataclass(frozen=True)
class Note:
    """A blocker or proposal of one agency on one task."""

    code: str
    title: str
    sector_number: int
    agency: str  # label
    text: str
    proposal: str = ""
    updated_at: datetime | None = None
    programme: str = ""  # decision number


@dataclass
class Summary:
    """Everything the summaries need, accumulated one task at a time."""

    scope: Scope
    overall: Tally = field(default_factory=Tally)
    sectors: dict[tuple[int, int], SectorTally] = field(default_factory=dict)
    agencies: dict[int, AgencyTally] = field(default_factory=dict)
    blockers: list[Note] = field(default_factory=list)
    proposals: list[Note] = field(default_factory=list)
    programmes: dict[int, str] = field(default_factory=dict)

    def add(self, task: TaskReport) -> None:
        """Count one task in every breakdown."""
        self.overall.add(task)
        self.programmes.setdefault(task.programme_id, task.programme)
        key = (task.programme_id, task.sector_number)
        sector = self.sectors.get(key)
        if sector is None:
            sector = SectorTally(task.programme, task.sector_number, task.sector_name)
            self.sectors[key] = sector
        sector.tally.add(task)
        for part in task.parts:
            self._add_part(task, part)

    def _add_part(self, task: TaskReport, part: AgencyPart) -> None:
        agency = self.agencies.get(part.agency_id)
        if agency is None:
            agency = AgencyTally(part.agency_id, part.name)
            self.agencies[part.agency_id] = agency
        if part.name_2021 not in agency.names_2021:
            agency.names_2021.append(part.name_2021)
        if part.role == st.Role.LEAD.value:
            agency.lead += 1
        else:
            agency.partner += 1
        if part.reported:
            agency.reported += 1
            agency.done += part.status == TaskStatus.DONE.value
        else:
            agency.missing.append(task.code)
            agency.missing_in.append(task.programme)
        agency.overdue += part.classification == st.Classification.OVERDUE.value
        if part.blocker:
            agency.blockers += 1
            self.blockers.append(
                Note(
                    task.code,
                    task.title,
                    task.sector_number,
                    part.label,
                    part.blocker_text,
                    part.proposal,
                    part.updated_at,
                    task.programme,
                )
            )
        elif part.reported and part.proposal.strip():
            self.proposals.append(
                Note(
                    task.code,
                    task.title,
                    task.sector_number,
                    part.label,
                    "",
                    part.proposal,
                    part.updated_at,
                    task.programme,
                )
            )

    def observe(self, tasks: Iterable[TaskReport]) -> Iterator[TaskReport]:
        """Pass tasks through, counting each (so a writer and the summary share one stream)."""
        for task in tasks:
            self.add(task)
            yield task

    @property
    def several_programmes(self) -> bool:
        """Whether the report spans more than one decision."""
        return len(self.programmes) > 1

    def task_label(self, programme: str, code: str) -> str:
        """ "1.1", or "1.1 (3579/QĐ-UBND)" when the report spans several decisions."""
        return f"{code} ({programme})" if self.several_programmes and programme else code

    def missing_text(self, agency: AgencyTally, limit: int | None = None) -> str:
        """ "1.1, 1.2", or by decision when several: "1731/QĐ-UBND: 1.1; 3579/QĐ-UBND: 1.1"."""
        pairs = list(zip(agency.missing_in, agency.missing, strict=True))[:limit]
        more = ", …" if limit is not None and len(agency.missing) > limit else ""
        if not self.several_programmes:
            return ", ".join(code for _, code in pairs) + more
        grouped: dict[str, list[str]] = {}
        for programme, code in pairs:
            grouped.setdefault(programme, []).append(code)
        return "; ".join(f"{p}: {', '.join(codes)}" for p, codes in grouped.items()) + more

    def agency_list(self) -> list[AgencyTally]:
        """Agencies by name."""
        return sorted(self.agencies.values(), key=lambda a: a.name)

    def never_reported(self) -> list[AgencyTally]:
        """Agencies with tasks and no active report at all for the year."""
        return [a for a in self.agency_list() if a.reported == 0]

    def partly_reported(self) -> list[AgencyTally]:
        """Agencies that reported on some of their tasks but not all."""
        return [a for a in self.agency_list() if a.reported and a.missing]

    def all_proposals(self) -> list[Note]:
        """Proposals that come with blockers, then the others, in table order."""
        return [note for note in self.blockers if note.proposal.strip()] + self.proposals


def summarise(tasks: Iterable[TaskReport], scope: Scope) -> Summary:
    """Count a stream of tasks."""
    summary = Summary(scope)
    for task in tasks:
        summary.add(task)
    return summary


def coordinator_label(session: Session, programme_id: int | None = None) -> str:
    """The coordinating agency of the (first) programme, named as today with its 2021 name."""
    query = select(Programme).order_by(Programme.id)
    if programme_id is not None:
        query = query.where(Programme.id == programme_id)
    programme = session.scalars(query).first()
    if programme is None or programme.coordinating_agency is None:
        return ""
    return agency_label(programme.coordinating_agency)
