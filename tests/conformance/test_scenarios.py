"""Scripted conversations every adapter must carry end to end, through its real library."""

from __future__ import annotations

import time

import pytest

from core.render import split_text
from tests.conformance.conftest import LONG_COMMAND, LONG_LINES, TelegramDriver, long_text

# PTB itself warns when it builds a RetryAfter (int retry_after is deprecated in v22.2).
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")


def _help_parts(limit: int) -> int:
    """How many messages /trogiup takes in a group, asked by Lan (an admin), where a message
    holds limit characters."""
    from bot.commands import help_entries
    from handlers import basic

    replies = basic.help_replies(help_entries(), basic.Audience.ADMIN, group=True)
    return sum(len(split_text(reply.text, limit)) for reply in replies)


def test_start_greets_in_vietnamese(driver: TelegramDriver) -> None:
    driver.say(driver.private, "/start")
    text = driver.expect_text(driver.private)
    assert text.startswith("Xin chào")
    assert "/tim" in text


def test_help_lists_commands(driver: TelegramDriver) -> None:
    driver.say(driver.private, "/trogiup")
    text = driver.expect_text(driver.private)
    for command in ("/tim", "/nhiemvu", "/donvi", "/lienket"):
        assert command in text


def test_command_menu_is_registered(driver: TelegramDriver) -> None:
    if not driver.capability.command_menu:
        pytest.skip(f"{driver.library} has no command menu")
    calls = driver.fake.wait_for_method("setMyCommands")
    commands = {c["command"]: c["description"] for c in calls[0].params["commands"]}
    assert {"start", "tim", "nhiemvu", "donvi", "lienket", "huylienket"} <= set(commands)
    assert commands["tim"].startswith("Tìm")


def test_search_offers_both_chu_lai_tasks_as_buttons(driver: TelegramDriver) -> None:
    driver.say(driver.private, "/tim san bay chu lai")
    [message] = driver.expect(driver.private)
    assert "2.4" in message.text and "5.3" in message.text
    labels = [button["text"] for button in message.buttons]
    assert any("2.4" in label for label in labels) and any("5.3" in label for label in labels)
    for button in message.buttons:
        assert 1 <= len(button["callback_data"].encode()) <= 64


def test_task_card(driver: TelegramDriver) -> None:
    driver.say(driver.private, "/nhiemvu 2.4")
    text = driver.expect_text(driver.private)
    assert "2.4" in text
    assert "Chu Lai" in text
    assert "Sở Xây dựng" in text  # the 2021 lead (Sở GTVT) resolved to its successor


def test_agency_card(driver: TelegramDriver) -> None:
    driver.say(driver.private, "/donvi so y te")
    text = driver.expect_text(driver.private)
    assert "Sở Y tế" in text
    assert "3.1" in text


def test_choice_made_with_a_button(driver: TelegramDriver) -> None:
    driver.say(driver.private, "/tim san bay chu lai")
    [listing] = driver.expect(driver.private)
    button = next(b for b in listing.buttons if "5.3" in b["text"])
    driver.press(driver.private, button)
    text = driver.expect_text(driver.private)
    assert text.startswith("5.3") or "Nhiệm vụ 5.3" in text or "5.3 —" in text
    assert "Quảng Nam" in text
    if driver.capability.buttons:
        assert driver.fake.wait_for_method("answerCallbackQuery")


def test_long_reply_is_split_on_line_boundaries(driver: TelegramDriver) -> None:
    limit = driver.capability.max_text_len
    expected = len(split_text(long_text(), limit))
    assert expected >= 3
    driver.say(driver.private, f"/{LONG_COMMAND}")
    first = driver.expect(driver.private, expected)
    time.sleep(0.3)
    parts = driver.sent_to(driver.private)
    assert len(parts) == len(first) == expected
    lines = [line for part in parts for line in part.text.split("\n")]
    assert len(lines) == LONG_LINES
    assert all(len(part.text) <= limit for part in parts)
    assert lines[0].startswith("Dòng 001") and lines[-1].startswith(f"Dòng {LONG_LINES:03d}")


