"""Reports at scale: 10,000 tasks with a year of status updates, every format, time and memory."""

from __future__ import annotations

import io
import random
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from data.reports.files import write_report
from data.reports.summary import Summary, summarise
from data.reports.task_reports import Scope, iter_task_reports
from data.store.db import Database
from data.store.models import (
    Agency,
    Person,
    Programme,
    Sector,
    StatusUpdate,
    Task,
    TaskPartner,
    TaskStatus,
    UpdateState,
)

TASKS = 10_000
AGENCIES = 60
YEAR = 2026
NOW = datetime(2026, 12, 20, 2, 0, tzinfo=UTC)
TARGET_SECONDS = 10.0  # "a report for 10,000 tasks completes in seconds"
FORMATS = ("json", "xlsx", "docx", "png")
SECTORS = (
    "Dịch vụ công nghệ thông tin và truyền thông",
    "Dịch vụ du lịch",
    "Dịch vụ y tế",
    "Dịch vụ giáo dục và đào tạo",
    "Dịch vụ logistic và vận tải",
    "Dịch vụ tài chính - ngân hàng",
    "Dịch vụ khoa học - công nghệ",
    "Dịch vụ phân phối",
    "Dịch vụ hỗ trợ kinh doanh",
)
_TEXT = (
    "phát triển hạ tầng dịch vụ du lịch chuyển đổi số nâng cao chất lượng nguồn nhân lực y tế "
    "giáo dục logistics cảng biển sân bay Chu Lai thanh toán không dùng tiền mặt thương mại điện "
    "tử khởi nghiệp đổi mới sáng tạo khu kinh tế Dung Quất Lý Sơn Mỹ Khê OCOP"
)
_WORDS = tuple(_TEXT.split(" "))


def _sentence(rng: random.Random, low: int, high: int) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(low, high))]
    return " ".join(words).capitalize() + "."


