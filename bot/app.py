"""Composition root: build the database, seed, search index and router from settings."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.platforms import ADAPTERS
from bot.router import Router
from core.limits import PlatformLimits
from core.settings import Settings
from data.store.catalog import CatalogCache
from data.store.db import Database, migration_scripts, upgrade

if TYPE_CHECKING:
    from data.importing.importer import ImportReport
    from data.search.engine import SearchEngine

log = logging.getLogger(__name__)


@dataclass
class App:
    """The wired services one process runs."""

    settings: Settings
    database: Database
    router: Router
    seed_report: ImportReport | None = None

    def rebuild_search(self) -> None:
        """Rebuild the search index and the catalog from the database (after an import)."""
        self.router.search = build_search(self.database)
        self.router.catalog.refresh()

    def tasks_loaded(self) -> int:
        """How many tasks the catalog holds (for the readiness probe)."""
        return len(self.router.catalog.get().tasks)

    def close(self) -> None:
        """Release database connections."""
        self.database.engine.dispose()


class AdapterLimits(Mapping[str, PlatformLimits]):
    """Each registered platform's limits, read from its adapter module when first asked.

    A message from a platform arrives only once its adapter runs, so this imports nothing new;
    a platform added to bot.platforms.ADAPTERS is known here without another line.
    """

    def __getitem__(self, name: str) -> PlatformLimits:
        module = ADAPTERS[name]  # KeyError for an unregistered platform, as a Mapping should
        limits: PlatformLimits = importlib.import_module(module).LIMITS
        return limits

    def __iter__(self) -> Iterator[str]:
        return iter(ADAPTERS)

    def __len__(self) -> int:
        return len(ADAPTERS)


def connect_database(url: str) -> Database:
    """Open the database, migrating only when its schema is behind (Alembic is slow to load)."""
    database = Database.connect(url, migrate=False)
    if not _schema_is_current(database):
        upgrade(database.engine)
    return database


def _schema_is_current(database: Database) -> bool:
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    heads, _revisions = migration_scripts()
    if len(heads) != 1:  # unexpected layout: let Alembic decide
        return False
    try:
        with database.engine.connect() as connection:
            stored = set(
                connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
            )
    except SQLAlchemyError:
        return False
    return stored == heads


def build_search(database: Database) -> SearchEngine:
    """Index every task and agency currently stored."""
    from data.search.documents import documents, fact_documents
    from data.search.engine import SearchEngine

    with database.unit_of_work() as session:
        tasks, agencies = documents(session)
        facts = fact_documents(session)
    return SearchEngine.build(tasks, agencies, facts)


def build_app(settings: Settings, *, now: Callable[[], datetime] | None = None) -> App:
    """Connect (and migrate) the database, import the seed if empty, index, wire the router."""
    from data.importing.importer import ensure_seed

    database = connect_database(settings.database_url)
    report = ensure_seed(database)
    if report is not None:
        log.info("seeded: %s", "; ".join(report.lines()))
    catalog = CatalogCache(database)
    catalog.refresh()  # loaded at start-up, like the search index, not on the first message
    router = Router(
        database,
        build_search(database),
        settings,
        limits=AdapterLimits(),
        now=now or (lambda: datetime.now(UTC)),
        catalog=catalog,
    )
    return App(settings=settings, database=database, router=router, seed_report=report)