def test_group_answers_only_commands_addressed_to_it(driver: TelegramDriver) -> None:
    group, bot = driver.group, driver.bot_username
    driver.say(group, "Chào cả nhà, chiều nay họp nhé")
    driver.say(group, "/tim@some_other_bot so y te")
    driver.say(group, f"/tim@{bot} so y te")
    assert "Sở Y tế" in driver.expect_text(group)
    driver.say(group, "/trogiup")  # plain /cmd: treated as ours (we cannot see other bots)
    help_parts = driver.expect(group, _help_parts(driver.capability.max_text_len))
    assert "/tim" in help_parts[0].text
    driver.say(group, f"@{bot} so y te")
    assert "Sở Y tế" in driver.expect_text(group)
    driver.say(group, "nhiem vu 2.4", reply_to_bot=True)
    assert "2.4" in driver.expect_text(group)
    time.sleep(0.3)
    # The chatter and the other bot's command: silence.
    assert len(driver.sent_to(group)) == 3 + len(help_parts)


def test_group_typo_command_does_not_spam_errors_for_other_bots(driver: TelegramDriver) -> None:
    driver.say(driver.group, "/stats@some_other_bot")
    driver.say(driver.group, f"/start@{driver.bot_username}")
    assert driver.expect_text(driver.group).startswith("Xin chào")
    time.sleep(0.3)
    assert len(driver.sent_to(driver.group)) == 1


def test_linking_a_group_to_an_agency(driver: TelegramDriver) -> None:
    group, bot = driver.group, driver.bot_username
    driver.say(group, f"/lienket@{bot} so y te")
    text = driver.expect_text(group)
    assert "Đã liên kết" in text and "Sở Y tế" in text
    assert driver.linked_agency(group["id"]) == "Sở Y tế"
    driver.say(group, f"/huylienket@{bot}")
    assert "Đã hủy liên kết" in driver.expect_text(group)
    assert driver.linked_agency(group["id"]) is None


def test_only_admins_and_group_admins_change_links(driver: TelegramDriver) -> None:
    """Minh is not registered: he may not link, relink or unlink; Lan may while she is a
    group admin (where the platform can tell), and the adapter asks only for link commands."""
    group, minh = driver.group, driver.other_user
    driver.say(group, "/lienket so tai chinh", sender=minh)
    assert driver.expect_text(group).startswith("Xin lỗi, chỉ quản trị hoặc cán bộ đầu mối")
    assert driver.linked_agency(group["id"]) is None
    driver.say(group, "/lienket so y te")
    assert "Đã liên kết" in driver.expect_text(group)
    driver.say(group, "/huylienket", sender=minh)
    assert driver.expect_text(group).startswith("Xin lỗi")
    driver.say(group, "/lienket so tai chinh", sender=minh)
    assert driver.expect_text(group).startswith("Xin lỗi")
    assert driver.linked_agency(group["id"]) == "Sở Y tế"
    if not driver.capability.chat_admins:
        return
    driver.set_member_status(group, driver.user, "member")
    driver.say(group, "/tim so y te")  # an ordinary command: no getChatMember
    assert "Sở Y tế" in driver.expect_text(group)
    driver.say(group, f"/huylienket@{driver.bot_username}")
    assert "chỉ quản trị viên của nhóm" in driver.expect_text(group)
    assert driver.linked_agency(group["id"]) == "Sở Y tế"
    lookups = driver.fake.member_lookups
    lan = (str(group["id"]), str(driver.user["id"]))
    assert lookups.count(lan) == 2  # the /lienket that worked and the refused /huylienket
    assert lookups.count((str(group["id"]), str(minh["id"]))) == 3  # his three tries


def test_linking_follows_agency_succession(driver: TelegramDriver) -> None:
    driver.say(driver.group, "/lienket so ke hoach va dau tu")
    text = driver.expect_text(driver.group)
    assert "nay là Sở Tài chính" in text
    assert driver.linked_agency(driver.group["id"]) == "Sở Tài chính"


def test_link_is_refused_in_private_chat(driver: TelegramDriver) -> None:
    driver.say(driver.private, "/lienket so y te")
    assert "nhóm" in driver.expect_text(driver.private)
    assert driver.chat_record(driver.private["id"]) is None


