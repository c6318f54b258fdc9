"""Find tasks and agencies from what officials type on a phone (DESIGN.md §4)."""

from __future__ import annotations

import gc
import re
from collections.abc import Iterable, Sequence

from core.textnorm import fold, nfc, words
from data.search.agency_index import AgencyIndex
from data.search.answers import TIE_WITHIN, Answers
from data.search.facts import FactDoc, FactIndex, fact_specs
from data.search.marks import marked_pairs, marks_factor
from data.search.question import Intent, parse_question
from data.search.repair import QueryReader, undo_vni
from data.search.task_index import TaskIndex
from data.search.types import AgencyDoc, Confidence, Hit, HitKind, SearchOutcome, TaskDoc
from data.search.vocabulary import Vocabulary, accented_words, load_vocabulary

# Input beyond these sizes is cut: a lookup never needs more, and it bounds the work.
MAX_INPUT_CHARS = 400
MAX_TOKENS = 16
# Calibrated on queries_dev.tsv and bench/queries_large.tsv (see bench/search_bench.py).
NONE_BELOW = 63.0  # best score under this: nothing is shown
# With words from the vocabulary the best reachable score is lower (they count EXPANSION_FACTOR).
EXPANDED_NONE_BELOW = 45.0
LIST_WITHIN = 25.0  # answers this close to the best follow it as "see also"
# Task scores are scaled by this when the query reads as the start of an agency's name.
AGENCY_INTENT_TASK_SCALE = 0.9
AGENCY_FIRST = 80.0  # an agency this sure is the answer to "what does X do" / "what is X now"
_CODE_RE = re.compile(r"^(?:(?:nv|nhiem\s*vu|task|ma)\s*(?:so\s*)?)?(\d{1,2})[.,](\d{1,2})\.?$")


