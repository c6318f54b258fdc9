"""Export the loaded programmes, tasks and agencies as JSON-ready data."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from data.store.models import Agency, AliasKind, Programme, Task, TaskPartner
from data.store.succession import current_agency


def _agency_ref(agency: Agency | None) -> str | None:
    return agency.name if agency is not None else None


def _task(task: Task) -> dict[str, Any]:
    lead = task.lead_agency
    return {
        "code": task.code,
        "title": task.title,
        "sector": task.sector.number,
        "sector_name": task.sector.name,
        "lead": _agency_ref(lead),
        "lead_current": current_agency(lead).name if lead is not None else None,
        "partners": [partner.agency.name for partner in task.partners],
        "partners_current": [current_agency(partner.agency).name for partner in task.partners],
        "measures": [
            {"heading": measure.heading, "text": measure.text} for measure in task.measures
        ],
        "target_years": list(task.target_years or []),
    }


def _agency(agency: Agency) -> dict[str, Any]:
    successor = agency.successor
    return {
        "name": agency.name,
        "current_name": current_agency(agency).name,
        "kind": agency.kind,
        "is_collective": agency.is_collective,
        "variants": [a.text for a in agency.aliases if a.kind == AliasKind.VARIANT.value],
        "abbreviations": [a.text for a in agency.aliases if a.kind == AliasKind.ABBREVIATION.value],
        "successor": None
        if successor is None
        else {
            "name": successor.name,
            "effective_on": agency.successor_effective_on.isoformat()
            if agency.successor_effective_on
            else None,
            "basis": agency.successor_basis,
            "confirmed": agency.successor_confirmed,
        },
    }


def export_programmes(session: Session) -> dict[str, Any]:
    """Programmes with sectors and tasks, and every agency with its successor."""
    programmes = session.scalars(
        select(Programme)
        .options(
            selectinload(Programme.sectors),
            selectinload(Programme.tasks).selectinload(Task.measures),
            selectinload(Programme.tasks)
            .selectinload(Task.partners)
            .selectinload(TaskPartner.agency),
            selectinload(Programme.tasks).selectinload(Task.lead_agency),
            selectinload(Programme.coordinating_agency),
        )
        .order_by(Programme.id)
    ).all()
    agencies = session.scalars(
        select(Agency)
        .options(selectinload(Agency.aliases), selectinload(Agency.successor))
        .order_by(Agency.id)
    ).all()
    return {
        "programmes": [
            {
                "decision_number": programme.decision_number,
                "issued_on": programme.issued_on.isoformat() if programme.issued_on else None,
                "issuer": programme.issuer,
                "signer": programme.signer,
                "title": programme.title,
                "coordinating_agency": _agency_ref(programme.coordinating_agency),
                "coordinating_agency_current": current_agency(programme.coordinating_agency).name
                if programme.coordinating_agency
                else None,
                "report_deadline": {"day": programme.report_day, "month": programme.report_month},
                "sectors": [
                    {"number": sector.number, "name": sector.name} for sector in programme.sectors
                ],
                "tasks": [_task(task) for task in programme.tasks],
            }
            for programme in programmes
        ],
        "agencies": [_agency(agency) for agency in agencies],
    }
