"""Search quality and speed: the engine against two baselines, on the seed and at 100,000 tasks."""

from __future__ import annotations

import itertools
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process

from core.textnorm import fold, folded_key
from data.search.documents import seed_documents, seed_facts
from data.search.engine import SearchEngine
from data.search.types import AgencyDoc, Confidence, Hit, HitKind, SearchOutcome, TaskDoc

ROOT = Path(__file__).resolve().parent.parent
DEV_SET = ROOT.parent / "shared" / "eval" / "queries_dev.tsv"
DEV_V2_SET = ROOT.parent / "shared" / "eval" / "queries_dev_v2.tsv"
V2_STYLES = {
    "Q": "natural question",
    "P": "paraphrase",
    "X": "typo/abbreviation in a question",
    "F": "facts about the decision",
    "N": "must not be answered",
}
V2_TARGET = 85.0
LARGE_SET = Path(__file__).with_name("queries_large.tsv")
SCALE = 100_000
REPEATS = 5  # each query is timed this many times; its median counts

TARGETS = {"hit1": 99.0, "hit3": 99.0, "seed_p99_ms": 5.0, "scale_p99_ms": 50.0, "scale_mb": 500.0}


@dataclass(frozen=True)
class Case:
    """One evaluation query and what counts as a right answer."""

    query: str
    expect: str  # "none", or alternatives "task:1.1,1.2;agency:so y te" separated by ";"

    @property
    def wants_none(self) -> bool:
        """Whether the right outcome is no answer at all."""
        return self.expect.strip() == "none"

    def accepts(self, hit: Hit) -> bool:
        """Whether a hit is one of the acceptable answers."""
        for alternative in self.expect.split(";"):
            kind, _, values = alternative.strip().partition(":")
            options = [v.strip() for v in values.split(",") if v.strip()]
            if kind == "task" and hit.kind is HitKind.TASK and hit.key in options:
                return True
            if kind == "agency" and hit.kind is HitKind.AGENCY:
                names = (folded_key(hit.key), folded_key(hit.label))
                if any(folded_key(o) in n for o in options for n in names):
                    return True
        return False


def query_sets() -> dict[str, list[Case]]:
    """The evaluation sets present; the dev set lives in ../shared, absent from a fresh clone."""
    sets: dict[str, list[Case]] = {}
    if DEV_SET.exists():
        sets["dev"] = load_cases(DEV_SET)
    else:
        print(f"search bench: {DEV_SET} not found, skipping the dev query set", file=sys.stderr)
    sets["large"] = load_cases(LARGE_SET)
    return sets


def load_cases(path: Path) -> list[Case]:
    """Read a query<TAB>expect file (header line and '#' comments skipped)."""
    cases: list[Case] = []
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        if not line.strip() or line.startswith("#"):
            continue
        query, _, expect = line.partition("\t")
        cases.append(Case(query, expect))
    return cases


@dataclass(frozen=True)
class StyledCase:
    """A dev v2 query with its style (Q, P, X, F, N)."""

    case: Case
    style: str


def load_styled(path: Path) -> list[StyledCase]:
    """Read a query<TAB>expect<TAB>style file (header line skipped); none when it is absent."""
    out: list[StyledCase] = []
    if not path.exists():
        print(f"search bench: {path} not found, skipping that query set", file=sys.stderr)
        return out
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        if not line.strip() or line.startswith("#"):
            continue
        query, expect, style = ([*line.split("\t"), "", ""])[:3]
        out.append(StyledCase(Case(query, expect), style.strip()))
    return out


def right_v2(search: Searcher, item: StyledCase) -> tuple[bool, str]:
    """Whether a dev v2 query is answered right at rank 1, and what came back.

    N: no hit and no answer. F: an answer line, plus the expected hit (or none) at rank 1.
    Others: an acceptable hit at rank 1.
    """
    outcome = search(item.case.query)
    hits = outcome.hits if outcome.found else ()
    answer = getattr(outcome, "answer", "")
    got = hits[0].key if hits else ("answer only" if answer else "nothing")
    if item.case.wants_none:
        ok = not hits and (bool(answer) if item.style == "F" else not answer)
    else:
        ok = bool(hits) and item.case.accepts(hits[0])
        ok = ok and (bool(answer) or item.style != "F")
    return ok, got


def evaluate_v2(
    search: Searcher, items: Sequence[StyledCase]
) -> tuple[dict[str, tuple[int, int, int, int]], list[str]]:
    """Per style: right on odd lines, odd lines, right on even lines, even lines; and misses."""
    table: dict[str, list[int]] = {style: [0, 0, 0, 0] for style in V2_STYLES}
    misses: list[str] = []
    for n, item in enumerate(items):
        ok, got = right_v2(search, item)
        row = table.setdefault(item.style, [0, 0, 0, 0])
        half = 0 if n % 2 == 0 else 2  # line 1, 3, … of the file: "odd" (tuned on)
        row[half] += ok
        row[half + 1] += 1
        if not ok:
            misses.append(
                f"{item.style}: `{item.case.query}` → {got} (expected {item.case.expect})"
            )
    return {k: (v[0], v[1], v[2], v[3]) for k, v in table.items()}, misses


