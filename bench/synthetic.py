"""Synthetic task documents recombined from the seed's own wording, for scale benchmarks."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence

from data.search.types import TaskDoc

_SPLIT_RE = re.compile(r"[.;:]\s+")


def _phrases(tasks: Sequence[TaskDoc]) -> list[list[str]]:
    """Seed sentences as word lists (original spelling, diacritics kept)."""
    out: list[list[str]] = []
    for task in tasks:
        for text in (task.title, *task.measures):
            for part in _SPLIT_RE.split(text):
                split = part.split()
                if len(split) >= 4:
                    out.append(split)
    return out


def _span(rng: random.Random, phrases: list[list[str]], low: int, high: int) -> str:
    """A run of low..high consecutive words taken from a random seed sentence."""
    words = rng.choice(phrases)
    size = min(len(words), rng.randint(low, high))
    start = rng.randint(0, len(words) - size)
    return " ".join(words[start : start + size])


def synthetic_tasks(
    seed_tasks: Sequence[TaskDoc], count: int, seed: int = 1731, per_programme: int = 500
) -> Iterator[TaskDoc]:
    """Yield count tasks whose titles and measures recombine seed phrases (deterministic).

    Codes restart in every programme of per_programme tasks, so codes repeat across
    programmes like they would after several decisions are imported.
    """
    rng = random.Random(seed)
    phrases = _phrases(seed_tasks)
    sectors = sorted({t.sector for t in seed_tasks if t.sector}) or ["Dịch vụ"]
    for i in range(count):
        programme, position = divmod(i, per_programme)
        sector_no, task_no = divmod(position, 60)
        title = f"{_span(rng, phrases, 4, 9)} {_span(rng, phrases, 3, 8)}".strip()
        measures = tuple(
            f"{_span(rng, phrases, 6, 14)}, {_span(rng, phrases, 6, 14)}."
            for _ in range(rng.randint(2, 4))
        )
        yield TaskDoc(
            programme=f"{1000 + programme}/QĐ-SYN",
            code=f"{sector_no + 1}.{task_no + 1}",
            title=title[:1].upper() + title[1:],
            sector=sectors[sector_no % len(sectors)],
            measures=measures,
            lead="",
        )
