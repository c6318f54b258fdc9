"""Section II of a decision: `- ` headings and `+ ` measures, attached to the tasks they name."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from core.textnorm import folded_key
from data.importing.decision_model import ParsedDecision, ParsedMeasure, ParsedTask

_SECTOR_HEADING_RE = re.compile(r"^(\d{1,2})\s*[.)]\s*(Dịch vụ\b.*)$", re.IGNORECASE)
_NARRATIVE_START_RE = re.compile(r"^II\s*[.)]\s*\S", re.IGNORECASE)
_NARRATIVE_END_RE = re.compile(r"^(Điều\s+\d|III\s*[.)]|\(Kèm theo)", re.IGNORECASE)

# A "- " heading must score at least this against a task title to be attached to it.
HEADING_THRESHOLD = 50.0
# A heading this close to a title is that task's own heading.
STRONG_HEADING = 90.0
# A block naming no task joins its sector only if it resembles a neighbouring task this much.
NEIGHBOUR_THRESHOLD = 10.0
# Outside the current and next sector a heading must match this well.
ANYWHERE_THRESHOLD = 65.0
# A "+ " measure restating this share of another task's title belongs to that task instead.
MEASURE_SWITCH_COVERAGE = 0.9
# Tasks of the sector after the current one compete with this handicap (its heading may be lost).
NEXT_SECTOR_PENALTY = 10.0


@dataclass
class Block:
    """A `- ` heading of section II with its `+ ` lines and the sector it sits in."""

    heading: str
    lines: list[str]
    sector: int | None  # number of the last "N. Dịch vụ …" heading above it
    next_heading: int | None = None  # number of the next such heading below it


def narrative_blocks(lines: list[str]) -> list[Block]:
    """Collect the `- ` blocks of section II with the sector heading they sit under."""
    start = next((i for i, line in enumerate(lines) if _NARRATIVE_START_RE.match(line)), None)
    if start is None:
        return []
    blocks: list[Block] = []
    sector: int | None = None
    for line in lines[start + 1 :]:
        if _NARRATIVE_END_RE.match(line):
            break
        heading = _SECTOR_HEADING_RE.match(line)
        if heading:
            sector = int(heading.group(1))
        elif line.startswith(("- ", "– ")):
            blocks.append(Block(heading=line[2:].strip(), lines=[], sector=sector))
        elif line.startswith("+ ") and blocks:
            blocks[-1].lines.append(line[2:].strip())
    upcoming: int | None = None
    for block in reversed(blocks):
        block.next_heading = upcoming if upcoming != block.sector else None
        if block.sector is not None and block.sector != upcoming:
            upcoming = block.sector
    return _dedupe_blocks(blocks)


def _dedupe_blocks(blocks: list[Block]) -> list[Block]:
    """Merge blocks whose headings repeat (a duplicated passage), keeping all distinct lines."""
    by_heading: dict[str, Block] = {}
    result: list[Block] = []
    for block in blocks:
        key = folded_key(block.heading)
        first = by_heading.get(key)
        if first is None:
            by_heading[key] = block
            result.append(block)
            continue
        for line in block.lines:
            if line not in first.lines:
                first.lines.append(line)
    return result


class _Scorer:
    """IDF-weighted word overlap between section II text and task titles."""

    def __init__(self, tasks: list[ParsedTask]) -> None:
        self.words = {task.code: set(folded_key(task.title).split()) for task in tasks}
        df: Counter[str] = Counter()
        for words in self.words.values():
            df.update(words)
        total = len(tasks) + 1
        self.idf = {word: math.log(total / count) + 0.1 for word, count in df.items()}
        self.unknown = math.log(total) + 0.1
        self._cache: dict[str, set[str]] = {}

    def _words(self, text: str) -> set[str]:
        words = self._cache.get(text)
        if words is None:
            words = self._cache[text] = set(folded_key(text).split())
        return words

    def _weight(self, words: set[str]) -> float:
        return sum(self.idf.get(word, self.unknown) for word in words)

    def score(self, text: str, task: ParsedTask) -> tuple[float, float]:
        """Return (score 0-100, share of the title's weight found in text)."""
        words = self._words(text)
        title = self.words[task.code]
        if not words or not title:
            return 0.0, 0.0
        shared = self._weight(words & title)
        text_cov = shared / self._weight(words)
        title_cov = shared / self._weight(title)
        return 100.0 * (0.6 * text_cov + 0.4 * title_cov), title_cov


def attach_measures(decision: ParsedDecision, blocks: list[Block]) -> None:
    """Attach each section II block (and stray measures) to the task it best matches."""
    tasks = decision.tasks()
    if not tasks:
        return
    scorer = _Scorer(tasks)
    sector_of = {task.code: int(task.code.split(".")[0]) for task in tasks}
    numbers = sorted({s.number for s in decision.sectors})
    matches = _match_blocks(scorer, blocks, tasks, sector_of, numbers)
    for index, block in enumerate(blocks):
        best = matches[index]
        strong = best is not None and scorer.score(block.heading, best)[0] >= STRONG_HEADING
        if best is None:
            best = _neighbour(scorer, block, index, matches, sector_of, tasks)
            if best is not None:
                decision.warnings.append(
                    f"Giải pháp “{_clip(block.heading)}” không khớp rõ với nhiệm vụ nào; "
                    f"đã gắn vào nhiệm vụ chung của lĩnh vực, {best.code}."
                )
        current = sector_of[best.code] if best is not None else block.sector
        if not block.lines:
            if best is None:
                decision.unattached_measures.append(block.heading)
            else:
                best.measures.append(ParsedMeasure(heading="", text=block.heading))
            continue
        target = best
        for line in block.lines:
            switch = _containing(scorer, line, tasks, sector_of, numbers, current)
            # A heading that is itself a task title takes back the lines after a restated one;
            # under a looser heading the restated task carries on (the table split the heading).
            if switch is not None:
                target = switch
            elif strong:
                target = best
            if target is None:
                decision.unattached_measures.append(f"{block.heading}: {line}")
            else:
                target.measures.append(ParsedMeasure(heading=block.heading, text=line))


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _match_blocks(
    scorer: _Scorer,
    blocks: list[Block],
    tasks: list[ParsedTask],
    sector_of: dict[str, int],
    numbers: list[int],
) -> list[ParsedTask | None]:
    """The task each block's heading names, following the sector as the text moves on."""
    matches: list[ParsedTask | None] = []
    current: int | None = None
    heading_sector: int | None = None
    for block in blocks:
        if block.sector is not None and block.sector != heading_sector:
            heading_sector = current = block.sector
        best = _match_heading(scorer, block.heading, tasks, sector_of, numbers, current)
        if best is not None:
            current = sector_of[best.code]
        matches.append(best)
    return matches


def _neighbour(
    scorer: _Scorer,
    block: Block,
    index: int,
    matches: list[ParsedTask | None],
    sector_of: dict[str, int],
    tasks: list[ParsedTask],
) -> ParsedTask | None:
    """For a block naming no task: the general (first) task of the sector around it, if any.

    The first task of each sector is its catch-all ("nâng cao nhận thức, hoàn thiện cơ chế…"),
    so a sector-wide measure that names no task belongs there rather than to a neighbour.
    """
    before = next((m for m in reversed(matches[:index]) if m is not None), None)
    after = next((m for m in matches[index + 1 :] if m is not None), None)
    low = block.sector if block.sector is not None else 0
    high = block.next_heading if block.next_heading is not None else 10**6
    best: ParsedTask | None = None
    best_score = NEIGHBOUR_THRESHOLD
    for task in (before, after):
        if task is None or not low <= sector_of[task.code] < high:
            continue
        score = scorer.score(block.heading, task)[0]
        if score > best_score:  # on a tie the earlier task wins
            best, best_score = task, score
    if best is None:
        return None
    sector = sector_of[best.code]
    return next(task for task in tasks if sector_of[task.code] == sector)


def _match_heading(
    scorer: _Scorer,
    heading: str,
    tasks: list[ParsedTask],
    sector_of: dict[str, int],
    numbers: list[int],
    current: int | None,
) -> ParsedTask | None:
    """The task a `- ` heading names, near the current sector first, else anywhere."""
    best, _ = _best(scorer, heading, tasks, sector_of, numbers, current)
    if best is not None:
        score, title_cov = scorer.score(heading, best)
        if score >= HEADING_THRESHOLD or title_cov >= MEASURE_SWITCH_COVERAGE:
            return best
    best, score = _best(scorer, heading, tasks, sector_of, numbers, None)
    return best if score >= ANYWHERE_THRESHOLD else None


def _window(sector: int, numbers: list[int], current: int | None) -> float | None:
    """Penalty for a task's sector: 0 inside the current one, 10 in the next, else excluded."""
    if current is None or sector == current:
        return 0.0
    following = [n for n in numbers if n > current][:1]
    return NEXT_SECTOR_PENALTY if sector in following else None


def _best(
    scorer: _Scorer,
    text: str,
    tasks: list[ParsedTask],
    sector_of: dict[str, int],
    numbers: list[int],
    current: int | None,
) -> tuple[ParsedTask | None, float]:
    best: ParsedTask | None = None
    best_score = -1.0
    for task in tasks:
        penalty = _window(sector_of[task.code], numbers, current)
        if penalty is None:
            continue
        score = scorer.score(text, task)[0] - penalty
        if score > best_score:
            best, best_score = task, score
    return best, best_score


def _containing(
    scorer: _Scorer,
    text: str,
    tasks: list[ParsedTask],
    sector_of: dict[str, int],
    numbers: list[int],
    current: int | None,
) -> ParsedTask | None:
    """The task whose (long enough) title a measure restates almost entirely, if any."""
    best: ParsedTask | None = None
    best_cov = MEASURE_SWITCH_COVERAGE
    for task in tasks:
        if _window(sector_of[task.code], numbers, current) is None:
            continue
        if len(scorer.words[task.code]) < 6:
            continue
        cov = scorer.score(text, task)[1]
        if cov >= best_cov:
            best, best_cov = task, cov
    return best
