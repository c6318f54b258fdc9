"""A second decision beside the seed: reminders, reports, the web view and updates cover both."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import docx
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from core.settings import Settings
from data.importing.importer import import_text
from data.reports.files import report_bytes
from data.reports.task_reports import Scope
from data.store.catalog import load_catalog
from data.store.models import Programme, ReminderRule, Role, StatusUpdate, Task
from handlers.web.pages import Filters, overview, task_list
from handlers.web.snapshot import SnapshotCache
from scheduler import messages
from scheduler.config import ReminderConfig
from scheduler.kinds.registry import kind_of
from scheduler.preview import preview
from tests.decision_documents import SMALL_NUMBER, SMALL_TEXT

if TYPE_CHECKING:
    from tests.status_harness import Desk

pytest_plugins = ("tests.status_harness",)

SEED_NUMBER = "1731/QĐ-UBND"
# The test decision's own deadline is 10/12; 30/06 sets it well apart from the seed's 15/12.
SECOND_TEXT = SMALL_TEXT.replace("trước ngày 10/12 hằng năm", "trước ngày 30/06 hằng năm")
SECOND_DEADLINE = date(2026, 6, 30)
VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=VN)


@pytest.fixture
def two(desk: Desk) -> Desk:
    """The seeded desk with the second decision imported beside the seed."""
    assert SECOND_TEXT != SMALL_TEXT
    with desk.database.unit_of_work() as session:
        import_text(session, SECOND_TEXT, "qd_3579_2024.txt")
    desk.restart()  # a fresh router: its catalog now holds both decisions
    return desk


def _task(desk: Desk, decision: str, code: str) -> int:
    with desk.database.session() as session:
        return session.scalars(
            select(Task.id)
            .join(Programme, Programme.id == Task.programme_id)
            .where(Programme.decision_number == decision, Task.code == code)
        ).one()


# --- reminders ----------------------------------------------------------------------------------


def test_the_second_programme_keeps_its_own_deadline(two: Desk) -> None:
    with two.database.session() as session:
        found = {
            p.decision_number: (p.report_day, p.report_month)
            for p in session.scalars(select(Programme))
        }
    assert found == {SEED_NUMBER: (15, 12), SMALL_NUMBER: (30, 6)}


def test_reminders_follow_each_programmes_deadline_and_name_it(two: Desk) -> None:
    settings = Settings()
    calendar = ReminderConfig.from_settings(settings).calendar()
    with two.database.unit_of_work() as session:
        june = preview(session, settings, date(2026, 5, 25), date(2026, 7, 2), now=NOW)
        cycle = [o for o in june if o.kind in ("before", "due")]
        assert cycle and {o.programme for o in cycle} == {SMALL_NUMBER}
        assert all(o.plan is not None and o.plan.deadline == SECOND_DEADLINE for o in cycle)
        on_the_day = [o for o in cycle if o.kind == "due"]
        assert {calendar.local(o.due).date() for o in on_the_day} == {SECOND_DEADLINE}
        text = messages.render(on_the_day[0], SECOND_DEADLINE, calendar)
        assert f"theo Quyết định {SMALL_NUMBER}" in text and "30/06/2026" in text
        december = preview(session, settings, date(2026, 12, 1), date(2026, 12, 15), now=NOW)
        due = {o.programme for o in december if o.kind == "due"}
        assert due == {SEED_NUMBER}  # the seed's 15/12; the second decision is overdue by now
        rules = session.scalars(select(ReminderRule).where(ReminderRule.kind == "cycle")).all()
        described = {kind_of(rule).describe(rule, calendar) for rule in rules}
        assert f"hạn 30/06 hằng năm (Quyết định {SMALL_NUMBER})" in " ".join(described)
        assert f"hạn 15/12 hằng năm (Quyết định {SEED_NUMBER})" in " ".join(described)
        session.rollback()


# --- status updates -----------------------------------------------------------------------------


def test_an_ambiguous_code_asks_which_decision(two: Desk) -> None:
    sent = two.send("/capnhat 1.1 đang thực hiện 40% vướng mắc: chưa có mặt bằng kho bãi")
    assert "Mã 1.1 có trong 2 quyết định" in sent.here, sent.here
    assert not two.updates("1.1")  # nothing recorded on a guess
    done = two.press(sent, SMALL_NUMBER, "admin", platform="console")
    assert "chưa có mặt bằng" in done.here or "Đã ghi" in done.here, done.here
    [update] = two.updates("1.1")
    assert update.task_id == _task(two, SMALL_NUMBER, "1.1")


def test_a_decision_after_the_code_picks_the_programme(two: Desk) -> None:
    two.say(f"/capnhat 1.1 {SEED_NUMBER} đang thực hiện 20% Đã ban hành kế hoạch")
    [update] = two.updates("1.1")
    assert update.task_id == _task(two, SEED_NUMBER, "1.1")
    history = two.say("/lichsu 1.1")
    assert "Mã 1.1 có trong 2 quyết định" in history
    assert "Đã ban hành kế hoạch" in two.say(f"/lichsu 1.1 {SEED_NUMBER}")
    assert "chưa có cập nhật nào" in two.say(f"/lichsu 1.1 {SMALL_NUMBER}")


def test_a_focal_point_with_one_of_the_tasks_goes_straight_to_it(two: Desk) -> None:
    two.add_person("congthuong", Role.FOCAL, "Sở Công Thương")
    two.say("/capnhat 1.1 hoàn thành Đã phê duyệt quy hoạch chi tiết", "congthuong")
    [update] = two.updates("1.1")
    assert update.task_id == _task(two, SMALL_NUMBER, "1.1")


def test_the_guided_flow_lists_tasks_with_their_decision(two: Desk) -> None:
    two.add_person("xaydung", Role.FOCAL, "Sở Xây dựng")
    prompt = two.say("/capnhat", "xaydung")
    assert f"1.1 {SMALL_NUMBER}" in prompt, prompt
    asked = two.say(f"1.1 {SMALL_NUMBER}", "xaydung")
    assert f"(Quyết định {SMALL_NUMBER})" in asked, asked


# --- reports ------------------------------------------------------------------------------------


def _blocker_on_both(desk: Desk) -> None:
    for decision in (SEED_NUMBER, SMALL_NUMBER):
        desk.say(f"/capnhat 1.1 {decision} đang thực hiện 30% vướng mắc: thiếu vốn {decision}")


def test_baocao_covers_both_and_names_the_decision(two: Desk) -> None:
    _blocker_on_both(two)
    summary = two.say("/baocao")
    assert SEED_NUMBER in summary and SMALL_NUMBER in summary
    assert "Tổng số 50 nhiệm vụ" in summary  # 44 + 6
    sectors = two.say("/baocao linhvuc")
    assert f"{SMALL_NUMBER} 1. Logistics" in sectors, sectors
    blockers = two.say("/baocao vuongmac")
    assert f"1.1 ({SEED_NUMBER})" in blockers and f"1.1 ({SMALL_NUMBER})" in blockers, blockers
    agencies = two.say("/baocao donvi")
    # Sở Công Thương reported on 3579's 1.1 (the admin spoke for its lead): codes by decision.
    assert f"• Sở Công Thương: còn 11/12 ({SEED_NUMBER}: 5.1" in agencies, agencies


def test_report_files_cover_both(two: Desk) -> None:
    _blocker_on_both(two)
    scope = Scope(2026, NOW.astimezone(UTC))
    with two.database.session() as session:
        raw, _ = report_bytes(session, scope, "json")
        book, _ = report_bytes(session, scope, "xlsx")
        word, _ = report_bytes(session, scope, "docx")
    tasks = json.loads(raw)
    assert len(tasks) == 50
    ones = {(t["programme"], t["code"]) for t in tasks if t["code"] == "1.1"}
    assert ones == {(SEED_NUMBER, "1.1"), (SMALL_NUMBER, "1.1")}
    sheets = load_workbook(io.BytesIO(book), read_only=True).sheetnames
    assert any(name.startswith("3579-1.") for name in sheets), sheets
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(word)).paragraphs)
    assert f"Quyết định số {SMALL_NUMBER}" in text
    assert f"{SEED_NUMBER}: 5.1, 5.2" in text and f"{SMALL_NUMBER}: 1.2, 1.3)" in text
    assert f"Nhiệm vụ 1.1 ({SMALL_NUMBER})" in text and f"Nhiệm vụ 1.1 ({SEED_NUMBER})" in text


# --- the web view -------------------------------------------------------------------------------


def test_the_web_view_covers_both_and_reaches_each_task(two: Desk) -> None:
    _blocker_on_both(two)
    with two.database.session() as session:
        catalog = load_catalog(session)
        snapshot = SnapshotCache().get(session, catalog, 2026, NOW, "Asia/Ho_Chi_Minh")
    seed_id, second_id = _task(two, SEED_NUMBER, "1.1"), _task(two, SMALL_NUMBER, "1.1")
    page = overview(snapshot)
    assert page["total"] == 50
    assert {s["programme"] for s in page["sectors"]} == {SEED_NUMBER, SMALL_NUMBER}
    links = {b["label"]: b["task_id"] for b in page["blockers"]}
    assert links[f"1.1 ({SEED_NUMBER})"] == seed_id and links[f"1.1 ({SMALL_NUMBER})"] == second_id
    listed = task_list(snapshot, Filters(), None)
    assert listed["count"] == 50
    second = next(s for s in page["sectors"] if s["programme"] == SMALL_NUMBER)
    only = task_list(snapshot, Filters(sector=second["filter"]), None)
    assert [(r["code"], r["programme"]) for r in only["rows"]] == [
        (code, SMALL_NUMBER) for code in ("1.1", "1.2", "1.3")
    ]
    assert snapshot.report(seed_id) is not None and snapshot.report(second_id) is not None
    assert snapshot.report(seed_id).programme == SEED_NUMBER  # type: ignore[union-attr]
    assert snapshot.report(second_id).programme == SMALL_NUMBER  # type: ignore[union-attr]


def test_no_update_is_stored_without_a_decision(two: Desk) -> None:
    two.say("/capnhat 2.1 hoàn thành Đã xong")
    with two.database.session() as session:
        assert session.scalars(select(StatusUpdate)).first() is None


def test_cuatoi_names_each_decision_and_its_own_deadline(two: Desk) -> None:
    two.add_person("congthuong", Role.FOCAL, "Sở Công Thương")  # owes tasks under both
    text = two.say("/cuatoi", "congthuong")
    assert f"1.1 ({SMALL_NUMBER})" in text and f"5.1 ({SEED_NUMBER})" in text
    assert f"Hạn báo cáo: 30/06/2026 ({SMALL_NUMBER}); 15/12/2026 ({SEED_NUMBER})." in text


def test_tralai_asks_which_decision_and_names_it(two: Desk) -> None:
    for decision in (SEED_NUMBER, SMALL_NUMBER):
        two.say(f"/capnhat 1.1 {decision} đang thực hiện 30% Đã họp {decision}")
    asked = two.send("/tralai 1.1 Bổ sung số liệu")
    assert "Mã 1.1 có trong 2 quyết định" in asked.here, asked.here
    assert all(u.state == "active" for u in two.updates("1.1"))  # nothing returned on a guess
    done = two.press(asked, SMALL_NUMBER, "admin", platform="console")
    assert f"nhiệm vụ 1.1 (Quyết định {SMALL_NUMBER})" in done.here, done.here
    returned = [u.task_id for u in two.updates("1.1") if u.state != "active"]
    assert returned == [_task(two, SMALL_NUMBER, "1.1")]
    again = two.say(f"/tralai 1.1 {SEED_NUMBER} Bổ sung kế hoạch")
    assert f"nhiệm vụ 1.1 (Quyết định {SEED_NUMBER})" in again, again
