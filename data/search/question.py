"""Question frames around a lookup: who leads it, what an agency does, what it is now."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from core.textnorm import fold
from data.search.acronyms import telex_decode


class Intent(StrEnum):
    """What a question asks about its content."""

    LOOKUP = "lookup"  # no question frame: plain keywords
    WHO = "who"  # who leads (or cooperates on) a topic or task
    TASKS_OF = "tasks_of"  # what an agency leads or cooperates on
    SUCCESSION = "succession"  # what an agency is now, what it merged into
    WHAT = "what"  # what a task or topic is


@dataclass(frozen=True, slots=True)
class Question:
    """The frame a query was typed in and the positions of its content words."""

    intent: Intent
    keep: tuple[int, ...]  # indices of the content words, in order
    partner: bool = False  # the frame asks about cooperating, not leading
    asked: bool = False  # the query is a question (a question word was typed)
    personal: bool = False  # it asks about a citizen's own price, paperwork or whereabouts


def _phrases(*texts: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(t.split()) for t in texts)


# Folded phrases; each marks one part of a frame. Longest phrases are tried first.
_WHO = _phrases(
    "ai",
    "so nao",
    "don vi nao",
    "co quan nao",
    "ban nao",
    "nganh nao",
    "noi nao",
    "ben nao",
    "phong nao",
    "cap nao",
    "to chuc nao",
)
_LEAD = _phrases(
    "chu tri",
    "phu trach",
    "lo",
    "lam",
    "quan ly",
    "dam nhiem",
    "dam nhan",
    "thuc hien",
    "trien khai",
    "ho tro",
    "giai quyet",
    "chiu trach nhiem",
    "coi",
    "dieu hanh",
)
_PARTNER = _phrases("phoi hop", "cung lam", "tham gia", "ho tro phoi hop")
_TASK = _phrases(
    "nhiem vu",
    "nv",
    "viec",
    "cong viec",
    "phan viec",
    "noi dung",
    "linh vuc",
    "mang",
)
_SUCCESSION = _phrases(
    "sap nhap",
    "sat nhap",
    "hop nhat",
    "gop vao",
    "gop voi",
    "doi ten",
    "ten moi",
    "ten gi",
    "gio la",
    "nay la",
    "bay gio la",
    "hien nay la",
    "hien la",
    "gio thuoc",
    "nay thuoc",
    "hien thuoc",
    "con khong",
    "con hoat dong",
    "giai the",
    "chuyen ve",
    "vao dau",
    "ve dau",
    "thanh so nao",
    "gio ten",
    "nay ten",
)
_WHAT = _phrases("la gi", "nghia la gi", "la sao", "noi gi", "gom gi", "the nao")
_TAILS = frozenset({"nao", "gi", "khong", "ko", "k", "chua", "vay", "a", "ha", "nhe", "oi", "the"})
_ASK = frozenset({"ai", "nao", "gi", "khong", "ko", "chua", "sao"})
_END_ONLY = frozenset({"khong", "ko", "k", "chua"})
_LINKS = frozenset(
    {"do", "thi", "se", "duoc", "dang", "hien", "nay", "gio", "la", "cua", "cac", "thuoc", "co"}
)
# "đâu" only where it asks ("ở đâu", "vào đâu"); elsewhere "dau" is "đầu" ("đầu tư").
_WHERE_BEFORE = frozenset({"o", "vao", "ve", "di", "tu"})
_MANY = _phrases("bao nhieu", "may", "nhung", "cac")
_TELEX_FRAME = frozenset(
    {"nhung", "nao", "gi", "ai", "lo", "lam", "phu", "trach", "chu", "tri", "viec", "so"}
)


# A citizen's own transaction, not the programme: price or fee, paperwork, whereabouts.
_PRICE = _phrases(
    "gia ve",
    "gia re",
    "gia phong",
    "gia tour",
    "gia bao nhieu",
    "gia the nao",
    "bao nhieu tien",
    "het bao nhieu",
    "mat bao nhieu",
    "ton bao nhieu",
    "lai suat",
    "le phi",
    "muc phi",
    "phi bao nhieu",
    "gia cuoc",
    "bang gia",
)
_PAPERWORK = _phrases(
    "can giay to gi",
    "can nhung giay to",
    "can giay to",
    "giay to gi",
    "ho so gom nhung gi",
    "ho so can nhung gi",
    "can ho so gi",
    "ho so gi",
    "lam o dau",
    "nop o dau",
    "dang ky o dau",
    "xin o dau",
    "mua o dau",
    "lam the nao de",
)
_PROCEDURE_ASK = _phrases("the nao", "nhu the nao", "ra sao", "o dau", "gi", "mat bao lau")
_WHEREABOUTS = _phrases("o dau", "nam o dau")
# "gắn với", "gắn kết", "gắn liền", "gắn bó": without marks "gan" is not always "gần".
_NOT_NEAR = frozenset({"voi", "ket", "lien", "bo", "nhu", "chat"})
# Reforming procedures is the programme's business ("cải cách thủ tục hành chính").
_REFORM = _phrases("cai cach", "don gian hoa", "cat giam", "doi moi", "rut gon", "cai thien")


def asks_personal(tokens: Sequence[str], accented: Sequence[str] | None = None) -> bool:
    """A citizen's own price, fee, paperwork or place ("giá vé", "cần giấy tờ gì", "gần …")."""
    toks = list(tokens)
    if _has(toks, _PRICE) or _has(toks, _PAPERWORK) or _has(toks, _WHEREABOUTS):
        return True
    procedure = _find(toks, _phrases("thu tuc"))
    if procedure and not _has(toks, _REFORM):
        after = toks[procedure[0][1] :]
        if _has(after, _PROCEDURE_ASK):
            return True
    marked = accented if accented is not None and len(accented) == len(toks) else None
    for i, t in enumerate(toks[:-1]):
        if t != "gan" or toks[i + 1] in _NOT_NEAR:
            continue
        if marked is None or marked[i] == "gần" or not _typed_marks(marked):
            return True
    return False


