"""Fit replies to a platform: split long text, number choices, summarise files."""

from __future__ import annotations

import unicodedata
from dataclasses import replace

from core import markup
from core.limits import PlatformLimits
from core.model import Attachment, Reply

CHOOSE_BY_NUMBER = "Trả lời bằng số để chọn."
# Don't end a hard-split piece between a character and what attaches to it.
_JOINERS = {"\u200d", "\ufe0e", "\ufe0f"}


def text_length(text: str) -> int:
    """Visible length as platforms count it (UTF-16 code units; markup spans count nothing)."""
    return len(markup.plain(text).encode("utf-16-le")) // 2


def render(reply: Reply, capabilities: PlatformLimits) -> list[Reply]:
    """Turn one reply into messages the platform can send as they are, in its markup."""
    text = reply.text
    choices = tuple(
        replace(choice, label=markup.plain(choice.label))
        for choice in reply.choices
        if capabilities.supports_web_app or not choice.web_app_url  # never a number of its own
    )
    file = reply.file
    if choices and not capabilities.supports_buttons:
        text = _with_numbered_choices(text, [choice.label for choice in choices])
        choices = ()
    if file is not None and not capabilities.supports_files:
        text = _join(text, file_summary(file))
        file = None
    chunks = pieces(text, capabilities)
    if not chunks:
        if file is None and not choices:
            return []
        chunks = ["…"] if choices else [""]
    last = len(chunks) - 1
    return [
        replace(
            reply,
            text=chunk,
            choices=choices if index == last else (),
            file=file if index == last else None,
        )
        for index, chunk in enumerate(chunks)
    ]


def file_summary(file: Attachment) -> str:
    """A line that stands in for a file on platforms that cannot send one."""
    summary = f"Tệp {file.filename}"
    if file.summary:
        summary += f": {file.summary}"
    return summary


def _with_numbered_choices(text: str, labels: list[str]) -> str:
    lines = [f"{number}. {label}" for number, label in enumerate(labels, start=1)]
    return _join(text, "\n".join([*lines, CHOOSE_BY_NUMBER]))


def _join(text: str, extra: str) -> str:
    return f"{text.rstrip()}\n\n{extra}" if text.strip() else extra


def split_text(text: str, limit: int) -> list[str]:
    """Split text into pieces of at most limit units, at line boundaries where possible."""
    if limit < 2:
        raise ValueError("limit must allow at least one character")
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if text_length(candidate) <= limit:
            current = candidate
            continue
        if current.strip():
            chunks.append(current.rstrip())
        current = ""
        if text_length(line) <= limit:
            current = line
            continue
        pieces = _hard_split(line, limit)
        chunks.extend(piece for piece in pieces[:-1] if piece.strip())
        current = pieces[-1]
    if current.strip():
        chunks.append(current.rstrip())
    return chunks


def _hard_split(line: str, limit: int) -> list[str]:
    pieces: list[str] = []
    rest = line
    while text_length(rest) > limit:
        end = _fit(rest, limit)
        space = rest.rfind(" ", 0, end)
        if space > end * 3 // 4:
            end = space + 1
        pieces.append(rest[:end].rstrip())
        rest = rest[end:].lstrip(" ")
    pieces.append(rest)
    return pieces


def _fit(text: str, limit: int) -> int:
    """The largest prefix length within limit that does not cut a combining sequence."""
    units = 0
    end = 0
    for index, char in enumerate(text):
        width = 0 if markup.is_sentinel(char) else 2 if ord(char) > 0xFFFF else 1
        if units + width > limit:
            break
        units += width
        end = index + 1
    boundary = end
    while boundary > 1 and _attaches(text, boundary):
        boundary -= 1
    return boundary if boundary > 0 else max(end, 1)


def _attaches(text: str, index: int) -> bool:
    if index >= len(text):
        return False
    char = text[index]
    return bool(unicodedata.combining(char)) or char in _JOINERS or text[index - 1] in _JOINERS


def shorten(text: str, width: int, *, at_word: bool = False) -> str:
    """Text on one line, cut to at most width characters with "…" (at a word if asked)."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    if at_word:
        cut = text[: width - 1]
        space = cut.rfind(" ")
        if space > width // 2:  # a word boundary, unless that would drop most of the text
            cut = cut[:space]
        return cut.rstrip(" ,;:.-–") + "…"
    return text[: width - 1].rstrip() + "…"


def pieces(text: str, limits: PlatformLimits) -> list[str]:
    """Text as the messages a platform is sent: split on the visible length, in its markup.

    A bold or code span cut by the split is closed at the end of one piece and reopened in
    the next, so every piece is valid on its own.
    """
    out: list[str] = []
    opened: tuple[str, ...] = ()
    for chunk in split_text(text, limits.max_text_len):
        if markup.plain(chunk).strip():
            out.append(markup.for_platform(markup.balanced(chunk, opened), limits.markup))
        opened = markup.open_after(chunk, opened)
    return out
