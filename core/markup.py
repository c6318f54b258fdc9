"""A tiny platform-neutral markup: bold and code spans that render as HTML or as plain text.

Handlers wrap text with bold() or code(); the spans are private-use sentinel characters that
incoming text can never contain (clean_text strips U+E000–U+E00F), so user text inside a span
is never read as markup. core.render turns them into Telegram HTML (everything else escaped)
or drops them for plain-text platforms.
"""

from __future__ import annotations

import re

BOLD_OPEN, BOLD_CLOSE = "\ue000", "\ue001"
CODE_OPEN, CODE_CLOSE = "\ue002", "\ue003"
_SENTINELS = re.compile("[\ue000-\ue00f]")
_SENTINEL_SPLIT = re.compile("([\ue000-\ue00f])")
_OPENERS = {BOLD_OPEN: "b", CODE_OPEN: "code"}
_CLOSERS = {BOLD_CLOSE: BOLD_OPEN, CODE_CLOSE: CODE_OPEN}
_HTML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def strip_sentinels(text: str) -> str:
    """Text without markup sentinels (every incoming text and name goes through this)."""
    return _SENTINELS.sub("", text)


def bold(text: str) -> str:
    """Text shown in bold where the platform can."""
    inner = strip_sentinels(text)
    return f"{BOLD_OPEN}{inner}{BOLD_CLOSE}" if inner else ""


def code(text: str) -> str:
    """Text shown in monospace where the platform can (task codes)."""
    inner = strip_sentinels(text)
    return f"{CODE_OPEN}{inner}{CODE_CLOSE}" if inner else ""


def plain(text: str) -> str:
    """The visible text of marked-up text."""
    return strip_sentinels(text)


def is_sentinel(char: str) -> bool:
    """Whether a character is a markup sentinel (zero-width in the visible text)."""
    return "\ue000" <= char <= "\ue00f"


def open_after(text: str, already: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The spans (opening sentinels) still open at the end of text, given those open before."""
    stack = list(already)
    for match in _SENTINELS.finditer(text):  # only the sentinels, not every character
        char = match.group()
        if char in _OPENERS and char not in stack:
            stack.append(char)
        elif char in _CLOSERS and _CLOSERS[char] in stack:
            stack.remove(_CLOSERS[char])
    return tuple(stack)


def balanced(text: str, opened: tuple[str, ...]) -> str:
    """A piece of a split text that reopens the spans open before it and closes its own."""
    closing = {opener: closer for closer, opener in _CLOSERS.items()}
    still = open_after(text, opened)
    return "".join(opened) + text + "".join(closing[o] for o in reversed(still))


def to_html(text: str) -> str:
    """Telegram HTML: &, < and > escaped, spans as <b>/<code>, every tag closed and none nested."""
    escaped = text.translate(_HTML_ESCAPES)
    if _SENTINELS.search(escaped) is None:  # most text carries no span: one pass
        return escaped
    out: list[str] = []
    current: str | None = None  # one span at a time: Telegram's code may not hold other tags
    for part in _SENTINEL_SPLIT.split(escaped):
        if part in _OPENERS:
            if current is None:
                current = part
                out.append(f"<{_OPENERS[part]}>")
        elif part in _CLOSERS:
            if current == _CLOSERS[part]:
                out.append(f"</{_OPENERS[current]}>")
                current = None
        elif not (len(part) == 1 and is_sentinel(part)):
            out.append(part)
    if current is not None:
        out.append(f"</{_OPENERS[current]}>")
    return "".join(out)


def for_platform(text: str, markup: str) -> str:
    """Marked-up text in a platform's markup ("html" or "plain")."""
    return to_html(text) if markup == "html" else plain(text)
