"""Find tasks and agencies from what officials type on a phone (DESIGN.md §4)."""

from __future__ import annotations

import math
import re
import unicodedata
from array import array
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import bm25s
import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from data.acronyms import (
    EXPANSIONS,
    FUNCTION_WORDS,
    LOCATION_WORDS,
    compact,
    name_acronyms,
    telex_decode,
)
from data.search_types import (
    AgencyDoc,
    Confidence,
    Hit,
    HitKind,
    SearchOutcome,
    TaskDoc,
)

# Input beyond these sizes is cut: a lookup never needs more, and it bounds the work.
MAX_INPUT_CHARS = 400
MAX_TOKENS = 16
# BM25 picks this many task candidates; only they get the costlier fuzzy scoring.
TOP_K = 30
FUZZY_K = 10  # of which this many best get partial_ratio and may be returned
# Calibrated on queries_dev.tsv and bench/queries_large.tsv (see bench/search_bench.py).
NONE_BELOW = 63.0  # best score under this: nothing is shown
TIE_WITHIN = 4.0  # answers this close to the best make the outcome ambiguous
LIST_WITHIN = 12.0  # answers this close to the best are listed after it

# Weights of word coverage, title coverage, bigram coverage, partial_ratio, BM25 / ideal BM25.
FUSION = (0.30, 0.10, 0.35, 0.15, 0.10)
FUZZY_FACTOR = 0.75  # a typo-corrected word counts for this much of a typed one
# Task scores are scaled by this when the query reads as the start of an agency's name.
AGENCY_INTENT_TASK_SCALE = 0.9
MIN_FUZZY_LEN = 3  # shorter words are never typo-corrected
FREE_FUZZY_LEN = 6  # shorter words are corrected only when a neighbour confirms the fix
BIGRAM_BM25_WEIGHT = 0.6
TITLE_REPEAT = 2  # title words count twice in BM25 (a cheap field boost)

_CODE_RE = re.compile(r"^(?:(?:nv|nhiem\s*vu|task|ma)\s*(?:so\s*)?)?(\d{1,2})[.,](\d{1,2})\.?$")
# Chat filler dropped from queries when it is not a word of the index.
_FILLER = frozenset(
    {"ai", "gi", "nao", "giup", "minh", "oi", "a", "nhe", "nha", "ha", "vay", "khong"}
)
# Agency-name words that say little on their own ("Sở", "Ban", a place name).
_AGENCY_WORD_WEIGHT = {"so": 0.5, "ban": 0.5, "tinh": 0.2, "quang": 0.2, "ngai": 0.2}


# Same words as data.textnorm.words, but folding with one translate() call: indexing
# 100,000 tasks through the per-character version takes most of a minute.
_WORD_RE = re.compile(r"\d+(?:\.\d+)*|[^\W\d_]+|\d+", re.UNICODE)
_FOLD_TABLE: dict[int, str | None] = {
    c: None for c in range(0x10000) if unicodedata.combining(chr(c))
} | {ord("đ"): "d", ord("Đ"): "d"}


def fold(text: str) -> str:
    """Lower-case text without Vietnamese marks, đ as d (as data.textnorm.fold, faster)."""
    return unicodedata.normalize("NFD", text).translate(_FOLD_TABLE).casefold()


def words(text: str) -> list[str]:
    """Folded words; dotted numbers such as 2.4 stay one word."""
    return _WORD_RE.findall(fold(text))


@dataclass(frozen=True, slots=True)
class _Term:
    """One query word after repair, with how much it is trusted."""

    text: str
    factor: float  # 1.0 typed or decoded, FUZZY_FACTOR corrected, 0.0 unknown
    fuzzy: bool = False


@dataclass(frozen=True, slots=True)
class _Query:
    """A normalised query: repaired words, their bigrams, text for fuzzy scoring."""

    terms: tuple[_Term, ...]
    bigrams: tuple[str, ...]
    text: str
    compacts: tuple[str, ...]

    @property
    def any_fuzzy(self) -> bool:
        """Whether a word was corrected by edit distance (not an exact spelling)."""
        return any(t.fuzzy or t.factor == 0.0 for t in self.terms)


