"""The web view's cached year: a status change shows at once, patched without a full rebuild."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from typing import Any

import pytest
from sqlalchemy import delete, select

from data.reports.summary import Summary, summarise
from data.reports.task_reports import Scope, iter_task_reports
from data.store import status as st
from data.store.catalog import CatalogCache
from data.store.db import Database
from data.store.models import Agency, Person, StatusUpdate, Task, TaskStatus
from data.store.web_state import signing_key
from handlers.web import auth, snapshot
from handlers.web.service import WebService
from tests.bot_harness import Clock
from tests.web_support import ADMIN_TG, settings_for

pytest_plugins = ("tests.bot_harness",)


def _service(db: Database, search: Any, clock: Clock) -> tuple[WebService, str]:
    catalog = CatalogCache(db)
    service = WebService(db, settings_for(8090), catalog.get, lambda: search, now=clock)
    with db.unit_of_work() as session:
        key = signing_key(session, clock())
    cookie = auth.session_token(key, auth.Identity("telegram", ADMIN_TG), clock().timestamp())
    return service, cookie


def _author(db: Database, clock: Clock) -> int:
    with db.unit_of_work() as session:
        found = session.scalars(select(Person.id).limit(1)).first()
        if found is not None:
            return found
        person = Person(display_name="Cán bộ thử", role="admin", created_at=clock())
        session.add(person)
        session.flush()
        return person.id


def _record(db: Database, clock: Clock, task_id: int, status: TaskStatus, blocker: str = "") -> int:
    year = st.reporting_year(clock(), settings_for(8090).timezone)
    with db.unit_of_work() as session:
        task = session.get(Task, task_id)
        assert task is not None and task.lead_agency_id is not None
        agency = session.get(Agency, task.lead_agency_id)
        author = session.get(Person, _author(db, clock))
        assert agency is not None and author is not None
        progress = 100 if status is TaskStatus.DONE else 40
        report = st.Report(status, progress, "Đã làm.", blocker)
        done = st.record(
            session, task=task, agency=agency, year=year, author=author, report=report, now=clock()
        )
        return done.update.id


def _fresh(service: WebService, clock: Clock) -> tuple[list[Any], Summary]:
    year = st.reporting_year(clock(), service.settings.timezone)
    scope = Scope(year, clock(), service.settings.timezone)
    with service.database.unit_of_work() as session:
        tasks = list(iter_task_reports(session, scope))
    return tasks, summarise(tasks, scope)


def _current(service: WebService, clock: Clock) -> snapshot.Snapshot:
    year = st.reporting_year(clock(), service.settings.timezone)
    with service.database.unit_of_work() as session:
        return service.snapshots.get(
            session, service.catalog(), year, clock(), service.settings.timezone
        )


def _count(html: str) -> int:
    found = re.search(r'id="soketqua">(\d+) nhiệm vụ', html)
    assert found, html[:500]
    return int(found.group(1))


def test_update_and_return_show_at_once_without_a_full_rebuild(
    seeded_db: Database, search_engine: Any, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each change re-reads only its task; the result equals a build from scratch."""
    monkeypatch.setattr(snapshot, "CHUNK", 7)  # several chunks even on the seeded tables
    service, cookie = _service(seeded_db, search_engine, clock)
    done_filter = {"trangthai": "done"}
    before = _count(service.page(cookie, "nhiemvu", done_filter).html)
    tasks = service.catalog().tasks
    first, second = tasks[0].id, tasks[len(tasks) // 2].id

    _record(seeded_db, clock, first, TaskStatus.DONE)
    assert _count(service.page(cookie, "nhiemvu", done_filter).html) == before + 1
    _record(seeded_db, clock, second, TaskStatus.IN_PROGRESS, blocker="Thiếu kinh phí đối ứng")
    overview = service.page(cookie, "tongquan", {}).html
    assert "Thiếu kinh phí đối ứng" in overview
    page = service.page(cookie, "nhiemvu", {}, str(second)).html
    assert "Đang thực hiện (40%)" in page

    with seeded_db.unit_of_work() as session:
        update = session.scalars(
            select(StatusUpdate).where(StatusUpdate.task_id == first).order_by(StatusUpdate.id)
        ).all()[-1]
        admin = session.get(Person, _author(seeded_db, clock))
        assert admin is not None
        st.return_for_rework(session, update, by=admin, reason="Thiếu số liệu", now=clock())
    assert _count(service.page(cookie, "nhiemvu", done_filter).html) == before

    kept = _current(service, clock)
    tasks_now, summary_now = _fresh(service, clock)
    assert kept.tasks == tasks_now
    assert kept.summary == summary_now
    assert service.snapshots.full_builds == 1
    assert service.snapshots.patches == 3


def test_counts_that_do_not_add_up_rebuild_in_full(
    seeded_db: Database, search_engine: Any, clock: Clock
) -> None:
    """A deleted update (or one committed out of id order) cannot be patched: full build."""
    service, cookie = _service(seeded_db, search_engine, clock)
    tasks = service.catalog().tasks
    kept_id = _record(seeded_db, clock, tasks[1].id, TaskStatus.DONE)
    service.page(cookie, "tongquan", {})
    _record(seeded_db, clock, tasks[2].id, TaskStatus.IN_PROGRESS)
    with seeded_db.unit_of_work() as session:
        session.execute(delete(StatusUpdate).where(StatusUpdate.id == kept_id))
    service.page(cookie, "tongquan", {})
    assert service.snapshots.full_builds == 2
    kept = _current(service, clock)
    tasks_now, summary_now = _fresh(service, clock)
    assert kept.tasks == tasks_now and kept.summary == summary_now


def test_merged_chunks_equal_one_summary(seeded_db: Database, clock: Clock) -> None:
    """merge() of consecutive chunks gives what summarise() gives, for every Summary field."""
    handled = {"scope", "overall", "sectors", "agencies", "blockers", "proposals", "programmes"}
    assert {f.name for f in dataclasses.fields(Summary)} == handled, "merge() needs the new field"
    for update_task in (0, 3):
        with seeded_db.unit_of_work() as session:
            task_id = session.scalars(select(Task.id).order_by(Task.id)).all()[update_task]
        _record(seeded_db, clock, task_id, TaskStatus.IN_PROGRESS, blocker="Vướng mặt bằng")
    scope = Scope(st.reporting_year(clock(), st.DEFAULT_TIMEZONE), clock(), st.DEFAULT_TIMEZONE)
    with seeded_db.unit_of_work() as session:
        tasks = list(iter_task_reports(session, scope))
    for size in (1, 4, 1000):
        chunks = [summarise(tasks[i : i + size], scope) for i in range(0, len(tasks), size)]
        assert snapshot.merge(chunks, scope) == summarise(tasks, scope)


def test_downloads_check_the_year_like_baocao(
    seeded_db: Database, search_engine: Any, clock: Clock
) -> None:
    """A year outside the programme's period is refused with /baocao's words, never swapped."""
    service, cookie = _service(seeded_db, search_engine, clock)
    listing = service.page(cookie, "taive", {"nam": "1999"})
    assert listing.status == 422 and "nằm ngoài thời gian thực hiện" in listing.html
    refused = service.page(cookie, "taive", {"nam": "1999"}, "json")
    assert refused.status == 404 and refused.file is None
    this_year = str(st.reporting_year(clock(), st.DEFAULT_TIMEZONE))
    fine = service.page(cookie, "taive", {"nam": this_year})
    assert fine.status == 200 and "nằm ngoài" not in fine.html
    assert 'max="2100"' not in fine.html
    got = service.page(cookie, "taive", {"nam": this_year}, "json")
    assert got.status == 200 and got.file is not None


def test_the_server_warms_the_year_before_the_first_request(
    seeded_db: Database, search_engine: Any, clock: Clock, unused_tcp_port: int
) -> None:
    """The full build runs in the background at start, so no visitor waits for it."""
    from bot.platforms.web import server

    service, cookie = _service(seeded_db, search_engine, clock)

    async def scenario() -> None:
        stop = asyncio.Event()
        serving = asyncio.create_task(
            server.serve_web(f"127.0.0.1:{unused_tcp_port}", service, stop)
        )
        for _ in range(500):
            if service.snapshots.full_builds:
                break
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(serving, 10)

    asyncio.run(scenario())
    assert service.snapshots.full_builds == 1
    assert service.page(cookie, "tongquan", {}).status == 200
    assert service.snapshots.full_builds == 1  # the request found it built
