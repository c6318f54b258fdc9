"""Agency succession (the 2025 mergers): load the editable map, apply it, resolve names."""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.textnorm import folded_key, nfc
from data.importing.agency_names import agency_key, ensure_agency, find_agency
from data.store.models import Agency

SUCCESSION_FILE = Path(__file__).parents[1] / "seed" / "agency_succession.csv"
SUCCESSION_ENV = "DAUMOI_SUCCESSION_FILE"
_TRUE = {"yes", "y", "true", "1", "co", "x", "confirmed"}


@dataclass(frozen=True)
class SuccessionRule:
    """One row of the map: the 2021 name, who took over, from when, on what basis."""

    name_2021: str
    successor: str
    effective_on: date | None
    basis: str
    confirmed: bool


class SuccessionFileError(ValueError):
    """The succession CSV cannot be read."""


def succession_path(path: Path | str | None = None) -> Path:
    """The map to use: an explicit path, else $DAUMOI_SUCCESSION_FILE, else the shipped file."""
    if path is not None:
        return Path(path)
    override = os.environ.get(SUCCESSION_ENV, "").strip()
    return Path(override) if override else SUCCESSION_FILE


def load_succession(path: Path | str | None = None) -> list[SuccessionRule]:
    """Read the succession map (columns name_2021, successor, effective_on, basis, confirmed)."""
    source = succession_path(path)
    try:
        with source.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SuccessionFileError(f"Không đọc được tệp kế thừa đơn vị {source}: {exc}") from exc
    rules: list[SuccessionRule] = []
    for number, row in enumerate(rows, start=2):
        name = nfc(row.get("name_2021") or "")
        successor = nfc(row.get("successor") or "")
        if not name or not successor:
            continue
        raw_date = (row.get("effective_on") or "").strip()
        try:
            effective = date.fromisoformat(raw_date) if raw_date else None
        except ValueError as exc:
            raise SuccessionFileError(
                f"Dòng {number} của {source.name}: ngày hiệu lực “{raw_date}” không đúng dạng "
                "YYYY-MM-DD."
            ) from exc
        rules.append(
            SuccessionRule(
                name_2021=name,
                successor=successor,
                effective_on=effective,
                basis=nfc(row.get("basis") or ""),
                confirmed=folded_key(row.get("confirmed") or "") in _TRUE,
            )
        )
    return rules


def apply_succession(session: Session, path: Path | str | None = None) -> list[str]:
    """Set successors of stored agencies from the map; return Vietnamese lines of what changed."""
    rules = load_succession(path)
    keys = {agency_key(rule.name_2021) for rule in rules}
    lines: list[str] = []
    for agency in session.scalars(select(Agency).where(Agency.successor_id.is_not(None))):
        if agency.folded_name not in keys:
            agency.successor = None
            agency.successor_effective_on = None
            agency.successor_basis = None
            agency.successor_confirmed = True
            lines.append(f"Bỏ thông tin kế thừa của {agency.name}.")
    for rule in rules:
        predecessor = find_agency(session, rule.name_2021)
        if predecessor is None:
            continue
        successor = ensure_agency(session, rule.successor)
        if successor.id == predecessor.id:
            continue
        changed = predecessor.successor_id != successor.id
        predecessor.successor = successor
        predecessor.successor_effective_on = rule.effective_on
        predecessor.successor_basis = rule.basis or None
        predecessor.successor_confirmed = rule.confirmed
        if changed:
            note = "" if rule.confirmed else " (chưa xác nhận)"
            lines.append(f"{predecessor.name} — nay là {successor.name}{note}.")
    session.flush()
    return lines


def today_ids(successor_of: Mapping[int, int | None]) -> dict[int, int]:
    """Each agency id → the id of the agency that exists today, following successor links.

    A link to an id outside the mapping is ignored; a cycle stops before it repeats.
    """
    today: dict[int, int] = {}
    for start in successor_of:
        seen, current = {start}, start
        following = successor_of[current]
        while following is not None and following in successor_of and following not in seen:
            current = following
            seen.add(current)
            following = successor_of[current]
        today[start] = current
    return today


def current_agency(agency: Agency) -> Agency:
    """Follow the successor chain to the agency that exists today."""
    chain: dict[int, Agency] = {}  # by object identity: unsaved agencies have no id yet
    successor_of: dict[int, int | None] = {}
    node: Agency | None = agency
    while node is not None and id(node) not in chain:
        chain[id(node)] = node
        following = node.successor
        successor_of[id(node)] = id(following) if following is not None else None
        node = following
    return chain[today_ids(successor_of)[id(agency)]]


def display_name(agency: Agency) -> str:
    """The 2021 name, with "— nay là …" when another agency has taken over."""
    current = current_agency(agency)
    if current is agency:
        return agency.name
    return f"{agency.name} — nay là {current.name}"


def short_basis(basis: str) -> str:
    """The basis without its explanations in brackets, on one short line."""
    text = re.sub(r"\s*\([^()]*\)", "", basis).strip().rstrip(".")
    text = " ".join(text.split())
    source, colon, _rest = text.partition(":")
    if colon and len(source) <= 40:  # "Theo báo chí: …": the source is the basis
        text = source
    return text if len(text) <= 90 else text[:89].rsplit(" ", 1)[0] + "…"


def succession_line(
    successor: str,
    effective_on: date | None,
    basis: str | None,
    confirmed: bool,
    *,
    for_admin: bool,
) -> str:
    """One short line on who took over and on what basis; "" for an unconfirmed one unless
    the reader is an admin (who sees it marked as unconfirmed)."""
    if not confirmed and not for_admin:
        return ""
    line = f"Từ {effective_on:%d/%m/%Y}" if effective_on is not None else "Hiện nay"
    line += f" chuyển về {successor}"
    short = short_basis(basis or "")
    if not confirmed:
        return line + (f" — chưa xác nhận ({short})." if short else " — chưa xác nhận.")
    return line + (f" (căn cứ: {short})." if short else ".")
