"""Documents the search index is built from, and what a search returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class HitKind(StrEnum):
    """What a search hit points at."""

    TASK = "task"
    AGENCY = "agency"


@dataclass(frozen=True)
class TaskDoc:
    """The searchable text of one task."""

    programme: str  # decision number, e.g. "1731/QĐ-UBND"
    code: str
    title: str
    sector: str = ""
    measures: tuple[str, ...] = ()
    lead: str = ""
    lead_answer: str = ""  # today's name, with the 2021 name where it changed
    partners: tuple[str, ...] = ()  # cooperating agencies, named as lead_answer


@dataclass(frozen=True)
class AgencyDoc:
    """The searchable names of one agency."""

    name: str  # the name as in the decision (2021)
    current_name: str  # successor's name, or name itself
    variants: tuple[str, ...] = ()
    abbreviations: tuple[str, ...] = ()
    successor_names: tuple[str, ...] = ()
    is_collective: bool = False
    succession: str = ""  # "từ 01/03/2025, <basis>" when taken over


@dataclass(frozen=True)
class Hit:
    """One ranked answer with a score in [0, 100]."""

    kind: HitKind
    key: str  # task code or agency name (2021)
    label: str  # title or current name
    score: float
    programme: str = ""
    matched: tuple[str, ...] = ()  # folded query words found in the task (for "khớp: …")


class Confidence(StrEnum):
    """How sure the engine is about its top answer(s)."""

    EXACT = "exact"  # a code or full name matched
    CONFIDENT = "confident"  # one clear winner (or a few clear winners)
    AMBIGUOUS = "ambiguous"  # top answers too close: offer a choice
    NONE = "none"  # nothing worth showing


@dataclass(frozen=True)
class SearchOutcome:
    """The ranked hits (best first) and how confident the engine is."""

    query: str
    confidence: Confidence
    hits: tuple[Hit, ...] = field(default_factory=tuple)
    answer: str = ""  # one line answering the question the query asks, if it asks one
    source: str = ""  # the decision's sentence the answer comes from, if any

    @property
    def found(self) -> bool:
        """Whether anything is worth showing."""
        return self.confidence is not Confidence.NONE and bool(self.hits)
