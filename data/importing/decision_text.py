"""Parse a decision's text (metadata, appendix task table, section II measures)."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from core.textnorm import folded_key, nfc

TABLE_MISSING = (
    "Tệp không có bảng nhiệm vụ (TT | Nhiệm vụ | Đơn vị chủ trì | Đơn vị phối hợp) "
    "với các mã nhiệm vụ dạng 1.1, 1.2…, nên không phải là văn bản quyết định có thể nhập."
)

_CODE_RE = re.compile(r"^\d{1,2}\.\d{1,2}$")
_SECTOR_NO_RE = re.compile(r"^\d{1,2}$")
_SECTOR_HEADING_RE = re.compile(r"^(\d{1,2})\s*[.)]\s*(Dịch vụ\b.*)$", re.IGNORECASE)
_NARRATIVE_START_RE = re.compile(r"^II\s*[.)]\s*\S", re.IGNORECASE)
_NARRATIVE_END_RE = re.compile(r"^(Điều\s+\d|III\s*[.)]|\(Kèm theo)", re.IGNORECASE)
_META_RE = re.compile(r"^([^|]{2,40}?)\s*\|\s*(.*?)\s*\|?\s*$")
_NUMBER_RE = re.compile(r"\b(\d{1,6}/\d{4}/[A-ZĐ][\w-]*|\d{1,6}/[A-ZĐ][A-ZĐa-zđ]*-[A-ZĐ][\w-]*)")
_DMY_RE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_LONG_DATE_RE = re.compile(r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})", re.IGNORECASE)
_THROUGH_RE = re.compile(r"thông qua\s+((?:Sở|Ban|Văn phòng)\s[^)(,;]+)", re.IGNORECASE)
_DEADLINE_RE = re.compile(
    r"trước ngày\s+(\d{1,2})\s*/\s*(\d{1,2})\s+(?:hằng|hàng|mỗi)\s+năm", re.IGNORECASE
)
_YEAR_RE = re.compile(r"(?<![\d/.])(20\d\d)(?![\d/])")

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


class DecisionFormatError(ValueError):
    """The input is not a decision or task table the importer understands."""


@dataclass
class ParsedMeasure:
    """A concrete measure from section II, under its `- ` heading."""

    heading: str
    text: str


@dataclass
class ParsedTask:
    """One appendix row: code, title, lead and partner cells, and attached measures."""

    code: str
    title: str
    lead: str
    partners: list[str] = field(default_factory=list)
    measures: list[ParsedMeasure] = field(default_factory=list)
    target_years: list[int] = field(default_factory=list)


@dataclass
class ParsedSector:
    """A sector row of the appendix table and its tasks."""

    number: int
    name: str
    tasks: list[ParsedTask] = field(default_factory=list)


@dataclass
class ParsedDecision:
    """Everything the importer needs from one decision."""

    decision_number: str
    issued_on: date | None = None
    issuer: str = ""
    signer: str | None = None
    title: str = ""
    sectors: list[ParsedSector] = field(default_factory=list)
    unattached_measures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    coordinator: str = ""  # the agency reports go through ("thông qua Sở …")
    report_by: tuple[int, int] | None = None  # (day, month) of the yearly report deadline
    preamble: list[str] = field(default_factory=list)  # lines before the table (facts live here)

    def tasks(self) -> list[ParsedTask]:
        """Return all tasks in table order."""
        return [task for sector in self.sectors for task in sector.tasks]


@dataclass
class _Block:
    """A `- ` heading of section II with its `+ ` lines and the sector it sits in."""

    heading: str
    lines: list[str]
    sector: int | None  # number of the last "N. Dịch vụ …" heading above it
    next_heading: int | None = None  # number of the next such heading below it


def parse_decision(
    text: str, source_name: str = "", *, decision_number: str | None = None
) -> ParsedDecision:
    """Parse a decision text of the seed's form; raise DecisionFormatError otherwise.

    decision_number, when given, overrides the number written in the text.
    """
    lines = [nfc(line) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = [line for line in lines if line]
    warnings: list[str] = []
    lines = _drop_repeated_block(lines, warnings)
    table_at = _find_table(lines)
    if table_at is None:
        raise DecisionFormatError(TABLE_MISSING)
    sectors = _parse_table(lines[table_at:], warnings)
    if not any(sector.tasks for sector in sectors):
        raise DecisionFormatError(TABLE_MISSING)
    meta = _metadata(lines[:table_at])
    number = decision_number or meta.get("so hieu") or _number_from_text(lines, source_name)
    if not number:
        raise DecisionFormatError(
            "Không tìm thấy số hiệu quyết định (ví dụ 1731/QĐ-UBND) trong tệp. "
            "Vui lòng ghi rõ số hiệu khi nhập."
        )
    decision = ParsedDecision(
        decision_number=number,
        issued_on=_parse_date(meta.get("ngay ban hanh", "")) or _long_date(lines[:table_at]),
        issuer=_issuer(meta.get("co quan ban hanh", "")),
        signer=meta.get("nguoi ky") or None,
        title=_title(lines),
        sectors=sectors,
        warnings=warnings,
        coordinator=_coordinator(lines[:table_at]),
        report_by=_report_by(lines[:table_at]),
        preamble=lines[:table_at],
    )
    blocks = _narrative_blocks(lines[:table_at])
    attach_measures(decision, blocks)
    for task in decision.tasks():
        task.target_years = target_years(
            [task.title, *(m.heading for m in task.measures), *(m.text for m in task.measures)]
        )
    return decision


def _drop_repeated_block(lines: list[str], warnings: list[str]) -> list[str]:
    """Remove the first copy of a block of lines that is immediately repeated."""
    seen: dict[str, int] = {}
    for j, line in enumerate(lines):
        i = seen.get(line)
        if i is None:
            seen[line] = j
            continue
        size = j - i
        if size >= 3 and lines[i:j] == lines[j : j + size]:
            warnings.append(f"Đã bỏ qua {size} dòng lặp lại ở phần đầu văn bản.")
            return lines[:i] + lines[j:]
    return lines


def _is_cell(line: str) -> bool:
    return line.endswith("|")


def _cell(line: str) -> str:
    return line[:-1].strip() if line.endswith("|") else line.strip()


def _find_table(lines: list[str]) -> int | None:
    """Return the index of the appendix table's "TT |" header cell, if any."""
    for i, line in enumerate(lines):
        if not _is_cell(line) or folded_key(_cell(line)) not in ("tt", "stt"):
            continue
        header = " ".join(folded_key(_cell(cell)) for cell in lines[i + 1 : i + 5])
        if "nhiem vu" in header and "chu tri" in header:
            return i
    return None


