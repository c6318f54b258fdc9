"""Concurrent status updates and redeliveries on PostgreSQL lose nothing and apply once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.router import Router
from core.limits import LIMITS as CAPABILITIES
from core.model import Chat, ChatKind, Incoming, User
from core.settings import Settings
from data.importing.importer import ensure_seed
from data.store import people, processed
from data.store import repositories as repo
from data.store import status as st
from data.store.db import Database
from data.store.models import ProcessedUpdate, Role, StatusUpdate, TaskStatus, UpdateState
from tests.store_support import register

pytestmark = pytest.mark.postgres
pytest_plugins = ("tests.bot_harness",)

NOW = datetime(2026, 11, 26, 9, tzinfo=UTC)


@pytest.fixture
def seeded_pg(pg_db: Database) -> Database:
    """PostgreSQL with the seed and four focal points of Sở Xây dựng (console:f0 … f3)."""
    ensure_seed(pg_db)
    with pg_db.unit_of_work() as session:
        for number in range(4):
            register(
                session,
                platform="console",
                user=f"f{number}",
                role=Role.FOCAL,
                agency="Sở Xây dựng",
                display_name=f"F{number}",
                private_chat_id=f"p{number}",
                now=NOW,
            )
    return pg_db


def _record(session: Any, user: str, progress: int) -> st.Recorded:
    task = repo.tasks_by_code(session, "2.4")[0]
    author = people.person_for(session, "console", user)
    assert author is not None and task.lead_agency is not None
    report = st.Report(TaskStatus.IN_PROGRESS, progress, result=f"{user} {progress}%")
    return st.record(
        session,
        task=task,
        agency=task.lead_agency,
        year=2026,
        author=author,
        report=report,
        now=NOW,
    )


def _updates(database: Database) -> list[StatusUpdate]:
    with database.session() as session:
        rows = list(session.scalars(select(StatusUpdate).order_by(StatusUpdate.id)))
        session.expunge_all()
        return rows


def test_second_writer_waits_and_supersedes_the_first(seeded_pg: Database) -> None:
    first_recorded = threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with seeded_pg.unit_of_work() as session:
                _record(session, "f0", 10)
                first_recorded.set()
                threading.Event().wait(0.5)  # hold the lock while the other writer arrives
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            first_recorded.set()

    def second() -> None:
        try:
            first_recorded.wait(10)
            with seeded_pg.unit_of_work() as session:
                _record(session, "f1", 20)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert not errors, errors
    older, newer = _updates(seeded_pg)
    assert (older.progress, newer.progress) == (10, 20)
    assert older.state == UpdateState.SUPERSEDED.value
    assert newer.state == UpdateState.ACTIVE.value and newer.supersedes_id == older.id


def test_simultaneous_updates_through_the_router(seeded_pg: Database, search_engine: Any) -> None:
    router = Router(seeded_pg, search_engine, Settings(), CAPABILITIES, now=lambda: NOW)
    start = threading.Barrier(4)
    answers: dict[str, str] = {}

    def send(number: int) -> None:
        user = f"f{number}"
        incoming = Incoming(
            platform="console",
            chat=Chat(id=f"p{number}", kind=ChatKind.PRIVATE),
            user=User(id=user, display_name=user),
            text=f"/capnhat 2.4 dang thuc hien {number + 1}0% Báo cáo của {user}",
            update_id=f"u{number}",
        )
        start.wait(10)
        answers[user] = router.handle(incoming)[0].text

    threads = [threading.Thread(target=send, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert all("Đã ghi nhận" in text for text in answers.values()), answers
    rows = _updates(seeded_pg)
    assert len(rows) == 4
    assert [r.state for r in rows].count(UpdateState.ACTIVE.value) == 1
    # One linear chain: each older update is superseded by exactly one newer one.
    assert sorted(r.supersedes_id for r in rows if r.supersedes_id) == [r.id for r in rows[:-1]]
    assert rows[-1].state == UpdateState.ACTIVE.value


def test_concurrent_redelivery_is_claimed_once(pg_db: Database) -> None:
    claimed = threading.Event()
    results: list[bool] = []

    def holder() -> None:
        with pg_db.unit_of_work() as session:
            results.append(processed.claim(session, "telegram", "555", NOW))
            claimed.set()
            threading.Event().wait(0.5)

    def duplicate() -> None:
        claimed.wait(10)
        with pg_db.unit_of_work() as session:
            results.append(processed.claim(session, "telegram", "555", NOW))
            session.add(ProcessedUpdate(platform="telegram", update_id="556", created_at=NOW))

    threads = [threading.Thread(target=holder), threading.Thread(target=duplicate)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert results == [True, False]
    with pg_db.session() as session:
        # The duplicate's unit of work still committed its other work (savepoint, not rollback).
        assert session.scalar(select(func.count()).select_from(ProcessedUpdate)) == 2
