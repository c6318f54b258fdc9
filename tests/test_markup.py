"""The neutral markup: Telegram HTML with everything escaped, plain text elsewhere."""

from __future__ import annotations

import pytest

from core.markup import bold, code, for_platform, open_after, plain, to_html
from tests.telegram_html import parse_html


@pytest.mark.parametrize(
    ("text", "html"),
    [
        (bold("a<b>") + " & " + code("2.4"), "<b>a&lt;b&gt;</b> &amp; <code>2.4</code>"),
        ("plain <x> & y", "plain &lt;x&gt; &amp; y"),
        ("\ue000unclosed", "<b>unclosed</b>"),
        ("\ue001stray close", "stray close"),
        (bold("x") + "\ue005" + code("y"), "<b>x</b><code>y</code>"),
        ("\ue000a\ue002b\ue003c\ue001", "<b>abc</b>"),  # Telegram's code holds no other tag
    ],
)
def test_html_is_escaped_closed_and_never_nested(text: str, html: str) -> None:
    assert to_html(text) == html
    assert for_platform(text, "plain") == plain(text)


def test_hostile_text_inside_spans_stays_text() -> None:
    hostile = "</code><b>&amp;\ue001"
    html = to_html(bold(hostile) + " " + code(hostile))
    visible, _entities = parse_html(html)
    assert visible == f"{plain(hostile)} {plain(hostile)}"


def test_open_spans_are_tracked_across_pieces() -> None:
    assert open_after("\ue000a\ue002b") == ("\ue000", "\ue002")
    assert open_after("x\ue001", ("\ue000",)) == ()