def _table_cells(lines: list[str]) -> list[str]:
    """Return the table's cells; a line without the closing "|" continues onto the next."""
    cells: list[str] = []
    pending: list[str] = []
    for line in lines:
        if _is_cell(line):
            cells.append(" ".join([*pending, _cell(line)]).strip())
            pending = []
        else:
            pending.append(line)
    if pending:
        cells.append(" ".join(pending))
    return cells


def _parse_table(lines: list[str], warnings: list[str]) -> list[ParsedSector]:
    """Read sector and task rows from the cells after the header."""
    cells = _table_cells(lines)
    header_len = 0
    for cell in cells[:6]:
        key = folded_key(cell)
        if key in ("tt", "stt") or "nhiem vu" in key or "don vi" in key:
            header_len += 1
        else:
            break
    cells = cells[header_len:]
    sectors: list[ParsedSector] = []
    codes: set[str] = set()
    i = 0
    while i < len(cells):
        cell = cells[i]
        if _CODE_RE.match(cell):
            row: list[str] = []
            i += 1
            while i < len(cells) and not _starts_row(cells, i):
                row.append(cells[i])
                i += 1
            task = _task_row(cell, row, warnings)
            if task is None:
                continue
            if cell in codes:
                warnings.append(f"Mã nhiệm vụ {cell} xuất hiện hai lần; đã giữ dòng đầu tiên.")
                continue
            codes.add(cell)
            sector_no = int(cell.split(".")[0])
            if not sectors or sectors[-1].number != sector_no:
                existing = [s for s in sectors if s.number == sector_no]
                if existing:
                    existing[0].tasks.append(task)
                    continue
                warnings.append(f"Nhiệm vụ {cell} không có dòng lĩnh vực {sector_no}.")
                sectors.append(ParsedSector(number=sector_no, name=f"Lĩnh vực {sector_no}"))
            sectors[-1].tasks.append(task)
        elif _SECTOR_NO_RE.match(cell) and i + 1 < len(cells):
            name = cells[i + 1]
            i += 2
            while i < len(cells) and cells[i] == "":
                i += 1
            sectors.append(ParsedSector(number=int(cell), name=name))
        else:
            if cell:
                warnings.append(f"Bỏ qua ô không rõ trong bảng: “{cell[:60]}”.")
            i += 1
    return sectors


def _starts_row(cells: list[str], i: int) -> bool:
    """Whether cell i begins a new task row or a sector row."""
    cell = cells[i]
    if _CODE_RE.match(cell):
        return True
    if _SECTOR_NO_RE.match(cell) and i + 1 < len(cells) and cells[i + 1]:
        following = cells[i + 2 : i + 4]
        if following and all(c == "" for c in following):
            return True
        # A sector row whose empty cells were lost is followed by its first task, N.1.
        return i + 2 >= len(cells) or cells[i + 2].startswith(f"{cell}.")
    return False