def _typed_marks(accented: Sequence[str]) -> bool:
    """Whether the user typed any Vietnamese marks (then "gan" without them is not "gần")."""
    return any(fold(w) != w for w in accented)


def _decode(token: str) -> str:
    """Undo Telex only where it yields a frame word ("nhuwng" -> "nhung")."""
    decoded = telex_decode(token)
    return decoded if decoded in _TELEX_FRAME else token


def parse_question(
    tokens: Sequence[str], question_mark: bool = False, accented: Sequence[str] | None = None
) -> Question:
    """Find the frame in folded tokens; keep the content words' positions."""
    toks = [_decode(t) for t in tokens]
    if asks_personal(toks, accented):
        return Question(Intent.LOOKUP, tuple(range(len(toks))), asked=True, personal=True)
    everything = tuple(range(len(toks)))
    where = {i for i, t in enumerate(toks) if t == "dau" and _asks_where(toks, i)}
    asked = (
        question_mark
        or bool(where)
        or any(t in _ASK and _ends(toks, i, t) for i, t in enumerate(toks))
        or _has(toks, _phrases("bao nhieu"))
    )
    if not asked:
        return Question(Intent.LOOKUP, everything)
    marks: dict[str, list[tuple[int, int]]] = {}
    frames = (
        ("succession", _SUCCESSION),
        ("what", _WHAT),
        ("partner", _PARTNER),
        ("who", _WHO),
        ("task", _TASK),
        ("lead", _LEAD),
        ("many", _MANY),
    )
    for name, phrases in frames:
        marks[name] = _find(toks, phrases)
    drop: set[int] = set()
    who = bool(marks["who"])
    # A task noun is frame only when asked about: "những nhiệm vụ nào", "việc gì", "bao nhiêu".
    task_spans = [s for s in marks["task"] if _asked_about(toks, s)]
    if marks["what"] and marks["task"] and marks["task"][0][0] == 0:
        task_spans.append(marks["task"][0])  # "nhiệm vụ của sở giáo dục là gì"
    # "làm gì", "lo những việc gì": what an agency does.
    does = [
        (i, i + 1) for i, t in enumerate(toks[:-1]) if t in {"lam", "lo"} and toks[i + 1] == "gi"
    ]
    lead_ends = {end for _, end in (*marks["lead"], *marks["partner"], *marks["who"])}
    # "ai chủ trì nhiệm vụ logistics": the task noun right after the verb is frame too.
    task_spans += [s for s in marks["task"] if s[0] in lead_ends and s not in task_spans]
    many = marks["many"] if task_spans else []
    framed = {i for start, end in (*marks["who"], *task_spans, *many) for i in range(start, end)}
    lead_spans = [s for s in marks["lead"] if _near(toks, s, framed) and not _road(toks, s)]
    for spans in (
        marks["succession"],
        marks["what"],
        marks["partner"],
        marks["who"],
        task_spans,
        lead_spans,
        does,
    ):
        for start, end in spans:
            drop.update(range(start, end))
    if task_spans or does:
        for start, end in marks["many"]:
            drop.update(range(start, end))
    drop.update(where)
    for _ in range(2):  # links next to links ("do ... thì sẽ") go too
        for i, t in enumerate(toks):
            tail = t in _TAILS and _ends(toks, i, t)
            link = t in _LINKS and _beside(i, drop)
            lead_in = t in {"co", "ve"} and (i == 0 or _beside(i, drop))
            if tail or link or lead_in:
                drop.add(i)
    keep = tuple(i for i in everything if i not in drop)
    if not keep:
        keep = everything
    partner = bool(marks["partner"])
    if marks["succession"]:
        intent = Intent.SUCCESSION
    elif task_spans or does:
        intent = Intent.TASKS_OF
    elif who or lead_spans or partner:
        intent = Intent.WHO
    elif marks["what"]:
        intent = Intent.WHAT
    else:
        intent = Intent.LOOKUP
    return Question(intent, keep, partner=partner, asked=True)


