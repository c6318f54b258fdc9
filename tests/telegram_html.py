"""Telegram's parse_mode=HTML as the Bot API reads it, for the fake server and tests."""

from __future__ import annotations

import re
from typing import Any

from core.limits import PlatformLimits

# parse_mode=HTML as the Bot API reads it: these tags, &lt; &gt; &amp; &quot; and numeric entities.
_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_ENTITY = re.compile(r"&(#[0-9]{1,7}|#x[0-9a-fA-F]{1,6}|lt|gt|amp|quot);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """(visible text, entities) of an HTML message; ValueError with the Bot API's reason."""
    out: list[str] = []
    units = 0
    stack: list[tuple[str, int]] = []
    entities: list[dict[str, Any]] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "<":
            end = text.find(">", index)
            if end < 0:
                raise ValueError(f"Unclosed start tag at byte offset {index}")
            inner = text[index + 1 : end].strip()
            if inner.startswith("/"):
                name = inner[1:].strip().lower()
                if not stack or stack[-1][0] != name:
                    expected = stack[-1][0] if stack else ""
                    raise ValueError(
                        f'Unmatched end tag at byte offset {index}, expected "</{expected}>", '
                        f'found "</{name}>"'
                    )
                tag, start = stack.pop()
                if units > start:
                    entities.append(
                        {"type": _HTML_TAGS[tag], "offset": start, "length": units - start}
                    )
            else:
                name = inner.split()[0].lower() if inner else ""
                if name not in _HTML_TAGS:
                    raise ValueError(f'Unsupported start tag "{name}" at byte offset {index}')
                if stack and stack[-1][0] in ("code", "pre") and name != "code":
                    raise ValueError(f"Entities can't be nested in {stack[-1][0]}")
                stack.append((name, units))
            index = end + 1
            continue
        match = _HTML_ENTITY.match(text, index) if char == "&" else None
        if match is not None:
            body = match.group(1)
            if body.startswith("#x"):
                char = chr(int(body[2:], 16))
            elif body.startswith("#"):
                char = chr(int(body[1:]))
            else:
                char = _NAMED[body]
            index = match.end()
        else:
            index += 1
        out.append(char)
        units += 2 if ord(char) > 0xFFFF else 1
    if stack:
        raise ValueError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return "".join(out), entities


def shown(text: str, limits: PlatformLimits) -> str:
    """What a user sees of one rendered message: Telegram's HTML parsed, else the text itself."""
    return parse_html(text)[0] if limits.markup == "html" else text
