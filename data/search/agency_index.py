"""The agency index: names, variants, abbreviations, acronyms and successor names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.textnorm import words
from data.search.acronyms import (
    EXPANSIONS,
    FUNCTION_WORDS,
    LOCATION_WORDS,
    compact,
    name_acronyms,
)
from data.search.query import Query
from data.search.types import AgencyDoc

# Agency-name words that say little on their own ("Sở", "Ban", a place name).
_AGENCY_WORD_WEIGHT = {"so": 0.5, "ban": 0.5, "tinh": 0.2, "quang": 0.2, "ngai": 0.2}


@dataclass(frozen=True, slots=True)
class _AgencyForm:
    """One way of writing an agency's name, as folded words."""

    agency: int
    tokens: frozenset[str]
    sequence: tuple[str, ...]  # the words in order, function words left out
    weight: float
    successor: bool


def _agency_weight(token: str) -> float:
    """How much an agency-name word says about which agency is meant."""
    if token in FUNCTION_WORDS:
        return 0.0
    return _AGENCY_WORD_WEIGHT.get(token, 1.0)


def _exact_keys(tokens: Sequence[str]) -> set[str]:
    """Keys under which a name counts as typed exactly (function words, place dropped)."""
    core = [t for t in tokens if t not in FUNCTION_WORDS]
    keys = {" ".join(core)}
    trimmed = list(core)
    while trimmed and trimmed[-1] in LOCATION_WORDS:
        trimmed.pop()
    if len(trimmed) >= 2:
        keys.add(" ".join(trimmed))
    return {k for k in keys if k}


def _expanded(tokens: list[str]) -> list[str]:
    """Name words with abbreviations (KKT, UBND) spelled out."""
    out: list[str] = []
    for t in tokens:
        out.extend(EXPANSIONS.get(t, (t,)))
    return out


class AgencyIndex:
    """Agency names, variants, abbreviations, acronyms and successor names."""

    def __init__(self, agencies: Sequence[AgencyDoc]) -> None:
        self.agencies = agencies
        self.forms: list[_AgencyForm] = []
        self.by_token: dict[str, list[int]] = {}
        self.exact: dict[str, set[tuple[int, bool]]] = {}
        self.acronyms: dict[str, set[tuple[int, bool]]] = {}
        self.words: dict[str, int] = {}
        for i, agency in enumerate(agencies):
            own = [agency.name, *agency.variants]
            succ = [n for n in (agency.current_name, *agency.successor_names) if n not in own]
            for names, successor in ((own, False), (succ, True)):
                for name in names:
                    self._add_name(i, name, successor)
            for abbr in agency.abbreviations:
                key = compact(abbr)
                if len(key) >= 2:
                    self.acronyms.setdefault(key, set()).add((i, False))
                self._add_name(i, abbr, False, acronyms=False)

    def _add_name(self, agency: int, name: str, successor: bool, acronyms: bool = True) -> None:
        tokens = words(name)
        if not tokens:
            return
        for variant in {tuple(tokens), tuple(_expanded(tokens))}:
            form_id = len(self.forms)
            toks = frozenset(variant)
            weight = sum(_agency_weight(t) for t in toks) or 1.0
            sequence = tuple(t for t in variant if t not in FUNCTION_WORDS)
            self.forms.append(_AgencyForm(agency, toks, sequence, weight, successor))
            for t in toks:
                self.by_token.setdefault(t, []).append(form_id)
                self.words[t] = self.words.get(t, 0) + 1
            for key in _exact_keys(variant):
                self.exact.setdefault(key, set()).add((agency, successor))
        if acronyms:
            for acro in name_acronyms(name):
                self.acronyms.setdefault(acro, set()).add((agency, successor))

    def exact_hits(self, query: Query) -> dict[int, float]:
        """Agencies whose name, abbreviation or acronym the query spells out exactly."""
        found: dict[int, float] = {}
        if not query.any_fuzzy:
            for key in _exact_keys([t.text for t in query.terms]):
                for agency, successor in self.exact.get(key, ()):
                    found[agency] = max(found.get(agency, 0.0), 99.0 if successor else 100.0)
        for key in query.compacts:
            for agency, successor in self.acronyms.get(key, ()):
                found[agency] = max(found.get(agency, 0.0), 99.0 if successor else 100.0)
        return found

    def search(self, query: Query, vocabulary: set[str]) -> tuple[dict[int, float], bool]:
        """Return agency -> score 0..100 by shared words and acronym prefixes.

        The flag says the query reads as the start of an agency's name ("sở giáo dục"), which
        should outrank tasks that merely contain the same words ("cơ sở giáo dục").
        """
        best: dict[int, float] = {}
        intent = False
        q_weights = {t.text: _agency_weight(t.text) * t.factor for t in query.terms}
        q_total = sum(_agency_weight(t.text) for t in query.terms) or 1.0
        q_seq = tuple(t.text for t in query.terms if t.text not in FUNCTION_WORDS)
        seen: set[int] = set()
        for term in query.terms:
            for form_id in self.by_token.get(term.text, ()):
                if form_id in seen:
                    continue
                seen.add(form_id)
                form = self.forms[form_id]
                matched = [t for t in q_weights if t in form.tokens]
                qcov = sum(q_weights[t] for t in matched) / q_total
                fcov = sum(_agency_weight(t) for t in matched) / form.weight
                if len(q_seq) >= 2 and form.sequence[: len(q_seq)] == q_seq:
                    intent = True
                    score = min(99.0, 90.0 + 9.0 * fcov)
                else:
                    score = min(95.0, 100.0 * (0.7 * qcov + 0.3 * fcov))
                score -= 1.0 if form.successor else 0.0
                if score > best.get(form.agency, 0.0):
                    best[form.agency] = score
        # An acronym's first letters ("svh", "bqlkkt"), unless the query is a plain word.
        if query.compacts and query.compacts[0] not in vocabulary:
            for key in query.compacts:
                if len(key) < 3:
                    continue
                for acro, owners in self.acronyms.items():
                    if len(acro) > len(key) and acro.startswith(key):
                        score = 80.0 + 15.0 * len(key) / len(acro)
                        for agency, successor in owners:
                            score_a = score - (1.0 if successor else 0.0)
                            if score_a > best.get(agency, 0.0):
                                best[agency] = score_a
        return best, intent
