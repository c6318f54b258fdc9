"""`daumoi remind preview` on the seed, and `run-once`, as users run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from core.settings import Settings
from data.store.db import Database
from data.store.models import ReminderOutbox, ReminderRule, Task
from data.store.succession import current_agency
from scheduler.calendar import WorkCalendar
from scheduler.config import ReminderConfig
from scheduler.preview import as_json, preview
from tests.databases import database_url
from tests.scheduler_support import add_person, link_chat

pytest_plugins = ("tests.bot_harness",)

DAUMOI = Path(sys.executable).with_name("daumoi")
DEADLINE = date(2026, 12, 15)
COLLECTIVES = ("Các sở, ban ngành", "UBND các xã, phường, đặc khu", "doanh nghiệp")


def _in_process(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str, *args: str
) -> tuple[int, str, str]:
    """Run `daumoi …` in this process (faster than a subprocess; same code path)."""
    from bot.cli import main

    for key in [k for k in os.environ if k.startswith("DAUMOI_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("DAUMOI_DATABASE_URL", url)
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _daumoi(*args: str, url: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DAUMOI_")}
    clean.update(DAUMOI_DATABASE_URL=url, PYTHONIOENCODING="utf-8", **env)
    return subprocess.run(
        [str(DAUMOI), *args], capture_output=True, text=True, env=clean, timeout=120
    )


@pytest.fixture
def seeded_url(seeded_db: Database) -> str:
    return database_url(seeded_db)


def _lead_agencies(url: str) -> set[str]:
    database = Database.connect(url, migrate=False)
    try:
        with database.session() as session:
            tasks = session.scalars(select(Task)).all()
            return {current_agency(t.lead_agency).name for t in tasks if t.lead_agency}
    finally:
        database.engine.dispose()


def _check_acceptance(objects: list[dict[str, Any]], leads: set[str]) -> None:
    calendar = WorkCalendar()
    before = {o["agency"] for o in objects if o["kind"] in ("before", "due")}
    assert leads <= before, leads - before
    for item in objects:
        due = datetime.fromisoformat(item["due"])
        assert due.utcoffset() is not None and due.utcoffset().total_seconds() == 7 * 3600
        assert calendar.is_working_time(due), item
        assert calendar.holiday_name(due.date()) is None and due.weekday() < 5
        if item["kind"] == "before":
            assert due.date() < DEADLINE
        assert not any(name in (item["agency"] or "") for name in COLLECTIVES)
    assert {o["chat"] for o in objects} == {None}  # the seed links no chat


def test_cli_preview_json_on_the_seed(seeded_url: str) -> None:
    result = _daumoi(
        "remind", "preview", "--from", "2026-11-26", "--to", "2026-12-31", "--json", url=seeded_url
    )
    assert result.returncode == 0, result.stderr
    objects = json.loads(result.stdout)
    _check_acceptance(objects, _lead_agencies(seeded_url))
    finance = [o for o in objects if o["agency"] == "Sở Tài chính" and o["kind"] == "before"]
    assert finance and finance[0]["agency_2021"] == ["Sở Kế hoạch và Đầu tư", "Sở Tài chính"]
    assert {"due", "agency", "chat", "kind", "tasks"} <= set(finance[0])
    kinds = {o["kind"] for o in objects}
    assert {"before", "due", "overdue", "escalation", "compile"} <= kinds
    database = Database.connect(seeded_url, migrate=False)
    with database.session() as session:  # a preview writes nothing
        assert session.scalar(select(func.count()).select_from(ReminderRule)) == 0
    database.engine.dispose()


def test_cli_preview_on_a_fresh_database_seeds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/fresh.sqlite3"
    code, out, err = _in_process(
        monkeypatch, capsys, url, "remind", "preview", "--from", "2026-12-14", "--to", "2026-12-15"
    )
    assert code == 0, err
    assert "Thứ Ba, 15/12/2026 08:30  due" in out and "Sở Y tế" in out


def test_cli_preview_rejects_bad_dates(
    seeded_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _in_process(
        monkeypatch, capsys, seeded_url, "remind", "preview", "--from", "15/12/2026"
    )
    assert code == 2 and "YYYY-MM-DD" in err
    code, _, err = _in_process(monkeypatch, capsys, seeded_url, "remind")
    assert code == 2 and "preview|run-once" in err


def test_preview_shows_chats_and_focal_points(seeded_db: Database) -> None:
    with seeded_db.session() as session:
        link_chat(session, "Sở Y tế", "-1001")
        add_person(session, "focal", "5001", agency_name="Sở Công Thương")
        found = as_json(
            preview(session, Settings(), date(2026, 12, 14), date(2026, 12, 14)), ReminderConfig()
        )
        session.rollback()
    by_agency = {o["agency"]: o for o in found}
    assert by_agency["Sở Y tế"]["chat"] == "telegram:-1001"
    assert by_agency["Sở Y tế"]["via"] == "group"
    assert by_agency["Sở Công Thương"]["chat"] == "telegram:5001"
    assert by_agency["Sở Công Thương"]["via"] == "focal"
    assert by_agency["Sở Xây dựng"]["chat"] is None


def test_cli_run_once_sends_nothing_without_targets(
    seeded_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _in_process(
        monkeypatch, capsys, seeded_url, "remind", "run-once", "--now", "2026-12-01T08:31:00+07:00"
    )
    assert code == 0, err
    assert "đã gửi 0 tin nhắn" in out
    database = Database.connect(seeded_url, migrate=False)
    with database.session() as session:  # nobody is reachable and there is no admin
        assert session.scalar(select(func.count()).select_from(ReminderOutbox)) == 0
        assert session.scalar(select(func.count()).select_from(ReminderRule)) == 5  # + digest
    database.engine.dispose()


def test_cli_run_once_prints_console_reminders(seeded_url: str) -> None:
    database = Database.connect(seeded_url, migrate=False)
    with database.unit_of_work() as session:
        link_chat(session, "Sở Y tế", "console-group", platform="console")
    database.engine.dispose()
    result = _daumoi("remind", "run-once", "--now", "2026-12-01T08:31:00+07:00", url=seeded_url)
    assert result.returncode == 0, result.stderr
    assert "[Nhắc việc → console-group]" in result.stdout
    assert "Kính gửi Sở Y tế: còn 14 ngày đến hạn báo cáo" in result.stdout
    assert "đã gửi 1 tin nhắn" in result.stdout


def test_cli_run_once_delivers_around_a_broken_rule(seeded_url: str) -> None:
    database = Database.connect(seeded_url, migrate=False)
    with database.unit_of_work() as session:
        link_chat(session, "Sở Y tế", "console-group", platform="console")
        task = session.scalars(select(Task).where(Task.code == "2.4")).one()
        task.deadline = date(9999, 12, 31)  # stored before dates were checked
        moment = datetime(2026, 11, 1)
        session.add(
            ReminderRule(
                kind="task_deadline",
                key=f"task:{task.id}:deadline",
                task_id=task.id,
                params={},
                created_at=moment,
                updated_at=moment,
            )
        )
        session.add(
            ReminderRule(
                kind="recurring",
                platform="console",
                chat_id="console-group",
                cron="0 8 * * 8",  # never valid
                params={},
                created_at=moment,
                updated_at=moment,
            )
        )
    database.engine.dispose()
    result = _daumoi("remind", "run-once", "--now", "2026-12-01T08:31:00+07:00", url=seeded_url)
    assert result.returncode == 0, result.stderr
    assert "Kính gửi Sở Y tế: còn 14 ngày đến hạn báo cáo" in result.stdout
    assert "Đã tạo 1 nhắc việc mới; đã gửi 1 tin nhắn" in result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("preview", "--from", "2026-12-01", "--to", "9999-12-31"),
        ("preview", "--from", "0001-01-01", "--to", "2026-12-01"),
        ("run-once", "--now", "9999-12-31T23:59:00+07:00"),
    ],
)
def test_cli_refuses_dates_far_outside_the_programme(
    seeded_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
) -> None:
    code, _, err = _in_process(monkeypatch, capsys, seeded_url, "remind", *args)
    assert code == 2 and "01/01/2021 đến 31/12/2035" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("platform", "chat_id", "shown"),
    [
        ("console", "console:console-user", "console:console-user"),  # the console's own chat
        ("console", "console-group", "console:console-group"),
        ("telegram", "-1001", "telegram:-1001"),
        ("zalo", "zalo:42", "zalo:42"),
        ("telegram", "console:x", "telegram:console:x"),  # another platform's prefix stays
    ],
)
def test_a_chat_is_named_with_its_platform_once(
    seeded_db: Database, platform: str, chat_id: str, shown: str
) -> None:
    moment = datetime(2026, 12, 1)
    with seeded_db.session() as session:
        session.add(
            ReminderRule(
                kind="recurring",
                platform=platform,
                chat_id=chat_id,
                text="X",
                cron="0 9 * * mon-fri",
                params={},
                created_by=f"{platform}:someone",
                created_at=moment,
                updated_at=moment,
            )
        )
        session.flush()
        found = as_json(
            preview(session, Settings(), date(2026, 12, 2), date(2026, 12, 2)), ReminderConfig()
        )
        session.rollback()
    assert [o["chat"] for o in found if o["kind"] == "recurring"] == [shown]
