"""Canonical agency names: merge spelling variants, split partner cells, classify agencies."""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.textnorm import folded_key, nfc
from data.store.models import Agency, AgencyAlias, AgencyKind, AliasKind

ABBREVIATIONS_FILE = Path(__file__).parents[1] / "seed" / "agency_abbreviations.csv"

# Words that begin a new agency name inside a comma-separated list (case-sensitive).
_HEADS = (
    "Sở",
    "Sỏ",
    "Ban",
    "Báo",
    "Đài",
    "Ngân hàng",
    "Bảo hiểm",
    "Văn phòng",
    "Ủy ban",
    "Uỷ ban",
    "UBND",
    "Trung tâm",
    "Cục",
    "Chi cục",
    "Công an",
    "Bộ",
    "Kho bạc",
    "Hội",
    "Hiệp hội",
    "Liên minh",
    "Liên đoàn",
    "Trường",
    "Đại học",
    "Bệnh viện",
    "Tỉnh đoàn",
    "Tỉnh ủy",
    "Tỉnh uỷ",
    "Mặt trận",
    "Quỹ",
    "Công ty",
    "Tổng công ty",
    "Bưu điện",
    "Viễn thông",
    "Cảng vụ",
    "Hải quan",
    "Thuế",
    "Quản lý",
    "Các",
    "các",
)
_COLLECTIVE_STARTS = ("cac ", "nhung ", "doanh nghiep", "to chuc", "ngan hang thuong mai")
_COLLECTIVE_LOCAL_RE = re.compile(r"^(uy ban nhan dan|ubnd) cac ")
_ACRONYM_RE = re.compile(r"^[A-ZĐ&]{2,}\b")
_PAREN_RE = re.compile(r"\([^)]*\)")
_MISSPELT_SO_RE = re.compile(r"\bS[ỏõ](?= [A-ZĐÂĂÊÔƠƯ])")
# Suffixes that do not change which agency is meant (this is a one-province deployment).
_KEY_SUFFIXES = ("tinh quang ngai", "quang ngai", "tinh")


@dataclass(frozen=True)
class AbbreviationTable:
    """Expansions used to compare names, and typed abbreviations per agency."""

    expansions: dict[str, str] = field(default_factory=dict)  # folded short -> folded full
    preferred: dict[str, str] = field(default_factory=dict)  # merge key -> canonical spelling
    abbreviations: dict[str, tuple[str, ...]] = field(default_factory=dict)  # key -> shorts

    def shared_abbreviations(self) -> set[str]:
        """Abbreviations listed for more than one agency (ambiguous when typed)."""
        counts = Counter(folded_key(s) for shorts in self.abbreviations.values() for s in shorts)
        return {short for short, count in counts.items() if count > 1}


def load_abbreviations(path: Path | None = None) -> AbbreviationTable:
    """Read the alias table (kind, short, full) from CSV."""
    expansions: dict[str, str] = {}
    rows: list[tuple[str, str]] = []
    with (path or ABBREVIATIONS_FILE).open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            kind = (row.get("kind") or "").strip()
            short, full = nfc(row.get("short") or ""), nfc(row.get("full") or "")
            if not short or not full:
                continue
            if kind == "expansion":
                expansions[folded_key(short)] = folded_key(full)
            else:
                rows.append((short, full))
    preferred: dict[str, str] = {}
    abbreviations: dict[str, list[str]] = {}
    for short, full in rows:
        key = _key(full, expansions)
        preferred.setdefault(key, full)
        abbreviations.setdefault(key, [])
        if short not in abbreviations[key]:
            abbreviations[key].append(short)
    return AbbreviationTable(
        expansions=expansions,
        preferred=preferred,
        abbreviations={key: tuple(shorts) for key, shorts in abbreviations.items()},
    )


@lru_cache(maxsize=1)
def default_table() -> AbbreviationTable:
    """The shipped alias table (cached)."""
    return load_abbreviations()


def clean_name(name: str) -> str:
    """NFC, trimmed of list punctuation, with the "Sỏ" → "Sở" typo fixed."""
    text = nfc(name).strip(" .;,:-–")
    return _MISSPELT_SO_RE.sub("Sở", text)


def _key(name: str, expansions: dict[str, str]) -> str:
    words = folded_key(_PAREN_RE.sub(" ", clean_name(name))).split()
    expanded: list[str] = []
    for word in words:
        expanded.extend(expansions.get(word, word).split())
    # "Sở Kế hoạch Đầu tư" and "Sở Kế hoạch và Đầu tư" are the same agency.
    key = " ".join(word for word in expanded if word != "va")
    if key.startswith("quan ly "):
        key = "ban " + key
    changed = True
    while changed:
        changed = False
        for suffix in _KEY_SUFFIXES:
            if key.endswith(" " + suffix) and len(key) > len(suffix) + 4:
                key = key[: -len(suffix) - 1]
                changed = True
    return key


def agency_key(name: str, table: AbbreviationTable | None = None) -> str:
    """Return the merge key: folded, abbreviations expanded, province suffixes dropped."""
    return _key(name, (table or default_table()).expansions)


def is_collective(name: str) -> bool:
    """Whether the name stands for a group ("Các sở, ban ngành", "UBND các huyện…")."""
    key = folded_key(name)
    return key.startswith(_COLLECTIVE_STARTS) or bool(_COLLECTIVE_LOCAL_RE.match(key))


