"""An import by another process reaches a running bot's search within seconds (issue 14, item 3)."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.app import build_app
from bot.freshness import DataWatch, interval_from
from core.config import ConfigError
from core.settings import Settings
from data.importing.importer import SEED_FILE, import_text
from data.store.db import Database
from data.store.freshness import data_version
from data.store.models import Agency, Person, Task

NEW_DECISION = "9999/QĐ-UBND"
_NOW = datetime.now(UTC)
NEW_WORDS = "cáp treo Thiên Ấn"  # in no task of the seed decision


def _another_process_imports(url: str) -> None:
    """What `daumoi import` in another process does: its own engine, its own transaction."""
    text = SEED_FILE.read_text(encoding="utf-8").replace("1731/QĐ-UBND", NEW_DECISION)
    text = text.replace("sân bay Chu Lai", f"sân bay Chu Lai và {NEW_WORDS}", 1)
    other = Database.connect(url, migrate=False)
    try:
        with other.unit_of_work() as session:
            import_text(session, text, "qd_9999.txt", decision_number=NEW_DECISION)
    finally:
        other.engine.dispose()


def _finds_new_words(app: object) -> bool:
    outcome = app.router.search.search("cap treo thien an")  # type: ignore[attr-defined]
    return any(hit.programme == NEW_DECISION for hit in outcome.hits)


def test_an_import_elsewhere_is_searchable_within_seconds(seeded_db: Database) -> None:
    url = seeded_db.engine.url.render_as_string(hide_password=False)
    app = build_app(Settings(database_url=url))
    try:
        assert not _finds_new_words(app)

        async def scenario() -> float:
            stop = asyncio.Event()
            watch = DataWatch(app.database, app.rebuild_search, interval=0.1)
            watching = asyncio.create_task(watch.run(stop))
            await asyncio.sleep(0.3)  # the watch has seen the version before the import
            await asyncio.to_thread(_another_process_imports, url)
            began = time.monotonic()
            while not _finds_new_words(app):
                assert time.monotonic() - began < 5, "the import was not picked up in 5 s"
                await asyncio.sleep(0.05)
            stop.set()
            await watching
            return time.monotonic() - began

        assert asyncio.run(scenario()) < 5
    finally:
        app.close()


def test_the_interval_is_a_setting() -> None:
    assert interval_from(Settings(extra={"DAUMOI_DATA_REFRESH_SECONDS": "0.5"})) == 0.5
    with pytest.raises(ConfigError, match="DAUMOI_DATA_REFRESH_SECONDS"):
        interval_from(Settings(extra={"DAUMOI_DATA_REFRESH_SECONDS": "soon"}))
    assert interval_from(Settings()) == 2.0


def _version(database: Database) -> int:
    with database.session() as session:
        return data_version(session)[0]


def test_every_committed_catalog_change_bumps_the_version(seeded_db: Database) -> None:
    before = _version(seeded_db)
    with seeded_db.unit_of_work() as session:  # reading, and writing elsewhere, changes nothing
        session.scalars(select(Task)).first()
        session.add(
            Person(display_name="Nguyễn Văn A", role="viewer", created_at=datetime.now(UTC))
        )
    assert _version(seeded_db) == before
    with pytest.raises(RuntimeError), seeded_db.unit_of_work() as session:
        agency = session.scalars(select(Agency)).first()
        assert agency is not None
        agency.name = agency.name + " (đổi)"
        session.flush()
        raise RuntimeError("rolled back")
    assert _version(seeded_db) == before
    with seeded_db.unit_of_work() as session:  # an admin's edit of an agency, not an import
        agency = session.scalars(select(Agency)).first()
        assert agency is not None
        agency.successor_basis = "Nghị quyết sáp nhập"
    assert _version(seeded_db) == before + 1
    text = SEED_FILE.read_text(encoding="utf-8").replace("1731/QĐ-UBND", NEW_DECISION)
    with seeded_db.unit_of_work() as session:
        import_text(session, text, "qd_9999.txt", decision_number=NEW_DECISION)
    assert _version(seeded_db) == before + 2


def test_postgres_announces_a_change_so_the_watch_does_not_wait_for_its_interval(
    seeded_db: Database, backend: str
) -> None:
    if backend != "postgres":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite relies on the version check")
    url = seeded_db.engine.url.render_as_string(hide_password=False)
    reloaded = threading.Event()

    async def scenario() -> None:
        stop = asyncio.Event()
        watch = DataWatch(seeded_db, reloaded.set, interval=120)  # polling cannot explain it
        watching = asyncio.create_task(watch.run(stop))
        await asyncio.sleep(0.5)  # first version read and LISTEN done
        await asyncio.to_thread(_another_process_imports, url)
        assert await asyncio.to_thread(reloaded.wait, 5), "no reload within 5 s of the NOTIFY"
        stop.set()
        await asyncio.wait_for(watching, 5)  # and it stops promptly
        assert watch.reloads == 1

    asyncio.run(scenario())
