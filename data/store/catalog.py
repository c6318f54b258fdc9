"""An immutable in-memory read model of the programme tables, for fast look-ups."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from core.textnorm import fold
from data.importing.agency_names import agency_key
from data.store.db import Database
from data.store.freshness import CATALOG_TABLES, written_table
from data.store.models import (
    Agency,
    AgencyAlias,
    AliasKind,
    Measure,
    Programme,
    Sector,
    Task,
    TaskPartner,
)
from data.store.succession import today_ids


@dataclass(frozen=True, slots=True)
class AgencyEntry:
    """An agency as named in a decision, with its succession already resolved."""

    id: int
    name: str
    folded_name: str
    kind: str
    is_collective: bool
    abbreviations: tuple[str, ...]  # stored abbreviation aliases, in alias order
    successor_id: int | None
    successor_name: str | None
    successor_effective_on: date | None
    successor_basis: str | None
    successor_confirmed: bool
    current_id: int  # the end of the successor chain (itself when not taken over)
    current_name: str
    display_name: str  # "2021 name — nay là current name" when taken over


@dataclass(frozen=True, slots=True)
class ProgrammeEntry:
    """One imported decision."""

    id: int
    decision_number: str
    report_month: int
    report_day: int
    coordinating_agency: AgencyEntry | None


@dataclass(frozen=True, slots=True)
class SectorEntry:
    """A service sector of a programme (its tasks: Catalog.tasks_of)."""

    id: int
    programme: ProgrammeEntry
    number: int
    name: str


@dataclass(frozen=True, slots=True)
class TaskEntry:
    """A task's static data; deadlines are not here (admins change them at run time)."""

    id: int
    programme: ProgrammeEntry
    sector: SectorEntry
    code: str
    position: int
    title: str
    lead: AgencyEntry | None
    partners: tuple[AgencyEntry, ...]  # in table order
    measures: tuple[str, ...]  # measure texts in narrative order
    target_years: tuple[int, ...]


class Catalog:
    """Programmes, sectors, tasks and agencies with their indexes; never changed once built."""

    def __init__(
        self,
        programmes: Sequence[ProgrammeEntry],
        sectors: Sequence[SectorEntry],
        tasks: Sequence[TaskEntry],
        agencies: Sequence[AgencyEntry],
    ) -> None:
        self.programmes = tuple(sorted(programmes, key=lambda p: p.id))
        self.sectors = tuple(sorted(sectors, key=lambda s: (s.programme.id, s.number)))
        self.tasks = tuple(sorted(tasks, key=lambda t: (t.programme.id, t.position)))
        self.agencies = tuple(sorted(agencies, key=lambda a: a.id))
        self._agency_by_id = {a.id: a for a in self.agencies}
        self._agency_by_name: dict[str, AgencyEntry] = {}
        for agency in self.agencies:
            self._agency_by_name.setdefault(agency.name, agency)
        self._agency_by_key = {a.folded_name: a for a in self.agencies}
        self._by_code: dict[str, list[TaskEntry]] = {}
        self._by_sector: dict[int, list[TaskEntry]] = {}
        self._led: dict[int, list[TaskEntry]] = {}
        self._partnered: dict[int, list[TaskEntry]] = {}
        collective_counts: dict[int, int] = {}
        for task in self.tasks:
            self._by_code.setdefault(task.code, []).append(task)
            self._by_sector.setdefault(task.sector.id, []).append(task)
            if task.lead is not None:
                self._led.setdefault(task.lead.id, []).append(task)
            for partner_id in dict.fromkeys(partner.id for partner in task.partners):
                self._partnered.setdefault(partner_id, []).append(task)
            for partner in task.partners:
                if partner.is_collective:
                    collective_counts[partner.id] = collective_counts.get(partner.id, 0) + 1
        self._collective_counts = tuple(
            (self._agency_by_id[i], n) for i, n in sorted(collective_counts.items())
        )
        self._predecessors: dict[int, list[AgencyEntry]] = {}
        for agency in self.agencies:
            if agency.current_id != agency.id:
                self._predecessors.setdefault(agency.current_id, []).append(agency)

    @property
    def several_programmes(self) -> bool:
        """Whether more than one decision is loaded (cards then name the decision)."""
        return len(self.programmes) > 1

    def programme_by_number(self, decision: str) -> ProgrammeEntry | None:
        """The programme whose decision number is decision (or starts with its number part)."""
        wanted = fold(decision)
        for programme in self.programmes:
            if fold(programme.decision_number) == wanted:
                return programme
        for programme in self.programmes:
            if fold(programme.decision_number).split("/")[0] == wanted.split("/")[0]:
                return programme
        return None

    def tasks_by_code(self, code: str, programme_id: int | None = None) -> list[TaskEntry]:
        """Tasks with this code, one per programme (or only the given programme's)."""
        found = self._by_code.get(code, [])
        return [t for t in found if programme_id is None or t.programme.id == programme_id]

    def sectors_of(self, programme_id: int | None = None) -> list[SectorEntry]:
        """Sectors by programme then number (optionally of one programme)."""
        return [s for s in self.sectors if programme_id is None or s.programme.id == programme_id]

    def sectors_by_number(self, number: int) -> list[SectorEntry]:
        """The sectors numbered number, one per programme that has it."""
        return [s for s in self.sectors if s.number == number]

    def tasks_of(self, sector: SectorEntry) -> tuple[TaskEntry, ...]:
        """A sector's tasks in table order."""
        return tuple(self._by_sector.get(sector.id, ()))

    def agency(self, agency_id: int) -> AgencyEntry:
        """The agency with this id."""
        return self._agency_by_id[agency_id]

    def agency_by_name(self, name: str) -> AgencyEntry | None:
        """The agency named name, or written as one of its spelling variants."""
        exact = self._agency_by_name.get(name)
        return exact if exact is not None else self._agency_by_key.get(agency_key(name))

    def current(self, agency: AgencyEntry) -> AgencyEntry:
        """The agency that exists today for agency (itself when not taken over)."""
        return self._agency_by_id[agency.current_id]

    def predecessors(self, agency: AgencyEntry) -> tuple[AgencyEntry, ...]:
        """Agencies whose succession chain ends at agency (not agency itself), by id."""
        return tuple(self._predecessors.get(agency.id, ()))

    def family_ids(self, agency: AgencyEntry) -> list[int]:
        """Today's agency for agency and every agency it took over."""
        today = self.current(agency)
        return [today.id, *(other.id for other in self.predecessors(today))]

    def led_tasks(self, agency_ids: Iterable[int]) -> list[TaskEntry]:
        """Tasks led by any of the agencies, in table order."""
        return self._gather(self._led, agency_ids)

    def partner_tasks(self, agency_ids: Iterable[int]) -> list[TaskEntry]:
        """Tasks on which any of the agencies is a named cooperating agency, in table order."""
        return self._gather(self._partnered, agency_ids)

    def collective_task_counts(self) -> tuple[tuple[AgencyEntry, int], ...]:
        """Each collective ("Các sở, ban ngành", …) with the number of tasks naming it."""
        return self._collective_counts

    def _gather(self, index: Mapping[int, list[TaskEntry]], ids: Iterable[int]) -> list[TaskEntry]:
        found = {task.id: task for i in ids for task in index.get(i, ())}
        return sorted(found.values(), key=lambda t: (t.programme.id, t.position))