def classify(name: str) -> AgencyKind:
    """Guess the broad kind of an agency from its name."""
    key = folded_key(name)
    if key.startswith("cac "):
        rest = key[4:]
        if rest.startswith(("so", "ban nganh", "co quan")):
            return AgencyKind.COLLECTIVE
        key = rest
    rules: tuple[tuple[tuple[str, ...], AgencyKind], ...] = (
        (("so ",), AgencyKind.DEPARTMENT),
        (("ban ", "quan ly "), AgencyKind.BOARD),
        (("van phong",), AgencyKind.OFFICE),
        (("ngan hang", "kho bac", "to chuc tin dung"), AgencyKind.BANK),
        (("bao hiem",), AgencyKind.INSURANCE),
        (("bao ", "dai ", "truyen hinh", "phat thanh"), AgencyKind.MEDIA),
        (("uy ban nhan dan", "ubnd"), AgencyKind.LOCAL),
        (
            ("doanh nghiep", "cong ty", "tong cong ty", "hiep hoi doanh nghiep"),
            AgencyKind.ENTERPRISE,
        ),
    )
    for prefixes, kind in rules:
        if key.startswith(prefixes):
            return kind
    return AgencyKind.COLLECTIVE if is_collective(name) else AgencyKind.OTHER


def _starts_new_item(piece: str) -> bool:
    """Whether a comma-separated piece names a new agency rather than continuing one."""
    if _ACRONYM_RE.match(piece):
        return True
    return any(piece == head or piece.startswith(head + " ") for head in _HEADS)


def split_partners(cell: str) -> list[str]:
    """Split a partner cell on ";" and "," without breaking names or collective phrases."""
    items: list[str] = []
    for segment in nfc(cell).split(";"):
        current: list[str] = []
        for raw in segment.split(","):
            piece = raw.strip(" .:")
            if not piece:
                continue
            if current and not _starts_new_item(piece):
                current.append(piece)
                continue
            if current:
                items.append(", ".join(current))
            current = [piece]
        if current:
            items.append(", ".join(current))
    return [clean_name(item) for item in items if clean_name(item)]


@dataclass
class NameResolver:
    """Groups the spellings seen in a decision and picks one canonical name per agency."""

    table: AbbreviationTable = field(default_factory=default_table)
    _seen: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, name: str) -> str:
        """Record a spelling and return its merge key."""
        cleaned = clean_name(name)
        key = agency_key(cleaned, self.table)
        self._seen.setdefault(key, Counter())[nfc(name).strip(" .;,")] += 1
        return key

    def key_of(self, name: str) -> str:
        """The merge key of a name, without recording it."""
        return agency_key(clean_name(name), self.table)

    def merge_keys(self) -> list[str]:
        """Merge keys in first-seen order."""
        return list(self._seen)

    def canonical(self, key: str) -> str:
        """The display name for a merge key."""
        preferred = self.table.preferred.get(key)
        if preferred:
            return preferred
        counts = self._seen.get(key)
        if not counts:
            return key
        variants = sorted(
            counts,
            key=lambda v: (not _starts_new_item(v), -counts[v], -len(v)),
        )
        return clean_name(variants[0])

    def variants(self, key: str) -> list[str]:
        """Every spelling seen for a key, most frequent first."""
        counts = self._seen.get(key, Counter())
        return [name for name, _ in counts.most_common()]

    def merged(self) -> dict[str, str]:
        """Spellings that differ from their canonical name: variant -> canonical."""
        result: dict[str, str] = {}
        for key in self._seen:
            canonical = self.canonical(key)
            for variant in self.variants(key):
                if variant != canonical:
                    result[variant] = canonical
        return result

    def abbreviations(self, key: str) -> tuple[str, ...]:
        """Typed abbreviations listed for the agency with this key."""
        return self.table.abbreviations.get(key, ())


def find_agency(
    session: Session, name: str, table: AbbreviationTable | None = None
) -> Agency | None:
    """Return the stored agency a name (or spelling variant) refers to, if any."""
    key = agency_key(name, table)
    return session.scalars(select(Agency).where(Agency.folded_name == key)).first()


def ensure_agency(session: Session, name: str, table: AbbreviationTable | None = None) -> Agency:
    """Return the stored agency for a name, creating it (canonical spelling) when new."""
    table = table or default_table()
    agency = find_agency(session, name, table)
    if agency is not None:
        return agency
    key = agency_key(name, table)
    canonical = table.preferred.get(key) or clean_name(name)
    agency = Agency(
        name=canonical,
        folded_name=key,
        kind=classify(canonical).value,
        is_collective=is_collective(canonical),
    )
    session.add(agency)
    session.flush()
    shared = table.shared_abbreviations()
    for short in table.abbreviations.get(key, ()):
        if folded_key(short) not in shared:
            add_alias(session, agency, short, AliasKind.ABBREVIATION)
    return agency


def add_alias(session: Session, agency: Agency, text: str, kind: AliasKind) -> None:
    """Record another way of writing an agency's name unless it is already known."""
    folded = folded_key(text)
    if not folded or text == agency.name:
        return
    existing = session.scalars(
        select(AgencyAlias).where(AgencyAlias.folded == folded, AgencyAlias.kind == kind.value)
    ).first()
    if existing is None:
        session.add(AgencyAlias(agency=agency, text=text, folded=folded, kind=kind.value))
        session.flush()
