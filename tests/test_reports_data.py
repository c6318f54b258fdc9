"""Report data: per task, per agency latest status and official classification, streamed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from data.reports.summary import summarise
from data.reports.task_reports import TaskReport, agency_label, iter_task_reports
from data.store.db import Database
from data.store.models import Task
from tests.report_support import (
    BEFORE_DEADLINE,
    EXPECTED_CLASS,
    NEVER_REPORTED,
    YEAR,
    agency,
    scope,
    seed_reports,
)
from tests.store_support import task_statuses

pytest_plugins = ("tests.bot_harness", "tests.report_support")


def _tasks(database: Database, **options: object) -> dict[str, TaskReport]:
    with database.session() as session:
        return {t.code: t for t in iter_task_reports(session, scope(), **options)}  # type: ignore[arg-type]


def test_every_task_in_table_order(report_db: Database) -> None:
    tasks = list(_tasks(report_db).values())
    assert len(tasks) == 44
    assert [t.code for t in tasks][:5] == ["1.1", "1.2", "1.3", "1.4", "2.1"]
    assert tasks[-1].code == "9.2"
    assert all(t.deadline.isoformat() == f"{YEAR}-12-15" for t in tasks)


def test_task_level_classification_is_the_leads(report_db: Database) -> None:
    tasks = _tasks(report_db)
    for code, expected in EXPECTED_CLASS.items():
        assert tasks[code].class_key == expected, code
    untouched = [t for code, t in tasks.items() if code not in EXPECTED_CLASS]
    assert {t.class_key for t in untouched} == {"overdue"}  # nothing reported, deadline passed
    assert tasks["2.4"].status_key == "done"
    assert tasks["3.3"].status_key == "unreported"  # returned for rework
    assert tasks["3.3"].main is not None and tasks["3.3"].main.returned
    assert tasks["3.3"].main.returned_reason == "Thiếu số liệu"


def test_agencies_are_named_as_today_with_the_2021_name(report_db: Database) -> None:
    tasks = _tasks(report_db)
    assert tasks["1.1"].lead == "Sở Khoa học và Công nghệ (Sở Thông tin và Truyền thông)"
    assert tasks["9.1"].lead == "Sở Tài chính (Sở Kế hoạch và Đầu tư)"
    assert tasks["3.1"].lead == "Sở Y tế"
    assert "Sở Tài chính (Sở Kế hoạch và Đầu tư)" in tasks["2.2"].partners
    parts = {p.name: p for p in tasks["1.1"].parts}
    # Reported under the 2021 name, then the successor's own: one part, the newest report.
    assert parts["Sở Khoa học và Công nghệ"].status == "done"
    assert parts["Sở Khoa học và Công nghệ"].result == "Ban hành Kế hoạch chuyển đổi số năm 2026"
    # Báo Quảng Ngãi and its predecessor Đài PT-TH both cooperate on 1.1: one part of today.
    assert list(parts) == ["Sở Khoa học và Công nghệ", "Báo Quảng Ngãi"]


def test_parts_agree_with_the_status_module_on_every_task(report_db: Database) -> None:
    """The fast column-row reader follows data.store.status's rules exactly."""
    for now in (BEFORE_DEADLINE, scope().now):
        with report_db.session() as session:
            reports = {t.code: t for t in iter_task_reports(session, scope(now))}
            for task in session.scalars(select(Task).order_by(Task.position)):
                expected = [
                    (
                        row.agency.id,
                        row.role.value,
                        row.latest.id if row.latest else None,
                        row.classification.value if row.classification else None,
                    )
                    for row in task_statuses(session, task, YEAR, now)
                ]
                got = [
                    (p.agency_id, p.role, p.update_id, p.classification)
                    for p in reports[task.code].parts
                ]
                assert got == expected, task.code


def test_blockers_proposals_and_silent_agencies(report_db: Database) -> None:
    with report_db.session() as session:
        summary = summarise(iter_task_reports(session, scope()), scope())
    assert [(n.code, n.agency, n.text) for n in summary.blockers] == [
        ("1.1", "Báo Quảng Ngãi", "Thiếu kinh phí sản xuất phóng sự"),
        ("3.1", "Sở Y tế", "Chưa có mặt bằng xây dựng bệnh viện"),
    ]  # 3.5's blocker was cleared by a later report
    assert [n.code for n in summary.all_proposals()] == ["1.1", "3.1", "6.2"]
    never = [a.label for a in summary.never_reported()]
    for name in NEVER_REPORTED:
        assert name in never
    assert "Sở Y tế" not in never
    health = next(a for a in summary.agencies.values() if a.name == "Sở Y tế")
    assert (health.lead, health.partner, health.reported, health.done) == (6, 1, 3, 2)
    assert health.missing == ["3.3", "3.4", "3.6", "3.7"]
    assert summary.overall.total == 44
    assert summary.overall.by_class["done_on_time"] == 3
    assert summary.overall.by_class["done_late"] == 1
    assert summary.overall.blocked == 2
    assert [s.tally.total for s in summary.sectors.values()] == [4, 7, 7, 4, 7, 3, 5, 5, 2]


def test_before_the_deadline_nothing_is_overdue(report_db: Database) -> None:
    with report_db.session() as session:
        early = scope(BEFORE_DEADLINE)
        summary = summarise(iter_task_reports(session, early), early)
    assert summary.overall.by_class["overdue"] == 0
    assert summary.overall.by_class["on_time"] == 4  # 2.2, 3.1, 5.1 in progress; 6.2 idle
    assert summary.overall.by_class["unreported"] == 36


def test_other_years_do_not_count(report_db: Database) -> None:
    tasks = _tasks(report_db)
    assert tasks["4.1"].status_key == "unreported"  # reported for 2025 only
    with report_db.session() as session:
        earlier = scope().__class__(2025, scope().now)
        old = {t.code: t for t in iter_task_reports(session, earlier)}
    assert old["4.1"].status_key == "done" and old["1.1"].status_key == "unreported"


def test_small_batches_stream_the_same_rows(report_db: Database) -> None:
    assert _tasks(report_db, batch=5) == _tasks(report_db)


def test_agency_label_helper(report_db: Database) -> None:
    with report_db.session() as session:
        assert agency_label(agency(session, "Sở Giao thông vận tải")) == (
            "Sở Xây dựng (Sở Giao thông vận tải)"
        )
        assert agency_label(agency(session, "Sở Y tế")) == "Sở Y tế"


@pytest.mark.postgres
def test_postgres_streams_the_same_report(report_db: Database, pg_db: Database) -> None:
    from data.importing.importer import ensure_seed

    ensure_seed(pg_db)
    with pg_db.unit_of_work() as session:
        seed_reports(session)
    expected = _tasks(report_db)
    got = _tasks(pg_db, batch=7)  # server-side cursor, several batches, queries in between
    assert [t.code for t in got.values()] == [t.code for t in expected.values()]
    for code, task in expected.items():
        mine = got[code]
        assert (mine.lead, mine.partners, mine.class_key, mine.status_key) == (
            task.lead,
            task.partners,
            task.class_key,
            task.status_key,
        ), code
        assert [(p.name, p.classification, p.result) for p in mine.parts] == [
            (p.name, p.classification, p.result) for p in task.parts
        ], code
