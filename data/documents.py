"""Build the search documents (tasks and agencies) from the database or the seed."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from data.agency_names import default_table
from data.models import Agency, AliasKind, Programme, Task, TaskPartner
from data.search_types import AgencyDoc, TaskDoc
from data.succession import current_agency, display_name


def task_documents(session: Session) -> list[TaskDoc]:
    """One document per task, in programme and table order."""
    tasks = session.scalars(
        select(Task)
        .join(Programme, Task.programme_id == Programme.id)
        .options(
            selectinload(Task.programme),
            selectinload(Task.sector),
            selectinload(Task.measures),
            selectinload(Task.lead_agency).selectinload(Agency.successor),
        )
        .order_by(Programme.id, Task.position)
    ).all()
    docs: list[TaskDoc] = []
    for task in tasks:
        measures: list[str] = []
        for measure in task.measures:
            if measure.heading and measure.heading not in measures:
                measures.append(measure.heading)
            measures.append(measure.text)
        docs.append(
            TaskDoc(
                programme=task.programme.decision_number,
                code=task.code,
                title=task.title,
                sector=task.sector.name,
                measures=tuple(measures),
                lead=display_name(task.lead_agency) if task.lead_agency else "",
            )
        )
    return docs


def agency_documents(session: Session) -> list[AgencyDoc]:
    """One document per agency that appears in a programme or succeeds one that does."""
    agencies = session.scalars(
        select(Agency)
        .options(selectinload(Agency.aliases), selectinload(Agency.successor))
        .order_by(Agency.id)
    ).all()
    predecessors: dict[int, list[Agency]] = {}
    for agency in agencies:
        if agency.successor_id is not None:
            predecessors.setdefault(agency.successor_id, []).append(agency)
    table = default_table()
    docs: list[AgencyDoc] = []
    for agency in agencies:
        variants = tuple(
            alias.text for alias in agency.aliases if alias.kind == AliasKind.VARIANT.value
        )
        abbreviations = [
            alias.text for alias in agency.aliases if alias.kind == AliasKind.ABBREVIATION.value
        ]
        # Ambiguous abbreviations (BQLDA) are not stored; offer them on every agency they fit.
        for short in table.abbreviations.get(agency.folded_name, ()):
            if short not in abbreviations:
                abbreviations.append(short)
        current = current_agency(agency)
        successor_names: list[str] = []
        step = agency.successor
        while step is not None and step.name not in successor_names and step is not agency:
            successor_names.append(step.name)
            step = step.successor
        docs.append(
            AgencyDoc(
                name=agency.name,
                current_name=current.name,
                variants=variants,
                abbreviations=tuple(abbreviations),
                successor_names=tuple(successor_names),
                is_collective=agency.is_collective,
            )
        )
    return docs


def documents(session: Session) -> tuple[list[TaskDoc], list[AgencyDoc]]:
    """Task and agency documents for the search index."""
    return task_documents(session), agency_documents(session)


def referenced_agency_ids(session: Session) -> set[int]:
    """Ids of agencies that lead or partner a task."""
    leads = set(
        session.scalars(select(Task.lead_agency_id).where(Task.lead_agency_id.is_not(None)))
    )
    partners = set(session.scalars(select(TaskPartner.agency_id)))
    return {agency_id for agency_id in leads | partners if agency_id is not None}


@lru_cache(maxsize=1)
def _seed_documents() -> tuple[tuple[TaskDoc, ...], tuple[AgencyDoc, ...]]:
    from data.db import Database
    from data.importer import ensure_seed

    database = Database.connect("sqlite://")
    try:
        ensure_seed(database)
        with database.session() as session:
            tasks, agencies = documents(session)
        return tuple(tasks), tuple(agencies)
    finally:
        database.engine.dispose()


def seed_documents() -> tuple[list[TaskDoc], list[AgencyDoc]]:
    """Documents of the packaged seed decision, imported once into an in-memory database."""
    tasks, agencies = _seed_documents()
    return list(tasks), list(agencies)
