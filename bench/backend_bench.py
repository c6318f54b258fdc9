"""scipy or numpy for bm25s's score matrix: the same arrays, the same answers, and what scipy costs.

The engine builds its BM25 matrix with bm25s's numpy backend (`data.search.task_index.CSC_BACKEND`)
and scipy is not a dependency. This bench proves the choice changes nothing: at each catalog size
it builds the index with each backend, compares the matrices array by array (values, row indices,
column pointers) and ranks every evaluation query (dev, dev v2, large) with both, comparing the
whole outcome (confidence, hits with their scores, answer line). It also times the import of the
search engine with scipy present and with scipy hidden (bm25s imports it whenever it is installed).
Needs scipy to compare: `.venv/bin/pip install scipy`, then `.venv/bin/python -m bench backend`.
"""

from __future__ import annotations

import gc
import itertools
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

from bench.search_bench import DEV_V2_SET, load_styled, query_sets
from bench.synthetic import synthetic_tasks
from data.search import task_index
from data.search.documents import seed_documents, seed_facts
from data.search.engine import SearchEngine

SIZES = (0, 10_000, 100_000)  # synthetic tasks added to the seed's 44
BACKENDS = ("scipy", "numpy")
IMPORT_RUNS = 7
ROOT = Path(__file__).resolve().parent.parent
# Run before the measured import: makes `import scipy` fail as if it were not installed.
HIDE_SCIPY = "import sys; sys.modules['scipy'] = None; sys.modules['scipy.sparse'] = None; "

Outcome = tuple[object, ...]


@dataclass
class Built:
    """One backend's index arrays, every query's outcome, the build time and bm25s's part."""

    arrays: dict[str, np.ndarray]
    outcomes: list[Outcome]
    build_s: float
    bm25s_s: float


def queries() -> list[str]:
    """Every evaluation query present (the dev sets live in ../shared)."""
    found = [case.query for cases in query_sets().values() for case in cases]
    return found + [item.case.query for item in load_styled(DEV_V2_SET)]


def _outcome(engine: SearchEngine, query: str) -> Outcome:
    found = engine.search(query, limit=10)
    hits = tuple((h.kind.value, h.key, h.programme, h.score) for h in found.hits)
    return (found.confidence.value, hits, getattr(found, "answer", ""))


def build(backend: str, extra: int, asked: Sequence[str]) -> Built:
    """Index the seed plus `extra` synthetic tasks with one backend and answer every query."""
    tasks, agencies = seed_documents()
    spent = [0.0]
    original = bm25s.BM25.index

    def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - start

    task_index.CSC_BACKEND = backend
    bm25s.BM25.index = timed
    try:
        start = time.perf_counter()
        engine = SearchEngine.build(
            itertools.chain(tasks, synthetic_tasks(tasks, extra)), agencies, seed_facts()
        )
        build_s = time.perf_counter() - start
    finally:
        task_index.CSC_BACKEND = "numpy"
        bm25s.BM25.index = original
    index = engine._tasks
    arrays = {
        "data": index.data,
        "indices": index.body.indices,
        "indptr": index.body.indptr,
        "best": index.best,
    }
    return Built(arrays, [_outcome(engine, q) for q in asked], build_s, spent[0])


def _same_arrays(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> list[str]:
    """Names of the arrays that differ in value or type (empty: identical)."""
    return [
        name for name in a if a[name].dtype != b[name].dtype or not np.array_equal(a[name], b[name])
    ]


def import_ms(hide_scipy: bool) -> float:
    """Median wall time of a fresh interpreter importing the search engine, in ms."""
    prelude = HIDE_SCIPY if hide_scipy else ""
    code = (
        f"{prelude}import time; t = time.perf_counter(); import data.search.engine; "
        "print((time.perf_counter() - t) * 1000)"
    )
    runs = []
    for _ in range(IMPORT_RUNS):
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
        )
        runs.append(float(done.stdout.strip()))
    return statistics.median(runs)


def run() -> str:
    """Compare the backends at every size and return the Markdown section."""
    lines = ["## bm25s backend: numpy alone against scipy", ""]
    if find_spec("scipy") is None:
        lines.append(
            "Skipped: scipy is not installed (it is no dependency). To compare, "
            "`.venv/bin/pip install scipy` and run `.venv/bin/python -m bench backend`."
        )
        return "\n".join(lines)
    asked = queries()
    lines += [
        f"{len(asked)} evaluation queries (dev, dev v2, large), top 10 hits each; an outcome is "
        "the confidence, every hit with its score, and the answer line.",
        "",
        "Build: the whole engine; bm25s: its `index` call, where the backends differ.",
        "",
        "| tasks | identical arrays | identical outcomes | build (bm25s) scipy "
        "| build (bm25s) numpy |",
        "| --- | --- | --- | --- | --- |",
    ]
    all_same = True
    for extra in SIZES:
        built = {}
        for backend in BACKENDS:
            built[backend] = build(backend, extra, asked)
            gc.collect()
        first, second = built["scipy"], built["numpy"]
        differing = _same_arrays(first.arrays, second.arrays)
        same = sum(a == b for a, b in zip(first.outcomes, second.outcomes, strict=True))
        all_same = all_same and not differing and same == len(asked)
        lines.append(
            f"| {44 + extra:,} | {'yes' if not differing else 'no: ' + ', '.join(differing)} | "
            f"{same}/{len(asked)} | {first.build_s:.2f} s ({first.bm25s_s:.2f} s) | "
            f"{second.build_s:.2f} s ({second.bm25s_s:.2f} s) |"
        )
        del built, first, second
        gc.collect()
    with_scipy, without = import_ms(False), import_ms(True)
    lines += [
        "",
        f"Import of `data.search.engine` in a fresh interpreter (median of {IMPORT_RUNS}): "
        f"{with_scipy:.0f} ms with scipy installed, {without:.0f} ms without "
        f"({with_scipy - without:.0f} ms saved).",
        "",
        "Verdict: " + ("identical, scipy is not needed." if all_same else "DIFFERENT, see above."),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
