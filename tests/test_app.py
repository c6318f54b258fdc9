"""Composition root: schema check without Alembic, seeding, search rebuild."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot import app as app_module
from bot.app import build_app, connect_database
from core.settings import Settings
from data.importing.importer import SEED_FILE, import_text
from data.store.db import MIGRATIONS_DIR, migration_scripts

pytest_plugins = ("tests.bot_harness",)


def test_script_heads_finds_the_newest_revision() -> None:
    heads, revisions = migration_scripts()
    assert len(heads) == 1 and heads < revisions
    newest = sorted(p.name for p in (MIGRATIONS_DIR / "versions").glob("0*.py"))[-1]
    assert newest.startswith(next(iter(heads)))


def test_current_schema_skips_alembic(
    seeded_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[object] = []
    monkeypatch.setattr(app_module, "upgrade", calls.append)
    copy = tmp_path / "db.sqlite3"
    shutil.copy(seeded_file, copy)
    connect_database(f"sqlite:///{copy}").engine.dispose()
    assert calls == []
    connect_database(f"sqlite:///{tmp_path}/empty.sqlite3").engine.dispose()
    assert len(calls) == 1


def test_build_app_seeds_once_and_rebuilds_search(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/app.sqlite3")
    app = build_app(settings)
    try:
        assert app.seed_report is not None
        assert {h.programme for h in app.router.search.search("san bay chu lai").hits} == {
            "1731/QĐ-UBND"
        }
        text = SEED_FILE.read_text(encoding="utf-8").replace("1731/QĐ-UBND", "999/QĐ-UBND")
        with app.database.unit_of_work() as session:
            import_text(session, text, "qd_999.txt")
        before = app.router.search
        app.rebuild_search()
        assert app.router.search is not before
        programmes = {hit.programme for hit in app.router.search.search("san bay chu lai").hits}
        assert "999/QĐ-UBND" in programmes
    finally:
        app.close()
    again = build_app(settings)
    try:
        assert again.seed_report is None
    finally:
        again.close()
