"""Property tests: any text through the router gives replies every platform can send."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.router import Router, apology_incident
from core.limits import LIMITS as CAPABILITIES
from core.model import Chat, ChatKind, Choice, Incoming, Reply, User
from core.render import CHOOSE_BY_NUMBER, render, split_text, text_length
from core.settings import Settings
from tests.databases import Template

pytest_plugins = ("tests.bot_harness",)

LIMITS = {"console": 4096, "telegram": 4096, "zalo": 2000}
COMMAND_WORDS = ["/tim ", "/nhiemvu ", "/donvi ", "/linhvuc ", "/trogiup", "/start", "/x", "/"]


@pytest.fixture(scope="module")
def router(
    seeded_template: Template, search_engine: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Router]:
    """One router over one seeded database for every example."""
    with seeded_template.clone(tmp_path_factory.mktemp("props")) as database:
        yield Router(database, search_engine, Settings(), CAPABILITIES)


any_text = st.text(st.characters(codec="utf-8"), max_size=300) | st.text(max_size=5000)
messages = st.one_of(
    any_text,
    st.builds(lambda word, rest: word + rest, st.sampled_from(COMMAND_WORDS), any_text),
    st.from_regex(r"\A\d{1,4}[.)]?\Z"),
)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    text=messages,
    platform=st.sampled_from(sorted(LIMITS)),
    group=st.booleans(),
    addressed=st.booleans(),
)
def test_any_message_gets_sendable_replies(
    router: Router, text: str, platform: str, group: bool, addressed: bool
) -> None:
    incoming = Incoming(
        platform=platform,
        chat=Chat(
            "prop-group" if group else "prop-chat", ChatKind.GROUP if group else ChatKind.PRIVATE
        ),
        user=User("prop-user"),
        text=text,
        addressed=addressed,
    )
    replies = router.handle(incoming)
    assert not any(apology_incident(reply.text) for reply in replies), text
    caps = CAPABILITIES[platform]
    for reply in replies:
        for part in render(reply, caps):
            assert part.text.strip()
            assert len(part.text) <= LIMITS[platform]
            assert text_length(part.text) <= LIMITS[platform]
            assert not part.choices or caps.supports_buttons
            for choice in part.choices:
                assert choice.token.isascii() and len(choice.token) <= 16


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(max_size=9000) | st.text(st.sampled_from("ab \nế😀\u0301"), max_size=9000),
    limit=st.sampled_from([2, 7, 100, 2000, 4096]),
    choices=st.lists(st.text(min_size=1, max_size=40), max_size=6),
)
def test_render_never_exceeds_the_limit(text: str, limit: int, choices: list[str]) -> None:
    from core.limits import PlatformLimits as Capabilities

    reply = Reply(text, tuple(Choice(label, f"/x {i}") for i, label in enumerate(choices)))
    for buttons in (True, False):
        caps = Capabilities(max_text_len=limit, supports_buttons=buttons, supports_files=False)
        parts = render(reply, caps)
        assert all(text_length(part.text) <= limit for part in parts)
        if choices and buttons:
            assert parts[-1].choices == reply.choices
        assert all(not part.choices for part in parts[:-1])
        if not buttons and choices and limit >= 100:
            assert CHOOSE_BY_NUMBER in "\n".join(part.text for part in parts)


@given(text=st.text(max_size=3000), limit=st.sampled_from([5, 50, 500]))
def test_split_keeps_every_visible_character(text: str, limit: int) -> None:
    pieces = split_text(text, limit)
    assert "".join("".join(p.split()) for p in pieces) == "".join(text.split())
