"""Seeded generator of hostile chat traffic and the checks every reply must pass."""

from __future__ import annotations

import random
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass

from bot.commands import COMMANDS
from core.limits import PlatformLimits as Capabilities
from core.model import Chat, ChatKind, Incoming, Reply, User
from core.render import render, text_length

PLATFORMS = ("console", "telegram", "zalo")
ROLES = ("stranger", "focal", "observer", "admin")
# Who plays each role; the harness registers them before the traffic starts.
ACTORS = {"stranger": "mallory", "focal": "focal", "observer": "boss", "admin": "admin"}

_ODD = [
    "\x00",
    "\ud800",
    "\udfff",
    "\u200b",
    "\u200d",
    "\u202e",
    "\u2066",
    "\ufeff",
    "\u0301",
    "\u0323\u0300",
    "\U0001f600",
    "\U0001f469\u200d\U0001f4bb",
    "\r",
    "\t",
    "\x1b[31m",
    "\u00a0",
    "\ufffd",
    "ـ",
    "א",
]
_WORDS = [
    "2.4",
    "9.9",
    "0",
    "-1",
    "1e9",
    "999999999999999999999999999999",
    "31/12/9999",
    "29/02/2027",
    "00/13/2026",
    "15/12/2026",
    "08:30",
    "25:99",
    "so y te",
    "sở tài chính",
    "skhdt",
    "xlsx",
    "docx",
    "png",
    "2020",
    "2026",
    "99999",
    "thu2",
    "* * * * *",
    "0 8 * * */2",
    "dang thuc hien",
    "hoan thanh",
    "100%",
    "250%",
    "daumoi",
    "quansat",
    "ABCDE-23456",
    "vuong mac:",
    "de xuat:",
    "'; DROP TABLE task; --",
    '=HYPERLINK("http://x")',
    "%s%s%n",
    "{0}",
    "<b>x</b>",
    "[x](http://x)",
    "@bot",
]
# Words that only an English error message would carry to a user.
_ENGLISH = re.compile(
    r"\b(error|exception|traceback|invalid|failed|must be|not found|out of range|"
    r"unexpected|none|null|errno|keyerror|valueerror|typeerror)\b",
    re.IGNORECASE,
)
_APOLOGY_MARK = "gặp sự cố"


@dataclass(frozen=True)
class Message:
    """One generated message and who sent it."""

    role: str
    incoming: Incoming


def _noise(rng: random.Random, size: int) -> str:
    pieces: list[str] = []
    while sum(map(len, pieces)) < size:
        pick = rng.random()
        if pick < 0.3:
            pieces.append(rng.choice(_ODD))
        elif pick < 0.6:
            pieces.append(rng.choice(_WORDS))
        elif pick < 0.8:
            pieces.append("".join(rng.choice(string.printable) for _ in range(rng.randint(1, 8))))
        else:
            pieces.append(chr(rng.randint(0x20, 0x10FFFF)))
        pieces.append(rng.choice([" ", " ", "", "\n"]))
    return "".join(pieces)


def _text(rng: random.Random) -> str:
    names = [name for command in COMMANDS for name in command.names]
    roll = rng.random()
    if roll < 0.01:
        return "/tim " + "a" * 100_000
    if roll < 0.02:
        return rng.choice(_ODD) * rng.randint(1, 5000)
    if roll < 0.7:
        suffix = rng.choice(["", "", "@daumoi_bot", "@other_bot"])
        args = " ".join(_noise(rng, rng.randint(0, 12)) for _ in range(rng.randint(0, 3)))
        return f"/{rng.choice(names)}{suffix} {args}".rstrip()
    if roll < 0.8:
        return str(rng.randint(-3, 40))
    if roll < 0.85:
        return "/" + _noise(rng, rng.randint(1, 20))
    return _noise(rng, rng.randint(0, 80))


def messages(seed: int, count: int) -> Iterator[Message]:
    """count messages from every role, in private chats and groups, on every platform."""
    rng = random.Random(seed)
    for number in range(count):
        role = rng.choice(ROLES)
        user = ACTORS[role]
        platform = rng.choice(PLATFORMS)
        group = rng.random() < 0.35
        chat_id = (
            rng.choice(["group-1", "group-2", "-100123456789", "unknown-chat"])
            if group
            else f"private-{user}"
        )
        token = None
        if rng.random() < 0.08:
            token = rng.choice(["", "x" * 80, "\x00", "\ud800", "1", "-1", "abc", _noise(rng, 10)])
        yield Message(
            role=role,
            incoming=Incoming(
                platform=platform,
                chat=Chat(id=chat_id, kind=ChatKind.GROUP if group else ChatKind.PRIVATE),
                user=User(id=user, display_name=user.title()),
                text="" if token is not None else _text(rng),
                addressed=not group or rng.random() < 0.7,
                choice_token=token,
                update_id=str(seed * 1_000_000 + number) if rng.random() < 0.5 else None,
            ),
        )


def problems(replies: list[Reply], capabilities: Capabilities) -> list[str]:
    """What is wrong with these replies for this platform (empty when they are fine)."""
    found: list[str] = []
    for reply in replies:
        if _APOLOGY_MARK in reply.text:
            found.append(f"internal-error reply: {reply.text[:120]!r}")
        english = _ENGLISH.search(reply.text)
        if english:
            found.append(f"English text {english.group(0)!r} in {reply.text[:160]!r}")
        try:
            parts = render(reply, capabilities)
            for part in parts:
                part.text.encode("utf-8")  # what every platform's HTTP body needs
        except UnicodeError as exc:
            found.append(f"reply cannot be sent ({exc.__class__.__name__}): {reply.text[:80]!r}")
            continue
        for part in parts:
            if text_length(part.text) > capabilities.max_text_len:
                found.append(
                    f"part of {text_length(part.text)} units > {capabilities.max_text_len}"
                )
    return found
