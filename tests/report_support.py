"""A seeded database with a mix of reports: statuses, late updates, blockers, silent agencies."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from data.reports.task_reports import Scope
from data.store import status as st
from data.store.db import Database
from data.store.models import Agency, Person, Role, Task, TaskStatus
from tests.databases import Template

VN = ZoneInfo("Asia/Ho_Chi_Minh")
YEAR = 2026
AFTER_DEADLINE = datetime(2026, 12, 20, 9, 0, tzinfo=VN)  # deadline 15/12/2026 has passed
BEFORE_DEADLINE = datetime(2026, 11, 26, 9, 0, tzinfo=VN)


def vn(month: int, day: int, year: int = YEAR) -> datetime:
    """09:00 local on a day of the reporting year."""
    return datetime(year, month, day, 9, 0, tzinfo=VN).astimezone(UTC)


def agency(session: Session, name: str) -> Agency:
    """The agency with exactly this name."""
    return session.scalars(select(Agency).where(Agency.name == name)).one()


def task(session: Session, code: str) -> Task:
    """The seed task with this code."""
    return session.scalars(select(Task).where(Task.code == code)).one()


def _author(session: Session) -> Person:
    person = Person(
        display_name="Cán bộ kiểm thử",
        role=Role.ADMIN.value,
        active=True,
        created_at=vn(1, 1),
    )
    session.add(person)
    session.flush()
    return person


def put(
    session: Session,
    author: Person,
    code: str,
    agency_name: str,
    status: TaskStatus,
    when: datetime,
    *,
    progress: int = 0,
    result: str = "",
    blocker: str = "",
    proposal: str = "",
    year: int = YEAR,
) -> st.Recorded:
    """Record an update the way /capnhat does."""
    return st.record(
        session,
        task=task(session, code),
        agency=agency(session, agency_name),
        year=year,
        author=author,
        report=st.Report(status, progress, result, blocker, proposal),
        now=when,
    )


# Expected task-level (lead) categories judged on AFTER_DEADLINE.
EXPECTED_CLASS = {
    "1.1": "done_on_time",
    "2.4": "done_late",
    "2.2": "overdue",
    "3.1": "overdue",
    "3.2": "done_on_time",
    "3.3": "overdue",  # its report was returned for rework
    "3.5": "done_on_time",
    "5.1": "overdue",
    "6.2": "overdue",
}
NEVER_REPORTED = (
    "Sở Giáo dục và Đào tạo",  # only reported for 2025
    "Ban Quản lý KKT Dung Quất và các KCN tỉnh Quảng Ngãi",
    "Văn phòng UBND tỉnh (Trung tâm Phục vụ hành chính công)",
)


def seed_reports(session: Session) -> None:
    """Record the mix of reports the report tests check against."""
    author = _author(session)
    done, doing, idle = TaskStatus.DONE, TaskStatus.IN_PROGRESS, TaskStatus.NOT_STARTED
    # Reported under the 2021 name; shown as Sở Khoa học và Công nghệ today.
    put(session, author, "1.1", "Sở Thông tin và Truyền thông", doing, vn(6, 1), progress=40)
    put(
        session,
        author,
        "1.1",
        "Sở Khoa học và Công nghệ",
        done,
        vn(10, 1),
        progress=100,
        result="Ban hành Kế hoạch chuyển đổi số năm 2026",
    )
    put(
        session,
        author,
        "1.1",
        "Báo Quảng Ngãi",
        doing,
        vn(11, 2),
        progress=50,
        result="Mở chuyên mục chuyển đổi số",
        blocker="Thiếu kinh phí sản xuất phóng sự",
        proposal="Bổ sung kinh phí tuyên truyền",
    )
    put(session, author, "2.4", "Sở Xây dựng", doing, vn(9, 1), progress=70)
    put(
        session,
        author,
        "2.4",
        "Sở Xây dựng",
        done,
        vn(12, 18),
        progress=100,
        result="Khai thác đường bay Chu Lai - Đà Lạt",
    )
    put(session, author, "2.2", "Sở Văn hóa Thể thao và Du lịch", doing, vn(11, 20), progress=60)
    put(session, author, "2.2", "Sở Tài chính", idle, vn(11, 21))
    put(
        session,
        author,
        "3.1",
        "Sở Y tế",
        doing,
        vn(11, 10),
        progress=30,
        result="Khảo sát nhu cầu khám chữa bệnh",
        blocker="Chưa có mặt bằng xây dựng bệnh viện",
        proposal="UBND tỉnh chỉ đạo bố trí quỹ đất",
    )
    put(session, author, "3.2", "Sở Y tế", done, vn(5, 5), progress=100, result="Hoàn thành")
    returned = put(session, author, "3.3", "Sở Y tế", doing, vn(10, 10), progress=20).update
    st.return_for_rework(session, returned, by=author, reason="Thiếu số liệu", now=vn(10, 12))
    put(session, author, "3.5", "Sở Y tế", doing, vn(4, 1), progress=50, blocker="Thiếu nhân lực")
    put(session, author, "3.5", "Sở Y tế", done, vn(8, 1), progress=100, result="Đã xong")
    put(session, author, "5.1", "Sở Công Thương", doing, vn(12, 17), progress=10)
    put(
        session,
        author,
        "6.2",
        "Ngân hàng Nhà nước chi nhánh Quảng Ngãi",
        idle,
        vn(3, 3),
        proposal="Đề nghị các ngân hàng phối hợp triển khai",
    )
    put(session, author, "4.1", "Sở Giáo dục và Đào tạo", done, vn(12, 1, 2025), year=2025)
    session.flush()


def scope(now: datetime = AFTER_DEADLINE) -> Scope:
    """The 2026 report as seen on now."""
    return Scope(YEAR, now)


@pytest.fixture(scope="module")
def report_db(
    tmp_path_factory: pytest.TempPathFactory, seeded_template: Template
) -> Iterator[Database]:
    """The seed plus the mix of reports, built once per module for read-only tests."""
    with seeded_template.clone(tmp_path_factory.mktemp("reports")) as database:
        with database.unit_of_work() as session:
            seed_reports(session)
        yield database