@dataclass(frozen=True)
class Score:
    """Quality of one searcher on one query set."""

    positives: int
    hit1: int
    hit3: int
    negatives: int
    none_ok: int

    def cells(self) -> list[str]:
        """Table cells: hit@1, hit@3, none-correct."""
        pct = 100.0 / max(self.positives, 1)
        none_pct = 100.0 / max(self.negatives, 1)
        return [
            f"{self.hit1 * pct:.1f} % ({self.hit1}/{self.positives})",
            f"{self.hit3 * pct:.1f} % ({self.hit3}/{self.positives})",
            f"{self.none_ok * none_pct:.0f} % ({self.none_ok}/{self.negatives})",
        ]


Searcher = Callable[[str], SearchOutcome]


def evaluate(search: Searcher, cases: Sequence[Case]) -> tuple[Score, list[str]]:
    """Score a searcher and list the queries it got wrong at rank 1."""
    hit1 = hit3 = none_ok = positives = negatives = 0
    misses: list[str] = []
    for case in cases:
        outcome = search(case.query)
        hits = outcome.hits if outcome.found else ()
        if case.wants_none:
            negatives += 1
            none_ok += not hits
            if hits:
                misses.append(f"`{case.query}` → {hits[0].key} (expected none)")
            continue
        positives += 1
        first = bool(hits) and case.accepts(hits[0])
        hit1 += first
        hit3 += any(case.accepts(h) for h in hits[:3])
        if not first:
            got = hits[0].key if hits else "nothing"
            misses.append(f"`{case.query}` → {got} (expected {case.expect})")
    return Score(positives, hit1, hit3, negatives, none_ok), misses


def _task_text(task: TaskDoc) -> str:
    return " ".join([task.title, task.sector, *task.measures])


def _agency_text(agency: AgencyDoc) -> str:
    names = [agency.name, agency.current_name, *agency.variants, *agency.abbreviations]
    return " ; ".join(names)


class SubstringBaseline:
    """Folded substring matching over the same texts: agencies first, then tasks."""

    def __init__(self, tasks: Sequence[TaskDoc], agencies: Sequence[AgencyDoc]) -> None:
        self.docs = [
            (HitKind.AGENCY, a.name, a.current_name, "", folded_key(_agency_text(a)))
            for a in agencies
        ] + [(HitKind.TASK, t.code, t.title, t.programme, folded_key(_task_text(t))) for t in tasks]

    def __call__(self, query: str) -> SearchOutcome:
        """Every document containing the folded query, in index order."""
        needle = folded_key(query)
        hits = tuple(
            Hit(kind, key, label, 100.0, programme)
            for kind, key, label, programme, text in self.docs
            if needle and needle in text
        )
        if not hits:
            return SearchOutcome(query, Confidence.NONE)
        confidence = Confidence.CONFIDENT if len(hits) == 1 else Confidence.AMBIGUOUS
        return SearchOutcome(query, confidence, hits[:5])


class WRatioBaseline:
    """Plain rapidfuzz WRatio over the same texts, with a score cutoff for "no answer"."""

    def __init__(self, tasks: Sequence[TaskDoc], agencies: Sequence[AgencyDoc]) -> None:
        self.keys = [(HitKind.AGENCY, a.name, a.current_name, "") for a in agencies] + [
            (HitKind.TASK, t.code, t.title, t.programme) for t in tasks
        ]
        self.texts = [fold(_agency_text(a)) for a in agencies] + [
            fold(_task_text(t)) for t in tasks
        ]
        self.cutoff = 0.0

    def __call__(self, query: str) -> SearchOutcome:
        """The five best WRatio matches at or above the cutoff."""
        found = process.extract(fold(query), self.texts, scorer=fuzz.WRatio, limit=5)
        hits = tuple(
            Hit(self.keys[i][0], self.keys[i][1], self.keys[i][2], float(s), self.keys[i][3])
            for _, s, i in found
            if s >= self.cutoff
        )
        if not hits:
            return SearchOutcome(query, Confidence.NONE)
        return SearchOutcome(query, Confidence.CONFIDENT, hits)

    def calibrate(self, cases: Sequence[Case]) -> float:
        """Pick the cutoff that gets the most queries right (the engine's privilege too)."""
        self.cutoff = 0.0
        tops: list[tuple[float, bool, bool]] = []
        for case in cases:
            outcome = self(case.query)
            top = outcome.hits[0]
            tops.append((top.score, case.wants_none, case.accepts(top)))
        best = (-1, 0.0)
        for cutoff in range(0, 101):
            right = sum(
                (score < cutoff) if none else (ok and score >= cutoff) for score, none, ok in tops
            )
            best = max(best, (right, float(cutoff)))
        self.cutoff = best[1]
        return self.cutoff


