"""Import a decision (text, CSV or XLSX) into the database: upsert, never duplicate."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import metrics
from core.render import shorten
from core.textnorm import folded_key
from data.importing.agency_names import (
    AbbreviationTable,
    NameResolver,
    add_alias,
    agency_key,
    classify,
    default_table,
    is_collective,
)
from data.importing.decision_text import ParsedDecision, parse_decision
from data.importing.documents import (
    TABLE_SUFFIXES,
    TEXT_SUFFIXES,
    decode_text,
    parse_document_file,
)
from data.importing.lengths import SOURCE_NAME_CHARS, check_lengths
from data.importing.limits import MAX_REPORT_ITEMS, check_text_lines, read_limited
from data.search.facts import store_facts
from data.store.db import Database
from data.store.models import (
    Agency,
    AliasKind,
    Measure,
    Programme,
    Sector,
    StatusUpdate,
    Task,
    TaskPartner,
)
from data.store.succession import apply_succession

SEED_FILE = Path(__file__).parents[1] / "seed" / "qd_1731_2021.txt"
# Reports go through this agency when the text does not say otherwise.
DEFAULT_COORDINATOR = "Sở Kế hoạch và Đầu tư"


@dataclass
class ImportReport:
    """What an import did, for the operator."""

    decision_number: str
    source_name: str = ""
    created: bool = True
    sectors: int = 0
    tasks: int = 0
    agencies: int = 0
    collectives: int = 0
    measures: int = 0
    removed_tasks: list[str] = field(default_factory=list)
    merged: dict[str, str] = field(default_factory=dict)  # variant -> canonical
    unattached_measures: list[str] = field(default_factory=list)
    succession: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Vietnamese summary lines for the CLI."""
        verb = "Đã nhập" if self.created else "Đã cập nhật"
        out = [
            f"{verb} Quyết định {self.decision_number}"
            + (f" từ {self.source_name}" if self.source_name else "")
            + ":",
            f"- {self.sectors} lĩnh vực, {self.tasks} nhiệm vụ, {self.measures} giải pháp cụ thể.",
            f"- {self.agencies} đơn vị (trong đó {self.collectives} nhóm đơn vị).",
        ]
        if self.removed_tasks:
            shown = self.removed_tasks[:MAX_REPORT_ITEMS]
            hidden = len(self.removed_tasks) - len(shown)
            more = f" và {hidden} nhiệm vụ khác" if hidden else ""
            out.append("- Đã xóa nhiệm vụ không còn trong tệp: " + ", ".join(shown) + more)
        if self.merged:
            out.append("- Đã gộp các cách viết khác nhau của cùng một đơn vị:")
            merges = [f"“{variant}” → “{name}”" for variant, name in self.merged.items()]
            out.extend(_bullets(merges, "cách viết"))
        if self.succession:
            out.append("- Đơn vị đã sắp xếp lại (2025):")
            out.extend(_bullets(self.succession, "đơn vị"))
        if self.unattached_measures:
            out.append(
                f"- {len(self.unattached_measures)} giải pháp không gắn được với nhiệm vụ nào:"
            )
            measures = [shorten(text, 100) for text in self.unattached_measures]
            out.extend(_bullets(measures, "giải pháp"))
        if self.warnings:
            out.append("- Lưu ý:")
            out.extend(_bullets(self.warnings, "lưu ý"))
        return out


def _bullets(items: list[str], noun: str) -> list[str]:
    """At most MAX_REPORT_ITEMS bullet lines, then how many were left out."""
    lines = [f"  • {shorten(item, 300)}" for item in items[:MAX_REPORT_ITEMS]]
    if len(items) > MAX_REPORT_ITEMS:
        lines.append(f"  … và {len(items) - MAX_REPORT_ITEMS} {noun} khác.")
    return lines


def read_text_file(path: Path) -> str:
    """Read a text file as UTF-8 (with or without BOM, or UTF-16); reject binary content."""
    return decode_text(read_limited(path), path.name)


