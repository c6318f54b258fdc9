"""Read status reports typed on a phone ("dang thuc hien 60% …") and name things in Vietnamese."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from core import labels
from core.textnorm import strip_marks
from data.store.models import TaskStatus
from data.store.status import (
    MAX_BLOCKER,
    MAX_PROPOSAL,
    MAX_RESULT,
    Classification,
    Report,
)

# Folded phrases, longest first within a status so "da hoan thanh" beats "hoan thanh".
_STATUS_WORDS: tuple[tuple[str, TaskStatus], ...] = (
    ("chua trien khai", TaskStatus.NOT_STARTED),
    ("chua thuc hien", TaskStatus.NOT_STARTED),
    ("chua bat dau", TaskStatus.NOT_STARTED),
    ("not started", TaskStatus.NOT_STARTED),
    ("dang thuc hien", TaskStatus.IN_PROGRESS),
    ("dang trien khai", TaskStatus.IN_PROGRESS),
    ("in progress", TaskStatus.IN_PROGRESS),
    ("da hoan thanh", TaskStatus.DONE),
    ("hoan thanh", TaskStatus.DONE),
    ("da xong", TaskStatus.DONE),
    ("xong roi", TaskStatus.DONE),
    ("xong", TaskStatus.DONE),
    ("done", TaskStatus.DONE),
)
_PROGRESS_RE = re.compile(
    r"[\s,:;.\-–]*(?:(?:tien do|progress)\s*:?\s*(\d{1,6})\s*(?:%|phan tram)?"
    r"|(\d{1,6})\s*(?:%|phan tram))"
)
_SEPARATORS = " \t\r\n,:;.-–—"
_MARKER_RE = re.compile(
    r"(?<![^\W_])(kho khan\s*(?:,|va)?\s*vuong mac|vuong mac|kho khan|de xuat|kien nghi|ket qua)"
    r"\s*:"
)
_BLOCKER_MARKERS = ("vuong mac", "kho khan")
_PROPOSAL_MARKERS = ("de xuat", "kien nghi")
_CONTROL = {"Cc", "Cf"}

EXAMPLE = "/capnhat 2.4 đang thực hiện 60% Đã làm việc với hãng bay về đường bay mới"
HOW_TO_WRITE = (
    "Cách ghi: trạng thái (chưa triển khai / đang thực hiện / hoàn thành), tiến độ %, "
    "rồi nội dung kết quả. Nếu có khó khăn, thêm “vướng mắc: …”; có đề xuất, thêm “đề xuất: …” "
    "(gõ không dấu cũng được)."
)


class InputError(ValueError):
    """A report that cannot be accepted; the message is what to tell the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Parsed:
    """What a typed report says, before validation."""

    status: TaskStatus | None = None
    progress: int | None = None
    result: str = ""
    blocker_text: str = ""
    proposal: str = ""
    blocker_marked: bool = False