def latencies_ms(search: Searcher, queries: Iterable[str], repeats: int = REPEATS) -> list[float]:
    """Per query, the median of several timed runs, in milliseconds (sorted)."""
    out: list[float] = []
    for query in queries:
        runs = []
        for _ in range(repeats):
            start = time.perf_counter()
            search(query)
            runs.append((time.perf_counter() - start) * 1000.0)
        out.append(statistics.median(runs))
    return sorted(out)


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return 0.0
    rank = min(len(sorted_values) - 1, max(0, round(q / 100.0 * len(sorted_values)) - 1))
    return sorted_values[rank]


def peak_rss_mb() -> float:
    """This process's peak resident set size (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return 0.0


def scale_run(count: int) -> dict[str, float]:
    """Build over count synthetic tasks plus the seed and time the eval queries (own process)."""
    from bench.synthetic import synthetic_tasks

    tasks, agencies = seed_documents()
    before = peak_rss_mb()
    start = time.perf_counter()
    # A generator: the index keeps what hits show, so the documents are never all in memory.
    engine = SearchEngine.build(
        itertools.chain(tasks, synthetic_tasks(tasks, count)), agencies, seed_facts()
    )
    build_s = time.perf_counter() - start
    queries = [c.query for cases in query_sets().values() for c in cases]
    queries += [i.case.query for i in load_styled(DEV_V2_SET)]
    times = latencies_ms(engine.search, queries, repeats=3)
    return {
        "tasks": float(count + len(tasks)),
        "build_s": build_s,
        "p50_ms": percentile(times, 50),
        "p99_ms": percentile(times, 99),
        "peak_mb": peak_rss_mb(),
        "start_mb": before,
    }


def _scale_in_subprocess(count: int) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-m", "bench.search_bench", "--scale", str(count)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _v2_total(row: tuple[int, int, int, int]) -> tuple[int, int]:
    return row[0] + row[2], row[1] + row[3]


def _v2_cell(row: tuple[int, int, int, int]) -> str:
    right, total = _v2_total(row)
    pct = 100.0 * right / max(total, 1)
    return f"{pct:.0f} % ({right}/{total}; odd {row[0]}/{row[1]}, even {row[2]}/{row[3]})"


def _mark(ok: bool) -> str:
    return "✅" if ok else "❌"


def run() -> str:
    """Measure everything and return the Markdown section."""
    tasks, agencies = seed_documents()
    start = time.perf_counter()
    engine = SearchEngine.build(tasks, agencies, seed_facts())
    seed_build_ms = (time.perf_counter() - start) * 1000.0
    substring = SubstringBaseline(tasks, agencies)
    wratio = WRatioBaseline(tasks, agencies)
    sets = query_sets()
    everything = [case for cases in sets.values() for case in cases]
    cutoff = wratio.calibrate(everything)
    engine_name = "engine (BM25 + partial_ratio fusion, questions, vocabulary, facts)"
    searchers: dict[str, Searcher] = {
        engine_name: engine.search,
        "baseline: folded substring": substring,
        f"baseline: rapidfuzz WRatio (cutoff {cutoff:.0f})": wratio,
    }
    lines = [
        "## Search",
        "",
        f"Seed: {len(tasks)} tasks, {len(agencies)} agencies; "
        f"index built in {seed_build_ms:.0f} ms. "
        "Query sets: "
        + (
            f"dev {len(sets['dev'])} queries (`shared/eval/queries_dev.tsv`), "
            if "dev" in sets
            else "dev skipped (`../shared/eval/queries_dev.tsv` not found), "
        )
        + f"large {len(sets['large'])} (`bench/queries_large.tsv`). hit@k: an acceptable answer "
        "among the first k hits; none-correct: `none` queries that got no answer.",
        "",
        "| searcher | set | hit@1 | hit@3 | none-correct |",
        "| --- | --- | --- | --- | --- |",
    ]
    engine_scores: dict[str, Score] = {}
    engine_misses: list[str] = []
    for name, search in searchers.items():
        for set_name, cases in sets.items():
            score, misses = evaluate(search, cases)
            lines.append(f"| {name} | {set_name} | " + " | ".join(score.cells()) + " |")
            if name == engine_name:
                engine_scores[set_name] = score
                engine_misses += [f"{set_name}: {m}" for m in misses]
    v2 = load_styled(DEV_V2_SET)
    lines += [
        "",
        f"Dev v2 ({len(v2)} queries, `shared/eval/queries_dev_v2.tsv`) by style: right at rank 1 "
        "(N: no hit and no answer; F: the answer line and the expected hit, or none). "
        "Odd lines of the file were used for tuning, even lines held out.",
        "",
        "| searcher | " + " | ".join(f"{k} {v}" for k, v in V2_STYLES.items()) + " |",
        "| --- |" + " --- |" * len(V2_STYLES),
    ]
    v2_engine: dict[str, tuple[int, int, int, int]] = {}
    v2_misses: list[str] = []
    for name, search in searchers.items():
        table, misses = evaluate_v2(search, v2)
        cells = [_v2_cell(table[k]) for k in V2_STYLES]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
        if name == engine_name:
            v2_engine, v2_misses = table, misses
    queries = [c.query for c in everything] + [i.case.query for i in v2]
    seed_times = {name: latencies_ms(s, queries) for name, s in searchers.items()}
    lines += ["", "| searcher | p50 (seed) | p99 (seed) |", "| --- | --- | --- |"]
    for name, times in seed_times.items():
        lines.append(
            f"| {name} | {percentile(times, 50):.3f} ms | {percentile(times, 99):.3f} ms |"
        )
    seed_mb = peak_rss_mb()  # this process so far: seed index, baselines, every query set
    scale = _scale_in_subprocess(SCALE)
    engine_times = seed_times[engine_name]
    both = Score(
        *(sum(getattr(s, f) for s in engine_scores.values()) for f in Score.__dataclass_fields__)
    )
    hit1 = 100.0 * both.hit1 / max(both.positives, 1)
    hit3 = 100.0 * both.hit3 / max(both.positives, 1)
    lines += [
        "",
        f"At scale ({scale['tasks']:.0f} tasks: the seed plus `bench/synthetic.py` tasks "
        f"recombining seed phrases, in its own process): build {scale['build_s']:.1f} s, "
        f"query p50 {scale['p50_ms']:.2f} ms, p99 {scale['p99_ms']:.2f} ms, peak RSS "
        f"{scale['peak_mb']:.0f} MB (the interpreter with its imports: "
        f"{scale['start_mb']:.0f} MB).",
        "",
        "| target | measured | |",
        "| --- | --- | --- |",
        f"| hit@1 ≥ {TARGETS['hit1']:.0f} % (dev + large) | {hit1:.1f} % | "
        f"{_mark(hit1 >= TARGETS['hit1'])} |",
        f"| hit@3 ≥ {TARGETS['hit3']:.0f} % (dev + large) | {hit3:.1f} % | "
        f"{_mark(hit3 >= TARGETS['hit3'])} |",
        f"| every none-query empty | {both.none_ok}/{both.negatives} | "
        f"{_mark(both.none_ok == both.negatives)} |",
        f"| p99 ≤ {TARGETS['seed_p99_ms']:.0f} ms on the seed | "
        f"{percentile(engine_times, 99):.3f} ms | "
        f"{_mark(percentile(engine_times, 99) <= TARGETS['seed_p99_ms'])} |",
        f"| peak RSS ≤ 350 MB on the seed (with the baselines) | {seed_mb:.0f} MB | "
        f"{_mark(seed_mb <= 350.0)} |",
        f"| p99 ≤ {TARGETS['scale_p99_ms']:.0f} ms at {SCALE:,} | {scale['p99_ms']:.2f} ms | "
        f"{_mark(scale['p99_ms'] <= TARGETS['scale_p99_ms'])} |",
        f"| peak RSS ≤ {TARGETS['scale_mb']:.0f} MB at {SCALE:,} | {scale['peak_mb']:.0f} MB | "
        f"{_mark(scale['peak_mb'] <= TARGETS['scale_mb'])} |",
    ]
    for style, label in V2_STYLES.items() if v2 else ():
        right, total = _v2_total(v2_engine[style])
        pct = 100.0 * right / max(total, 1)
        goal = 100.0 if style == "N" else V2_TARGET
        lines.append(
            f"| dev v2 {style} ({label}) ≥ {goal:.0f} % | {pct:.0f} % ({right}/{total}) | "
            f"{_mark(pct >= goal)} |"
        )
    engine_misses += [f"dev v2 {m}" for m in v2_misses]
    if engine_misses:
        lines += ["", "Engine misses at rank 1:", ""] + [f"- {m}" for m in engine_misses]
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    """`--scale N` prints the scale measurements as JSON; otherwise prints the section."""
    if len(argv) >= 2 and argv[0] == "--scale":
        print(json.dumps(scale_run(int(argv[1]))))
        return 0
    print(run())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
