"""Answer lines of lookups: an agency's duties with what it took over, facts, off-topic frames."""

from __future__ import annotations

import re
from typing import Any

import pytest

from data.documents import seed_documents
from data.search_types import AgencyDoc, HitKind, TaskDoc
from data.textnorm import fold

TASKS, AGENCIES = seed_documents()


def _family_led(agency: AgencyDoc, tasks: tuple[TaskDoc, ...]) -> list[str]:
    """Codes led by the agency or by any agency that was merged into it."""
    name = agency.name
    return [
        t.code
        for t in tasks
        if t.lead_answer in {name} or t.lead_answer.startswith(f"{name} (năm 2021:")
    ]


SUCCESSORS = [
    a
    for a in AGENCIES
    if a.current_name == a.name
    and any(o.current_name == a.name and o.name != a.name for o in AGENCIES)
    and _family_led(a, TASKS)
]
DUTY_FRAMES = ["{} giờ chủ trì những gì", "{} làm gì", "{} phụ trách gì"]


def test_the_seed_has_agencies_that_took_others_over() -> None:
    assert {a.name for a in SUCCESSORS} >= {"Sở Xây dựng", "Sở Tài chính"}


@pytest.mark.parametrize("frame", DUTY_FRAMES)
@pytest.mark.parametrize("agency", SUCCESSORS, ids=lambda a: a.name)
def test_duties_count_the_tasks_taken_over(
    search_engine: Any, frame: str, agency: AgencyDoc
) -> None:
    led = _family_led(agency, TASKS)
    for query in (frame.format(agency.name.lower()), fold(frame.format(agency.name))):
        outcome = search_engine.search(query)
        assert outcome.hits[0].kind is HitKind.AGENCY, query
        answer = outcome.answer
        assert answer.startswith(f"{agency.name} chủ trì {len(led)} nhiệm vụ"), (query, answer)
        listed = re.findall(r"\b\d{1,2}\.\d{1,2}\b", answer.split(": ", 1)[1].split(";")[0])
        assert set(led) <= set(listed), (query, answer)
        assert "tiếp nhận từ" in answer


@pytest.mark.parametrize(
    "agency", [a for a in AGENCIES if not a.is_collective], ids=lambda a: a.name
)
def test_no_zero_counts_in_duty_answers(search_engine: Any, agency: AgencyDoc) -> None:
    answer = search_engine.search(f"{agency.name} làm gì").answer
    assert " 0 nhiệm vụ" not in answer
    assert "không có;" not in answer