def clean(text: str) -> str:
    """NFC text without control or invisible format characters (new lines kept)."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch == "\n" or category not in _CONTROL:
            kept.append(ch)
        elif category == "Cc":
            kept.append(" ")
    lines = [" ".join(line.split()) for line in "".join(kept).split("\n")]
    return "\n".join(line for line in lines if line).strip()


def aligned_fold(text: str) -> str:
    """Lower-case, mark-free text with exactly one character per character of text."""
    out = []
    for ch in text:
        folded = strip_marks(ch).casefold()
        if len(folded) != 1:
            lowered = ch.lower()
            folded = lowered if len(lowered) == 1 else ch
        out.append(folded)
    return "".join(out)


def _number(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def split_status(text: str) -> tuple[TaskStatus | None, str]:
    """The status words a text starts with (with or without marks), and the rest."""
    folded = aligned_fold(text)
    for phrase, status in _STATUS_WORDS:
        if folded.startswith(phrase):
            end = len(phrase)
            if end == len(folded) or not folded[end].isalnum():
                return status, text[end:]
    return None, text


def split_progress(text: str) -> tuple[int | None, str]:
    """A leading "60%" or "tiến độ 60" and the rest."""
    folded = aligned_fold(text)
    match = _PROGRESS_RE.match(folded)
    if match is None:
        return None, text
    digits = match.group(1) or match.group(2)
    return int(digits), text[match.end() :]


def split_sections(text: str) -> tuple[str, str, str, bool]:
    """(result, blocker, proposal, whether a blocker label was written) of a free-text note."""
    folded = aligned_fold(text)
    parts: dict[str, list[str]] = {"result": [], "blocker": [], "proposal": []}
    current = "result"
    position = 0
    blocker_marked = False
    for match in _MARKER_RE.finditer(folded):
        parts[current].append(text[position : match.start()])
        marker = " ".join(match.group(1).replace(",", " ").split())
        if any(word in marker for word in _BLOCKER_MARKERS):
            current = "blocker"
            blocker_marked = True
        elif any(word in marker for word in _PROPOSAL_MARKERS):
            current = "proposal"
        else:
            current = "result"
        position = match.end()
    parts[current].append(text[position:])

    def joined(name: str) -> str:
        pieces = [piece.strip(_SEPARATORS) for piece in parts[name]]
        return "\n".join(piece for piece in pieces if piece)

    return joined("result"), joined("blocker"), joined("proposal"), blocker_marked


def parse_line(text: str) -> Parsed:
    """Read "dang thuc hien 60% kết quả … vuong mac: … de xuat: …"."""
    text = clean(text)
    status, rest = split_status(text)
    progress: int | None = None
    if status is not None:
        progress, rest = split_progress(rest)
    result, blocker, proposal, marked = split_sections(rest.lstrip(_SEPARATORS))
    return Parsed(status, progress, result, blocker, proposal, marked)


def parse_note(text: str) -> Parsed:
    """Read the free-text step of the guided flow (result, blocker, proposal)."""
    result, blocker, proposal, marked = split_sections(clean(text))
    return Parsed(None, None, result, blocker, proposal, marked)


def parse_status(text: str) -> TaskStatus | None:
    """A status typed on its own ("hoan thanh", "Đang thực hiện")."""
    status, rest = split_status(clean(text))
    return status if not rest.strip(_SEPARATORS) else None


def parse_progress(text: str) -> int:
    """A percentage typed on its own ("60", "60%", "tiến độ 60")."""
    folded = aligned_fold(clean(text)).strip()
    match = re.fullmatch(r"(?:tien do\s*:?\s*)?(\d{1,6})\s*(?:%|phan tram)?", folded)
    if match is None:
        raise InputError("Anh/chị gõ tiến độ là một số từ 0 đến 100, ví dụ: 60")
    return check_progress(int(match.group(1)))


def check_progress(value: int) -> int:
    """The progress if it is a percentage, else an InputError."""
    if not 0 <= value <= 100:
        raise InputError(
            f"Tiến độ {_number(value)}% không hợp lệ: tiến độ phải từ 0 đến 100%. "
            "Anh/chị vui lòng gõ lại, ví dụ: 60%"
        )
    return value


def check_length(label: str, text: str, limit: int) -> str:
    """The text if short enough, else an InputError saying by how much it is too long."""
    if len(text) > limit:
        raise InputError(
            f"{label} quá dài ({_number(len(text))} ký tự); tối đa {_number(limit)} ký tự. "
            "Anh/chị vui lòng tóm tắt lại và gửi lại."
        )
    return text


def progress_for(status: TaskStatus, progress: int | None) -> int:
    """The progress that goes with a status (100 when done, 0 when not started)."""
    if status is TaskStatus.DONE:
        if progress is not None and progress != 100:
            raise InputError(
                f"Nhiệm vụ đã hoàn thành thì tiến độ là 100%, không phải {_number(progress)}%. "
                "Nếu chưa xong, anh/chị ghi “đang thực hiện”."
            )
        return 100
    if status is TaskStatus.NOT_STARTED:
        if progress:
            raise InputError(
                "Nhiệm vụ chưa triển khai thì tiến độ là 0%. "
                "Nếu đã bắt đầu, anh/chị ghi “đang thực hiện” kèm tiến độ."
            )
        return 0
    if progress is None:
        raise InputError(
            "Anh/chị cho biết tiến độ (%) của nhiệm vụ đang thực hiện, ví dụ: " + EXAMPLE
        )
    return check_progress(progress)


def to_report(
    parsed: Parsed,
    *,
    status: TaskStatus | None = None,
    progress: int | None = None,
    file_platform: str | None = None,
    file_ref: str | None = None,
) -> Report:
    """Validate a parsed report (status and progress may come from earlier flow steps)."""
    status = status or parsed.status
    if status is None:
        raise InputError(
            "Anh/chị cho biết trạng thái: chưa triển khai, đang thực hiện hoặc hoàn thành. "
            f"Ví dụ: {EXAMPLE}"
        )
    value = progress_for(status, progress if progress is not None else parsed.progress)
    result = check_length("Nội dung kết quả", parsed.result, MAX_RESULT)
    blocker = check_length("Nội dung vướng mắc", parsed.blocker_text, MAX_BLOCKER)
    proposal = check_length("Nội dung đề xuất", parsed.proposal, MAX_PROPOSAL)
    if parsed.blocker_marked and not blocker:
        raise InputError("Anh/chị ghi rõ khó khăn, vướng mắc sau “vướng mắc:”.")
    if not (result or blocker or proposal):
        raise InputError(
            "Anh/chị vui lòng ghi nội dung kết quả thực hiện (không được để trống). "
            f"Ví dụ: {EXAMPLE}"
        )
    return Report(
        status=status,
        progress=value,
        result=result,
        blocker_text=blocker,
        proposal=proposal,
        file_platform=file_platform if file_ref else None,
        file_ref=file_ref,
    )


def status_label(status: str) -> str:
    """ "Đang thực hiện" for a stored status value."""
    return labels.TASK_STATUS.get(status, status)


def status_phrase(status: str, progress: int) -> str:
    """ "Đang thực hiện (60%)", or the bare label when the percentage says nothing."""
    label = status_label(status)
    return f"{label} ({progress}%)" if status == TaskStatus.IN_PROGRESS.value else label


def classification_label(classification: Classification | None, status: str | None) -> str:
    """The official category, worded for a task not yet started when that is the case."""
    if classification is None:
        return "chưa báo cáo"
    if classification is Classification.ON_TIME and status == TaskStatus.NOT_STARTED.value:
        return "chưa triển khai, còn trong hạn"
    return labels.CLASSIFICATION[classification].lower()
