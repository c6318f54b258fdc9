"""Find tasks and agencies from what officials type on a phone (DESIGN.md §4)."""

from __future__ import annotations

import gc
import itertools
import math
import re
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
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
from data.textnorm import WORD_RE, fold, words

# Input beyond these sizes is cut: a lookup never needs more, and it bounds the work.
MAX_INPUT_CHARS = 400
MAX_TOKENS = 16
# BM25 picks this many task candidates; only they get the costlier fuzzy scoring.
TOP_K = 30
FUZZY_K = 10  # of which this many best get partial_ratio and may be returned
# Calibrated on queries_dev.tsv and bench/queries_large.tsv (see bench/search_bench.py).
NONE_BELOW = 63.0  # best score under this: nothing is shown
TIE_WITHIN = 4.0  # answers this close to the best make the outcome ambiguous
LIST_WITHIN = 25.0  # answers this close to the best follow it as "see also"

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
# Function words whose pairs carry no phrase ("và", "các", "của", "về", "với", "là", "những").
_PAIR_STOP = frozenset({"va", "cac", "cua", "ve", "voi", "la", "nhung"})
_FILLER_PHRASES = tuple(
    tuple(p.split())
    for p in (
        "ai phu trach",
        "ai chu tri",
        "don vi nao",
        "co quan nao",
        "nhiem vu nao",
        "tra cuu",
        "tim kiem",
        "cho toi biet",
        "thong tin ve",
    )
)
# Agency-name words that say little on their own ("Sở", "Ban", a place name).
_AGENCY_WORD_WEIGHT = {"so": 0.5, "ban": 0.5, "tinh": 0.2, "quang": 0.2, "ngai": 0.2}


# Same words as data.textnorm.words, folded with one regex pass instead of a per-character
# loop: that loop takes most of a minute over 100,000 tasks. Vietnamese marks all lie in
# U+0300..U+036F once decomposed.
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
    def from_pairs(cls, pairs: _Flat, n_tokens: int) -> _Postings:
        """Build from each document's distinct token ids."""
        tokens = np.frombuffer(pairs.values, dtype=np.int32)
        offsets = np.frombuffer(pairs.offsets, dtype=np.int64)
        lengths = offsets[1:] - offsets[:-1]
        order = np.argsort(tokens, kind="stable")  # stable: documents stay sorted
        indices = np.repeat(np.arange(lengths.size, dtype=np.int32), lengths)[order]
        del order
        indptr = np.zeros(n_tokens + 1, dtype=np.int64)
        np.cumsum(np.bincount(tokens, minlength=n_tokens), out=indptr[1:])
        return cls(indptr, indices)

    def df(self) -> npt.NDArray[np.int64]:
        """Number of documents holding each token."""
        return np.diff(self.indptr)

    def present(self, token_id: int, docs: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        """Which of docs contain the token."""
        posting = self.indices[self.indptr[token_id] : self.indptr[token_id + 1]]
        if posting.size == 0:
            return np.zeros(docs.shape, dtype=bool)
        pos = np.minimum(np.searchsorted(posting, docs), posting.size - 1)
        return np.asarray(posting[pos] == docs)


class _Flat:
    """Per-document int lists stored end to end (one allocation instead of one per task)."""

    def __init__(self) -> None:
        self.values = array("i")
        self.offsets = array("q", [0])

    def add(self, ids: Iterable[int]) -> None:
        """Append one document's ids."""
        self.values.extend(ids)
        self.offsets.append(len(self.values))

    def views(self) -> list[memoryview]:
        """Each document's ids, without copying."""
        whole = memoryview(self.values)
        o = self.offsets
        return [whole[o[i] : o[i + 1]] for i in range(len(o) - 1)]


def _bigrams(tokens: Sequence[str]) -> Iterator[str]:
    """Adjacent word pairs."""
    return map(" ".join, itertools.pairwise(tokens))


def _lucene_idf(df: float, n: int) -> float:
    """BM25's inverse document frequency as Lucene (and bm25s) computes it."""
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5))


