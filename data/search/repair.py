"""Read a query's words: abbreviations, the vocabulary, Telex and VNI, joined words, typos."""

from __future__ import annotations

import itertools
import re

from rapidfuzz import process
from rapidfuzz.distance import OSA

from core.textnorm import fold
from data.search.acronyms import EXPANSIONS, compact, telex_decode
from data.search.query import (
    EXPANSION_FACTOR,
    FUZZY_FACTOR,
    KNOWN_EXPANSION_FACTOR,
    Query,
    Term,
)
from data.search.vocabulary import Vocabulary

MIN_FUZZY_LEN = 3  # shorter words are never typo-corrected
FREE_FUZZY_LEN = 6  # shorter words are corrected only when a neighbour confirms the fix
# VNI tone digits typed inside a word ("sa6n" = "sân"); a digit after letters, then letters.
_VNI_RE = re.compile(r"(?<![\w])([^\W\d_]+[1-9][^\W_]*)(?![\w])")
# Chat filler dropped from queries when it is not a word of the index.
_FILLER = frozenset(
    {"ai", "gi", "nao", "giup", "minh", "oi", "a", "nhe", "nha", "ha", "vay", "khong"}
)
_FILLER_PHRASES = tuple(
    tuple(p.split())
    for p in (
        "ai phu trach",
        "ai chu tri",
        "don vi nao",
        "co quan nao",
        "nhiem vu nao",
        "tra cuu",
        "tim kiem",
        "cho toi biet",
        "thong tin ve",
    )
)