def test_bot_added_to_group_greets_and_records_it(driver: TelegramDriver) -> None:
    if not driver.capability.membership_events:
        pytest.skip(f"{driver.library} reports no membership changes")
    driver.fake.push_my_chat_member(driver.group, "member", old_status="left")
    assert "/lienket" in driver.expect_text(driver.group)
    record = driver.chat_record(driver.group["id"])
    assert record is not None and record.active


def test_bot_removed_marks_chat_inactive(driver: TelegramDriver) -> None:
    if not driver.capability.membership_events:
        pytest.skip(f"{driver.library} reports no membership changes")
    group = driver.group
    driver.say(group, "/lienket so y te")
    driver.expect(group)
    driver.fake.push_my_chat_member(group, "kicked")
    driver.wait_until(lambda: not _active(driver, group["id"]))
    assert driver.linked_agency(group["id"]) == "Sở Y tế"  # kept for history


def test_403_on_send_marks_chat_inactive(driver: TelegramDriver) -> None:
    group = driver.group
    driver.say(group, "/lienket so y te")
    driver.expect(group)
    driver.fake.fail_next("sendMessage", "403", chat_id=group["id"])
    driver.say(group, "/trogiup")
    driver.wait_until(lambda: not _active(driver, group["id"]))
    driver.say(driver.private, "/start")  # still serving
    driver.expect(driver.private)


def test_group_migration_moves_the_link(driver: TelegramDriver) -> None:
    if not driver.capability.migration:
        pytest.skip(f"{driver.library} groups never change id")
    group = driver.group
    new_id = -1_009_876_543_210
    driver.say(group, "/lienket so y te")
    driver.expect(group)
    driver.fake.push_migration(group, new_id)
    driver.wait_until(lambda: driver.linked_agency(new_id) == "Sở Y tế")
    assert driver.chat_record(group["id"]) is None


def test_send_answered_with_migration_resends_to_new_id(driver: TelegramDriver) -> None:
    if not driver.capability.migration:
        pytest.skip(f"{driver.library} groups never change id")
    group = driver.group
    new_id = -1_001_234_567_890
    driver.say(group, "/lienket so y te")
    driver.expect(group)
    driver.fake.fail_next("sendMessage", "migrate", chat_id=group["id"], new_chat_id=new_id)
    driver.say(group, "/trogiup")
    [message] = driver.expect({"id": new_id})
    assert "/tim" in message.text
    assert driver.linked_agency(new_id) == "Sở Y tế"


def test_recovers_after_429(driver: TelegramDriver) -> None:
    driver.fake.fail_next("sendMessage", "429", retry_after=1)
    started = time.monotonic()
    driver.say(driver.private, "/start")
    assert driver.expect_text(driver.private).startswith("Xin chào")
    assert time.monotonic() - started >= 1.0
    assert len(driver.fake.errors) == 1


def test_recovers_after_5xx_and_timeout(driver: TelegramDriver) -> None:
    driver.fake.fail_next("sendMessage", "500")
    driver.fake.fail_next("sendMessage", "502")
    driver.say(driver.private, "/start")
    assert driver.expect_text(driver.private).startswith("Xin chào")
    driver.fake.fail_next("sendMessage", "timeout", delay=2.0)
    driver.say(driver.private, "/trogiup")
    assert "/tim" in driver.expect_text(driver.private)


def test_polling_survives_get_updates_failures(driver: TelegramDriver) -> None:
    driver.say(driver.private, "/start")
    driver.expect(driver.private)
    driver.fake.fail_next("getUpdates", "500", times=2)
    driver.say(driver.private, "/trogiup")
    assert "/tim" in driver.expect_text(driver.private, timeout=15)
    assert driver.adapter is not None and driver.adapter.alive


def test_private_free_text_is_searched(driver: TelegramDriver) -> None:
    driver.say(driver.private, "so y te")
    assert "Sở Y tế" in driver.expect_text(driver.private)


def _active(driver: TelegramDriver, chat_id: int) -> bool:
    record = driver.chat_record(chat_id)
    return record is not None and record.active
