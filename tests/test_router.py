"""Router: command parsing, choices (digits and buttons), groups, failures."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func, select

from bot import commands
from bot.router import apology_incident
from core.markup import plain
from core.model import ChatEvent, ChatEventKind, ChatKind, Reply, parse_command
from data.store.models import ChatRecord, PendingChoice

if TYPE_CHECKING:
    from tests.bot_harness import Bot

pytest_plugins = ("tests.bot_harness",)


def _number_of(listing: str, code: str) -> str:
    """The option number next to a task code in a rendered numbered list."""
    match = re.search(rf"^(\d+)\. {re.escape(code)} —", listing, re.MULTILINE)
    assert match, listing
    return match.group(1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/tim san bay", ("tim", "san bay", None)),
        ("/Tìm@daumoi_bot  san bay ", ("tìm", "san bay", "daumoi_bot")),
        ("/NHIEMVU 2.4", ("nhiemvu", "2.4", None)),
        ("  /donvi\nSở Y tế", ("donvi", "Sở Y tế", None)),
        ("/", None),  # no name: plain text, on every platform
        ("san bay", None),
    ],
)
def test_parse_command(text: str, expected: tuple[str, str, str | None] | None) -> None:
    assert parse_command(text) == expected


def test_command_with_diacritics_and_bot_name(bot: Bot) -> None:
    assert "Tăng cường hợp tác để khai thác hiệu quả sân bay Chu Lai" in bot.say(
        "/NhiệmVụ@daumoi_bot 2.4"
    )


def test_adapter_supplied_command_is_used(bot: Bot) -> None:
    incoming = replace(bot.incoming("ignored"), command="task", args="2.4")
    [reply] = bot.router.handle(incoming)
    assert plain(reply.text).startswith("Nhiệm vụ 2.4")


def test_english_alias(bot: Bot) -> None:
    assert bot.say("/search san bay chu lai") == bot.say("/tim san bay chu lai")


def test_unknown_command_suggests_close_ones(bot: Bot) -> None:
    answer = bot.say("/timm san bay")
    assert "Không có lệnh /timm" in answer
    assert "/tim" in answer and "/trogiup" in answer


def test_plain_text_in_private_chat_searches(bot: Bot) -> None:
    assert "5.3" in bot.say("san bay chu lai")


def test_numbered_choice_answered_by_digit(bot: Bot) -> None:
    listing = bot.say("/tim san bay chu lai")
    assert "Trả lời bằng số để chọn." in listing
    card = bot.say(_number_of(listing, "5.3"))
    assert card.startswith("Nhiệm vụ 5.3")
    # The card is the list shown last now: its "1. Xem thêm" opens the task's details.
    assert "1. Xem thêm" in card
    assert "Giải pháp cụ thể" in bot.say("1")


def test_digit_out_of_range_and_expired(bot: Bot) -> None:
    bot.say("/tim san bay chu lai")
    assert "từ 1 đến 2" in bot.say("7")
    bot.clock.advance(minutes=31)
    assert "hết hạn" in bot.say("1")


def test_digit_without_a_list_gets_a_hint(bot: Bot) -> None:
    assert "không ứng với danh sách" in bot.say("7")
    assert "/linhvuc 7" in bot.say("7")


def test_digits_belong_to_the_user_who_asked(bot: Bot) -> None:
    bot.say("/tim san bay chu lai", user="alice")
    assert not bot.say("1", user="bob").startswith("Nhiệm vụ")


def test_button_tokens_are_short_and_open_the_card(bot: Bot) -> None:
    [reply] = bot.replies("/tim san bay chu lai", platform="telegram")
    assert [c.action for c in reply.choices] == ["/nhiemvu 2.4", "/nhiemvu 5.3"]
    for choice in reply.choices:
        assert choice.token.isascii() and 0 < len(choice.token) <= 16
    pressed = bot.say("", platform="telegram", token=reply.choices[1].token)
    assert pressed.startswith("Nhiệm vụ 5.3")


def test_button_token_reused_by_another_user_is_refused(bot: Bot) -> None:
    [reply] = bot.replies("/tim san bay chu lai", platform="telegram", group=True, user="alice")
    token = reply.choices[0].token
    refused = bot.say("", platform="telegram", group=True, user="bob", token=token)
    assert "dành cho người đã hỏi" in refused
    assert "Nhiệm vụ 2.4" not in refused
    assert bot.say("", platform="telegram", group=True, user="alice", token=token).startswith(
        "Nhiệm vụ 2.4"
    )


def test_unknown_and_expired_tokens(bot: Bot) -> None:
    assert "không còn hiệu lực" in bot.say("", platform="telegram", token="nope.1")
    [reply] = bot.replies("/tim san bay chu lai", platform="telegram")
    bot.clock.advance(minutes=30, seconds=1)
    assert "hết hạn" in bot.say("", platform="telegram", token=reply.choices[0].token)


def test_group_chatter_is_ignored(bot: Bot) -> None:
    assert bot.replies("chào cả nhà, họp lúc 3 giờ nhé", group=True, addressed=False) == []
    assert bot.replies("/khongco", group=True, addressed=False) == []
    assert bot.replies("1", group=True, addressed=False) == []


def test_group_commands_and_addressed_text_are_answered(bot: Bot) -> None:
    assert bot.say("/nhiemvu 2.4", group=True, addressed=False).startswith("Nhiệm vụ 2.4")
    assert "Không có lệnh" in bot.say("/khongco", group=True, addressed=True)
    assert "5.3" in bot.say("@daumoi_bot san bay chu lai", group=True, addressed=True)
    assert "/trogiup" in bot.say("@daumoi_bot", group=True, addressed=True)


def test_group_numbered_choice_when_addressed(bot: Bot) -> None:
    listing = bot.say("/tim san bay chu lai", group=True, platform="zalo")
    number = _number_of(listing, "2.4")
    assert bot.replies(number, group=True, addressed=False, platform="zalo") == []
    assert bot.say(number, group=True, platform="zalo").startswith("Nhiệm vụ 2.4")


def _count(bot: Bot, model: Any) -> int:
    with bot.router.database.unit_of_work() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_handler_exception_rolls_back_and_apologises(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(ctx: Any, msg: Any) -> list[Reply]:
        ctx.session.add(ChatRecord(platform="console", chat_id="written-then-lost"))
        ctx.session.flush()
        raise RuntimeError("boom")

    real_find = commands.find

    def find(name: str) -> commands.Command | None:
        found = real_find(name)
        return replace(found, handler=explode) if found and found.name == "nhiemvu" else found

    monkeypatch.setattr(commands, "find", find)
    before = _count(bot, ChatRecord)
    incident = apology_incident(bot.say("/nhiemvu 2.4"))
    assert incident is not None
    assert _count(bot, ChatRecord) == before
    assert "boom" in caplog.text and f"incident {incident}" in caplog.text


@pytest.mark.parametrize("platform", ["console", "telegram", "zalo"])
@pytest.mark.parametrize("text", ["/nhacviec@daumoi_bot", "/nhiemvu 2.4", "@daumoi_bot so y te"])
def test_internal_error_in_a_group_is_logged_not_posted(
    bot: Bot,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    platform: str,
    text: str,
) -> None:
    def explode(*args: Any, **kwargs: Any) -> list[Reply]:
        raise RuntimeError("boom in group")

    monkeypatch.setattr(bot.router, "_dispatch", explode)
    assert bot.replies(text, group=True, platform=platform, addressed=True) == []
    [record] = [r for r in caplog.records if r.exc_info]
    assert re.match(r"incident [0-9a-f]{6}: ", record.getMessage())
    assert "boom in group" in caplog.text  # the traceback stays in the log


def test_private_apology_names_the_logged_incident(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(*args: Any, **kwargs: Any) -> list[Reply]:
        raise RuntimeError("boom in private")

    monkeypatch.setattr(bot.router, "_dispatch", explode)
    first, second = bot.say("/nhiemvu 2.4"), bot.say("/nhiemvu 2.4")
    ids = [apology_incident(first), apology_incident(second)]
    assert None not in ids and ids[0] != ids[1]
    assert "mã sự cố: " in first
    for incident in ids:
        assert f"incident {incident}:" in caplog.text


def test_failure_while_offering_choices_stores_nothing(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot import choices

    def broken_store(*args: Any, **kwargs: Any) -> list[str]:
        raise RuntimeError("db full")

    monkeypatch.setattr(choices, "store", broken_store)
    assert apology_incident(bot.say("/tim san bay chu lai", platform="telegram"))
    assert _count(bot, PendingChoice) == 0


def test_chat_events_reach_the_group_handlers(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.model import Chat
    from handlers import groups

    added = ChatEvent(
        "telegram", Chat("g1", ChatKind.GROUP, "Nhóm Sở Y tế"), ChatEventKind.BOT_ADDED
    )
    [welcome] = bot.router.handle_event(added)
    assert "/lienket" in welcome.text
    assert _count(bot, ChatRecord) == 1

    def broken(ctx: Any, event: Any) -> list[Reply]:
        raise RuntimeError("boom")

    monkeypatch.setattr(groups, "on_chat_event", broken)
    assert bot.router.handle_event(added) == []


def test_link_commands_are_routed(bot: Bot) -> None:
    from handlers import groups

    assert "/lienket" in bot.say("/link so y te")
    # u1 is not registered: the link handlers answer, and refuse (tests/test_link_access.py).
    assert bot.say("/lienket so y te", group=True, platform="telegram") == groups.LINK_WHO
    assert "chưa liên kết" in bot.say("/huylienket", group=True, platform="telegram")


def test_concurrent_messages_are_each_answered_once(bot: Bot) -> None:
    import threading

    from core.model import Chat, Incoming, User
    from data.store.models import ProcessedUpdate

    texts = ["/tim san bay chu lai", "/tim so y te", "/nhiemvu 2.4", "/donvi skhdt"]
    answers: list[str] = []

    def send(worker: int) -> None:
        for n in range(8):
            incoming = Incoming(
                "telegram",
                Chat(f"c{worker}"),
                User(f"u{worker}"),
                texts[n % len(texts)],
                update_id=f"{worker}-{n}",
            )
            answers.extend(reply.text for reply in bot.router.handle(incoming))

    threads = [threading.Thread(target=send, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(answers) == 32 and not any(map(apology_incident, answers))
    assert _count(bot, ProcessedUpdate) == 32
    assert _count(bot, PendingChoice) == 32  # every answer offers choices ("Xem thêm" on cards)
