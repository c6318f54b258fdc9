"""Revocation, group-link authority and the /dangky throttle on PostgreSQL (migration 0004).

The SQLite tables run in full in test_revocation, test_link_access and test_register_throttle;
here a cross-section of their cases runs on a freshly migrated PostgreSQL database.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.app import CAPABILITIES
from bot.router import Router
from data.db import Database
from data.importer import ensure_seed
from data.models import Base, Role
from tests import test_link_access as links
from tests import test_register_throttle as throttle
from tests import test_revocation as revocation

if TYPE_CHECKING:
    from tests.bot_harness import Clock
    from tests.status_harness import Desk

pytestmark = pytest.mark.postgres
pytest_plugins = ("tests.status_harness",)


@pytest.fixture
def pg_desk(pg_db: Database, search_engine: Any, clock: Clock) -> Desk:
    """The status harness over a seeded PostgreSQL database."""
    from tests.status_harness import Desk

    ensure_seed(pg_db)
    return Desk(pg_db, search_engine, clock, Path("unused-on-postgres"))


def test_migration_matches_the_models(pg_db: Database) -> None:
    with pg_db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_revocation_on_postgres(pg_desk: Desk) -> None:
    for role, kind in [
        (Role.FOCAL, "link_code_same_account"),
        (Role.ADMIN, "minted_by_them"),
    ]:
        revocation.test_codes_issued_before_revocation_are_void(pg_desk, role, kind)
        pg_desk.clock.advance(days=1)


@pytest.mark.parametrize(
    ("role", "change", "chat_admin"),
    [
        ("stranger", "link", True),
        ("focal_own", "link", None),
        ("focal_own", "unlink", False),
        ("admin", "relink_away", True),
    ],
)
def test_link_authority_on_postgres(
    pg_desk: Desk, role: str, change: str, chat_admin: bool | None
) -> None:
    links.test_link_authorization(pg_desk, role, change, chat_admin)


def test_report_files_in_groups_on_postgres(pg_desk: Desk) -> None:
    from tests.report_support import seed_reports

    with pg_desk.database.unit_of_work() as session:
        seed_reports(session)
    pg_desk.add_person("yte", Role.FOCAL, "Sở Y tế")
    links.test_report_files_in_groups(pg_desk, "yte", "Sở Tài chính", "xlsx", True)
    links.test_report_files_in_groups(pg_desk, "yte", "Sở Xây dựng", "docx", False)


def test_throttle_on_postgres_survives_a_restart(pg_desk: Desk, pg_url: str) -> None:
    throttle.test_window_slides_and_old_rows_are_pruned(pg_desk)
    pg_desk.clock.advance(hours=1)
    throttle.fail(pg_desk, 5)
    from tests.status_harness import SETTINGS

    # A new process: a new engine and router on the same database.
    pg_desk.database.engine.dispose()
    pg_desk.database = Database.connect(pg_url, migrate=False)
    pg_desk.router = Router(
        pg_desk.database, pg_desk.search, SETTINGS, CAPABILITIES, now=pg_desk.clock
    )
    answer = pg_desk.say(f"/dangky {pg_desk.invite('so y te')}", "mallory")
    assert throttle.LOCKED in answer
