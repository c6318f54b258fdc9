"""The domain vocabulary: loanwords, everyday words and abbreviations for the decision's terms."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from core.textnorm import WORD_RE, nfc, words

VOCABULARY_FILE = Path(__file__).parents[1] / "seed" / "vocabulary.csv"
VOCABULARY_ENV = "DAUMOI_VOCABULARY_FILE"  # an operator's extra file, added to the shipped one
MAX_PHRASE = 4  # longest term, in words


class VocabularyError(ValueError):
    """A vocabulary file cannot be read."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One term people type and the decision's words it stands for."""

    term: tuple[str, ...]  # folded words
    means: tuple[str, ...]  # folded words of the decision
    kind: str  # loanword, everyday or abbreviation
    accented: tuple[str, ...] | None = None  # must be typed with these marks ("chợ", not "cho")


def accented_words(text: str) -> list[str]:
    """Lower-case words with their marks kept, aligned with core.textnorm.words."""
    return WORD_RE.findall(nfc(text).lower())


class Vocabulary:
    """Terms by their folded words, matched longest first."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries: dict[tuple[str, ...], Entry] = {}
        for entry in entries:
            if entry.term and entry.means:
                self.entries[entry.term] = entry  # a later file overrides an earlier one

    def __len__(self) -> int:
        return len(self.entries)

    def matches(
        self, tokens: Sequence[str], raw: Sequence[str] | None = None
    ) -> list[tuple[int, int, Entry]]:
        """Non-overlapping (start, end, entry) spans of known terms, longest match first."""
        found: list[tuple[int, int, Entry]] = []
        i = 0
        while i < len(tokens):
            for size in range(min(MAX_PHRASE, len(tokens) - i), 0, -1):
                entry = self.entries.get(tuple(tokens[i : i + size]))
                if entry is None:
                    continue
                if entry.accented is not None and (
                    raw is None
                    or len(raw) != len(tokens)
                    or tuple(raw[i : i + size]) != entry.accented
                ):
                    continue
                found.append((i, i + size, entry))
                i += size
                break
            else:
                i += 1
        return found


def read_entries(path: Path | str) -> list[Entry]:
    """Read a vocabulary CSV (term, means, kind, accents); '#' lines are comments."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise VocabularyError(f"Không đọc được tệp từ vựng {source}: {exc.strerror}") from exc
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    if rows.fieldnames is None or not {"term", "means"} <= set(rows.fieldnames):
        raise VocabularyError(f"Tệp từ vựng {source} cần các cột term, means (kind, accents).")
    entries: list[Entry] = []
    for row in rows:
        term, means = (row.get("term") or "").strip(), (row.get("means") or "").strip()
        if not term or not means:
            continue
        accents = (row.get("accents") or "").strip().lower() in {"yes", "co", "có", "1", "true"}
        entries.append(
            Entry(
                term=tuple(words(term)),
                means=tuple(words(means)),
                kind=(row.get("kind") or "").strip() or "everyday",
                accented=tuple(accented_words(term)) if accents else None,
            )
        )
    return entries


def vocabulary_paths(extra: Path | str | None = None) -> list[Path]:
    """The shipped file, then an explicit extra file or $DAUMOI_VOCABULARY_FILE."""
    paths = [VOCABULARY_FILE]
    override = str(extra) if extra is not None else os.environ.get(VOCABULARY_ENV, "").strip()
    if override:
        paths.append(Path(override))
    return paths


@lru_cache(maxsize=4)
def _load(paths: tuple[Path, ...]) -> Vocabulary:
    return Vocabulary(entry for path in paths for entry in read_entries(path))


def load_vocabulary(extra: Path | str | None = None) -> Vocabulary:
    """The vocabulary in force (read once per set of files)."""
    return _load(tuple(vocabulary_paths(extra)))