class _Postings:
    """Token -> sorted document ids (CSC layout), for presence tests on candidates."""

    def __init__(self, indptr: npt.NDArray[np.int64], indices: npt.NDArray[np.int32]) -> None:
        self.indptr = indptr
        self.indices = indices

    @classmethod
    def from_docs(cls, docs: Sequence[Sequence[int]], n_tokens: int) -> _Postings:
        """Build from each document's token ids."""
        lengths = np.fromiter((len(d) for d in docs), dtype=np.int64, count=len(docs))
        tok = np.fromiter((t for d in docs for t in d), dtype=np.int64, count=int(lengths.sum()))
        doc = np.repeat(np.arange(len(docs), dtype=np.int64), lengths)
        keys = np.unique((tok << 32) | doc)
        toks, ids = keys >> 32, (keys & 0xFFFFFFFF).astype(np.int32)
        indptr = np.zeros(n_tokens + 1, dtype=np.int64)
        np.cumsum(np.bincount(toks, minlength=n_tokens), out=indptr[1:])
        return cls(indptr, ids)

    def present(self, token_id: int, docs: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        """Which of docs contain the token."""
        posting = self.indices[self.indptr[token_id] : self.indptr[token_id + 1]]
        if posting.size == 0:
            return np.zeros(docs.shape, dtype=bool)
        pos = np.minimum(np.searchsorted(posting, docs), posting.size - 1)
        return np.asarray(posting[pos] == docs)


def _grams(tokens: Sequence[str]) -> list[str]:
    """Unigrams followed by adjacent bigrams."""
    return [*tokens, *map(" ".join, zip(tokens, tokens[1:], strict=False))]


class _TaskIndex:
    """BM25 over task titles, sectors and measures, with per-candidate fused scoring."""

    def __init__(self, tasks: Iterable[TaskDoc]) -> None:
        # Only what a hit shows is kept: the caller's documents (with their long measures)
        # are not pinned in memory by the index.
        self.programmes: list[str] = []
        self.codes: list[str] = []
        self.titles: list[str] = []
        self.texts: list[str] = []
        self.by_code: dict[str, list[int]] = {}
        # A missing token gets the next id; map() over it keeps tokenising at C speed.
        ids: defaultdict[str, int] = defaultdict()
        ids.default_factory = ids.__len__
        lookup = ids.__getitem__
        # Compact int arrays: at 100,000 tasks, lists of ints would cost hundreds of MB.
        body_ids: list[array[int]] = []
        title_ids: list[array[int]] = []
        interned: dict[str, str] = {}
        sector_grams: dict[str, tuple[list[str], list[int]]] = {}
        for i, task in enumerate(tasks):
            self.programmes.append(interned.setdefault(task.programme, task.programme))
            self.codes.append(task.code)
            self.titles.append(task.title)
            self.by_code.setdefault(task.code, []).append(i)
            title, *measures = (
                _WORD_RE.findall(f) for f in fold("\n".join([task.title, *task.measures])).split("\n")
            )
            if task.sector not in sector_grams:
                sector_words = words(task.sector)
                sector_grams[task.sector] = (sector_words, list(map(lookup, _grams(sector_words))))
            sector_words, sector_ids = sector_grams[task.sector]
            title_grams = array("i", map(lookup, _grams(title)))
            body = title_grams * TITLE_REPEAT
            body.extend(sector_ids)
            for field in measures:
                body.extend(map(lookup, _grams(field)))
            body.append(lookup(task.code))
            body_ids.append(body)
            title_ids.append(title_grams)
            self.texts.append(" ".join([*title, *sector_words, *(w for f in measures for w in f)]))
        self.token_ids: dict[str, int] = dict(ids)
        del ids
        self.n = len(self.codes)
        if self.n:
            retriever = bm25s.BM25(k1=1.2, b=0.5, csc_backend="scipy")
            retriever.index((body_ids, self.token_ids), create_empty_token=False, show_progress=False)
            scores = retriever.scores
            del retriever, body_ids
            self.data: npt.NDArray[np.float32] = scores["data"]
            self.body = _Postings(scores["indptr"].astype(np.int64), scores["indices"])
            # Each token's best BM25 contribution: a document scoring this on every query
            # word is the ideal, so BM25 becomes an absolute measure in [0, 1].
            self.best = np.maximum.reduceat(self.data, self.body.indptr[:-1])
        else:
            self.data = np.zeros(0, dtype=np.float32)
            self.body = _Postings(np.zeros(1, dtype=np.int64), np.zeros(0, np.int32))
            self.best = np.zeros(0, dtype=np.float32)
        self.title = _Postings.from_docs(title_ids, len(self.token_ids))
        self.df = np.diff(self.body.indptr)
        self.idf_unknown = math.log(1.0 + (max(self.n, 1) + 0.5) / 0.5)

    def idf(self, token: str) -> float:
        """Inverse document frequency (Lucene form); unknown words weigh the most."""
        tid = self.token_ids.get(token)
        if tid is None:
            return self.idf_unknown
        df = float(self.df[tid])
        return math.log(1.0 + (self.n - df + 0.5) / (df + 0.5))

    def words_df(self) -> dict[str, int]:
        """Single words of the index with their document frequency."""
        return {t: int(self.df[i]) for t, i in self.token_ids.items() if " " not in t}

    def search(self, query: _Query) -> list[tuple[int, float]]:
        """Return (task index, score 0..100) for the best candidates."""
        if self.n == 0 or not query.terms:
            return []
        uni = [(self.token_ids.get(t.text), t) for t in query.terms]
        big = [self.token_ids.get(b) for b in query.bigrams]
        scores = np.zeros(self.n, dtype=np.float32)
        indptr, indices = self.body.indptr, self.body.indices
        weighted = [(tid, t.factor) for tid, t in uni if tid is not None and t.factor > 0]
        weighted += [(tid, BIGRAM_BM25_WEIGHT) for tid in big if tid is not None]
        for tid, factor in weighted:
            lo, hi = indptr[tid], indptr[tid + 1]
            scores[indices[lo:hi]] += factor * self.data[lo:hi]
        nonzero = int(np.count_nonzero(scores))
        if nonzero == 0:
            return []
        if nonzero <= TOP_K:
            cands = np.flatnonzero(scores).astype(np.int64)
        else:
            cands = np.argpartition(-scores, TOP_K)[:TOP_K].astype(np.int64)
        ideal = sum(factor * float(self.best[tid]) for tid, factor in weighted)
        bm = scores[cands] / ideal

        weights = np.array([self.idf(t.text) for _, t in uni], dtype=np.float64)
        total = float(weights.sum()) or 1.0
        absent = np.zeros(cands.shape, dtype=bool)
        present: list[npt.NDArray[np.bool_]] = []
        cov = np.zeros(cands.shape, dtype=np.float64)
        tcov = np.zeros(cands.shape, dtype=np.float64)
        for (tid, term), w in zip(uni, weights, strict=True):
            if tid is None or term.factor == 0.0:
                present.append(absent)
                continue
            here = self.body.present(tid, cands)
            present.append(here)
            cov += w * term.factor * here
            tcov += w * term.factor * self.title.present(tid, cands)
        cov /= total
        tcov /= total
        if len(uni) >= 2:
            # An adjacent pair counts fully; two rare words apart count by their rarity.
            rarity = np.minimum(weights / self.idf_unknown, 1.0)
            bcov = np.zeros(cands.shape, dtype=np.float64)
            for j, tid in enumerate(big):
                trust = min(uni[j][1].factor, uni[j + 1][1].factor)
                apart = (present[j] & present[j + 1]) * min(rarity[j], rarity[j + 1])
                if tid is not None:
                    apart = np.maximum(self.body.present(tid, cands), apart)
                bcov += trust * apart
            bcov /= len(big)
        else:
            bcov = cov
        w = FUSION
        fused = 100.0 * (w[0] * cov + w[1] * tcov + w[2] * bcov + w[4] * bm)
        # partial_ratio is the costly part: only the leaders can still change places with it.
        order = np.argsort(-fused)[:FUZZY_K]
        return [
            (
                int(cands[j]),
                float(fused[j]) + 100.0 * w[3] * self._partial(query.text, int(cands[j])),
            )
            for j in order
        ]

    def _partial(self, text: str, doc: int) -> float:
        """How well the query text aligns with a window of the document, 0..1."""
        return float(fuzz.partial_ratio(text, self.texts[doc])) / 100.0


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


class _AgencyIndex:
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

    def exact_hits(self, query: _Query) -> dict[int, float]:
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

    def search(self, query: _Query, vocabulary: set[str]) -> tuple[dict[int, float], bool]:
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
        if not all(c in vocabulary for c in query.compacts[:1]):
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


class SearchEngine:
    """Ranked lookup of tasks (by code or words) and agencies, with a confidence verdict."""

    def __init__(self, tasks: _TaskIndex, agencies: _AgencyIndex) -> None:
        self._tasks = tasks
        self._agencies = agencies
        df = tasks.words_df()
        for word, count in agencies.words.items():
            df[word] = df.get(word, 0) + count
        self._df = df
        self._vocab = set(df)
        self._vocab_list = sorted(df)
        self._bigrams = {t for t in tasks.token_ids if " " in t}

    @classmethod
    def build(cls, tasks: Iterable[TaskDoc], agencies: Iterable[AgencyDoc]) -> SearchEngine:
        """Index the given tasks and agencies."""
        return cls(_TaskIndex(tasks), _AgencyIndex(list(agencies)))

    def search(self, query: str, limit: int = 5) -> SearchOutcome:
        """Return the best hits for a free-text query, a task code or an agency name."""
        limit = max(1, limit)
        raw = query[: MAX_INPUT_CHARS * 2]
        folded = fold(raw)[:MAX_INPUT_CHARS]
        code = _CODE_RE.match(folded.strip())
        if code:
            return self._by_code(query, f"{int(code[1])}.{int(code[2])}", limit)
        parsed = self._parse(folded)
        if not parsed.terms:
            return SearchOutcome(query, Confidence.NONE)
        exact = self._agencies.exact_hits(parsed)
        if exact:
            hits = [self._agency_hit(a, s) for a, s in exact.items()]
            hits.sort(key=lambda h: (-h.score, h.key))
            return SearchOutcome(query, Confidence.EXACT, tuple(hits[:limit]))
        agencies, agency_intent = self._agencies.search(parsed, self._vocab)
        scale = AGENCY_INTENT_TASK_SCALE if agency_intent else 1.0
        ranked = [(s * scale, 0, i) for i, s in self._tasks.search(parsed)]
        ranked += [(s, 1, a) for a, s in agencies.items()]
        ranked.sort(key=lambda r: (-r[0], r[1], r[2]))
        confidence, shown = _verdict([r[0] for r in ranked], limit)
        hits = tuple(
            self._task_hit(i, s) if kind == 0 else self._agency_hit(i, s)
            for s, kind, i in ranked[:shown]
        )
        return SearchOutcome(query, confidence, hits)

    def _by_code(self, query: str, code: str, limit: int) -> SearchOutcome:
        found = self._tasks.by_code.get(code, [])
        if not found:
            return SearchOutcome(query, Confidence.NONE)
        hits = tuple(self._task_hit(i, 100.0) for i in found[:limit])
        confidence = Confidence.EXACT if len(found) == 1 else Confidence.AMBIGUOUS
        return SearchOutcome(query, confidence, hits)

    def _task_hit(self, index: int, score: float) -> Hit:
        tasks = self._tasks
        return Hit(
            HitKind.TASK,
            tasks.codes[index],
            tasks.titles[index],
            round(score, 2),
            tasks.programmes[index],
        )

    def _agency_hit(self, index: int, score: float) -> Hit:
        agency = self._agencies.agencies[index]
        return Hit(HitKind.AGENCY, agency.name, agency.current_name, round(score, 2))

    def _parse(self, folded: str) -> _Query:
        """Split, repair (abbreviations, Telex, joined words, typos) and pair the words."""
        tokens = words(folded)[:MAX_TOKENS]
        slots: list[list[_Term] | str] = [self._repair(t) for t in tokens]
        terms: list[_Term] = []
        for i, slot in enumerate(slots):
            if isinstance(slot, list):
                terms.extend(slot)
                continue
            prev = _last_text(slots[i - 1]) if i > 0 else None
            nxt = _first_text(slots[i + 1]) if i + 1 < len(slots) else None
            fixed = self._closest(slot, prev, nxt)
            decoded = telex_decode(slot)
            if fixed is None and decoded != slot:
                fixed = self._closest(decoded, prev, nxt)
            terms.append(_Term(fixed, FUZZY_FACTOR, True) if fixed else _Term(slot, 0.0))
        texts = [t.text for t in terms]
        bigrams = tuple(f"{a} {b}" for a, b in zip(texts, texts[1:], strict=False))
        compacts = [compact(folded)]
        if len(tokens) >= 2:
            compacts.append(tokens[0][0] + "".join(tokens[1:]))
        return _Query(tuple(terms), bigrams, " ".join(texts), tuple(c for c in compacts if c))

    def _repair(self, token: str) -> list[_Term] | str:
        """Repair one word without context; return it unchanged when a typo fix is needed."""
        if token in EXPANSIONS:
            return [_Term(t, 1.0) for t in EXPANSIONS[token]]
        if token in self._vocab:
            return [_Term(token, 1.0)]
        if token in _FILLER:
            return []
        if not token.isalpha():
            return [_Term(token, 0.0)]
        decoded = telex_decode(token)
        if decoded in self._vocab:
            return [_Term(decoded, 1.0)]
        for cut in range(1, len(token)):
            head, tail = token[:cut], token[cut:]
            if f"{head} {tail}" in self._bigrams:
                return [_Term(head, 1.0), _Term(tail, 1.0)]
        return token

    def _closest(self, token: str, prev: str | None, nxt: str | None) -> str | None:
        """The index word within a small edit distance, preferring one that fits its neighbours."""
        if len(token) < MIN_FUZZY_LEN:
            return None
        limit = 1 if len(token) < 7 else 2
        found = process.extract(
            token, self._vocab_list, scorer=Levenshtein.distance, score_cutoff=limit, limit=30
        )
        if not found:
            return None

        def context(word: str) -> int:
            return int(f"{prev} {word}" in self._bigrams) + int(f"{word} {nxt}" in self._bigrams)

        if len(token) < FREE_FUZZY_LEN:
            # Short words have many neighbours within one edit: only fix one that forms a
            # known pair with a word typed correctly next to it ("an nin mang" -> ninh).
            found = [c for c in found if context(c[0])]
            if not found:
                return None

        best = min(
            found,
            key=lambda c: (
                c[1],
                -context(c[0]),
                c[0][:1] != token[:1],
                -self._df.get(c[0], 0),
                c[0],
            ),
        )
        return str(best[0])


def _last_text(slot: list[_Term] | str) -> str | None:
    if isinstance(slot, str):
        return None
    return slot[-1].text if slot else None


def _first_text(slot: list[_Term] | str) -> str | None:
    if isinstance(slot, str):
        return None
    return slot[0].text if slot else None


def _verdict(scores: Sequence[float], limit: int) -> tuple[Confidence, int]:
    """From scores sorted best first: none, one clear answer or a choice, and how many to show."""
    if not scores or scores[0] < NONE_BELOW:
        return Confidence.NONE, 0
    top = scores[0]
    floor = max(NONE_BELOW, top - LIST_WITHIN)
    shown = min(limit, sum(1 for s in scores if s >= floor))
    tied = sum(1 for s in scores if s >= top - TIE_WITHIN)
    return (Confidence.AMBIGUOUS if tied > 1 else Confidence.CONFIDENT), shown