def parse_file(path: Path | str, decision_number: str | None = None) -> ParsedDecision:
    """Parse a decision from a .txt/.md text, a .docx/.pdf document or a .csv/.xlsx table."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        text = read_text_file(path)
        check_text_lines(path.name, text)
        return parse_decision(text, path.name, decision_number=decision_number)
    if suffix in TABLE_SUFFIXES:
        from data.importing.table_file import parse_table

        return parse_table(path, decision_number=decision_number)
    return parse_document_file(path, decision_number).parsed


def import_file(
    session: Session, path: Path | str, decision_number: str | None = None
) -> ImportReport:
    """Parse a file and upsert its programme; nothing is written if parsing fails."""
    with metrics.counting_import():
        parsed = parse_file(path, decision_number)
        return import_parsed(session, parsed, Path(path).name)


def import_text(
    session: Session, text: str, source_name: str = "", decision_number: str | None = None
) -> ImportReport:
    """Parse a decision text and upsert its programme."""
    with metrics.counting_import():
        check_text_lines(source_name or "văn bản", text)
        parsed = parse_decision(text, source_name, decision_number=decision_number)
        return import_parsed(session, parsed, source_name)


def ensure_seed(database: Database) -> ImportReport | None:
    """Import the packaged seed decision when the database has no programme yet."""
    with database.startup_lock(), database.unit_of_work() as session:
        if session.scalar(select(Programme.id).limit(1)) is not None:
            return None
        return import_file(session, SEED_FILE)


def import_parsed(
    session: Session,
    parsed: ParsedDecision,
    source_name: str = "",
    table: AbbreviationTable | None = None,
) -> ImportReport:
    """Upsert a parsed decision: programme, sectors, tasks, agencies, aliases, measures."""
    table = table or default_table()
    resolver = NameResolver(table=table)
    for task in parsed.tasks():
        if task.lead:
            resolver.add(task.lead)
        for partner in task.partners:
            resolver.add(partner)
    check_lengths(parsed, resolver)  # before the first write: the database stays unchanged
    source_name = source_name[:SOURCE_NAME_CHARS]
    agencies = _upsert_agencies(session, resolver, table)

    programme = session.scalars(
        select(Programme).where(Programme.decision_number == parsed.decision_number)
    ).first()
    report = ImportReport(
        decision_number=parsed.decision_number,
        source_name=source_name,
        created=programme is None,
        merged=resolver.merged(),
        unattached_measures=list(parsed.unattached_measures),
        warnings=list(parsed.warnings),
    )
    if programme is None:
        programme = Programme(decision_number=parsed.decision_number)
        session.add(programme)
    programme.issued_on = parsed.issued_on
    programme.issuer = parsed.issuer
    programme.signer = parsed.signer
    programme.title = parsed.title
    programme.source_name = source_name
    programme.imported_at = datetime.now(UTC)
    if parsed.report_by is not None:
        programme.report_day, programme.report_month = parsed.report_by
    session.flush()

    sectors = _upsert_sectors(session, programme, parsed)
    _upsert_tasks(session, programme, parsed, sectors, agencies, resolver, report)

    coordinator = parsed.coordinator or DEFAULT_COORDINATOR
    programme.coordinating_agency = (
        agencies.get(agency_key(coordinator, table))
        or session.scalars(
            select(Agency).where(Agency.folded_name == agency_key(coordinator, table))
        ).first()
    )
    report.succession = apply_succession(session)
    store_facts(programme, parsed.preamble)
    session.flush()

    used = {a.id for key, a in agencies.items()}
    report.sectors = len(parsed.sectors)
    report.tasks = len(parsed.tasks())
    report.agencies = len(used)
    report.collectives = sum(1 for a in agencies.values() if a.is_collective)
    report.measures = sum(len(task.measures) for task in parsed.tasks())
    return report


def _upsert_agencies(
    session: Session, resolver: NameResolver, table: AbbreviationTable
) -> dict[str, Agency]:
    """Create or update one agency per merge key, with its spelling variants and abbreviations."""
    agencies: dict[str, Agency] = {}
    shared = table.shared_abbreviations()
    for key in resolver.merge_keys():
        agency = session.scalars(select(Agency).where(Agency.folded_name == key)).first()
        canonical = resolver.canonical(key)
        if agency is None:
            agency = Agency(name=canonical, folded_name=key)
            session.add(agency)
        elif key in table.preferred:
            agency.name = canonical
        agency.kind = classify(agency.name).value
        agency.is_collective = is_collective(agency.name)
        session.flush()
        agencies[key] = agency
        for variant in resolver.variants(key):
            if variant != agency.name:
                add_alias(session, agency, variant, AliasKind.VARIANT)
        for short in resolver.abbreviations(key):
            if folded_key(short) not in shared:
                add_alias(session, agency, short, AliasKind.ABBREVIATION)
    return agencies


def _upsert_sectors(
    session: Session, programme: Programme, parsed: ParsedDecision
) -> dict[int, Sector]:
    existing = {sector.number: sector for sector in programme.sectors}
    result: dict[int, Sector] = {}
    for parsed_sector in parsed.sectors:
        sector = existing.get(parsed_sector.number)
        if sector is None:
            sector = Sector(number=parsed_sector.number, name=parsed_sector.name)
            programme.sectors.append(sector)
        sector.name = parsed_sector.name
        result[parsed_sector.number] = sector
    session.flush()
    return result


def _upsert_tasks(
    session: Session,
    programme: Programme,
    parsed: ParsedDecision,
    sectors: dict[int, Sector],
    agencies: dict[str, Agency],
    resolver: NameResolver,
    report: ImportReport,
) -> None:
    existing = {task.code: task for task in programme.tasks}
    seen: set[str] = set()
    position = 0
    for parsed_sector in parsed.sectors:
        for parsed_task in parsed_sector.tasks:
            position += 1
            seen.add(parsed_task.code)
            task = existing.get(parsed_task.code)
            if task is None:
                task = Task(code=parsed_task.code, title=parsed_task.title, programme=programme)
                session.add(task)
            task.sector = sectors[parsed_sector.number]
            task.position = position
            task.title = parsed_task.title
            task.target_years = list(parsed_task.target_years)
            task.lead_agency = (
                agencies[resolver.key_of(parsed_task.lead)] if parsed_task.lead else None
            )
            _sync_partners(task, [agencies[resolver.key_of(p)] for p in parsed_task.partners])
            _sync_measures(task, [(m.heading, m.text) for m in parsed_task.measures])
    session.flush()
    for code, task in existing.items():
        if code in seen:
            continue
        has_reports = session.scalar(
            select(func.count()).select_from(StatusUpdate).where(StatusUpdate.task_id == task.id)
        )
        if has_reports:
            report.warnings.append(
                f"Nhiệm vụ {code} không còn trong tệp nhưng đã có báo cáo; vẫn giữ lại."
            )
            continue
        session.delete(task)
        report.removed_tasks.append(code)
    session.flush()
    session.expire(programme, ["tasks", "sectors"])
    kept_sectors = {task.sector_id for task in programme.tasks}
    for sector in list(programme.sectors):
        if sector.number not in sectors and sector.id not in kept_sectors:
            programme.sectors.remove(sector)
    session.flush()


def _sync_partners(task: Task, agencies: list[Agency]) -> None:
    """Make the task's partner rows equal to agencies (order kept, duplicates dropped)."""
    wanted: list[Agency] = []
    for agency in agencies:
        if agency not in wanted and agency is not task.lead_agency:
            wanted.append(agency)
    current = {partner.agency_id: partner for partner in task.partners if partner.agency_id}
    keep: list[TaskPartner] = []
    for position, agency in enumerate(wanted):
        partner = current.pop(agency.id, None) if agency.id is not None else None
        if partner is None:
            partner = TaskPartner(agency=agency)
        partner.position = position
        keep.append(partner)
    task.partners = keep


def _sync_measures(task: Task, measures: list[tuple[str, str]]) -> None:
    """Update measure rows in place by position, adding or removing the difference."""
    rows = list(task.measures)
    for position, (heading, text) in enumerate(measures):
        if position < len(rows):
            row = rows[position]
        else:
            row = Measure(heading=heading, text=text)
            task.measures.append(row)
        row.position = position
        row.heading = heading
        row.text = text
    for row in rows[len(measures) :]:
        task.measures.remove(row)