def _task_row(code: str, row: list[str], warnings: list[str]) -> ParsedTask | None:
    """Turn the cells after a task code into a task (title, lead, partners)."""
    if not row or not row[0]:
        warnings.append(f"Nhiệm vụ {code} không có nội dung; đã bỏ qua.")
        return None
    title = row[0].rstrip()
    lead = row[1] if len(row) > 1 else ""
    partners = row[2] if len(row) > 2 else ""
    if not lead:
        warnings.append(f"Nhiệm vụ {code} không có đơn vị chủ trì.")
    if len(row) > 3:
        extra = "; ".join(c for c in row[3:] if c)
        if extra:
            partners = f"{partners}; {extra}" if partners else extra
            warnings.append(f"Nhiệm vụ {code} có ô thừa; đã gộp vào đơn vị phối hợp.")
    from data.importing.agency_names import split_partners

    return ParsedTask(
        code=code,
        title=title,
        lead=lead.rstrip(" .;,"),
        partners=split_partners(partners),
    )


def _metadata(lines: list[str]) -> dict[str, str]:
    """Read "Key | value |" metadata lines (first occurrence wins)."""
    meta: dict[str, str] = {}
    for line in lines[:40]:
        match = _META_RE.match(line)
        if match and match.group(2):
            meta.setdefault(folded_key(match.group(1)), match.group(2).strip())
    return meta


def _number_from_text(lines: list[str], source_name: str) -> str:
    """Find the decision number in "Số: …" or "Quyết định số …" lines, else the file name."""
    for line in lines:
        key = folded_key(line)
        if key.startswith("so ") or "quyet dinh so" in key or key.startswith("quyet dinh"):
            match = _NUMBER_RE.search(line)
            if match:
                return match.group(1)
    return number_in(Path(source_name).stem) if source_name else ""


def number_in(name: str) -> str:
    """A decision number written in a file name, e.g. "1731_QĐ-UBND" → "1731/QĐ-UBND"."""
    match = _NUMBER_RE.search(nfc(name).replace("_", "/"))
    return match.group(1) if match else ""


def _parse_date(value: str) -> date | None:
    match = _DMY_RE.search(value)
    if not match:
        return None
    day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _long_date(lines: list[str]) -> date | None:
    for line in lines:
        match = _LONG_DATE_RE.search(line)
        if match:
            day, month, year = (int(g) for g in match.groups())
            try:
                return date(year, month, day)
            except ValueError:
                return None
    return None


def _issuer(value: str) -> str:
    """Turn "Tỉnh Quảng Ngãi" (the portal's issuer field) into "UBND tỉnh Quảng Ngãi"."""
    if folded_key(value).startswith("tinh "):
        return "UBND tỉnh " + value.split(" ", 1)[1]
    return value


def _coordinator(lines: list[str]) -> str:
    """The agency results are reported through, e.g. "(thông qua Sở Kế hoạch và Đầu tư)"."""
    for line in lines:
        match = _THROUGH_RE.search(line)
        if match:
            return match.group(1).strip()
    return ""


def _report_by(lines: list[str]) -> tuple[int, int] | None:
    """The yearly deadline, from "… trước ngày 15/12 hằng năm"."""
    for line in lines:
        match = _DEADLINE_RE.search(line)
        if match:
            day, month = int(match.group(1)), int(match.group(2))
            if 1 <= day <= 31 and 1 <= month <= 12:
                return day, month
    return None


def _title(lines: list[str]) -> str:
    first = lines[0] if lines else ""
    return "" if "|" in first else first


def _narrative_blocks(lines: list[str]) -> list[_Block]:
    """Collect the `- ` blocks of section II with the sector heading they sit under."""
    start = next((i for i, line in enumerate(lines) if _NARRATIVE_START_RE.match(line)), None)
    if start is None:
        return []
    blocks: list[_Block] = []
    sector: int | None = None
    for line in lines[start + 1 :]:
        if _NARRATIVE_END_RE.match(line):
            break
        heading = _SECTOR_HEADING_RE.match(line)
        if heading:
            sector = int(heading.group(1))
        elif line.startswith(("- ", "– ")):
            blocks.append(_Block(heading=line[2:].strip(), lines=[], sector=sector))
        elif line.startswith("+ ") and blocks:
            blocks[-1].lines.append(line[2:].strip())
    upcoming: int | None = None
    for block in reversed(blocks):
        block.next_heading = upcoming if upcoming != block.sector else None
        if block.sector is not None and block.sector != upcoming:
            upcoming = block.sector
    return _dedupe_blocks(blocks)


def _dedupe_blocks(blocks: list[_Block]) -> list[_Block]:
    """Merge blocks whose headings repeat (a duplicated passage), keeping all distinct lines."""
    by_heading: dict[str, _Block] = {}
    result: list[_Block] = []
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


def attach_measures(decision: ParsedDecision, blocks: list[_Block]) -> None:
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
    blocks: list[_Block],
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
    block: _Block,
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


def target_years(texts: list[str]) -> list[int]:
    """Return the sorted distinct years ≥ 2021 mentioned as targets (not dates or numbers)."""
    years: set[int] = set()
    for text in texts:
        for match in _YEAR_RE.finditer(text):
            year = int(match.group(1))
            if 2021 <= year <= 2100:
                years.add(year)
    return sorted(years)
