"""The JSON report: an array with one object per task, written as the tasks stream in."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, Any

from data.reports import text as rt
from data.reports.summary import Summary
from data.reports.task_reports import AgencyPart, TaskReport


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def part_json(part: AgencyPart) -> dict[str, Any]:
    """One agency's part of a task."""
    return {
        "agency": part.name,
        "agency_2021": part.name_2021,
        "label": part.label,
        "role": part.role,
        "status": part.status if part.reported else None,
        "status_label": rt.status_phrase(part),
        "progress": part.progress if part.reported else None,
        "classification": part.classification,
        "classification_label": rt.class_label(part.classification),
        "result": part.result,
        "blocker": part.blocker,
        "blocker_text": part.blocker_text if part.blocker else "",
        "proposal": part.proposal,
        "reported_at": _iso(part.updated_at),
        "update_id": part.update_id,
        "returned": part.returned,
        "returned_reason": part.returned_reason,
    }


def task_json(task: TaskReport) -> dict[str, Any]:
    """One task with its lead, partners and each agency's latest status and classification."""
    main = task.main
    return {
        "programme": task.programme,
        "sector": task.sector_number,
        "sector_name": task.sector_name,
        "code": task.code,
        "title": task.title,
        "deadline": task.deadline.isoformat(),
        "lead": task.lead,
        "lead_current": main.name if main is not None and main.role == "lead" else None,
        "partners": list(task.partners),
        "status": task.status_key,
        "classification": task.class_key,
        "classification_label": rt.class_label(task.class_key),
        "agencies": [part_json(part) for part in task.parts],
    }


def write_json(tasks: Iterable[TaskReport], summary: Summary, out: IO[str]) -> Summary:
    """Write `[` one object per task `]`, each object as soon as its task is read."""
    out.write("[")
    for index, task in enumerate(summary.observe(tasks)):
        out.write(",\n" if index else "\n")
        out.write(json.dumps(task_json(task), ensure_ascii=False))
    out.write("\n]\n")
    return summary
