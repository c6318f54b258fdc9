"""Odd input (lone surrogates, NUL, controls, combining marks, RTL, zero-width, 100k characters)
is cleaned where it enters the neutral model, so every message gets a reply that can be sent,
on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import unicodedata
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot import commands
from bot.router import Router, apology_incident
from core.limits import LIMITS as CAPABILITIES
from core.model import MAX_TEXT, Chat, ChatKind, Incoming, User, clean_text, clean_token
from core.render import render, text_length
from core.settings import Settings
from data.store.db import Database

if TYPE_CHECKING:
    from tests.bot_harness import Bot

pytest_plugins = ("tests.bot_harness",)

ODD = [
    "\ud800",  # lone high surrogate
    "\udfff",  # lone low surrogate
    "\x00",
    "\x07",
    "\x1b[31m",
    "\r",
    "\x85",
    "\u0301",  # combining acute
    "\u0323\u0302",  # two combining marks (ệ in NFD)
    "\u200b",  # zero-width space
    "\u200d",  # zero-width joiner
    "\ufeff",
    "\u202e",  # right-to-left override
    "مرحبا",
    "שלום",
    "👨‍👩‍👧",
    "ế",
    "\n",
    "\t",
    "1",
    "#",
    ".",
]
COMMANDS = sorted({f"/{c.name}" for c in map(commands.find, commands.all_names()) if c})
_updates = itertools.count(1)
ADMIN_SETTINGS = Settings(admins=("console:admin",))

any_char = st.characters(exclude_categories=())  # surrogates included
piece = st.text(any_char, max_size=40) | st.sampled_from(ODD)
body = st.lists(piece, max_size=8).map("".join)
huge = st.builds(
    lambda part, times: part * times,
    st.sampled_from([*ODD, "so y te "]),
    st.integers(1000, 100_000),
)
messages = st.one_of(
    body,
    st.builds(lambda cmd, rest: f"{cmd} {rest}", st.sampled_from(COMMANDS), body),
    huge,
    st.builds(lambda cmd, rest: f"{cmd} {rest}", st.sampled_from(COMMANDS), huge),
)
tokens = st.one_of(
    st.none(),
    st.text(any_char, max_size=80),
    st.builds(lambda t: f"abc{t}.1", st.sampled_from(ODD)),
)


def _send(router: Router, text: str, token: str | None, platform: str, group: bool) -> None:
    """One message through the router: a reply, no internal error, and every part sendable."""
    kind = ChatKind.GROUP if group else ChatKind.PRIVATE
    incoming = Incoming(
        platform=platform,
        chat=Chat("odd-group\x00" if group else "odd-chat", kind, title="Nhóm\x00\ud800"),
        user=User("odd-user", display_name="Lan\x00\ud800 ́"),
        text=text,
        update_id=f"odd\x00-{next(_updates)}",
        message_id=f"m\x00{next(_updates)}",
        choice_token=token,
    )
    replies = router.handle(incoming)
    assert not any(apology_incident(reply.text) for reply in replies), repr(text[:80])
    for reply in replies:
        for part in render(reply, CAPABILITIES[platform]):
            part.text.encode("utf-8")  # a lone surrogate would raise here
            assert "\x00" not in part.text
            assert text_length(part.text) <= CAPABILITIES[platform].max_text_len


SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@SETTINGS
@given(
    text=messages,
    token=tokens,
    platform=st.sampled_from(sorted(CAPABILITIES)),
    group=st.booleans(),
)
@example(text="\ud800 abc", token=None, platform="telegram", group=False)
@example(text="x", token="abc\x00.1", platform="telegram", group=False)
@example(text="/capnhat \x00", token=None, platform="zalo", group=False)
@example(text="so y te\x00", token=None, platform="zalo", group=False)
def test_odd_input_gets_a_sendable_reply(
    bot: Bot, text: str, token: str | None, platform: str, group: bool
) -> None:
    _send(bot.router, text, token, platform, group)


@settings(deadline=None)
@given(text=st.text(any_char, max_size=300) | huge)
def test_clean_text_is_storable_nfc_capped_and_idempotent(text: str) -> None:
    cleaned = clean_text(text)
    cleaned.encode("utf-8")
    assert len(cleaned) <= MAX_TEXT
    assert not any(unicodedata.category(c) in ("Cs", "Cc") and c not in "\n\t" for c in cleaned)
    assert unicodedata.is_normalized("NFC", cleaned)
    assert clean_text(cleaned) == cleaned


@given(token=st.text(any_char, max_size=200))
def test_clean_token_is_short_ascii(token: str) -> None:
    cleaned = clean_token(token)
    assert cleaned.isascii() and len(cleaned) <= 64 and "\x00" not in cleaned


def test_the_reported_surrogate_message_is_answered(bot: Bot) -> None:
    said = bot.say("\ud800 abc", platform="telegram")
    assert said.strip() and apology_incident(said) is None


HUGE = "9" * 30
TYPED_NUMBERS = [
    f"/tamdung {HUGE}",
    f"/tieptuc #{HUGE}",
    f"/huynhac {HUGE}",
    "/tamdung ²",
    "/huynhac ١٢",
    f"/linhvuc {HUGE}",
    f"/nhiemvu {HUGE}.1",
    f"/nhiemvu 2.{HUGE}",
    f"/lichsu {HUGE}.1",
    f"/capnhat {HUGE}.{HUGE} hoan thanh",
    f"/baocao {HUGE}",
    f"/baocao xlsx {HUGE}",
    HUGE,
    "١",
    f"/capnhat #{HUGE} 1",
]


def _numbers_answered(router: Router) -> None:
    for text in TYPED_NUMBERS:
        incoming = Incoming("console", Chat("admin-chat"), User("admin"), text)
        replies = router.handle(incoming)
        assert replies and not any(apology_incident(r.text) for r in replies), text


def test_typed_numbers_are_bounded(seeded_db: Database, search_engine: Any) -> None:
    _numbers_answered(Router(seeded_db, search_engine, ADMIN_SETTINGS, CAPABILITIES))


# Every kind of character clean_text drops: C0 controls but tab and newline, DEL, C1, surrogates.
CONTROLS = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x80", "\x85"]
CONTROLS += ["\x9f", "\ud800", "\udfff"]


@pytest.mark.parametrize("char", CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_a_control_character_separates_words_like_a_space(char: str) -> None:
    assert clean_text(f"so y te{char}abc") == "so y te abc"
    assert clean_text(f"nhiem{char}{char}vu") == "nhiem  vu"


@pytest.mark.parametrize("char", CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_chat_finds_words_a_control_character_separates(bot: Bot, char: str) -> None:
    """ "so y te\\x00abc" in chat is a search for "so y te abc", not for the word "teabc"."""
    assert bot.say(f"so y te{char}abc") == bot.say("so y te abc")
