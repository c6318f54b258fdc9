"""The web view at scale: overview, task list and task page server time at 10,000 tasks."""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import select

from bench.report_bench import NOW, TASKS, build
from core.settings import Settings
from data.store import status as st
from data.store.catalog import CatalogCache, TaskEntry
from data.store.db import Database
from data.store.models import Person, StatusUpdate, Task, TaskStatus
from data.store.web_state import signing_key
from handlers.web import auth
from handlers.web.service import Page, WebService

TARGET_MS = 200.0  # issue 16: overview and task list within 200 ms of server time
TARGET_BYTES = 200_000
ROUNDS = 15
ADMIN = "telegram:1"


def _time(call: Callable[[], Page], rounds: int = ROUNDS) -> tuple[float, float, int]:
    """(median ms, worst ms, bytes of the last page) over rounds calls."""
    times, size = [], 0
    for _ in range(rounds):
        start = time.perf_counter()
        page = call()
        times.append((time.perf_counter() - start) * 1000)
        assert page.status == 200, page.html[:300]
        size = len(page.html.encode())
    return statistics.median(times), max(times), size


def measure(url: str) -> list[tuple[str, float, float, int]]:
    """Time each page on a database of TASKS tasks."""
    from bot.app import build_search

    database = Database.connect(url)
    settings = Settings(admins=(ADMIN,), extra={"DAUMOI_WEB_URL": "https://example.invalid/web"})
    catalog = CatalogCache(database)
    catalog.refresh()
    search = build_search(database)
    service = WebService(database, settings, catalog.get, lambda: search, now=lambda: NOW)
    with database.unit_of_work() as session:
        key = signing_key(session, NOW)
    cookie = auth.session_token(key, auth.Identity("telegram", "1"), NOW.timestamp())
    task = catalog.get().tasks[TASKS // 2].id
    rows: list[tuple[str, float, float, int]] = []
    start = time.perf_counter()
    service.warm()  # what the server does in the background at start, after imports, at midnight
    warm = (time.perf_counter() - start) * 1000
    rows.append(("background warm-up: full build, not on a request (no target)", warm, warm, 0))
    start = time.perf_counter()
    first = service.page(cookie, "tongquan", {})
    cold = (time.perf_counter() - start) * 1000
    rows.append(("overview, first request after start", cold, cold, len(first.html.encode())))
    pages: list[tuple[str, Callable[[], Page]]] = [
        ("overview", lambda: service.page(cookie, "tongquan", {})),
        ("task list, no filter (page 1 of 200)", lambda: service.page(cookie, "nhiemvu", {})),
        (
            "task list, sector 3 + overdue + blockers",
            lambda: service.page(
                cookie, "nhiemvu", {"linhvuc": "3", "quahan": "1", "vuongmac": "1"}
            ),
        ),
        ("task list, search “du lịch”", lambda: service.page(cookie, "nhiemvu", {"q": "du lịch"})),
        ("task page", lambda: service.page(cookie, "nhiemvu", {}, str(task))),
    ]
    for name, call in pages:
        median, worst, size = _time(call)
        rows.append((name, median, worst, size))
    rows += _after_changes(database, service, cookie, catalog.get().tasks)
    database.engine.dispose()
    return rows


def _after_changes(
    database: Database, service: WebService, cookie: str, tasks: Sequence[TaskEntry]
) -> list[tuple[str, float, float, int]]:
    """The first view after a status update, and after a return, each round another task."""
    rng = random.Random(16)
    year = st.reporting_year(NOW, service.settings.timezone)
    returned: list[int] = []

    def record() -> None:
        with database.unit_of_work() as session:
            task = session.get(Task, rng.choice(tasks).id)
            assert task is not None and task.lead_agency is not None
            author = session.scalars(select(Person).limit(1)).one()
            report = st.Report(TaskStatus.IN_PROGRESS, rng.randint(1, 99), "Bench.", "Vướng.")
            recorded = st.record(
                session,
                task=task,
                agency=task.lead_agency,
                year=year,
                author=author,
                report=report,
                now=NOW,
            )
            returned.append(recorded.update.id)

    def send_back() -> None:
        with database.unit_of_work() as session:
            update = session.get(StatusUpdate, returned.pop())
            author = session.scalars(select(Person).limit(1)).one()
            assert update is not None
            st.return_for_rework(session, update, by=author, reason="Bench.", now=NOW)

    rows = []
    for name, change, page in (
        ("overview, first view after a status update", record, "tongquan"),
        ("task list, first view after a status update", record, "nhiemvu"),
        ("overview, first view after an update returned", send_back, "tongquan"),
    ):
        times, size = [], 0
        for _ in range(ROUNDS):
            change()
            start = time.perf_counter()
            shown = service.page(cookie, page, {})
            times.append((time.perf_counter() - start) * 1000)
            assert shown.status == 200, shown.html[:300]
            size = len(shown.html.encode())
        rows.append((name, statistics.median(times), max(times), size))
    assert service.snapshots.full_builds == 1, "a change rebuilt the whole snapshot"
    return rows


def run() -> str:
    """The Markdown section for bench/RESULTS.md."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'web.sqlite3'}"
        counts = build(url)
        rows = measure(url)
    lines = [
        f"## Web view ({TASKS:,} tasks)",
        "",
        f"SQLite, {counts['tasks']:,} tasks, {counts['updates']:,} status updates; server time of "
        "`handlers.web.service` (session check, data, HTML), without the network. "
        f"Target: ≤ {TARGET_MS:.0f} ms and ≤ {TARGET_BYTES // 1000} KB.",
        "",
        "| page | median ms | worst ms | HTML bytes | target |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, median, worst, size in rows:
        ok = median <= TARGET_MS and size <= TARGET_BYTES
        verdict = "—" if "no target" in name else ("meets" if ok else "misses")
        lines.append(f"| {name} | {median:.1f} | {worst:.1f} | {size:,} | {verdict} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
