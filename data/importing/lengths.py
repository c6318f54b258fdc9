"""Check a parsed decision's names against the database's column lengths before writing."""

from __future__ import annotations

from sqlalchemy import Column

from core.textnorm import folded_key
from data.importing.agency_names import NameResolver
from data.importing.decision_text import DecisionFormatError, ParsedDecision
from data.importing.limits import number
from data.store.models import Agency, AgencyAlias, Programme, Sector


def column_chars(column: Column[str] | object) -> int:
    """The declared length of a String column (SQLite ignores it; PostgreSQL enforces it)."""
    length = getattr(getattr(column, "type", None), "length", None)
    assert isinstance(length, int), column
    return length


DECISION_NUMBER_CHARS = column_chars(Programme.__table__.c.decision_number)
PERSON_CHARS = min(
    column_chars(Programme.__table__.c.issuer), column_chars(Programme.__table__.c.signer)
)
SOURCE_NAME_CHARS = column_chars(Programme.__table__.c.source_name)
SECTOR_NAME_CHARS = column_chars(Sector.__table__.c.name)
AGENCY_NAME_CHARS = min(
    column_chars(Agency.__table__.c.name),
    column_chars(Agency.__table__.c.folded_name),
    column_chars(AgencyAlias.__table__.c.text),
    column_chars(AgencyAlias.__table__.c.folded),
)


def _quote(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _too_long(
    what: str, text: str, limit: int, where: str = "", length: int | None = None
) -> DecisionFormatError:
    return DecisionFormatError(
        f"{what} “{_quote(text)}”{where} dài {number(length or len(text))} ký tự; giới hạn là "
        f"{number(limit)} ký tự. Anh/chị sửa lại trong tệp rồi nhập lại."
    )


def check_lengths(parsed: ParsedDecision, resolver: NameResolver) -> None:
    """Raise DecisionFormatError for the first name longer than its column allows."""
    if len(parsed.decision_number) > DECISION_NUMBER_CHARS:
        raise _too_long("Số hiệu quyết định", parsed.decision_number, DECISION_NUMBER_CHARS)
    for person in (parsed.issuer, parsed.signer or ""):
        if len(person) > PERSON_CHARS:
            raise _too_long("Cơ quan ban hành hoặc người ký", person, PERSON_CHARS)
    for sector in parsed.sectors:
        if len(sector.name) > SECTOR_NAME_CHARS:
            raise _too_long(f"Tên lĩnh vực {sector.number}", sector.name, SECTOR_NAME_CHARS)
    task_of: dict[str, str] = {}
    for task in parsed.tasks():
        for name in (task.lead, *task.partners):
            if name:
                task_of.setdefault(resolver.key_of(name), task.code)
    for key in resolver.merge_keys():
        where = f" (nhiệm vụ {task_of[key]})" if key in task_of else ""
        names = [resolver.canonical(key), *resolver.variants(key), *resolver.abbreviations(key)]
        for name in names:
            longest = max(len(name), len(folded_key(name)), len(key))
            if longest > AGENCY_NAME_CHARS:
                raise _too_long("Tên đơn vị", name, AGENCY_NAME_CHARS, where, longest)