def build(url: str, tasks: int = TASKS, seed: int = 1731) -> dict[str, int]:
    """Fill an empty database with one programme of `tasks` tasks and a year of reports."""
    rng = random.Random(seed)
    database = Database.connect(url)
    counts = {"tasks": tasks, "partners": 0, "updates": 0}
    try:
        with database.unit_of_work() as session:
            names = [f"Sở Kiểm thử số {n}" for n in range(AGENCIES)]
            session.execute(
                insert(Agency),
                [{"name": n, "folded_name": f"so kiem thu so {i}"} for i, n in enumerate(names)]
                + [
                    {
                        "name": "Các sở, ban ngành",
                        "folded_name": "cac so ban nganh",
                        "is_collective": True,
                    }
                ],
            )
            agencies = list(session.scalars(select(Agency).order_by(Agency.id)))
            collective = agencies[-1]
            named = agencies[:-1]
            for old, new in zip(named[:3], named[3:6], strict=True):  # 2025-style mergers
                old.successor_id = new.id
            programme = Programme(
                decision_number="9999/QĐ-BENCH",
                issuer="UBND tỉnh",
                title="Chương trình kiểm thử",
                coordinating_agency_id=named[0].id,
            )
            session.add(programme)
            session.flush()
            session.execute(
                insert(Sector),
                [
                    {"programme_id": programme.id, "number": i + 1, "name": name}
                    for i, name in enumerate(SECTORS)
                ],
            )
            sectors = list(session.scalars(select(Sector).order_by(Sector.number)))
            per_sector = -(-tasks // len(sectors))
            rows = []
            for index in range(tasks):
                sector_index, number = divmod(index, per_sector)
                rows.append(
                    {
                        "programme_id": programme.id,
                        "sector_id": sectors[sector_index].id,
                        "code": f"{sector_index + 1}.{number + 1}",
                        "position": index,
                        "title": _sentence(rng, 8, 30),
                        "lead_agency_id": rng.choice(named).id,
                        "target_years": [],
                    }
                )
            session.execute(insert(Task), rows)
            task_rows = session.execute(select(Task.id, Task.lead_agency_id)).all()
            partners = []
            for task_id, lead_id in task_rows:
                chosen = {a.id for a in rng.sample(named, rng.randint(0, 3))} - {lead_id}
                chosen.add(collective.id)
                partners += [
                    {"task_id": task_id, "agency_id": agency_id, "position": p}
                    for p, agency_id in enumerate(sorted(chosen))
                ]
            session.execute(insert(TaskPartner), partners)
            counts["partners"] = len(partners)
            author = Person(display_name="Bench", role="admin", created_at=NOW)
            session.add(author)
            session.flush()
            updates = _updates(rng, task_rows, partners, collective.id, author.id)
            for start in range(0, len(updates), 5000):
                session.execute(insert(StatusUpdate), updates[start : start + 5000])
            counts["updates"] = len(updates)
    finally:
        database.engine.dispose()
    return counts


def _updates(
    rng: random.Random,
    task_rows: list[Any],
    partners: list[dict[str, int]],
    collective_id: int,
    author_id: int,
) -> list[dict[str, Any]]:
    """70% of the (task, agency) pairs report, some twice (superseded), some blocked or returned."""
    pairs = [(task_id, lead_id) for task_id, lead_id in task_rows]
    pairs += [(p["task_id"], p["agency_id"]) for p in partners if p["agency_id"] != collective_id]
    statuses = [TaskStatus.NOT_STARTED.value, TaskStatus.IN_PROGRESS.value, TaskStatus.DONE.value]
    rows: list[dict[str, Any]] = []
    start = datetime(YEAR, 2, 1, 2, 0, tzinfo=UTC)
    for task_id, agency_id in pairs:
        if rng.random() > 0.7:
            continue
        versions = 2 if rng.random() < 0.3 else 1
        for version in range(versions):
            last = version == versions - 1
            status = rng.choice(statuses)
            blocked = rng.random() < 0.1
            state = UpdateState.ACTIVE.value if last else UpdateState.SUPERSEDED.value
            if last and rng.random() < 0.03:
                state = UpdateState.RETURNED.value
            rows.append(
                {
                    "task_id": task_id,
                    "agency_id": agency_id,
                    "year": YEAR,
                    "author_id": author_id,
                    "status": status,
                    "progress": 100 if status == TaskStatus.DONE.value else rng.randint(0, 90),
                    "result": _sentence(rng, 5, 25),
                    "blocker": blocked,
                    "blocker_text": _sentence(rng, 5, 15) if blocked else "",
                    "proposal": _sentence(rng, 4, 12) if rng.random() < 0.15 else "",
                    "state": state,
                    "created_at": start + timedelta(days=rng.randint(0, 320), minutes=version),
                }
            )
    return rows


def _timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def _peak(action: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def run() -> str:
    """Build 10,000 tasks, then time every report format and the chat summary."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        build_seconds, counts = _timed(lambda: build(url))
        database = Database.connect(url, migrate=False)
        scope = Scope(YEAR, NOW)
        lines = [
            "## Reports (10,000 tasks)",
            "",
            f"One programme, 9 sectors, {counts['tasks']:,} tasks, {counts['partners']:,} "
            f"partner links, {AGENCIES} agencies (3 merged into successors), "
            f"{counts['updates']:,} status updates for {YEAR} (built in {build_seconds:.1f} s). "
            f"Target: every format in under {TARGET_SECONDS:.0f} s.",
            "",
            "| What | Seconds | Tasks/s | Output | Verdict |",
            "|---|---:|---:|---:|---|",
        ]
        try:
            with database.session() as session:
                seconds, summary = _timed(
                    lambda: summarise(iter_task_reports(session, scope), scope)
                )
                lines.append(_row("query + classify + summary (/baocao)", seconds, summary, 0))
            for fmt in FORMATS:
                with database.session() as session:
                    buffer = io.BytesIO()
                    seconds, summary = _timed(
                        lambda s=session, f=fmt, b=buffer: write_report(s, scope, f, b)  # type: ignore[misc]
                    )
                    lines.append(
                        _row(
                            f"`daumoi report --format {fmt}`",
                            seconds,
                            summary,
                            len(buffer.getvalue()),
                        )
                    )
            with database.session() as session:
                streamed = _peak(lambda: write_report(session, scope, "xlsx", io.BytesIO()))
            with database.session() as session:
                listed = _peak(lambda: list(iter_task_reports(session, scope)))
        finally:
            database.engine.dispose()
    lines += [
        "",
        "Peak Python memory (tracemalloc) writing the workbook, streamed: "
        f"{streamed / 2**20:.0f} MiB (the output buffer included); holding every task's report "
        "in a list instead: "
        f"{listed / 2**20:.0f} MiB before writing anything.",
    ]
    return "\n".join(lines)


def _row(what: str, seconds: float, summary: Summary, size: int) -> str:
    total = summary.overall.total
    verdict = "meets target" if seconds < TARGET_SECONDS and total == TASKS else "MISSES TARGET"
    output = f"{size / 2**20:.1f} MiB" if size else "-"
    return f"| {what} | {seconds:.2f} | {total / seconds:,.0f} | {output} | {verdict} |"


if __name__ == "__main__":
    print(run())
