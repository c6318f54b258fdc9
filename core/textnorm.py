"""Vietnamese text normalisation shared by the importer and search."""

from __future__ import annotations

import re
import unicodedata

WORD_RE = re.compile(r"\d+(?:\.\d+)*|[^\W\d_]+|\d+", re.UNICODE)
_SPACE_RE = re.compile(r"\s+")
# Vietnamese tone and vowel marks all live in the Combining Diacritical Marks block.
_MARKS_RE = re.compile("[\u0300-\u036f]+")


def nfc(text: str) -> str:
    """Return text in NFC with collapsed white space."""
    return _SPACE_RE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def strip_marks(text: str) -> str:
    """Remove Vietnamese tone and vowel marks and map đ/Đ to d/D."""
    bare = _MARKS_RE.sub("", unicodedata.normalize("NFD", text))
    return bare.replace("đ", "d").replace("Đ", "D")


def fold(text: str) -> str:
    """Return the lower-case, mark-free, space-collapsed form used for matching."""
    return _SPACE_RE.sub(" ", strip_marks(text)).strip().casefold()


def words(text: str) -> list[str]:
    """Split text into folded words; dotted numbers such as 2.4 stay one word."""
    return WORD_RE.findall(fold(text))


def folded_key(text: str) -> str:
    """Return the folded words joined by single spaces (punctuation dropped)."""
    return " ".join(words(text))
