"""Facts about a decision itself (reporting deadline, coordinator, period, targets, number)."""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from core.textnorm import folded_key, nfc, words
from data.store.models import Programme, ProgrammeFact

FACTS_FILE = Path(__file__).parents[1] / "seed" / "decision_facts.csv"
FACTS_ENV = "DAUMOI_FACTS_FILE"  # an operator's file used instead of the shipped one
_SENTENCE_END_RE = re.compile(r"(?<=[.])\s+(?=[A-ZĐÀ-Ỹ0-9])")
MAX_SENTENCE = 400
MIN_SENTENCE = 12
SIGNATURE = "@signature"  # the quote of a fact shown by the signature block, not a sentence
# "CHỦ TỊCH", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "TM. ỦY BAN NHÂN DÂN" (folded words).
_SIGN_ROLE_RE = re.compile(
    r"^(?:(?:kt|tm)(?: [a-z]+)*? )?(?:pho )?(?:chu tich|uy ban nhan dan|ubnd)$"
)
_NAME_RE = re.compile(r"^(?:[A-ZĐÀ-Ỹ][^\s\d|()]*\s+){1,4}[A-ZĐÀ-Ỹ][^\s\d|()]*$")


class FactsError(ValueError):
    """The facts file cannot be read."""


Phrase = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FactSpec:
    """One kind of fact: the question cues, the answer template, where the decision says it."""

    kind: str
    cues: tuple[tuple[Phrase, ...], ...]  # every group must have one phrase in the question
    answer: str
    quote: str  # folded words locating the sentence in the decision (alternatives: |)
    names_coordinator: bool


@dataclass(frozen=True, slots=True)
class FactDoc:
    """A fact of one imported decision, ready to answer."""

    programme: str
    kind: str
    answer: str
    sentence: str  # the decision's own sentence, or "" when its text was not imported
    agencies: tuple[str, ...] = ()  # agencies the answer names (2021 names), shown as hits


def read_specs(path: Path | str | None = None) -> list[FactSpec]:
    """Read the facts file (kind, cues, answer, quote, names_coordinator)."""
    source = Path(path) if path is not None else facts_path()
    try:
        text = source.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise FactsError(f"Không đọc được tệp dữ kiện {source}: {exc.strerror}") from exc
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    if rows.fieldnames is None or not {"kind", "cues", "answer"} <= set(rows.fieldnames):
        raise FactsError(f"Tệp dữ kiện {source} cần các cột kind, cues, answer (quote).")
    specs: list[FactSpec] = []
    for row in rows:
        kind, cues = (row.get("kind") or "").strip(), (row.get("cues") or "").strip()
        answer = nfc(row.get("answer") or "")
        if not kind or not cues or not answer:
            continue
        groups = tuple(
            tuple(tuple(words(alt)) for alt in group.split("|") if words(alt))
            for group in cues.split("+")
        )
        specs.append(
            FactSpec(
                kind=kind,
                cues=tuple(g for g in groups if g),
                answer=answer,
                quote=_quote_key(row.get("quote") or ""),
                names_coordinator=(row.get("names_coordinator") or "").strip().lower() == "yes",
            )
        )
    return specs


def _quote_key(text: str) -> str:
    if text.strip() == SIGNATURE:
        return SIGNATURE
    return "|".join(key for alt in text.split("|") if (key := folded_key(alt)))


def signature_block(lines: Sequence[str]) -> str:
    """The last signature block ("KT. CHỦ TỊCH / PHÓ CHỦ TỊCH / Name"), "" when absent."""
    block: list[str] = []
    end = -1
    for i, raw in enumerate(lines):
        line = nfc(raw).strip(" |")
        if not _SIGN_ROLE_RE.match(folded_key(line)):
            continue
        if block and i == end:
            block.append(line)
        else:
            block = [line]
        end = i + 1
        after = nfc(lines[end]).strip(" |") if end < len(lines) else ""
        if _NAME_RE.match(after) and not _SIGN_ROLE_RE.match(folded_key(after)):
            block.append(after)
    return " / ".join(block)