def _has(toks: Sequence[str], phrases: Sequence[tuple[str, ...]]) -> bool:
    return bool(_find(toks, phrases))


def _find(toks: Sequence[str], phrases: Sequence[tuple[str, ...]]) -> list[tuple[int, int]]:
    """Non-overlapping (start, end) spans of the phrases, longest first at each position."""
    ordered = sorted(phrases, key=len, reverse=True)
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(toks):
        for phrase in ordered:
            if tuple(toks[i : i + len(phrase)]) == phrase:
                spans.append((i, i + len(phrase)))
                i += len(phrase)
                break
        else:
            i += 1
    return spans


def _asked_about(toks: Sequence[str], span: tuple[int, int]) -> bool:
    """A task noun followed by "nào"/"gì" or preceded by "bao nhiêu"/"những"."""
    start, end = span
    after = toks[end : end + 2]
    before = toks[max(0, start - 2) : start]
    return bool({"nao", "gi"} & set(after)) or "nhieu" in before or "nhung" in before


def _near(toks: Sequence[str], span: tuple[int, int], framed: set[int]) -> bool:
    """A verb next to a question word or a task noun ("sở nào lo", "có lo không")."""
    start, end = span
    around = [*range(start - 2, start), *range(end, end + 2)]
    return any(i in framed or (0 <= i < len(toks) and toks[i] in _TAILS) for i in around)


def _ends(toks: Sequence[str], i: int, token: str) -> bool:
    """ "không", "chưa" ask only at the end ("có … không"); inside they mean "not"."""
    return token not in _END_ONLY or i == len(toks) - 1


def _road(toks: Sequence[str], span: tuple[int, int]) -> bool:
    """ "lộ" of a road ("quốc lộ 24", "lộ 1A"), not the verb "lo"."""
    start, end = span
    if toks[start] != "lo":
        return False
    before = toks[start - 1] if start else ""
    after = toks[end] if end < len(toks) else ""
    return before in {"quoc", "tinh", "huyen"} or after[:1].isdigit()


def _asks_where(toks: Sequence[str], i: int) -> bool:
    return i > 0 and toks[i - 1] in _WHERE_BEFORE


def _beside(i: int, drop: set[int]) -> bool:
    return (i - 1) in drop or (i + 1) in drop
