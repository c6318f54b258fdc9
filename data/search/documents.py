"""Build the search documents (tasks and agencies) from the database or the seed."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.textnorm import fold
from data.importing.agency_names import default_table
from data.search.facts import FactDoc, FactSpec, fact_specs, render_answer
from data.search.types import AgencyDoc, TaskDoc
from data.store.models import Agency, AliasKind, Programme, Task, TaskPartner
from data.store.succession import current_agency, display_name, short_basis


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
            selectinload(Task.partners).selectinload(TaskPartner.agency),
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
                lead_answer=answer_name(task.lead_agency) if task.lead_agency else "",
                partners=tuple(answer_name(p.agency) for p in task.partners),
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
                succession=_succession_note(agency),
            )
        )
    return docs


def _succession_note(agency: Agency) -> str:
    """When and on what basis, in one short line; an unconfirmed basis is for admins' cards only."""
    if agency.successor is None:
        return ""
    parts = []
    if agency.successor_effective_on is not None:
        parts.append(f"từ {agency.successor_effective_on:%d/%m/%Y}")
    if agency.successor_basis and agency.successor_confirmed:
        parts.append(f"căn cứ: {short_basis(agency.successor_basis)}")
    return ", ".join(parts)


def answer_name(agency: Agency) -> str:
    """Today's name first, with the 2021 name where it changed: "Sở Xây dựng (năm 2021: …)"."""
    current = current_agency(agency)
    return agency.name if current is agency else f"{current.name} (năm 2021: {agency.name})"


def _coordinator_name(agency: Agency | None) -> str:
    if agency is None:
        return "cơ quan đầu mối"
    current = current_agency(agency)
    return agency.name if current is agency else f"{agency.name} (nay là {current.name})"


def fact_documents(session: Session, specs: Sequence[FactSpec] | None = None) -> list[FactDoc]:
    """The facts of every imported decision, with the sentences stored at import."""
    specs = fact_specs() if specs is None else specs
    programmes = session.scalars(
        select(Programme)
        .options(
            selectinload(Programme.facts),
            selectinload(Programme.coordinating_agency).selectinload(Agency.successor),
        )
        .order_by(Programme.id)
    ).all()
    docs: list[FactDoc] = []
    for programme in programmes:
        sentences = {fact.kind: fact.sentence for fact in programme.facts}
        coordinator = programme.coordinating_agency
        values = {
            **_text_values(programme, sentences),
            "report_date": f"{programme.report_day:02d}/{programme.report_month:02d}",
            "coordinator": _coordinator_name(coordinator),
            "decision": programme.decision_number,
            "issued_on": f"{programme.issued_on:%d/%m/%Y}" if programme.issued_on else "(chưa rõ)",
            "issuer": programme.issuer or "UBND tỉnh",
        }
        for spec in specs:
            names = (coordinator.name,) if spec.names_coordinator and coordinator else ()
            answer = render_answer(spec, values)
            if _UNFILLED_RE.search(answer):
                continue  # the decision does not state it (or its text was not imported)
            docs.append(
                FactDoc(
                    programme=programme.decision_number,
                    kind=spec.kind,
                    answer=answer,
                    sentence=sentences.get(spec.kind, ""),
                    agencies=names,
                )
            )
    return docs


_UNFILLED_RE = re.compile(r"\{\w+\}")
_VISION_RE = re.compile(r"tam nhin den nam (\d{4})")
_DATE_RE = re.compile(r"\d{1,2}/\d{1,2}/\d{4}")
_EXECUTORS_RE = re.compile(
    r"^(?:Điều\s+\d+\.\s*)?(.+?),?\s+chịu trách nhiệm thi hành", re.IGNORECASE
)


def _text_values(programme: Programme, sentences: dict[str, str]) -> dict[str, str]:
    """Answer values read from the decision's title and stored sentences (absent: left out)."""
    values: dict[str, str] = {}
    issued = f"{programme.issued_on:%d/%m/%Y}" if programme.issued_on else ""
    vision = _VISION_RE.search(fold(programme.title or "")) or _VISION_RE.search(
        fold(sentences.get("vision", ""))
    )
    if vision:
        values["vision_year"] = vision.group(1)
    effective = sentences.get("effective", "")
    if "ke tu ngay ky" in fold(effective):
        values["effective"] = f"kể từ ngày ký ({issued})" if issued else "kể từ ngày ký"
    elif date := _DATE_RE.search(effective):
        values["effective"] = f"từ ngày {date.group(0)}"
    executors = _EXECUTORS_RE.search(sentences.get("executors", ""))
    if executors:
        values["executors"] = executors.group(1).strip(" ;,")
    block = sentences.get("signed", "")
    role = _signer_role(fold(block))
    name = (programme.signer or "").strip()
    if role or name:
        where = programme.issuer or "UBND tỉnh"
        values["signed_by"] = " ".join(p for p in (f"{role} {where}" if role else "", name) if p)
    return values


def _signer_role(block: str) -> str:
    """ "Chủ tịch", "Phó Chủ tịch (ký thay Chủ tịch)" from a folded signature block."""
    if "pho chu tich" in block:
        return "Phó Chủ tịch" + (" (ký thay Chủ tịch)" if block.startswith("kt") else "")
    return "Chủ tịch" if "chu tich" in block else ""


def documents(session: Session) -> tuple[list[TaskDoc], list[AgencyDoc]]:
    """Task and agency documents for the search index."""
    return task_documents(session), agency_documents(session)


@lru_cache(maxsize=1)
def _seed_documents() -> tuple[tuple[TaskDoc, ...], tuple[AgencyDoc, ...]]:
    from data.importing.importer import ensure_seed
    from data.store.db import Database

    database = Database.connect("sqlite://")
    try:
        ensure_seed(database)
        with database.session() as session:
            tasks, agencies = documents(session)
        return tuple(tasks), tuple(agencies)
    finally:
        database.engine.dispose()


@lru_cache(maxsize=1)
def _seed_facts() -> tuple[FactDoc, ...]:
    from data.importing.importer import ensure_seed
    from data.store.db import Database

    database = Database.connect("sqlite://")
    try:
        ensure_seed(database)
        with database.session() as session:
            return tuple(fact_documents(session))
    finally:
        database.engine.dispose()


def seed_facts() -> list[FactDoc]:
    """Facts of the packaged seed decision."""
    return list(_seed_facts())


def seed_documents() -> tuple[list[TaskDoc], list[AgencyDoc]]:
    """Documents of the packaged seed decision, imported once into an in-memory database."""
    tasks, agencies = _seed_documents()
    return list(tasks), list(agencies)
