"""What the README promises about admins: the console user, and roles kept in the database."""

from __future__ import annotations

import io
import re
from typing import Any

from bot.platforms.console import run_console
from bot.router import Router
from core.limits import LIMITS as CAPABILITIES
from core.settings import Settings
from data.store.db import Database
from tests.bot_harness import Clock
from tests.status_harness import Desk

pytest_plugins = ("tests.bot_harness", "tests.status_harness")


def test_the_console_user_is_console_user(seeded_db: Database, search_engine: Any) -> None:
    settings = Settings(admins=("console:console-user",))
    router = Router(seeded_db, search_engine, settings, CAPABILITIES, now=Clock())
    out = io.StringIO()
    run_console(router, io.StringIO("/toi\n"), out)
    assert "Quản trị" in out.getvalue() and "console:console-user" in out.getvalue()


def test_a_saved_admin_stays_until_revoked(desk: Desk) -> None:
    desk.say("/moi so y te")  # the configured console:admin now has an admin person
    # The account is taken out of DAUMOI_ADMINS (only console:boss is configured now).
    desk.router = Router(
        desk.database, desk.search, Settings(admins=("console:boss",)), CAPABILITIES, now=desk.clock
    )
    whoami = desk.say("/toi")
    assert "Quản trị" in whoami and "DAUMOI_ADMINS" not in whoami
    assert desk.say("/nhaclap hangngay 09:00 Họp").startswith("Đã đặt nhắc việc định kỳ")
    listed = re.search(r"#(\d+) Admin — Quản trị · console:admin", desk.say("/nguoidung", "boss"))
    assert listed is not None
    assert "Đã thu hồi quyền" in desk.say(f"/thuhoi {listed.group(1)}", "boss")
    assert "chỉ dành cho quản trị viên" in desk.say("/nhaclap hangngay 09:00 Họp")
