"""A query as the engine reads it: repaired words with how much each is trusted, and pairs."""

from __future__ import annotations

from dataclasses import dataclass

FUZZY_FACTOR = 0.75  # a typo-corrected word counts for this much of a typed one
EXPANSION_FACTOR = 0.7  # a word from the vocabulary counts for less than a typed one
KNOWN_EXPANSION_FACTOR = 0.35  # ... and less still beside the decision's own word
UNKNOWN_SHARE = 0.5  # a word the decision does not hold weighs this much against the rest


@dataclass(frozen=True, slots=True)
class Term:
    """One query word after repair, with how much it is trusted."""

    text: str
    factor: float  # 1.0 typed or decoded, FUZZY_FACTOR corrected, 0.0 unknown
    fuzzy: bool = False
    expanded: bool = False  # from the vocabulary: its best is its factor, not 1
    guess: bool = False  # a short word fixed by one edit that its neighbours do not both confirm
    bonus: bool = False  # the meaning of a word the decision uses: it adds, never dilutes

    @property
    def ideal(self) -> float:
        """How much of its weight the term can earn at best (unknown words count half)."""
        if self.bonus:
            return 0.0
        if self.expanded:
            return self.factor
        return UNKNOWN_SHARE if self.factor == 0.0 else 1.0


@dataclass(frozen=True, slots=True)
class Query:
    """A normalised query: repaired words, their bigrams, text for fuzzy scoring."""

    terms: tuple[Term, ...]
    pairs: tuple[tuple[int, int], ...]  # adjacent term positions that form a phrase
    text: str
    compacts: tuple[str, ...]

    @property
    def bigrams(self) -> tuple[str, ...]:
        """The phrase pairs as "word word"."""
        return tuple(f"{self.terms[a].text} {self.terms[b].text}" for a, b in self.pairs)

    @property
    def any_fuzzy(self) -> bool:
        """Whether a word was corrected by edit distance (not an exact spelling)."""
        return any(t.fuzzy or t.factor == 0.0 for t in self.terms)


def trusted(term: Term) -> bool:
    """A word that may make a match specific: typed, or from the vocabulary, or a long fix.

    A short word corrected by one edit and confirmed by one neighbour only is a guess
    ("gia vang" -> "gia tang"): it ranks, never decides.
    """
    return not term.guess and term.factor >= EXPANSION_FACTOR
