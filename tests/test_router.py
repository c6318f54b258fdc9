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


def _press(bot: Bot, token: str, label: str | None = "nút", **options: Any) -> list[Reply]:
    """A button press; label: the pressed button as the message shows it (None: gone)."""
    press = bot.incoming("", platform="telegram", token=token, **options)
    return bot.router.handle(replace(press, choice_label=label))


def test_a_press_answers_by_replacing_the_pressed_message(bot: Bot) -> None:
    [listing] = bot.replies("/tim san bay chu lai", platform="telegram")
    [card] = _press(bot, listing.choices[1].token, "5.3 — Tăng cường")
    assert card.edit and card.notice is None and plain(card.text).startswith("Nhiệm vụ 5.3")
    # A lookup shows what was picked by itself: no "Đã chọn" line on top.
    # A button the message no longer shows (an old view of it): the answer comes below.
    [below] = _press(bot, listing.choices[1].token, None)
    assert not below.edit and plain(below.text).startswith("Nhiệm vụ 5.3")


def test_a_pressed_step_answer_shows_the_choice_made(bot: Bot) -> None:
    from core.settings import Settings

    bot.router.settings = Settings(admins=("telegram:u1",))  # an admin may update any task
    [listing] = bot.replies("/capnhat 2.4", platform="telegram")
    step = next(c for c in listing.choices if c.label == "Đang thực hiện")
    [asked, *_] = _press(bot, step.token, "Đang thực hiện")
    assert asked.edit and asked.text.startswith("✓ Đã chọn: Đang thực hiện\n\n")


def test_foreign_and_stale_presses_are_notices(bot: Bot) -> None:
    from core.model import Notice

    [listing] = bot.replies("/tim san bay chu lai", platform="telegram", group=True, user="a")
    token = listing.choices[0].token
    foreign = _press(bot, token, group=True, user="b")
    assert [(r.notice, r.edit) for r in foreign] == [(Notice.ALERT, False)]  # keyboard stays
    stale = _press(bot, "nope.1")
    assert [(r.notice, r.edit, r.text) for r in stale][1] == (None, True, "")  # keyboard goes
    assert stale[0].notice is Notice.ALERT and "không còn hiệu lực" in stale[0].text
    assert [r.edit for r in _press(bot, "nope.1", None)] == [False]  # not its keyboard: kept
    # A typed number that picks nothing is still said in the chat (Zalo, console).
    [typed] = bot.router.handle(bot.incoming("7"))
    assert typed.notice is None and not typed.edit


def test_edited_messages_repeat_lookups_only(bot: Bot) -> None:
    def edited(text: str, **options: Any) -> list[Reply]:
        return bot.router.handle(replace(bot.incoming(text, **options), edited=True))

    [answer] = edited("/tim so y te")
    assert "Sở Y tế" in answer.text
    [answer] = edited("so y te")  # plain text in a private chat: a search
    assert "Sở Y tế" in answer.text
    bot.say("/tim san bay chu lai")
    assert edited("1") == []  # picking from a list is not repeated
    [note] = edited("/capnhat 2.4 hoan thanh Xong")
    assert "không được thực hiện lại" in note.text
    assert edited("/capnhat 2.4 hoan thanh Xong", group=True) == []  # groups: silence