def facts_path() -> Path:
    """$DAUMOI_FACTS_FILE, else the shipped file."""
    override = os.environ.get(FACTS_ENV, "").strip()
    return Path(override) if override else FACTS_FILE


@lru_cache(maxsize=4)
def _specs(path: Path) -> tuple[FactSpec, ...]:
    return tuple(read_specs(path))


def fact_specs() -> tuple[FactSpec, ...]:
    """The fact kinds in force (read once per file)."""
    return _specs(facts_path())


def find_sentences(lines: Iterable[str], specs: Sequence[FactSpec]) -> dict[str, str]:
    """Per fact kind, the first sentence of the decision holding its quote words."""
    found: dict[str, str] = {}
    sentences: list[str] = []
    lines = list(lines)
    for line in lines:
        pieces = [p for p in _SENTENCE_END_RE.split(nfc(line)) if p]
        for i, piece in enumerate(pieces):
            # "Điều 1." and "1." are labels of the sentence that follows, not sentences.
            if i and len(pieces[i - 1]) < MIN_SENTENCE:
                sentences[-1] = f"{sentences[-1]} {piece}"
            else:
                sentences.append(piece)
    keyed = [(f" {folded_key(s)} ", s) for s in sentences]
    for spec in specs:
        if spec.quote == SIGNATURE:
            if block := signature_block(lines):
                found[spec.kind] = block
            continue
        if not spec.quote:
            continue
        quotes = [f" {alt} " for alt in spec.quote.split("|")]
        for key, sentence in keyed:
            if any(quote in key for quote in quotes):
                found[spec.kind] = sentence[:MAX_SENTENCE]
                break
    return found


class FactIndex:
    """Match a question against the fact kinds of the loaded decisions."""

    def __init__(self, docs: Iterable[FactDoc], specs: Sequence[FactSpec]) -> None:
        self.docs: dict[str, list[FactDoc]] = {}
        for doc in docs:
            self.docs.setdefault(doc.kind, []).append(doc)
        self.specs = [s for s in specs if s.kind in self.docs]

    def match(self, tokens: Sequence[str]) -> list[FactDoc]:
        """The facts whose every cue group the question holds (best-covered kind first)."""
        best: tuple[int, str] | None = None
        if not self.specs:
            return []
        text = f" {' '.join(tokens)} "
        for spec in self.specs:
            hits = 0
            for group in spec.cues:
                matched = [p for p in group if f" {' '.join(p)} " in text]
                if not matched:
                    break
                hits += max(len(p) for p in matched)
            else:
                if best is None or hits > best[0]:
                    best = (hits, spec.kind)
        return list(self.docs[best[1]]) if best is not None else []


def store_facts(programme: Programme, preamble: Sequence[str]) -> None:
    """Keep, per fact kind, the sentence of the decision that states it (text imports only)."""
    if not preamble:
        return  # a table import carries no sentences: keep what an earlier import stored
    found = find_sentences(preamble, fact_specs())
    signer = nfc(programme.signer or "").strip()
    for spec in fact_specs():
        block = found.get(spec.kind)
        if spec.quote == SIGNATURE and block and signer and signer not in block:
            found[spec.kind] = f"{block} / {signer}"  # the name sits in the header only
    existing = {fact.kind: fact for fact in programme.facts}
    for kind, fact in existing.items():
        if kind not in found:
            programme.facts.remove(fact)
    for kind, sentence in found.items():
        if kind in existing:
            existing[kind].sentence = sentence
        else:
            programme.facts.append(ProgrammeFact(kind=kind, sentence=sentence))


def render_answer(spec: FactSpec, values: dict[str, str]) -> str:
    """Fill the answer template; unknown placeholders stay as typed."""
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), spec.answer)
