"""Status updates end to end through each Telegram adapter and the fake Bot API server.

Lan (1001) is the admin listed in DAUMOI_ADMINS; Minh (1002) joins as a focal point of Sở Giao
thông vận tải (today Sở Xây dựng); Hùng (1003) never registers.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.router import Router
from core.limits import LIMITS as CAPABILITIES
from core.settings import Settings
from data.store.db import Database
from data.store.models import StatusUpdate
from tests import fake_telegram as ft
from tests.conformance.conftest import ADAPTERS, ConformanceCore, TelegramDriver
from tests.conformance.test_webhook import start_webhook
from tests.fake_telegram import FakeTelegram

ADMIN_ID = 1001


@pytest.fixture
def router(seeded_db: Database, search_engine: Any) -> Router:
    """The real router, with Lan (telegram:1001) as configured admin."""
    settings = Settings(admins=(f"telegram:{ADMIN_ID}", f"zalo:{ADMIN_ID}"))
    return Router(seeded_db, search_engine, settings, CAPABILITIES)


class People:
    """The three people of the scenarios and their private chats."""

    def __init__(self, driver: TelegramDriver) -> None:
        self.driver = driver
        self.admin = driver.user
        self.admin_chat = driver.private
        self.focal = driver.other_user
        self.focal_chat = ft.private_chat(self.focal)
        self.stranger = ft.user(1003, "Hùng", "Lê", "hung")
        self.stranger_chat = ft.private_chat(self.stranger)

    def register_focal(self) -> None:
        """The admin invites Sở GTVT; Minh joins with the code."""
        driver = self.driver
        driver.say(self.admin_chat, "/moi so giao thong van tai", sender=self.admin)
        invitation = driver.expect_text(self.admin_chat)
        code = re.search(r"/dangky (\S+)", invitation)
        assert code, invitation
        driver.say(self.focal_chat, f"/dangky {code.group(1)}", sender=self.focal)
        assert "Chào mừng" in driver.expect_text(self.focal_chat)

    def press(self, chat: dict[str, Any], sender: dict[str, Any], message: Any, label: str) -> None:
        """sender presses the button of message whose text contains label."""
        button = next((b for b in message.buttons if label in b["text"]), None)
        if button is None and not self.driver.capability.buttons:
            # Without buttons a value step asks for the value itself ("75%" is typed as 75).
            self.driver.say(chat, label.rstrip("%"), sender=sender)
            return
        assert button is not None, [b["text"] for b in message.buttons]
        self.driver.press(chat, button, sender=sender)


def test_acceptance_invite_register_update_refuse_history(driver: TelegramDriver) -> None:
    cast = People(driver)
    cast.register_focal()
    driver.say(cast.focal_chat, "/capnhat 2.4 dang thuc hien 60% ghi chú", sender=cast.focal)
    recorded = driver.expect_text(cast.focal_chat)
    assert "Đã ghi nhận cập nhật" in recorded and "Đang thực hiện (60%)" in recorded
    driver.say(cast.stranger_chat, "/capnhat 2.4 hoan thanh", sender=cast.stranger)
    refusal = driver.expect_text(cast.stranger_chat)
    assert refusal.startswith("Xin lỗi") and "Sở Xây dựng (chủ trì)" in refusal
    driver.say(cast.admin_chat, "/lichsu 2.4", sender=cast.admin)
    history = driver.expect_text(cast.admin_chat)
    entries = re.findall(r"^#\d+ · .*$", history, re.MULTILINE)
    assert len(entries) == 1, history
    assert "Minh Trần" in entries[0]
    assert "ghi chú" in history and "Đang thực hiện (60%)" in history


def test_guided_update_with_buttons(driver: TelegramDriver) -> None:
    cast = People(driver)
    cast.register_focal()
    chat, minh = cast.focal_chat, cast.focal
    driver.say(chat, "/capnhat", sender=minh)
    [tasks] = driver.expect(chat)
    cast.press(chat, minh, tasks, "2.4")
    [statuses] = driver.expect(chat)
    assert "Nhiệm vụ 2.4" in statuses.text
    cast.press(chat, minh, statuses, "Đang thực hiện")
    [progress] = driver.expect(chat)
    cast.press(chat, minh, progress, "75%")
    assert "nội dung kết quả" in driver.expect_text(chat)
    driver.say(chat, "Đã mở thêm tuyến xe bus; vuong mac: thiếu kinh phí", sender=minh)
    [confirm] = driver.expect(chat)
    assert "Tiến độ: 75%" in confirm.text
    if driver.capability.buttons:  # numbers typed in Minh's private chat are Minh's
        # Someone else pressing Minh's button changes nothing (told over the chat, not in it).
        cast.press(chat, cast.stranger, confirm, "Gửi cập nhật")
        assert "dành cho người đã hỏi" in driver.expect_notice().text
    cast.press(chat, minh, confirm, "Gửi cập nhật")
    assert "Đã ghi nhận cập nhật" in driver.expect_text(chat)
    cast.press(chat, minh, confirm, "Gửi cập nhật")  # a double tap
    assert "đã kết thúc" in driver.expect_text(chat)
    driver.say(cast.admin_chat, "/lichsu 2.4", sender=cast.admin)
    history = driver.expect_text(cast.admin_chat)
    assert len(re.findall(r"^#\d+ · ", history, re.MULTILINE)) == 1
    assert "75%" in history and "thiếu kinh phí" in history


def test_blocker_reaches_the_coordinating_agency_group(driver: TelegramDriver) -> None:
    cast = People(driver)
    group = ft.group_chat(-4002, "Nhóm Sở Tài chính")
    driver.set_member_status(group, cast.admin, "administrator")
    driver.say(group, "/lienket so tai chinh", sender=cast.admin)
    assert "Sở Tài chính" in driver.expect_text(group)
    cast.register_focal()
    driver.say(
        cast.focal_chat,
        "/capnhat 2.4 dang thuc hien 60% Đã họp; vuong mac: thiếu kinh phí đối ứng",
        sender=cast.focal,
    )
    assert "chuyển tới nhóm của Sở Tài chính" in driver.expect_text(cast.focal_chat)
    notice = driver.expect_text(group)
    assert "Vướng mắc mới ở nhiệm vụ 2.4" in notice and "thiếu kinh phí đối ứng" in notice


def test_return_for_rework_tells_the_author(driver: TelegramDriver) -> None:
    cast = People(driver)
    cast.register_focal()
    driver.say(cast.focal_chat, "/capnhat 2.4 hoan thanh Đã xong", sender=cast.focal)
    driver.expect(cast.focal_chat)
    driver.say(cast.admin_chat, "/tralai 2.4 Bổ sung số liệu", sender=cast.admin)
    assert "Đã báo cho Minh Trần" in driver.expect_text(cast.admin_chat)
    told = driver.expect_text(cast.focal_chat)
    assert "trả lại" in told and "Bổ sung số liệu" in told


@pytest.mark.parametrize("library", ADAPTERS)
def test_redelivered_webhook_update_is_recorded_once(
    fake: FakeTelegram, router: Router, seeded_db: Database, library: str
) -> None:
    hook = start_webhook(fake, library, ConformanceCore(router))
    try:
        admin, minh = ft.user(ADMIN_ID), ft.user(1002, "Minh", "Trần", "minh")
        admin_chat, minh_chat = ft.private_chat(admin), ft.private_chat(minh)
        fake.push_message(admin_chat, "/moi so giao thong van tai", sender=admin)
        [invitation] = fake.wait_for_message(str(ADMIN_ID), 10, count=1)
        code = re.search(r"/dangky (\S+)", invitation.text)
        assert code, invitation.text
        fake.push_message(minh_chat, f"/dangky {code.group(1)}", sender=minh)
        fake.wait_for_message("1002", 10, count=1)
        text = "/capnhat 2.4 dang thuc hien 60% ghi chú"
        update = {"update_id": 987_654, "message": fake.message(minh_chat, text, sender=minh)}
        assert hook.post(update)[0] == 200
        assert hook.post(update)[0] == 200  # Telegram delivers it again
        sent = fake.wait_for_message("1002", 10, count=3)
        assert "Đã ghi nhận cập nhật" in sent[1].text
        assert "xử lý trước đó" in sent[2].text
    finally:
        hook.adapter.stop()
    with seeded_db.session() as session:
        assert session.scalar(select(func.count()).select_from(StatusUpdate)) == 1
