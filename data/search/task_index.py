"""The task index: BM25 over task words, pair postings, and fused per-candidate scoring."""

from __future__ import annotations

import itertools
import math
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

import bm25s
import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz

from core.textnorm import WORD_RE, fold, words
from data.search.query import Query, trusted
from data.search.types import TaskDoc

# BM25 picks this many task candidates; only they get the costlier fuzzy scoring.
TOP_K = 30
FUZZY_K = 10  # of which this many best get partial_ratio and may be returned
# Weights of word coverage, title coverage, bigram coverage, partial_ratio, BM25 / ideal BM25.
FUSION = (0.30, 0.10, 0.35, 0.15, 0.10)
BIGRAM_BM25_WEIGHT = 0.6
BONUS_SHARE = 0.08  # at most this much of a score comes from such nudges
# A task matched only by words this common (share of tasks holding them) is no answer.
GENERIC_SHARE = 0.25
TITLE_REPEAT = 2  # title words count twice in BM25 (a cheap field boost)
# How bm25s lays out its score matrix: numpy alone; scipy builds the very same arrays
# (bench/backend_bench.py compares them) and is not a dependency.
CSC_BACKEND = "numpy"
# Function words whose pairs carry no phrase ("và", "các", "của", "về", "với", "là", "những").
_PAIR_STOP = frozenset({"va", "cac", "cua", "ve", "voi", "la", "nhung"})


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


class TaskIndex:
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
            retriever = bm25s.BM25(k1=1.2, b=0.5, csc_backend=CSC_BACKEND)
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

    def matched(self, query: Query, docs: Sequence[int]) -> list[tuple[tuple[str, ...], bool]]:
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
            if trusted(term) and self.word_df[tid] <= limit:
                specific |= here
        terms = query.terms
        for a, b in query.pairs:
            first, second = terms[a], terms[b]
            if first.text in _PAIR_STOP or second.text in _PAIR_STOP:
                continue
            if not (trusted(first) and trusted(second)):
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

    def search(self, query: Query) -> list[tuple[int, float]]:
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
