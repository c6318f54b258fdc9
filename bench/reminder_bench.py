"""/nhacviec with 20 every-minute rules: time per answer, SQL statements, writes.

A seeded SQLite database gets its default rules, a deadline on task 2.4, a group linked to
Sở Y tế and 20 recurring rules firing every minute (`* * * * *`), half in that group and half
in the admin's private chat. The router then answers `/nhacviec` to the admin (every rule,
summarised) and in the group (its own rules), each RUNS times after a warm-up; the table gives
the median and the slowest answer, and how many SQL statements and writes one answer makes.
Target: ≤ 50 ms with 20 rules, and no writes.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, select

from bot.app import build_search
from bot.router import Router
from core.limits import LIMITS as CAPABILITIES
from core.model import Chat, ChatKind, Incoming, User
from core.settings import Settings
from data.importing.importer import ensure_seed
from data.store.db import Database
from data.store.models import Agency, ChatRecord, ReminderKind, ReminderRule, Task
from scheduler.config import ReminderConfig
from scheduler.rules import ensure_defaults, set_task_deadline

RULES = 20
RUNS = 30
TARGET_MS = 50.0
NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # Thursday 09:00 in Vietnam
ADMIN = "admin-1"
GROUP = "group-yte"


def prepare(database: Database) -> None:
    """Seed, default rules, a deadline, a linked group and RULES every-minute rules."""
    ensure_seed(database)
    with database.unit_of_work() as session:
        ensure_defaults(session, ReminderConfig(), NOW)
        task = session.scalars(select(Task).where(Task.code == "2.4")).one()
        set_task_deadline(session, task, date(2027, 6, 30), by="bench", now=NOW)
        agency = session.scalars(select(Agency).where(Agency.name == "Sở Y tế")).one()
        session.add(
            ChatRecord(
                platform="console",
                chat_id=GROUP,
                kind="group",
                title="Nhóm Sở Y tế",
                active=True,
                agency_id=agency.id,
                linked_at=NOW,
            )
        )
        for number in range(RULES):
            session.add(
                ReminderRule(
                    kind=ReminderKind.RECURRING.value,
                    platform="console",
                    chat_id=GROUP if number % 2 else f"private-{ADMIN}",
                    agency_id=agency.id if number % 2 else None,
                    text=f"Nhắc mỗi phút số {number + 1}",
                    cron="* * * * *",
                    params={"schedule": "theo lịch cron “* * * * *”"},
                    created_by="bench",
                    created_at=NOW,
                    updated_at=NOW,
                )
            )


def _ask(router: Router, user: str, chat: str, kind: ChatKind) -> str:
    incoming = Incoming(
        platform="console",
        chat=Chat(id=chat, kind=kind),
        user=User(id=user, display_name=user),
        text="/nhacviec",
    )
    return "\n".join(reply.text for reply in router.handle(incoming))


@dataclass(frozen=True)
class Timing:
    """One row of the table."""

    median_ms: float
    slowest_ms: float
    cpu_ms: float
    statements: int
    writes: int


def measure(router: Router, database: Database, user: str, chat: str, kind: ChatKind) -> Timing:
    """Time RUNS answers; count the SQL statements and writes of one."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        statements.append(sql)

    for _ in range(4):
        _ask(router, user, chat, kind)
    event.listen(database.engine, "before_cursor_execute", record)
    try:
        _ask(router, user, chat, kind)
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    writes = [s for s in statements if s.lstrip().split()[0].upper() in ("INSERT", "UPDATE")]
    times, cpu = [], []
    for _ in range(RUNS):
        started, started_cpu = time.perf_counter(), time.thread_time()
        _ask(router, user, chat, kind)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - started_cpu) * 1000)
    return Timing(
        statistics.median(times), max(times), statistics.median(cpu), len(statements), len(writes)
    )


def run() -> str:
    """Measure and return a Markdown section."""
    with tempfile.TemporaryDirectory(prefix="daumoi-reminders-") as folder:
        database = Database.connect(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        try:
            prepare(database)
            settings = Settings(admins=(f"console:{ADMIN}",))
            router = Router(
                database, build_search(database), settings, CAPABILITIES, now=lambda: NOW
            )
            admin = measure(router, database, ADMIN, f"private-{ADMIN}", ChatKind.PRIVATE)
            group = measure(router, database, "someone", GROUP, ChatKind.GROUP)
        finally:
            database.engine.dispose()
    rows = [("admin, private chat (every rule)", admin), ("group of Sở Y tế", group)]
    worst = max(admin.median_ms, group.median_ms)
    verdict = "met" if worst <= TARGET_MS and not (admin.writes or group.writes) else "NOT met"
    load = os.getloadavg()[0]
    lines = [
        "## Reminders: `/nhacviec` with 20 every-minute rules",
        "",
        f"Seeded SQLite, default rules, one task deadline and {RULES} rules `* * * * *`; "
        f"{RUNS} answers each after a warm-up, through the router (its own bookkeeping included); "
        f"load average {load:.1f} when done (CPU ms is this thread's time, unaffected by load).",
        "",
        "| who asks | median ms | slowest ms | CPU ms (median) | SQL statements | writes |",
        "|---|---|---|---|---|---|",
    ]
    for label, t in rows:
        lines.append(
            f"| {label} | {t.median_ms:.1f} | {t.slowest_ms:.1f} | {t.cpu_ms:.1f} | "
            f"{t.statements} | {t.writes} |"
        )
    lines += ["", f"Target ≤ {TARGET_MS:.0f} ms and read-only: {verdict}."]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
