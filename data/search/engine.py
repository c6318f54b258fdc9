"""Find tasks and agencies from what officials type on a phone (DESIGN.md §4)."""

from __future__ import annotations

import gc
import itertools
import math
import re
import unicodedata
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import bm25s
import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from core.textnorm import WORD_RE, fold, nfc, words
from data.search.acronyms import (
    EXPANSIONS,
    FUNCTION_WORDS,
    LOCATION_WORDS,
    compact,
    name_acronyms,
    telex_decode,
)
from data.search.facts import FactDoc, FactIndex, fact_specs
from data.search.question import Intent, Question, parse_question
from data.search.types import (
    AgencyDoc,
    Confidence,
    Hit,
    HitKind,
    SearchOutcome,
    TaskDoc,
)
from data.search.vocabulary import Vocabulary, accented_words, load_vocabulary

# Input beyond these sizes is cut: a lookup never needs more, and it bounds the work.
MAX_INPUT_CHARS = 400
MAX_TOKENS = 16
# BM25 picks this many task candidates; only they get the costlier fuzzy scoring.
TOP_K = 30
FUZZY_K = 10  # of which this many best get partial_ratio and may be returned
# Calibrated on queries_dev.tsv and bench/queries_large.tsv (see bench/search_bench.py).
NONE_BELOW = 63.0  # best score under this: nothing is shown
# With words from the vocabulary the best reachable score is lower (they count EXPANSION_FACTOR).
EXPANDED_NONE_BELOW = 45.0
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
EXPANSION_FACTOR = 0.7  # a word from the vocabulary counts for less than a typed one
KNOWN_EXPANSION_FACTOR = 0.35  # ... and less still beside the decision's own word
BONUS_SHARE = 0.08  # at most this much of a score comes from such nudges
UNKNOWN_SHARE = 0.5  # a word the decision does not hold weighs this much against the rest
# A task matched only by words this common (share of tasks holding them) is no answer.
GENERIC_SHARE = 0.25
MARKS_PENALTY = 0.85  # a title phrase with other marks than typed ("thông" for "thống")
AGENCY_FIRST = 80.0  # an agency this sure is the answer to "what does X do" / "what is X now"
# VNI tone digits typed inside a word ("sa6n" = "sân"); a digit after letters, then letters.
_VNI_RE = re.compile(r"(?<![\w])([^\W\d_]+[1-9][^\W_]*)(?![\w])")
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


# Same words as core.textnorm.words, folded with one regex pass instead of a per-character
# loop: that loop takes most of a minute over 100,000 tasks. Vietnamese marks all lie in
# U+0300..U+036F once decomposed.
@dataclass(frozen=True, slots=True)
class _Term:
    """One query word after repair, with how much it is trusted."""

    text: str
    factor: float  # 1.0 typed or decoded, FUZZY_FACTOR corrected, 0.0 unknown
    fuzzy: bool = False
    expanded: bool = False  # from the vocabulary: its best is its factor, not 1
    guess: bool = False  # a short word fixed by one edit that its neighbours do not both confirm
    bonus: bool = False  # the meaning of a word the decision uses: it adds, never dilutes

    @property
    def ideal(self) -> float:
        """How much of its weight the term can earn at best (unknown words count half)."""
        if self.bonus:
            return 0.0
        if self.expanded:
            return self.factor
        return UNKNOWN_SHARE if self.factor == 0.0 else 1.0