class QueryReader:
    """Turns a query's folded words into repaired, trusted terms against the index's words."""

    def __init__(self, df: dict[str, int], bigrams: dict[str, int], vocabulary: Vocabulary) -> None:
        self._df = df
        self._vocab = set(df)
        self._vocab_list = sorted(df)
        self._bigrams = bigrams
        self._vocabulary = vocabulary

    def parse(self, tokens: list[str], raw: list[str] | None = None) -> Query:
        """Repair (abbreviations, vocabulary, Telex, joined words, typos) and pair the words."""
        tokens = _drop_filler_phrases(tokens)
        if raw is not None and len(raw) != len(tokens):
            raw = None
        spans = {start: (end, entry) for start, end, entry in self._vocabulary.matches(tokens, raw)}
        # Each slot: repaired terms, or a word still to correct, or an expansion's words.
        slots: list[list[Term] | str] = []
        groups: list[int] = []  # which phrase group a slot belongs to (pairs stay inside one)
        i = 0
        group = 0
        while i < len(tokens):
            if i in spans:
                end, entry = spans[i]
                literal = tokens[i:end]
                # A term matched by its marks ("chợ") is not its folded twin ("cho", "for").
                keep = (
                    entry.accented is None
                    and all(t in self._vocab for t in literal)
                    and all(f"{a} {b}" in self._bigrams for a, b in itertools.pairwise(literal))
                )
                if keep:
                    slots.append([Term(t, 1.0) for t in literal])
                    groups.append(group)
                # A term the decision itself uses counts as typed; its meaning only nudges.
                factor = KNOWN_EXPANSION_FACTOR if keep else EXPANSION_FACTOR
                seen = set(literal) if keep else set()
                expansion = [
                    Term(w, factor, expanded=True, bonus=keep)
                    for w in entry.means
                    if w in self._vocab and w not in seen
                ]
                if expansion:
                    group += 1
                    slots.append(expansion)
                    groups.append(group)
                group += 1
                i = end
                continue
            slots.append(self._repair(tokens[i]))
            groups.append(group)
            i += 1
        terms: list[Term] = []
        term_groups: list[int] = []
        for n, slot in enumerate(slots):
            if isinstance(slot, list):
                terms.extend(slot)
                term_groups.extend([groups[n]] * len(slot))
                continue
            prev = _last_text(slots[n - 1]) if n > 0 else None
            nxt = _first_text(slots[n + 1]) if n + 1 < len(slots) else None
            fixed = self._closest(slot, prev, nxt)
            decoded = telex_decode(slot)
            if fixed is None and decoded != slot:
                fixed = self._closest(decoded, prev, nxt)
            if fixed:
                confirmed = int(f"{prev} {fixed}" in self._bigrams) + int(
                    f"{fixed} {nxt}" in self._bigrams
                )
                guess = len(fixed) < FREE_FUZZY_LEN and confirmed < 2
                terms.append(Term(fixed, FUZZY_FACTOR, True, guess=guess))
            else:
                terms.append(Term(slot, 0.0))
            term_groups.append(groups[n])
        pairs = tuple(
            (a, a + 1) for a in range(len(terms) - 1) if term_groups[a] == term_groups[a + 1]
        )
        folded = " ".join(tokens)
        compacts = [compact(folded)]
        if len(tokens) >= 2:
            compacts.append(tokens[0][0] + "".join(tokens[1:]))
        return Query(
            tuple(terms),
            pairs,
            " ".join(t.text for t in terms),
            tuple(c for c in compacts if c),
        )

    def _repair(self, token: str) -> list[Term] | str:
        """Repair one word without context; return it unchanged when a typo fix is needed."""
        if token in EXPANSIONS:
            return [Term(t, 1.0) for t in EXPANSIONS[token]]
        if token in self._vocab:
            return [Term(token, 1.0)]
        if token in _FILLER:
            return []
        if not token.isalpha():
            return [Term(token, 0.0)]
        for variant in _iy_variants(token):
            if variant in self._vocab:
                return [Term(variant, 1.0)]
        decoded = telex_decode(token)
        if decoded in self._vocab:
            return [Term(decoded, 1.0)]
        for cut in range(1, len(token)):
            head, tail = token[:cut], token[cut:]
            if f"{head} {tail}" in self._bigrams:
                return [Term(head, 1.0), Term(tail, 1.0)]
        return token

    def _closest(self, token: str, prev: str | None, nxt: str | None) -> str | None:
        """The index word within a small edit distance, preferring one that fits its neighbours."""
        if len(token) < MIN_FUZZY_LEN:
            return None
        limit = 1 if len(token) < 7 else 2
        # OSA: a swapped pair of letters ("lihc") is one edit, like a dropped one ("thuog").
        found = process.extract(
            token, self._vocab_list, scorer=OSA.distance, score_cutoff=limit, limit=30
        )
        if not found:
            return None

        def context(word: str) -> int:
            return int(f"{prev} {word}" in self._bigrams) + int(f"{word} {nxt}" in self._bigrams)

        if len(token) < FREE_FUZZY_LEN:
            # Short words have many neighbours within one edit: only fix one that forms a
            # known pair with a word typed next to it ("an nin mang" -> ninh,
            # but not "gia xang dau" -> "gia tang dau", where "tang dau" is no phrase).
            neighbours = (prev is not None) + (nxt is not None)
            found = [c for c in found if context(c[0]) >= max(1, neighbours)]
            if not found:
                return None

        best = min(
            found,
            key=lambda c: (
                c[1],
                -context(c[0]),
                c[0][:1] != token[:1],
                -self._df.get(c[0], 0),
                c[0],
            ),
        )
        return str(best[0])


def _iy_variants(token: str) -> list[str]:
    """Spellings with i and y swapped at the end of a syllable ("mi" -> "my", "ky" -> "ki")."""
    out = []
    if token.endswith("i"):
        out.append(token[:-1] + "y")
    if token.endswith("y"):
        out.append(token[:-1] + "i")
    return out


def undo_vni(text: str, vocabulary: set[str]) -> str:
    """Drop VNI tone digits inside words ("sa6n bay" -> "san bay") when that gives a word."""

    def fix(match: re.Match[str]) -> str:
        word = match.group(1)
        bare = re.sub(r"[1-9]", "", word)
        return bare if fold(bare) in vocabulary else word

    return _VNI_RE.sub(fix, text)


def _drop_filler_phrases(tokens: list[str]) -> list[str]:
    """Remove question wording ("ai phụ trách", "nhiệm vụ nào") unless nothing else is left."""
    out = list(tokens)
    for phrase in _FILLER_PHRASES:
        size = len(phrase)
        i = 0
        while i + size <= len(out):
            if tuple(out[i : i + size]) == phrase and len(out) > size:
                del out[i : i + size]
            else:
                i += 1
    return out


def _last_text(slot: list[Term] | str) -> str | None:
    if isinstance(slot, str):
        return None
    return slot[-1].text if slot else None


def _first_text(slot: list[Term] | str) -> str | None:
    if isinstance(slot, str):
        return None
    return slot[0].text if slot else None