class _TaskIndex:
    """BM25 over task words, pair postings, and fused per-candidate scoring."""

    def __init__(self, tasks: Iterable[TaskDoc]) -> None:
        # Only what a hit shows is kept: the caller's documents (with their long measures)
        # are not pinned in memory by the index.
        self.programmes: list[str] = []
        self.codes: list[str] = []
        self.titles: list[str] = []
        self.texts: list[str] = []
        self.by_code: dict[str, list[int]] = {}
        # A missing key gets the next id; map() over it keeps tokenising at C speed.
        words_ids: defaultdict[str, int] = defaultdict()
        words_ids.default_factory = words_ids.__len__
        pairs_ids: defaultdict[str, int] = defaultdict()
        pairs_ids.default_factory = pairs_ids.__len__
        word, pair = words_ids.__getitem__, pairs_ids.__getitem__
        body, pairs, title_words = _Flat(), _Flat(), _Flat()
        interned: dict[str, str] = {}
        sectors: dict[str, tuple[list[str], list[int], list[int]]] = {}
        for i, task in enumerate(tasks):
            self.programmes.append(interned.setdefault(task.programme, task.programme))
            self.codes.append(task.code)
            self.titles.append(task.title)
            self.by_code.setdefault(task.code, []).append(i)
            title, *measures = (
                WORD_RE.findall(fold(part)) for part in (task.title, *task.measures)
            )
            if task.sector not in sectors:
                sector = words(task.sector)
                sectors[task.sector] = (
                    sector,
                    [word(w) for w in sector],
                    [pair(p) for p in _bigrams(sector)],
                )
            sector, sector_words, sector_pairs = sectors[task.sector]
            title_ids = list(map(word, title))
            doc = title_ids * TITLE_REPEAT + sector_words
            doc_pairs = [*map(pair, _bigrams(title)), *sector_pairs]
            for line in measures:
                doc.extend(map(word, line))
                doc_pairs.extend(map(pair, _bigrams(line)))
            doc.append(word(task.code))
            body.add(doc)
            pairs.add(dict.fromkeys(doc_pairs))
            title_words.add(dict.fromkeys(title_ids))
            self.texts.append(" ".join([*title, *sector, *(w for line in measures for w in line)]))
        self.n = len(self.codes)
        self.word_ids: dict[str, int] = dict(words_ids)
        self.pair_ids: dict[str, int] = dict(pairs_ids)
        del words_ids, pairs_ids
        self.pairs = _Postings.from_pairs(pairs, len(self.pair_ids))
        self.title = _Postings.from_pairs(title_words, len(self.word_ids))
        del pairs, title_words
        if self.n:
            retriever = bm25s.BM25(k1=1.2, b=0.5, csc_backend="scipy")
            views = body.views()
            retriever.index((views, self.word_ids), create_empty_token=False, show_progress=False)
            scores = retriever.scores
            del retriever, views, body
            self.data: npt.NDArray[np.float32] = scores["data"]
            self.body = _Postings(scores["indptr"].astype(np.int64), scores["indices"])
            # Each word's best BM25 contribution: a document scoring this on every query
            # word is the ideal, so BM25 becomes an absolute measure in [0, 1].
            self.best = np.maximum.reduceat(self.data, self.body.indptr[:-1])
        else:
            self.data = np.zeros(0, dtype=np.float32)
            self.body = _Postings(np.zeros(1, dtype=np.int64), np.zeros(0, np.int32))
            self.best = np.zeros(0, dtype=np.float32)
        self.word_df = self.body.df()
        self.pair_df = self.pairs.df()
        self.idf_unknown = _lucene_idf(0.0, max(self.n, 1))

    def idf(self, token: str) -> float:
        """Inverse document frequency of a word; unknown words weigh the most."""
        tid = self.word_ids.get(token)
        return self.idf_unknown if tid is None else _lucene_idf(float(self.word_df[tid]), self.n)

    def words_df(self) -> dict[str, int]:
        """Words of the index with their document frequency."""
        return {t: int(self.word_df[i]) for t, i in self.word_ids.items()}

    def search(self, query: _Query) -> list[tuple[int, float]]:
        """Return (task index, score 0..100) for the best candidates."""
        if self.n == 0 or not query.terms:
            return []
        uni = [(self.word_ids.get(t.text), t) for t in query.terms]
        big = [self.pair_ids.get(b) for b in query.bigrams]
        scores = np.zeros(self.n, dtype=np.float32)
        ideal = 0.0
        indptr, indices = self.body.indptr, self.body.indices
        for tid, term in uni:
            if tid is not None and term.factor > 0:
                lo, hi = indptr[tid], indptr[tid + 1]
                scores[indices[lo:hi]] += term.factor * self.data[lo:hi]
                ideal += term.factor * float(self.best[tid])
        for pid in big:
            if pid is not None:
                # Pairs are scored by rarity alone (a pair rarely repeats within a task).
                weight = BIGRAM_BM25_WEIGHT * _lucene_idf(float(self.pair_df[pid]), self.n)
                lo, hi = self.pairs.indptr[pid], self.pairs.indptr[pid + 1]
                scores[self.pairs.indices[lo:hi]] += weight
                ideal += weight
        nonzero = int(np.count_nonzero(scores))
        if nonzero == 0:
            return []
        if nonzero <= TOP_K:
            cands = np.flatnonzero(scores).astype(np.int64)
        else:
            cands = np.argpartition(-scores, TOP_K)[:TOP_K].astype(np.int64)
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
        # Pairs with a function word ("về 5G") say nothing about phrasing.
        phrased = [
            (j, pid)
            for j, pid in enumerate(big)
            if uni[j][1].text not in _PAIR_STOP and uni[j + 1][1].text not in _PAIR_STOP
        ]
        if phrased:
            # An adjacent pair counts fully; two rare words apart count by their rarity.
            rarity = np.minimum(weights / self.idf_unknown, 1.0)
            bcov = np.zeros(cands.shape, dtype=np.float64)
            for j, pid in phrased:
                trust = min(uni[j][1].factor, uni[j + 1][1].factor)
                apart = (present[j] & present[j + 1]) * min(rarity[j], rarity[j + 1])
                if pid is not None:
                    apart = np.maximum(self.pairs.present(pid, cands), apart)
                bcov += trust * apart
            bcov /= len(phrased)
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
        self._bigrams = tasks.pair_ids

    @classmethod
    def build(cls, tasks: Iterable[TaskDoc], agencies: Iterable[AgencyDoc]) -> SearchEngine:
        """Index the given tasks and agencies."""
        # Indexing allocates millions of short-lived lists and no cycles: without pausing
        # the cyclic collector, its rescans of the growing heap double the build time.
        paused = gc.isenabled()
        gc.disable()
        try:
            return cls(_TaskIndex(tasks), _AgencyIndex(list(agencies)))
        finally:
            if paused:
                gc.enable()

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
            named = sorted(
                (self._agency_hit(a, s) for a, s in exact.items()),
                key=lambda h: (-h.score, h.key),
            )
            return SearchOutcome(query, Confidence.EXACT, tuple(named[:limit]))
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
        tokens = _drop_filler_phrases(words(folded)[:MAX_TOKENS])
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
        bigrams = tuple(f"{a} {b}" for a, b in itertools.pairwise(texts))
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
            # known pair with each word typed correctly next to it ("an nin mang" -> ninh,
            # but not "gia xang dau" -> "gia tang dau", where "tang dau" is no phrase).
            neighbours = (prev is not None) + (nxt is not None)
            found = [c for c in found if context(c[0]) >= max(1, neighbours)]
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


def _drop_filler_phrases(tokens: list[str]) -> list[str]:
    """Remove question wording ("ai phụ trách", "nhiệm vụ nào") unless nothing else is left."""
    out = list(tokens)
    for phrase in _FILLER_PHRASES:
        size = len(phrase)
        i = 0
        while i + size <= len(out):
            if tuple(out[i : i + size]) == phrase and len(out) > size:
                del out[i : i + size]
            else:
                i += 1
    return out


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