class SearchEngine:
    """Ranked lookup of tasks (by code or words) and agencies, with a confidence verdict."""

    def __init__(
        self,
        tasks: TaskIndex,
        agencies: AgencyIndex,
        facts: FactIndex | None = None,
        vocabulary: Vocabulary | None = None,
    ) -> None:
        self._tasks = tasks
        self._agencies = agencies
        self._facts = facts or FactIndex((), ())
        df = tasks.words_df()
        for word, count in agencies.words.items():
            df[word] = df.get(word, 0) + count
        self._reader = QueryReader(
            df, tasks.pair_ids, vocabulary if vocabulary is not None else Vocabulary(())
        )
        self._vocab = set(df)
        self._answers = Answers(tasks, agencies)

    @classmethod
    def build(
        cls,
        tasks: Iterable[TaskDoc],
        agencies: Iterable[AgencyDoc],
        facts: Iterable[FactDoc] = (),
        vocabulary: Vocabulary | None = None,
    ) -> SearchEngine:
        """Index the given tasks, agencies and decision facts (vocabulary: the shipped one)."""
        # Indexing allocates millions of short-lived lists and no cycles: without pausing
        # the cyclic collector, its rescans of the growing heap double the build time.
        paused = gc.isenabled()
        gc.disable()
        try:
            return cls(
                TaskIndex(tasks),
                AgencyIndex(list(agencies)),
                FactIndex(facts, fact_specs()),
                vocabulary if vocabulary is not None else load_vocabulary(),
            )
        finally:
            if paused:
                gc.enable()

    def search(self, query: str, limit: int = 5) -> SearchOutcome:
        """Return the best hits for a free-text query, a task code, an agency or a question."""
        limit = max(1, limit)
        text = undo_vni(nfc(query[: MAX_INPUT_CHARS * 2]), self._vocab)
        folded = fold(text)[:MAX_INPUT_CHARS]
        code = _CODE_RE.match(folded.strip())
        if code:
            return self._by_code(query, f"{int(code[1])}.{int(code[2])}", limit)
        tokens = words(folded)[:MAX_TOKENS]
        accented = accented_words(text)[:MAX_TOKENS]
        facts = self._facts.match(tokens)
        if facts:
            return self._fact_outcome(query, facts, limit)
        aligned = accented if len(accented) == len(tokens) else None
        question = parse_question(tokens, "?" in query, aligned)
        if question.personal:
            return SearchOutcome(query, Confidence.NONE)  # a citizen's own errand, not the plan
        content = [tokens[i] for i in question.keep]
        raw = [accented[i] for i in question.keep] if len(accented) == len(tokens) else None
        code = _CODE_RE.match(" ".join(content)) if question.asked else None
        if code:
            outcome = self._by_code(query, f"{int(code[1])}.{int(code[2])}", limit)
            return self._answers.answered(outcome, question)
        parsed = self._reader.parse(content, raw)
        if not parsed.terms:
            return SearchOutcome(query, Confidence.NONE)
        exact = self._agencies.exact_hits(parsed)
        if exact:
            named = sorted(
                (self._agency_hit(a, s) for a, s in exact.items()),
                key=lambda h: (-h.score, h.key),
            )
            outcome = SearchOutcome(query, Confidence.EXACT, tuple(named[:limit]))
            return self._answers.answered(outcome, question)
        agencies, agency_intent = self._agencies.search(parsed, self._vocab)
        about_agency = question.intent in (Intent.TASKS_OF, Intent.SUCCESSION)
        if about_agency and agencies and max(agencies.values()) >= AGENCY_FIRST:
            best = max(agencies.values())
            named = sorted(
                (self._agency_hit(a, s) for a, s in agencies.items() if s >= best - TIE_WITHIN),
                key=lambda h: (-h.score, h.key),
            )
            confidence = Confidence.CONFIDENT if len(named) == 1 else Confidence.AMBIGUOUS
            outcome = SearchOutcome(query, confidence, tuple(named[:limit]))
            return self._answers.answered(outcome, question)
        scale = AGENCY_INTENT_TASK_SCALE if agency_intent else 1.0
        typed = marked_pairs(raw or ())
        titles = self._tasks.titles
        ranked = [
            (s * scale * marks_factor(titles[i], typed), 0, i)
            for i, s in self._tasks.search(parsed)
        ]
        ranked += [(s, 1, a) for a, s in agencies.items()]
        ranked.sort(key=lambda r: (-r[0], r[1], r[2]))
        floor = EXPANDED_NONE_BELOW if any(t.expanded for t in parsed.terms) else NONE_BELOW
        confidence, shown = _verdict([r[0] for r in ranked], limit, floor)
        if not shown:
            return SearchOutcome(query, Confidence.NONE)
        task_rows = [i for _, kind, i in ranked[:shown] if kind == 0]
        matched = dict(zip(task_rows, self._tasks.matched(parsed, task_rows), strict=True))
        if ranked[0][1] == 0 and not matched[ranked[0][2]][1]:
            return SearchOutcome(query, Confidence.NONE)  # generic words alone never answer
        hits = tuple(
            self._task_hit(i, s, matched[i][0]) if kind == 0 else self._agency_hit(i, s)
            for s, kind, i in ranked[:shown]
        )
        return self._answers.answered(SearchOutcome(query, confidence, hits), question)

    def _by_code(self, query: str, code: str, limit: int) -> SearchOutcome:
        found = self._tasks.by_code.get(code, [])
        if not found:
            return SearchOutcome(query, Confidence.NONE)
        hits = tuple(self._task_hit(i, 100.0) for i in found[:limit])
        confidence = Confidence.EXACT if len(found) == 1 else Confidence.AMBIGUOUS
        return SearchOutcome(query, confidence, hits)

    def _fact_outcome(self, query: str, facts: list[FactDoc], limit: int) -> SearchOutcome:
        """A fact about the decision: the answer line, and the agency it names as hits."""
        fact = facts[0]
        by_name = {a.name: i for i, a in enumerate(self._agencies.agencies)}
        hits = tuple(
            self._agency_hit(by_name[name], 100.0) for name in fact.agencies if name in by_name
        )[:limit]
        confidence = Confidence.EXACT if hits else Confidence.NONE
        return SearchOutcome(query, confidence, hits, answer=fact.answer, source=fact.sentence)

    def _task_hit(self, index: int, score: float, matched: tuple[str, ...] = ()) -> Hit:
        tasks = self._tasks
        return Hit(
            HitKind.TASK,
            tasks.codes[index],
            tasks.titles[index],
            round(score, 2),
            tasks.programmes[index],
            matched,
        )

    def _agency_hit(self, index: int, score: float) -> Hit:
        agency = self._agencies.agencies[index]
        return Hit(HitKind.AGENCY, agency.name, agency.current_name, round(score, 2))


def _verdict(
    scores: Sequence[float], limit: int, none_below: float = NONE_BELOW
) -> tuple[Confidence, int]:
    """From scores sorted best first: none, one clear answer or a choice, and how many to show."""
    if not scores or scores[0] < none_below:
        return Confidence.NONE, 0
    top = scores[0]
    floor = max(none_below, top - LIST_WITHIN)
    shown = min(limit, sum(1 for s in scores if s >= floor))
    tied = sum(1 for s in scores if s >= top - TIE_WITHIN)
    return (Confidence.AMBIGUOUS if tied > 1 else Confidence.CONFIDENT), shown
