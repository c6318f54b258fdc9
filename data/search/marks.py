"""Diacritics typed in a query against a title's: "truyền thống" is not "truyền thông"."""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from core.textnorm import fold
from data.search.vocabulary import accented_words

MARKS_PENALTY = 0.85  # a title phrase with other marks than typed ("thông" for "thống")

Marks = tuple[str, str]


def marked_pairs(typed: Sequence[str]) -> list[tuple[Marks, Marks]]:
    """Adjacent typed words as (letters, marks) pairs; none when nothing was typed with marks."""
    if all(fold(w) == w for w in typed):
        return []
    return list(itertools.pairwise([_marks_key(w) for w in typed]))


@lru_cache(maxsize=4096)
def _title_pairs(title: str) -> dict[tuple[str, str], set[tuple[Marks, Marks]]]:
    """A title's adjacent words by their folded letters, with the marks they carry."""
    pairs: dict[tuple[str, str], set[tuple[Marks, Marks]]] = {}
    for a, b in itertools.pairwise([_marks_key(w) for w in accented_words(title)]):
        pairs.setdefault((a[0], b[0]), set()).add((a, b))
    return pairs


def _marks_key(word: str) -> tuple[str, str]:
    """A word's folded letters and its marks, wherever the tone sits ("hoá" = "hóa")."""
    marks = "".join(
        sorted(c for c in unicodedata.normalize("NFD", word) if unicodedata.combining(c))
    )
    return fold(word), marks + ("đ" if "đ" in word else "")


def marks_factor(title: str, typed: Sequence[tuple[Marks, Marks]]) -> float:
    """Below 1 when the task's title holds a typed phrase only with other marks.

    "truyền thống" typed is not "truyền thông" in a title: the words fold alike, so the
    task still ranks, behind one that holds the words as typed.
    """
    if not typed:
        return 1.0
    pairs = _title_pairs(title)
    for a, b in typed:
        if (a[0], b[0]) in pairs and (a, b) not in pairs[(a[0], b[0])]:
            return MARKS_PENALTY
    return 1.0