@dataclass(frozen=True, slots=True)
class _Query:
    """A normalised query: repaired words, their bigrams, text for fuzzy scoring."""

    terms: tuple[_Term, ...]
    pairs: tuple[tuple[int, int], ...]  # adjacent term positions that form a phrase
    text: str
    compacts: tuple[str, ...]

    @property
    def bigrams(self) -> tuple[str, ...]:
        """The phrase pairs as "word word"."""
        return tuple(f"{self.terms[a].text} {self.terms[b].text}" for a, b in self.pairs)

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
        self.leads: list[str] = []
        self.partners: list[tuple[str, ...]] = []
        self.by_code: dict[str, list[int]] = {}
        self.led_by: dict[str, list[int]] = {}
        self.partnered_by: dict[str, list[int]] = {}
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
            lead = interned.setdefault(task.lead_answer, task.lead_answer)
            self.leads.append(lead)
            self.partners.append(task.partners)
            if lead:
                self.led_by.setdefault(lead, []).append(i)
            for partner in task.partners:
                self.partnered_by.setdefault(partner, []).append(i)
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

    def matched(self, query: _Query, docs: Sequence[int]) -> list[tuple[tuple[str, ...], bool]]:
        """Per task: the query words it holds, and whether any is specific to few tasks.

        Specific: a trusted word held by at most GENERIC_SHARE of the tasks, or such a pair
        of words the task holds side by side. One posting look-up per word for all tasks.
        """
        at = np.asarray(docs, dtype=np.int64)
        found: list[list[str]] = [[] for _ in docs]
        specific = np.zeros(at.shape, dtype=bool)
        limit = max(1.0, GENERIC_SHARE * self.n)
        for term in dict((t.text, t) for t in reversed(query.terms)).values():
            tid = self.word_ids.get(term.text)
            if tid is None or term.factor == 0.0:
                continue
            here = self.body.present(tid, at)
            for j in np.flatnonzero(here):
                found[j].append(term.text)
            if _trusted(term) and self.word_df[tid] <= limit:
                specific |= here
        terms = query.terms
        for a, b in query.pairs:
            first, second = terms[a], terms[b]
            if first.text in _PAIR_STOP or second.text in _PAIR_STOP:
                continue
            if not (_trusted(first) and _trusted(second)):
                continue
            pid = self.pair_ids.get(f"{first.text} {second.text}")
            if pid is None or self.pair_df[pid] > limit:
                continue  # a common phrase ("phát triển") is as generic as a common word
            specific |= self.pairs.present(pid, at)
        order = {t.text: n for n, t in enumerate(terms)}
        return [
            (tuple(sorted(words, key=order.__getitem__)), bool(flag))
            for words, flag in zip(found, specific, strict=True)
        ]

    def words_df(self) -> dict[str, int]:
        """Words of the index with their document frequency."""
        return {t: int(self.word_df[i]) for t, i in self.word_ids.items()}

    def search(self, query: _Query) -> list[tuple[int, float]]:
        """Return (task index, score 0..100) for the best candidates."""
        if self.n == 0 or not query.terms:
            return []
        uni = [(self.word_ids.get(t.text), t) for t in query.terms]
        big = [self.pair_ids.get(b) for b in query.bigrams]
        pairs = query.pairs
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
        ideals = np.array([t.ideal for _, t in uni], dtype=np.float64)
        total = float((weights * ideals).sum()) or 1.0
        absent = np.zeros(cands.shape, dtype=bool)
        present: list[npt.NDArray[np.bool_]] = []
        cov = np.zeros(cands.shape, dtype=np.float64)
        tcov = np.zeros(cands.shape, dtype=np.float64)
        bonus = np.zeros(cands.shape, dtype=np.float64)
        bonus_total = 0.0
        for (tid, term), w in zip(uni, weights, strict=True):
            if tid is None or term.factor == 0.0:
                present.append(absent)
                continue
            here = self.body.present(tid, cands)
            present.append(here)
            if term.bonus:
                bonus += w * here
                bonus_total += w
                continue
            cov += w * term.factor * here
            tcov += w * term.factor * self.title.present(tid, cands)
        cov = np.minimum(cov / total, 1.0)
        tcov = np.minimum(tcov / total, 1.0)
        # Pairs with a function word ("về 5G") say nothing about phrasing.
        phrased = [
            (pairs[n], pid)
            for n, pid in enumerate(big)
            if uni[pairs[n][0]][1].text not in _PAIR_STOP
            and uni[pairs[n][1]][1].text not in _PAIR_STOP
            and not uni[pairs[n][0]][1].bonus
        ]
        if phrased:
            # An adjacent pair counts fully; two rare words apart count by their rarity.
            rarity = np.minimum(weights / self.idf_unknown, 1.0)
            bcov = np.zeros(cands.shape, dtype=np.float64)
            for (a, b), pid in phrased:
                trust = min(uni[a][1].factor, uni[b][1].factor)
                apart = (present[a] & present[b]) * min(rarity[a], rarity[b])
                if pid is not None:
                    apart = np.maximum(self.pairs.present(pid, cands), apart)
                bcov += trust * apart
            bcov /= len(phrased)
        else:
            bcov = cov
        w = FUSION
        fused = 100.0 * (w[0] * cov + w[1] * tcov + w[2] * bcov + w[4] * bm)
        if bonus_total:
            fused += 100.0 * BONUS_SHARE * bonus / bonus_total
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

    def __init__(
        self,
        tasks: _TaskIndex,
        agencies: _AgencyIndex,
        facts: FactIndex | None = None,
        vocabulary: Vocabulary | None = None,
    ) -> None:
        self._tasks = tasks
        self._agencies = agencies
        self._facts = facts or FactIndex((), ())
        self._vocabulary = vocabulary if vocabulary is not None else Vocabulary(())
        df = tasks.words_df()
        for word, count in agencies.words.items():
            df[word] = df.get(word, 0) + count
        self._df = df
        self._vocab = set(df)
        self._vocab_list = sorted(df)
        self._bigrams = tasks.pair_ids

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
                _TaskIndex(tasks),
                _AgencyIndex(list(agencies)),
                FactIndex(facts, fact_specs()),
                vocabulary if vocabulary is not None else load_vocabulary(),
            )
        finally:
            if paused:
                gc.enable()

    def search(self, query: str, limit: int = 5) -> SearchOutcome:
        """Return the best hits for a free-text query, a task code, an agency or a question."""
        limit = max(1, limit)
        text = _undo_vni(nfc(query[: MAX_INPUT_CHARS * 2]), self._vocab)
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
            return self._answered(outcome, question)
        parsed = self._parse(content, raw)
        if not parsed.terms:
            return SearchOutcome(query, Confidence.NONE)
        exact = self._agencies.exact_hits(parsed)
        if exact:
            named = sorted(
                (self._agency_hit(a, s) for a, s in exact.items()),
                key=lambda h: (-h.score, h.key),
            )
            outcome = SearchOutcome(query, Confidence.EXACT, tuple(named[:limit]))
            return self._answered(outcome, question)
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
            return self._answered(outcome, question)
        scale = AGENCY_INTENT_TASK_SCALE if agency_intent else 1.0
        typed = _marked_pairs(raw or ())
        ranked = [
            (s * scale * self._marks_factor(i, typed), 0, i) for i, s in self._tasks.search(parsed)
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
        return self._answered(SearchOutcome(query, confidence, hits), question)

    def _marks_factor(self, index: int, typed: Sequence[tuple[_Marks, _Marks]]) -> float:
        """Below 1 when the task's title holds a typed phrase only with other marks.

        "truyền thống" typed is not "truyền thông" in a title: the words fold alike, so the
        task still ranks, behind one that holds the words as typed.
        """
        if not typed:
            return 1.0
        title = _title_pairs(self._tasks.titles[index])
        for a, b in typed:
            if (a[0], b[0]) in title and (a, b) not in title[(a[0], b[0])]:
                return MARKS_PENALTY
        return 1.0

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

    def _answered(self, outcome: SearchOutcome, question: Question) -> SearchOutcome:
        """Add the one-line answer the question's frame asks for."""
        if not outcome.found or not question.asked:
            return outcome
        top = outcome.hits[0]
        answer = ""
        tasks = [h for h in outcome.hits if h.kind is HitKind.TASK]
        several = outcome.confidence is Confidence.AMBIGUOUS and len(tasks) > 1
        if top.kind is HitKind.TASK and several and not question.partner:
            answer = self._leads_answer(tasks, top.score)
        elif top.kind is HitKind.TASK:
            answer = self._task_answer(top, question)
        else:
            answer = self._agency_answer(top, question)
        return replace(outcome, answer=answer) if answer else outcome

    def _index_of(self, hit: Hit) -> int | None:
        tasks = self._tasks
        return next(
            (i for i in tasks.by_code.get(hit.key, []) if tasks.programmes[i] == hit.programme),
            None,
        )

    def _leads_answer(self, hits: list[Hit], top: float) -> str:
        """Close answers: each lead agency with the tasks it leads among them."""
        by_lead: dict[str, list[str]] = {}
        for hit in hits:
            index = self._index_of(hit)
            if index is None or hit.score < top - TIE_WITHIN:
                continue
            lead = self._tasks.leads[index] or "(chưa ghi đơn vị chủ trì)"
            by_lead.setdefault(lead, []).append(hit.key)
        return "; ".join(
            f"{lead} chủ trì nhiệm vụ {', '.join(codes)}" for lead, codes in by_lead.items()
        )

    def _task_answer(self, hit: Hit, question: Question) -> str:
        tasks = self._tasks
        index = self._index_of(hit)
        if index is None:
            return ""
        title = _short(tasks.titles[index], 70)
        lead = tasks.leads[index] or "(chưa ghi đơn vị chủ trì)"
        if question.partner and tasks.partners[index]:
            names = "; ".join(tasks.partners[index][:4])
            more = "…" if len(tasks.partners[index]) > 4 else ""
            return f"Phối hợp nhiệm vụ {hit.key} ({title}): {names}{more}; chủ trì: {lead}."
        return f"{lead} chủ trì nhiệm vụ {hit.key}: {title}"

    def _agency_answer(self, hit: Hit, question: Question) -> str:
        agency = next((a for a in self._agencies.agencies if a.name == hit.key), None)
        if agency is None:
            return ""
        if question.intent is Intent.SUCCESSION:
            if agency.current_name != agency.name:
                note = f" ({agency.succession})" if agency.succession else ""
                return f"{agency.name} nay là {agency.current_name}{note}."
            return f"{agency.name} vẫn giữ tên như trong quyết định năm 2021."
        return self._duties_answer(agency, question.partner)

    def _duties_answer(self, agency: AgencyDoc, partner_only: bool) -> str:
        """What an agency leads and cooperates on, with the tasks of agencies it took over."""
        family = [agency]
        if agency.current_name == agency.name:
            family += [
                a
                for a in self._agencies.agencies
                if a.current_name == agency.name and a.name != agency.name
            ]
        led: list[tuple[AgencyDoc, list[int]]] = []
        partnered: list[tuple[AgencyDoc, list[int]]] = []
        seen_led: set[int] = set()
        for member in family:
            key = _answer_name(member)
            own = [i for i in self._tasks.led_by.get(key, []) if i not in seen_led]
            seen_led.update(own)
            led.append((member, own))
        seen: set[int] = set() if partner_only else set(seen_led)
        for member in family:
            key = _answer_name(member)
            own = [i for i in self._tasks.partnered_by.get(key, []) if i not in seen]
            seen.update(own)
            partnered.append((member, own))
        name = _answer_name(agency)
        if partner_only:
            part = self._duty_part(agency, partnered, "phối hợp", codes=True)
            return f"{name} {part or 'không phối hợp nhiệm vụ nào'}."
        lead_part = self._duty_part(agency, led, "chủ trì", codes=True)
        partner_part = self._duty_part(agency, partnered, "phối hợp", codes=False)
        if not lead_part and not partner_part:
            return f"{name} không chủ trì hay phối hợp nhiệm vụ nào được nêu tên trong quyết định."
        if not lead_part:
            return f"{name} không chủ trì nhiệm vụ nào; {partner_part}."
        return f"{name} {'; '.join(p for p in (lead_part, partner_part) if p)}."

    def _duty_part(
        self,
        agency: AgencyDoc,
        groups: list[tuple[AgencyDoc, list[int]]],
        verb: str,
        codes: bool,
    ) -> str:
        """ "chủ trì 3 nhiệm vụ (tiếp nhận từ …): 2.4, 5.2" — "" when there are none."""
        total = sum(len(rows) for _, rows in groups)
        if not total:
            return ""
        code_of = self._tasks.codes
        inherited = [(m, rows) for m, rows in groups if m is not agency and rows]
        own = next((rows for m, rows in groups if m is agency), [])
        note = ""
        if inherited and not own:
            note = f" (tiếp nhận từ {', '.join(m.name for m, _ in inherited)})"
        elif inherited:
            taken = "; ".join(
                (f"{', '.join(code_of[i] for i in rows[:12])} " if codes else f"{len(rows)} ")
                + f"tiếp nhận từ {m.name}"
                for m, rows in inherited
            )
            note = f" ({taken})"
        text = f"{verb} {total} nhiệm vụ{note}"
        if codes:
            rows = sorted((i for _, r in groups for i in r))
            listed = ", ".join(code_of[i] for i in rows[:12])
            text += f": {listed}{'…' if len(rows) > 12 else ''}"
        return text

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

    def _parse(self, tokens: list[str], raw: list[str] | None = None) -> _Query:
        """Repair (abbreviations, vocabulary, Telex, joined words, typos) and pair the words."""
        tokens = _drop_filler_phrases(tokens)
        if raw is not None and len(raw) != len(tokens):
            raw = None
        spans = {start: (end, entry) for start, end, entry in self._vocabulary.matches(tokens, raw)}
        # Each slot: repaired terms, or a word still to correct, or an expansion's words.
        slots: list[list[_Term] | str] = []
        groups: list[int] = []  # which phrase group a slot belongs to (pairs stay inside one)
        i = 0
        group = 0
        while i < len(tokens):
            if i in spans:
                end, entry = spans[i]
                literal = tokens[i:end]
                # A term matched by its marks ("chợ") is not its folded twin ("cho", "for").
                keep = (
                    entry.accented is None
                    and all(t in self._vocab for t in literal)
                    and all(f"{a} {b}" in self._bigrams for a, b in itertools.pairwise(literal))
                )
                if keep:
                    slots.append([_Term(t, 1.0) for t in literal])
                    groups.append(group)
                # A term the decision itself uses counts as typed; its meaning only nudges.
                factor = KNOWN_EXPANSION_FACTOR if keep else EXPANSION_FACTOR
                seen = set(literal) if keep else set()
                expansion = [
                    _Term(w, factor, expanded=True, bonus=keep)
                    for w in entry.means
                    if w in self._vocab and w not in seen
                ]
                if expansion:
                    group += 1
                    slots.append(expansion)
                    groups.append(group)
                group += 1
                i = end
                continue
            slots.append(self._repair(tokens[i]))
            groups.append(group)
            i += 1
        terms: list[_Term] = []
        term_groups: list[int] = []
        for n, slot in enumerate(slots):
            if isinstance(slot, list):
                terms.extend(slot)
                term_groups.extend([groups[n]] * len(slot))
                continue
            prev = _last_text(slots[n - 1]) if n > 0 else None
            nxt = _first_text(slots[n + 1]) if n + 1 < len(slots) else None
            fixed = self._closest(slot, prev, nxt)
            decoded = telex_decode(slot)
            if fixed is None and decoded != slot:
                fixed = self._closest(decoded, prev, nxt)
            if fixed:
                confirmed = int(f"{prev} {fixed}" in self._bigrams) + int(
                    f"{fixed} {nxt}" in self._bigrams
                )
                guess = len(fixed) < FREE_FUZZY_LEN and confirmed < 2
                terms.append(_Term(fixed, FUZZY_FACTOR, True, guess=guess))
            else:
                terms.append(_Term(slot, 0.0))
            term_groups.append(groups[n])
        pairs = tuple(
            (a, a + 1) for a in range(len(terms) - 1) if term_groups[a] == term_groups[a + 1]
        )
        folded = " ".join(tokens)
        compacts = [compact(folded)]
        if len(tokens) >= 2:
            compacts.append(tokens[0][0] + "".join(tokens[1:]))
        return _Query(
            tuple(terms),
            pairs,
            " ".join(t.text for t in terms),
            tuple(c for c in compacts if c),
        )

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
        for variant in _iy_variants(token):
            if variant in self._vocab:
                return [_Term(variant, 1.0)]
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
        # OSA: a swapped pair of letters ("lihc") is one edit, like a dropped one ("thuog").
        found = process.extract(
            token, self._vocab_list, scorer=OSA.distance, score_cutoff=limit, limit=30
        )
        if not found:
            return None

        def context(word: str) -> int:
            return int(f"{prev} {word}" in self._bigrams) + int(f"{word} {nxt}" in self._bigrams)

        if len(token) < FREE_FUZZY_LEN:
            # Short words have many neighbours within one edit: only fix one that forms a
            # known pair with a word typed next to it ("an nin mang" -> ninh,
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


_Marks = tuple[str, str]


def _marked_pairs(typed: Sequence[str]) -> list[tuple[_Marks, _Marks]]:
    """Adjacent typed words as (letters, marks) pairs; none when nothing was typed with marks."""
    if all(fold(w) == w for w in typed):
        return []
    return list(itertools.pairwise([_marks_key(w) for w in typed]))


@lru_cache(maxsize=4096)
def _title_pairs(title: str) -> dict[tuple[str, str], set[tuple[_Marks, _Marks]]]:
    """A title's adjacent words by their folded letters, with the marks they carry."""
    pairs: dict[tuple[str, str], set[tuple[_Marks, _Marks]]] = {}
    for a, b in itertools.pairwise([_marks_key(w) for w in accented_words(title)]):
        pairs.setdefault((a[0], b[0]), set()).add((a, b))
    return pairs


def _marks_key(word: str) -> tuple[str, str]:
    """A word's folded letters and its marks, wherever the tone sits ("hoá" = "hóa")."""
    marks = "".join(
        sorted(c for c in unicodedata.normalize("NFD", word) if unicodedata.combining(c))
    )
    return fold(word), marks + ("đ" if "đ" in word else "")


def _trusted(term: _Term) -> bool:
    """A word that may make a match specific: typed, or from the vocabulary, or a long fix.

    A short word corrected by one edit and confirmed by one neighbour only is a guess
    ("gia vang" -> "gia tang"): it ranks, never decides.
    """
    return not term.guess and term.factor >= EXPANSION_FACTOR


def _answer_name(agency: AgencyDoc) -> str:
    """An agency as named in answers (and in TaskDoc.lead_answer)."""
    if agency.current_name == agency.name:
        return agency.name
    return f"{agency.current_name} (năm 2021: {agency.name})"


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    cut = text[: width - 1].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-–") + "…"


def _iy_variants(token: str) -> list[str]:
    """Spellings with i and y swapped at the end of a syllable ("mi" -> "my", "ky" -> "ki")."""
    out = []
    if token.endswith("i"):
        out.append(token[:-1] + "y")
    if token.endswith("y"):
        out.append(token[:-1] + "i")
    return out


def _undo_vni(text: str, vocabulary: set[str]) -> str:
    """Drop VNI tone digits inside words ("sa6n bay" -> "san bay") when that gives a word."""

    def fix(match: re.Match[str]) -> str:
        word = match.group(1)
        bare = re.sub(r"[1-9]", "", word)
        return bare if fold(bare) in vocabulary else word

    return _VNI_RE.sub(fix, text)


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