def load_catalog(session: Session) -> Catalog:
    """Read the programme tables in one pass (seven plain queries)."""
    abbreviations: dict[int, list[str]] = {}
    for agency_id, text in session.execute(
        select(AgencyAlias.agency_id, AgencyAlias.text)
        .where(AgencyAlias.kind == AliasKind.ABBREVIATION.value)
        .order_by(AgencyAlias.id)
    ):
        abbreviations.setdefault(agency_id, []).append(text)
    agencies = _agencies(
        session.execute(
            select(
                Agency.id,
                Agency.name,
                Agency.folded_name,
                Agency.kind,
                Agency.is_collective,
                Agency.successor_id,
                Agency.successor_effective_on,
                Agency.successor_basis,
                Agency.successor_confirmed,
            ).order_by(Agency.id)
        ).all(),
        abbreviations,
    )
    programmes = {
        row.id: ProgrammeEntry(
            id=row.id,
            decision_number=row.decision_number,
            report_month=row.report_month,
            report_day=row.report_day,
            coordinating_agency=agencies.get(row.coordinating_agency_id)
            if row.coordinating_agency_id is not None
            else None,
        )
        for row in session.execute(
            select(
                Programme.id,
                Programme.decision_number,
                Programme.report_month,
                Programme.report_day,
                Programme.coordinating_agency_id,
            ).order_by(Programme.id)
        )
    }
    sectors = {
        row.id: SectorEntry(row.id, programmes[row.programme_id], row.number, row.name)
        for row in session.execute(
            select(Sector.id, Sector.programme_id, Sector.number, Sector.name).order_by(
                Sector.programme_id, Sector.number
            )
        )
    }
    partners: dict[int, list[AgencyEntry]] = {}
    for task_id, agency_id in session.execute(
        select(TaskPartner.task_id, TaskPartner.agency_id).order_by(
            TaskPartner.task_id, TaskPartner.position
        )
    ):
        partners.setdefault(task_id, []).append(agencies[agency_id])
    measures: dict[int, list[str]] = {}
    for task_id, text in session.execute(
        select(Measure.task_id, Measure.text).order_by(Measure.task_id, Measure.position)
    ):
        measures.setdefault(task_id, []).append(text)
    tasks = [
        TaskEntry(
            id=row.id,
            programme=programmes[row.programme_id],
            sector=sectors[row.sector_id],
            code=row.code,
            position=row.position,
            title=row.title,
            lead=agencies[row.lead_agency_id] if row.lead_agency_id is not None else None,
            partners=tuple(partners.get(row.id, ())),
            measures=tuple(measures.get(row.id, ())),
            target_years=tuple(row.target_years or ()),
        )
        for row in session.execute(
            select(
                Task.id,
                Task.programme_id,
                Task.sector_id,
                Task.code,
                Task.position,
                Task.title,
                Task.lead_agency_id,
                Task.target_years,
            ).order_by(Task.programme_id, Task.position)
        )
    ]
    return Catalog(
        list(programmes.values()), list(sectors.values()), tasks, list(agencies.values())
    )


