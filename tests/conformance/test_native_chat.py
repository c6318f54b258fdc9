"""Chat that feels native (issue 13, items 1, 3 and 7) through each adapter and its real library.

A press edits the message it belongs to; a foreign or stale press is answered over the chat
(answerCallbackQuery), never in it; replies stay in their forum topic; a report file is
announced with upload_document; an edited lookup is answered again, an edited status update is
not recorded twice. Zalo has no buttons, topics or edits: its numbered choices still work.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import delete, func, select

from data.store.models import PendingChoice, StatusUpdate
from tests import fake_telegram as ft
from tests.conformance.conftest import TelegramDriver
from tests.conformance.test_status_scenarios import People

pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")


def _telegram_only(driver: TelegramDriver) -> None:
    if driver.platform != "telegram":
        pytest.skip(f"{driver.platform} has no buttons, topics or edited messages")


def _methods(driver: TelegramDriver, name: str) -> list[ft.SentCall]:
    return driver.fake.calls(name)


def test_press_edits_the_message_it_belongs_to(driver: TelegramDriver) -> None:
    chat = driver.private
    driver.say(chat, "/tim san bay chu lai")
    [listing] = driver.expect(chat)
    button = next(b for b in listing.buttons if "5.3" in b["text"])
    if driver.platform != "telegram":  # Zalo: the numbered choice, answered in a new message
        driver.press(chat, button)
        assert "Quảng Nam" in driver.expect_text(chat)
        return
    shown = driver.fake.message_with_button(str(button["callback_data"]))
    assert shown is not None
    driver.press(chat, button)
    [answer] = driver.expect(chat)
    assert answer.method == "editMessageText"
    assert answer.params["message_id"] == shown["message_id"]
    assert "5.3" in answer.text and "Quảng Nam" in answer.text
    now = driver.fake.bot_message(chat["id"], shown["message_id"])
    assert now is not None and now["text"] == answer.text
    old = {b["callback_data"] for b in listing.buttons}
    kept = (now.get("reply_markup") or {}).get("inline_keyboard", [])
    assert not old & {b.get("callback_data") for row in kept for b in row}  # no live old keys
    time.sleep(0.3)
    assert len(driver.sent_to(chat)) == 1  # the listing only: no new message
    [ack] = _methods(driver, "answerCallbackQuery")
    assert not ack.params.get("text")
    assert driver.fake.errors == []


def test_foreign_press_is_answered_over_the_chat(driver: TelegramDriver) -> None:
    _telegram_only(driver)
    group = driver.group
    driver.say(group, "/tim san bay chu lai")
    [listing] = driver.expect(group)
    driver.press(group, listing.buttons[0], sender=driver.other_user)
    notice = driver.expect_notice()
    assert "dành cho người đã hỏi" in notice.text
    assert notice.params.get("show_alert") is True
    time.sleep(0.3)
    assert len(driver.sent_to(group)) == 1  # nothing posted in the group
    assert _methods(driver, "editMessageText") == []
    assert _methods(driver, "editMessageReplyMarkup") == []  # the asker's keyboard stays
    # The asker still can.
    driver.press(group, listing.buttons[0])
    assert "2.4" in driver.expect_text(group)


def test_stale_press_is_answered_and_its_keyboard_removed(driver: TelegramDriver) -> None:
    _telegram_only(driver)
    chat = driver.private
    driver.say(chat, "/tim san bay chu lai")
    [listing] = driver.expect(chat)
    shown = driver.fake.message_with_button(str(listing.buttons[0]["callback_data"]))
    assert shown is not None
    with driver.database.unit_of_work() as session:  # the list is long gone (purged)
        session.execute(delete(PendingChoice))
    driver.press(chat, listing.buttons[0])
    notice = driver.expect_notice()
    assert "không còn hiệu lực" in notice.text and notice.params.get("show_alert") is True
    [removed] = driver.fake.wait_for_method("editMessageReplyMarkup")
    assert removed.params["message_id"] == shown["message_id"]
    now = driver.fake.bot_message(chat["id"], shown["message_id"])
    assert now is not None and "reply_markup" not in now and now["text"] == shown["text"]
    time.sleep(0.3)
    assert len(driver.sent_to(chat)) == 1
    assert driver.fake.errors == []


def test_reply_lands_in_its_topic(driver: TelegramDriver) -> None:
    _telegram_only(driver)
    forum = ft.forum_chat()
    driver.fake.push_message(forum, "/tim so y te", thread_id=77)
    [answer] = driver.expect(forum)
    assert "Sở Y tế" in answer.text
    assert answer.params.get("message_thread_id") == 77
    driver.fake.push_message(forum, "/tim san bay chu lai", thread_id=77)
    [listing] = driver.expect(forum)
    assert listing.params.get("message_thread_id") == 77
    driver.press(forum, listing.buttons[0])
    [card] = driver.expect(forum)
    assert card.method == "editMessageText" and "2.4" in card.text
    driver.fake.push_message(forum, "/tim so y te")  # General: no thread
    [general] = driver.expect(forum)
    assert "message_thread_id" not in general.params or not general.params["message_thread_id"]
    assert driver.fake.errors == []


def test_report_file_is_announced_with_upload_document(driver: TelegramDriver) -> None:
    _telegram_only(driver)
    chat = driver.private  # Lan is a configured admin: she may download files
    driver.say(chat, "/baocao xlsx")
    [report] = driver.expect(chat)
    assert report.method == "sendDocument"
    actions = [c for c in _methods(driver, "sendChatAction") if c.chat_id == str(chat["id"])]
    assert [c.params["action"] for c in actions] == ["upload_document"]
    assert actions[0].time <= report.time


def test_edited_search_is_answered_again(driver: TelegramDriver) -> None:
    _telegram_only(driver)
    chat = driver.private
    first = driver.say(chat, "/tim so tai chinh")
    assert "Sở Tài chính" in driver.expect_text(chat)
    driver.fake.push_edit(first["message"], "/tim so y te")
    assert "Sở Y tế" in driver.expect_text(chat)


def test_a_guided_step_shows_the_choice_made(driver: TelegramDriver) -> None:
    cast = People(driver)
    cast.register_focal()
    chat, minh = cast.focal_chat, cast.focal
    driver.say(chat, "/capnhat 2.4", sender=minh)
    [statuses] = driver.expect(chat)
    cast.press(chat, minh, statuses, "Đang thực hiện")
    [progress] = driver.expect(chat)
    assert "Tiến độ" in progress.text
    if driver.platform == "telegram":
        assert progress.method == "editMessageText"
        assert progress.text.startswith("✓ Đã chọn: Đang thực hiện\n")
        assert {b["text"] for b in progress.buttons} >= {"75%"}  # the next step's buttons


def test_edited_status_update_is_not_recorded_twice(driver: TelegramDriver) -> None:
    _telegram_only(driver)
    cast = People(driver)
    cast.register_focal()
    chat, minh = cast.focal_chat, cast.focal
    line = driver.say(chat, "/capnhat 2.4 dang thuc hien 60% ghi chú", sender=minh)
    assert "Đã ghi nhận cập nhật" in driver.expect_text(chat)
    driver.fake.push_edit(line["message"], "/capnhat 2.4 dang thuc hien 70% ghi chú")
    assert "không được thực hiện lại" in driver.expect_text(chat)
    with driver.database.session() as session:
        assert session.scalar(select(func.count()).select_from(StatusUpdate)) == 1
