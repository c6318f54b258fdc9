"""Handlers through the router: greeting, help, search, task, agency and sector cards."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from bot import commands
from core.markup import plain
from data.importing.importer import SEED_FILE, import_text
from handlers.basic import Audience, Where

if TYPE_CHECKING:
    from tests.bot_harness import Bot

pytest_plugins = ("tests.bot_harness",)


def test_start_says_what_the_bot_does(bot: Bot) -> None:
    answer = bot.say("/start")
    assert "Xin chào" in answer and "1731/QĐ-UBND" in answer
    assert "/tim san bay chu lai" in answer and "/trogiup" in answer
    assert bot.say("/batdau") == answer


def test_help_lists_what_a_stranger_may_do_with_aliases_and_examples(bot: Bot) -> None:
    answer = bot.say("/trogiup")
    for command in commands.COMMANDS:
        if command.audience is Audience.EVERYONE and command.name not in ("start", "trogiup"):
            assert f"/{command.name}" in answer
            for alias in command.aliases:
                assert f"/{alias}" in answer
            assert command.description in answer
        if command.audience is not Audience.EVERYONE:
            assert f"/{command.name} " not in answer
    assert "Ví dụ: /tim san bay chu lai" in answer
    assert bot.say("/help") == answer


def test_menus_follow_the_table() -> None:
    group, private, admin = commands.menus(admin_chats=["42", "42"])
    assert (group.scope, private.scope, admin.scope) == (
        "all_group_chats",
        "all_private_chats",
        "chat",
    )
    assert admin.chat_id == "42"
    admin_only = {c.name for c in commands.COMMANDS if c.audience is Audience.ADMIN}
    private_only = {c.name for c in commands.COMMANDS if c.where is Where.PRIVATE}
    group_only = {c.name for c in commands.COMMANDS if c.where is Where.GROUP}
    assert not admin_only & {name for name, _ in group.commands + private.commands}
    assert not private_only & {name for name, _ in group.commands}
    assert not group_only & {name for name, _ in private.commands + admin.commands}
    assert {name for name, _ in admin.commands} == {
        c.name for c in commands.COMMANDS if c.where is not Where.GROUP
    }
    assert all(description for _, description in group.commands + private.commands)
    assert commands.find("TÌM") is commands.find("search") is not None


def test_search_lists_both_airport_tasks(bot: Bot) -> None:
    answer = bot.say("/tim san bay chu lai")
    assert re.search(r"^\d\. 2\.4 — .*Chu Lai", answer, re.MULTILINE)
    assert re.search(r"^\d\. 5\.3 — .*Chu Lai", answer, re.MULTILINE)
    assert "Chủ trì: Sở Giao thông vận tải — nay là Sở Xây dựng" in answer


def test_search_single_task_opens_the_card(bot: Bot) -> None:
    assert bot.say("/tim 6.1").startswith("Nhiệm vụ 6.1")


def test_search_agency_abbreviation_opens_the_agency(bot: Bot) -> None:
    assert bot.say("/tim skhdt").startswith("Sở Kế hoạch và Đầu tư — nay là Sở Tài chính")


def test_search_nothing_found_gives_tips(bot: Bot) -> None:
    answer = bot.say("/tim zzqx vvkw")
    assert "Không tìm thấy" in answer
    assert "mã nhiệm vụ" in answer and "viết tắt" in answer and "không dấu" in answer


def test_task_card(bot: Bot) -> None:
    card = bot.say("/nhiemvu 2.4")
    assert card.startswith("Nhiệm vụ 2.4 · Lĩnh vực 2: Dịch vụ du lịch")
    assert "Tăng cường hợp tác để khai thác hiệu quả sân bay Chu Lai" in card
    assert "Chủ trì: Sở Giao thông vận tải — nay là Sở Xây dựng" in card
    assert "• Sở Văn hóa Thể thao và Du lịch" in card
    assert "trước ngày 15/12 hằng năm" in card
    details = bot.say("/nhiemvu 2.4 xemthem")  # the measures are one tap ("Xem thêm") away
    assert "Giải pháp cụ thể" in details and "citytour" in details


@pytest.mark.parametrize("args", ["nv 2.4", "nhiệm vụ 2,4", "NV2.4", "02.4"])
def test_task_code_forms(bot: Bot, args: str) -> None:
    assert bot.say(f"/nhiemvu {args}").startswith("Nhiệm vụ 2.4")


def test_unknown_task_code_lists_the_valid_range(bot: Bot) -> None:
    answer = bot.say("/nhiemvu 99.9")
    assert "Không có nhiệm vụ mang mã 99.9" in answer
    assert "từ 1.1 đến 9.2" in answer
    assert "5. Dịch vụ logistic và vận tải: 5.1–5.7" in answer


def test_task_by_words_searches_tasks(bot: Bot) -> None:
    answer = bot.say("/nhiemvu san bay chu lai")
    assert "2.4" in answer and "5.3" in answer


def test_agency_by_abbreviation_shows_successor_and_tasks(bot: Bot) -> None:
    card = bot.say("/donvi skhdt")
    assert card.startswith("Sở Kế hoạch và Đầu tư — nay là Sở Tài chính")
    led = card.split("Chủ trì (1):", 1)[1].split("Phối hợp", 1)[0]
    assert "9.1 —" in led
    assert "Viết tắt:" in card and "SKHĐT" in card
    assert "“Các sở, ban ngành”" in card


def test_successor_card_includes_absorbed_tasks(bot: Bot) -> None:
    card = bot.say("/donvi so tai chinh")
    assert card.startswith("Sở Tài chính")
    assert "6.1 —" in card
    inherited = card.split("Tiếp nhận từ Sở Kế hoạch và Đầu tư:", 1)[1]
    assert "9.1" in inherited


def test_agency_exact_name_from_a_choice(bot: Bot) -> None:
    assert bot.say("/donvi Sở Y tế").startswith("Sở Y tế")


def test_agency_not_found(bot: Bot) -> None:
    assert "Không tìm thấy đơn vị" in bot.say("/donvi xyzzy qwerty")


def test_sectors_overview(bot: Bot) -> None:
    answer = bot.say("/linhvuc")
    assert "9 lĩnh vực dịch vụ, 44 nhiệm vụ" in answer
    assert "Dịch vụ du lịch — 7 nhiệm vụ" in answer
    assert "Dịch vụ hỗ trợ kinh doanh — 2 nhiệm vụ" in answer
    # The numbered options line up with the sector numbers, so a digit opens that sector.
    assert bot.say("5").startswith("Lĩnh vực 5")


def test_sector_tasks(bot: Bot) -> None:
    answer = bot.say("/linhvuc 5")
    assert answer.startswith("Lĩnh vực 5: Dịch vụ logistic và vận tải (7 nhiệm vụ)")
    for code in ("5.1", "5.4", "5.7"):
        assert f"{code} —" in answer
    assert bot.say("/linhvuc du lich").startswith("Lĩnh vực 2")
    assert "Không có lĩnh vực" in bot.say("/linhvuc 12")


@pytest.mark.parametrize(
    ("command", "example"),
    [("/tim", "/tim san bay chu lai"), ("/nhiemvu", "/nhiemvu 2.4"), ("/donvi", "/donvi ")],
)
def test_empty_arguments_ask_with_an_example(bot: Bot, command: str, example: str) -> None:
    answer = bot.say(command)
    assert "?" in answer and example in answer


def test_telegram_gets_buttons_and_a_text_list(bot: Bot) -> None:
    [reply] = bot.replies("/linhvuc 2", platform="telegram")
    assert "2.4 — " in plain(reply.text)
    assert [c.action for c in reply.choices][:2] == ["/nhiemvu 2.1", "/nhiemvu 2.2"]
    assert all(len(c.label) <= 32 for c in reply.choices)


def test_several_programmes_name_their_decision(bot: Bot) -> None:
    second = SEED_FILE.read_text(encoding="utf-8").replace("1731/QĐ-UBND", "999/QĐ-UBND")
    with bot.router.database.unit_of_work() as session:
        import_text(session, second, "qd_999.txt")
    answer = bot.say("/nhiemvu 2.4")
    assert "có trong 2 quyết định" in answer
    assert "1731/QĐ-UBND" in answer and "999/QĐ-UBND" in answer
    card = bot.say("/nhiemvu 2.4 999/QĐ-UBND")
    assert card.startswith("Nhiệm vụ 2.4 (Quyết định 999/QĐ-UBND)")
    assert "Không có quyết định" in bot.say("/nhiemvu 2.4 5/QĐ-UBND")
    assert "(1731/QĐ-UBND)" in bot.say("/donvi skhdt")