def _agencies(
    rows: Sequence[Any], abbreviations: Mapping[int, list[str]]
) -> dict[int, AgencyEntry]:
    """Agency entries with successor chains followed (a cycle stops where it repeats)."""
    by_id = {row.id: row for row in rows}
    current = today_ids({row.id: row.successor_id for row in rows})
    entries: dict[int, AgencyEntry] = {}
    for row in rows:
        today = by_id[current[row.id]]
        successor = by_id.get(row.successor_id) if row.successor_id is not None else None
        entries[row.id] = AgencyEntry(
            id=row.id,
            name=row.name,
            folded_name=row.folded_name,
            kind=row.kind,
            is_collective=bool(row.is_collective),
            abbreviations=tuple(abbreviations.get(row.id, ())),
            successor_id=row.successor_id,
            successor_name=successor.name if successor is not None else None,
            successor_effective_on=row.successor_effective_on,
            successor_basis=row.successor_basis,
            successor_confirmed=bool(row.successor_confirmed),
            current_id=today.id,
            current_name=today.name,
            display_name=row.name if today.id == row.id else f"{row.name} — nay là {today.name}",
        )
    return entries


# --- keeping a loaded catalog fresh -------------------------------------------------------------

_DIRTY = "daumoi.catalog_dirty"  # a write to a catalog table in the open transaction
_COMMITTED = "daumoi.catalog_committed"  # such a write was committed


class _WriteWatch:
    """Counts committed writes to the catalog tables made through one engine."""

    def __init__(self, engine: Engine) -> None:
        self.generation = 0
        self._lock = threading.Lock()
        event.listen(engine, "after_cursor_execute", self._executed)
        event.listen(engine, "commit", self._committed)
        event.listen(engine, "rollback", self._rolled_back)
        # Counted only when the connection goes back to the pool, i.e. after the commit
        # completed, so a reload that sees the new generation also sees the new rows.
        event.listen(engine.pool, "checkin", self._checked_in)

    def _executed(self, conn: Any, _c: Any, statement: str, *_rest: Any) -> None:
        if written_table(statement) in CATALOG_TABLES:
            conn.info[_DIRTY] = True

    def _committed(self, conn: Any) -> None:
        if conn.info.pop(_DIRTY, False):
            conn.info[_COMMITTED] = True

    def _rolled_back(self, conn: Any) -> None:
        conn.info.pop(_DIRTY, None)

    def _checked_in(self, _dbapi_connection: Any, record: Any) -> None:
        if record is not None and record.info.pop(_COMMITTED, False):
            with self._lock:
                self.generation += 1


_WATCHES: weakref.WeakKeyDictionary[Engine, _WriteWatch] = weakref.WeakKeyDictionary()
_WATCHES_LOCK = threading.Lock()


def _watch(engine: Engine) -> _WriteWatch:
    with _WATCHES_LOCK:
        watch = _WATCHES.get(engine)
        if watch is None:
            watch = _WATCHES[engine] = _WriteWatch(engine)
        return watch


class CatalogCache:
    """The current catalog of one database, reloaded after a committed write to its tables.

    Writes made through this process's engine are noticed; another process's (a CLI import) are
    found by bot/freshness.py's DataWatch, which rebuilds both with App.rebuild_search.
    """

    def __init__(self, database: Database) -> None:
        self.database = database
        self._watch = _watch(database.engine)
        self._lock = threading.Lock()
        self._catalog: Catalog | None = None
        self._generation = -1

    def get(self) -> Catalog:
        """The catalog, reloaded first when the tables changed since it was loaded."""
        catalog = self._catalog
        if catalog is not None and self._generation == self._watch.generation:
            return catalog
        with self._lock:
            if self._catalog is None or self._generation != self._watch.generation:
                self._load()
            assert self._catalog is not None
            return self._catalog

    def refresh(self) -> Catalog:
        """Reload now (after changes this process could not notice)."""
        with self._lock:
            self._load()
            assert self._catalog is not None
            return self._catalog

    def _load(self) -> None:
        generation = self._watch.generation
        with self.database.session() as session:
            self._catalog = load_catalog(session)
        self._generation = generation
