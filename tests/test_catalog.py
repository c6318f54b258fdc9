"""The in-memory catalog: same answers as the database, reloaded after writes, few queries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from bot import choices
from bot.router import Router
from core.limits import LIMITS as CAPABILITIES
from core.settings import Settings
from data.store import processed
from data.store import repositories as repo
from data.store.catalog import AgencyEntry, Catalog, CatalogCache, TaskEntry, load_catalog
from data.store.db import Database
from data.store.models import Agency, PendingChoice, ProcessedUpdate, Task
from data.store.succession import current_agency, display_name
from handlers.context import Context
from tests.store_support import all_tasks

if TYPE_CHECKING:
    from tests.bot_harness import Bot

pytest_plugins = ("tests.bot_harness",)

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture
def session(seeded_db: Database) -> Iterator[Session]:
    with seeded_db.session() as session:
        yield session


def _same_task(entry: TaskEntry, task: Task) -> None:
    assert (entry.id, entry.code, entry.title, entry.position) == (
        task.id,
        task.code,
        task.title,
        task.position,
    )
    assert entry.programme.decision_number == task.programme.decision_number
    assert (entry.sector.number, entry.sector.name) == (task.sector.number, task.sector.name)
    assert (entry.lead.id if entry.lead else None) == task.lead_agency_id
    assert [p.id for p in entry.partners] == [p.agency_id for p in task.partners]
    assert list(entry.measures) == [m.text for m in task.measures]
    assert list(entry.target_years) == list(task.target_years or [])


def _same_agency(entry: AgencyEntry, agency: Agency) -> None:
    assert (entry.id, entry.name, entry.kind, entry.is_collective) == (
        agency.id,
        agency.name,
        agency.kind,
        agency.is_collective,
    )
    assert entry.display_name == display_name(agency)
    assert (entry.current_id, entry.current_name) == (
        current_agency(agency).id,
        current_agency(agency).name,
    )
    assert entry.successor_name == (agency.successor.name if agency.successor else None)
    assert entry.abbreviations == tuple(a.text for a in agency.aliases if a.kind == "abbreviation")


def test_catalog_holds_what_the_repositories_return(session: Session) -> None:
    catalog = load_catalog(session)
    tasks = all_tasks(session)
    assert [t.id for t in catalog.tasks] == [t.id for t in tasks] and len(tasks) == 44
    for entry, task in zip(catalog.tasks, tasks, strict=True):
        _same_task(entry, task)
        assert [t.id for t in catalog.tasks_by_code(task.code)] == [
            t.id for t in repo.tasks_by_code(session, task.code)
        ]
    agencies = repo.all_agencies(session)
    assert [a.id for a in catalog.agencies] == [a.id for a in agencies]
    for entry, agency in zip(catalog.agencies, agencies, strict=True):
        _same_agency(entry, agency)
        assert [p.id for p in catalog.predecessors(entry)] == [
            p.id for p in repo.predecessors(session, agency)
        ]
        assert [t.id for t in catalog.led_tasks([entry.id])] == [
            t.id for t in repo.led_tasks(session, [agency.id])
        ]
        assert [t.id for t in catalog.partner_tasks([entry.id])] == [
            t.id for t in repo.partner_tasks(session, [agency.id])
        ]
    assert [(a.id, n) for a, n in catalog.collective_task_counts()] == [
        (a.id, n) for a, n in repo.collective_task_counts(session)
    ]
    sectors = repo.sectors(session)
    assert [(s.id, s.number) for s in catalog.sectors_of()] == [(s.id, s.number) for s in sectors]
    for entry_sector, sector in zip(catalog.sectors_of(), sectors, strict=True):
        assert [t.id for t in catalog.tasks_of(entry_sector)] == [t.id for t in sector.tasks]


@pytest.mark.parametrize(
    "name",
    ["Sở Y tế", "skhdt", "SKHĐT", "Sở Kế hoạch Đầu tư", "Sỏ Công thương", "Sở Tài chính", "xyz"],
)
def test_agency_by_name_agrees_with_the_database(session: Session, name: str) -> None:
    found = load_catalog(session).agency_by_name(name)
    stored = repo.agency_by_name(session, name)
    assert (found.id if found else None) == (stored.id if stored else None)


def test_programme_by_number(session: Session) -> None:
    catalog = load_catalog(session)
    assert catalog.programme_by_number("1731/QĐ-UBND") is catalog.programmes[0]
    assert catalog.programme_by_number("1731") is catalog.programmes[0]
    assert catalog.programme_by_number("5/QĐ-UBND") is None
    assert not catalog.several_programmes


def test_a_succession_cycle_resolves_like_the_database(seeded_db: Database) -> None:
    with seeded_db.unit_of_work() as session:
        health = repo.agency_by_name(session, "Sở Y tế")
        finance = repo.agency_by_name(session, "Sở Tài chính")
        assert health is not None and finance is not None
        session.execute(
            update(Agency).where(Agency.id == health.id).values(successor_id=finance.id)
        )
        session.execute(
            update(Agency).where(Agency.id == finance.id).values(successor_id=health.id)
        )
    with seeded_db.session() as session:
        catalog = load_catalog(session)
        for agency in repo.all_agencies(session):
            _same_agency(catalog.agency(agency.id), agency)


def test_cache_reloads_after_a_committed_write_to_its_tables_only(seeded_db: Database) -> None:
    cache = CatalogCache(seeded_db)
    first = cache.get()
    assert cache.get() is first
    with seeded_db.unit_of_work() as session:  # other tables: no reload
        processed.claim(session, "telegram", "1", NOW)
    with pytest.raises(RuntimeError), seeded_db.unit_of_work() as session:
        session.execute(update(Task).where(Task.code == "2.4").values(title="Đổi tên"))
        raise RuntimeError("rolled back")
    assert cache.get() is first
    with seeded_db.unit_of_work() as session:
        session.execute(update(Task).where(Task.code == "2.4").values(title="Tên mới"))
    second = cache.get()
    assert second is not first
    assert second.tasks_by_code("2.4")[0].title == "Tên mới"
    assert cache.refresh() is not second


def test_router_answers_from_fresh_data_after_a_write(bot: Bot) -> None:
    assert "Sở Y tế" in bot.say("/donvi syt")
    with bot.router.database.unit_of_work() as session:
        health = repo.agency_by_name(session, "Sở Y tế")
        assert health is not None
        health.name = "Sở Y tế tỉnh Quảng Ngãi (mới)"
    assert bot.say("/donvi syt").startswith("Sở Y tế tỉnh Quảng Ngãi (mới)")


def test_context_without_a_catalog_loads_one_from_its_session(
    session: Session, search_engine: Any
) -> None:
    ctx = Context(session, search_engine, Settings(), CAPABILITIES["console"], lambda: NOW)
    assert isinstance(ctx.catalog, Catalog) and len(ctx.catalog.tasks) == 44


@pytest.mark.parametrize(
    "text", ["/tim san bay chu lai", "/tim so y te", "/nhiemvu 2.4", "/donvi skhdt", "/linhvuc 2"]
)
def test_lookups_cost_at_most_two_statements(
    seeded_db: Database, search_engine: Any, text: str
) -> None:
    router = Router(seeded_db, search_engine, Settings(), CAPABILITIES, now=lambda: NOW)
    router.catalog.get()
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(seeded_db.engine, "before_cursor_execute", count)
    try:
        from core.model import Chat, Incoming, User

        incoming = Incoming("telegram", Chat("1"), User("1"), text, update_id="77")
        [reply] = router.handle(incoming)
    finally:
        event.remove(seeded_db.engine, "before_cursor_execute", count)
    assert not reply.text.startswith("Xin lỗi")
    # The update's claim, then the choices offered and, for a task card, the task's status.
    assert len(statements) <= (3 if text.startswith("/nhiemvu") else 2), statements


def test_claims_and_choices_purge_old_rows_now_and_then(
    seeded_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = datetime(2026, 1, 1, tzinfo=UTC)
    with seeded_db.unit_of_work() as session:
        assert processed.claim(session, "telegram", "old", old)
        assert not processed.claim(session, "telegram", "old", old)
        choices.store(
            session, platform="telegram", chat_id="1", user_id="1", actions=["/x"], now=old
        )
    monkeypatch.setattr(processed, "_PURGE_EVERY", 1)
    monkeypatch.setattr(choices, "_PURGE_EVERY", 1)
    with seeded_db.unit_of_work() as session:
        assert processed.claim(session, "telegram", "new", NOW)
        choices.store(
            session, platform="telegram", chat_id="1", user_id="1", actions=["/y"], now=NOW
        )
    with seeded_db.session() as session:
        assert session.scalars(select(ProcessedUpdate.update_id)).all() == ["new"]
        assert session.scalar(select(func.count()).select_from(PendingChoice)) == 1


@pytest.mark.postgres
def test_cache_reloads_after_a_write_on_postgres(pg_db: Database) -> None:
    from data.importing.importer import ensure_seed

    ensure_seed(pg_db)
    cache = CatalogCache(pg_db)
    first = cache.get()
    assert len(first.tasks) == 44
    with pg_db.unit_of_work() as session:
        assert processed.claim(session, "telegram", "9", NOW)
        assert not processed.claim(session, "telegram", "9", NOW)
    assert cache.get() is first
    with pg_db.unit_of_work() as session:
        session.execute(update(Task).where(Task.code == "2.4").values(title="Tên mới"))
    assert cache.get().tasks_by_code("2.4")[0].title == "Tên mới"


def test_in_memory_sqlite_is_watched_too() -> None:
    from data.importing.importer import ensure_seed

    database = Database.connect("sqlite://")
    try:
        ensure_seed(database)
        cache = CatalogCache(database)
        first = cache.get()
        assert len(first.tasks) == 44
        with database.unit_of_work() as session:
            session.execute(update(Task).where(Task.code == "2.4").values(title="Tên mới"))
        assert cache.get().tasks_by_code("2.4")[0].title == "Tên mới"
    finally:
        database.engine.dispose()
