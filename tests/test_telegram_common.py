"""Pure Telegram translation: commands, addressing, chat events, keyboards, menu."""

from __future__ import annotations

from typing import Any

import pytest

from bot.bridge import Translated
from bot.platforms.telegram_common import (
    BotIdentity,
    command_menu,
    keyboard,
    mentions,
    strip_mention,
)
from bot.platforms.telegram_common import translate_update as translate
from core.limits import TELEGRAM
from core.model import ChatEventKind, ChatKind, Choice, Reply, parse_command
from core.render import render
from tests.telegram_updates import as_update

ME = BotIdentity(id="777", username="DauMoi_bot")
LAN = {"id": 1001, "is_bot": False, "first_name": "Lan", "last_name": "Nguyễn", "username": "lan"}
PRIVATE = {"id": 1001, "type": "private", "first_name": "Lan"}
GROUP = {"id": -4001, "type": "group", "title": "Nhóm Sở Y tế"}
SUPERGROUP = {"id": -1001234567890, "type": "supergroup", "title": "Nhóm mới"}
BOT = {"id": 777, "is_bot": True, "first_name": "Đầu mối", "username": "DauMoi_bot"}


def translate_update(data: dict[str, Any], me: BotIdentity) -> Translated:
    """Translate a Bot API JSON update as the libraries would hand it over."""
    return translate(as_update(data), me)


def prepare(reply: Reply) -> list[Reply]:
    """A reply rendered for Telegram."""
    return render(reply, TELEGRAM)


def message_update(chat: dict[str, Any], text: str, **extra: Any) -> dict[str, Any]:
    message = {"message_id": 5, "date": 0, "chat": chat, "from": LAN, "text": text, **extra}
    return {"update_id": 42, "message": message}


@pytest.mark.parametrize(
    ("text", "name", "args", "bot"),
    [
        ("/tim san bay chu lai", "tim", "san bay chu lai", None),
        ("/TIM@DauMoi_bot  so y te ", "tim", "so y te", "DauMoi_bot"),
        ("/start", "start", "", None),
        ("/lienket@DauMoi_bot\nSở Y tế", "lienket", "Sở Y tế", "DauMoi_bot"),
        ("/tìm sân bay", "tìm", "sân bay", None),
    ],
)
def test_parse_command(text: str, name: str, args: str, bot: str | None) -> None:
    parsed = parse_command(text)
    assert parsed is not None
    assert (parsed.name, parsed.args, parsed.bot) == (name, args, bot)


@pytest.mark.parametrize("text", ["so y te", "", "/", "a/tim", "// x"])
def test_parse_command_rejects_plain_text(text: str) -> None:
    assert parse_command(text) is None


def test_private_message_is_addressed_with_ids_as_strings() -> None:
    incoming = translate_update(message_update(PRIVATE, "so y te"), ME).incoming
    assert incoming is not None
    assert incoming.platform == "telegram"
    assert incoming.chat.id == "1001" and incoming.chat.kind is ChatKind.PRIVATE
    assert incoming.user.id == "1001"
    assert incoming.user.display_name == "Lan Nguyễn" and incoming.user.username == "lan"
    assert incoming.text == "so y te" and incoming.command is None and incoming.addressed
    assert incoming.message_id == "5" and incoming.update_id == "42"


@pytest.mark.parametrize(
    ("text", "command", "args"),
    [
        ("/tim@daumoi_BOT so y te", "tim", "so y te"),  # usernames are case-insensitive
        ("/tim so y te", "tim", "so y te"),  # plain /cmd in a group counts as ours
    ],
)
def test_group_commands_addressed_to_us(text: str, command: str, args: str) -> None:
    incoming = translate_update(message_update(GROUP, text), ME).incoming
    assert incoming is not None
    assert incoming.chat.kind is ChatKind.GROUP and incoming.chat.title == "Nhóm Sở Y tế"
    assert (incoming.command, incoming.args, incoming.addressed) == (command, args, True)


@pytest.mark.parametrize("text", ["/tim@other_bot so y te", "chào cả nhà", "email a@DauMoi_botx"])
def test_group_chatter_and_other_bots_are_ignored(text: str) -> None:
    translated = translate_update(message_update(GROUP, text), ME)
    assert translated.incoming is None and translated.ignored


def test_mention_addresses_the_bot_and_is_stripped() -> None:
    incoming = translate_update(message_update(GROUP, "@daumoi_bot  so y te"), ME).incoming
    assert incoming is not None and incoming.addressed and incoming.command is None
    assert incoming.text == "so y te"


def test_reply_to_the_bot_is_addressed() -> None:
    replied = {"message_id": 1, "date": 0, "chat": GROUP, "from": BOT, "text": "…"}
    update = message_update(GROUP, "2.4", reply_to_message=replied)
    incoming = translate_update(update, ME).incoming
    assert incoming is not None and incoming.addressed and incoming.text == "2.4"


def test_reply_to_someone_else_is_chatter() -> None:
    replied = {"message_id": 1, "date": 0, "chat": GROUP, "from": LAN, "text": "…"}
    assert (
        translate_update(message_update(GROUP, "ok", reply_to_message=replied), ME).incoming is None
    )


def test_caption_counts_as_text_and_other_bots_and_media_are_ignored() -> None:
    update = message_update(PRIVATE, "")
    del update["message"]["text"]
    update["message"]["caption"] = "/tim so y te"
    incoming = translate_update(update, ME).incoming
    assert incoming is not None and incoming.command == "tim"
    sticker = message_update(PRIVATE, "")
    del sticker["message"]["text"]
    assert translate_update(sticker, ME).incoming is None
    from_bot = message_update(PRIVATE, "hi")
    from_bot["message"]["from"] = {**LAN, "is_bot": True}
    assert translate_update(from_bot, ME).incoming is None


def test_edits_are_passed_on_marked_and_unknown_updates_are_ignored() -> None:
    edited = {"update_id": 1, "edited_message": message_update(PRIVATE, "/tim x")["message"]}
    incoming = translate_update(edited, ME).incoming
    assert incoming is not None and incoming.edited  # the router decides what is safe
    assert (incoming.command, incoming.args) == ("tim", "x")
    fresh = translate_update(message_update(PRIVATE, "x"), ME).incoming
    assert fresh is not None and not fresh.edited
    assert translate_update({"update_id": 2}, ME).ignored


def test_topic_messages_carry_their_thread() -> None:
    forum = {**SUPERGROUP, "is_forum": True}
    topic = message_update(forum, "/tim so y te")
    topic["message"] |= {"message_thread_id": 77, "is_topic_message": True}
    incoming = translate_update(topic, ME).incoming
    assert incoming is not None and incoming.chat.thread_id == "77"
    # A reply thread outside a forum is no topic: answers stay in the chat.
    reply = message_update(SUPERGROUP, "/tim so y te")
    reply["message"]["message_thread_id"] = 12
    incoming = translate_update(reply, ME).incoming
    assert incoming is not None and incoming.chat.thread_id is None
    query = {
        "id": "cb7",
        "from": LAN,
        "chat_instance": "1",
        "data": "a1b2c3.1",
        "message": {
            "message_id": 9,
            "date": 0,
            "chat": forum,
            "from": BOT,
            "text": "…",
            "message_thread_id": 77,
            "is_topic_message": True,
        },
    }
    pressed = translate_update({"update_id": 4, "callback_query": query}, ME).incoming
    assert pressed is not None and pressed.chat.thread_id == "77"


def test_callback_query_carries_token_and_id() -> None:
    query = {
        "id": "cb1",
        "from": LAN,
        "chat_instance": "1",
        "data": "a1b2c3.2",
        "message": {"message_id": 9, "date": 0, "chat": GROUP, "from": BOT, "text": "…"},
    }
    translated = translate_update({"update_id": 3, "callback_query": query}, ME)
    assert translated.callback_id == "cb1"
    incoming = translated.incoming
    assert incoming is not None
    assert incoming.choice_token == "a1b2c3.2" and incoming.addressed
    assert incoming.chat.id == "-4001" and incoming.user.id == "1001"
    assert incoming.message_id == "9"


def test_callback_carries_the_pressed_label() -> None:
    keyboard = {"inline_keyboard": [[{"text": "Hoàn thành", "callback_data": "a1b2c3.3"}]]}
    message = {"message_id": 9, "date": 0, "chat": PRIVATE, "text": "…", "reply_markup": keyboard}
    query = {"id": "cb3", "from": LAN, "chat_instance": "1", "data": "a1b2c3.3", "message": message}
    incoming = translate_update({"update_id": 3, "callback_query": query}, ME).incoming
    assert incoming is not None and incoming.choice_label == "Hoàn thành"
    del message["reply_markup"]
    incoming = translate_update({"update_id": 4, "callback_query": query}, ME).incoming
    assert incoming is not None and incoming.choice_label is None


def test_callback_without_data_is_only_answered() -> None:
    query = {"id": "cb2", "from": LAN, "chat_instance": "1"}
    translated = translate_update({"update_id": 3, "callback_query": query}, ME)
    assert translated.callback_id == "cb2" and translated.incoming is None


def membership(
    chat: dict[str, Any], old: str, new: str, user: dict[str, Any] = BOT
) -> dict[str, Any]:
    change = {
        "chat": chat,
        "from": LAN,
        "date": 0,
        "old_chat_member": {"user": user, "status": old},
        "new_chat_member": {"user": user, "status": new},
    }
    return {"update_id": 4, "my_chat_member": change}


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        ("member", "kicked", ChatEventKind.BOT_REMOVED),
        ("administrator", "left", ChatEventKind.BOT_REMOVED),
        ("left", "member", ChatEventKind.BOT_ADDED),
        ("kicked", "administrator", ChatEventKind.BOT_ADDED),
    ],
)
def test_my_chat_member_becomes_chat_events(old: str, new: str, kind: ChatEventKind) -> None:
    [event] = translate_update(membership(GROUP, old, new), ME).events
    assert event.kind is kind and event.chat.id == "-4001" and event.platform == "telegram"
    assert event.user is not None and event.user.id == "1001"


def test_promotion_and_other_members_are_not_events() -> None:
    assert translate_update(membership(GROUP, "member", "administrator"), ME).events == ()
    assert translate_update(membership(GROUP, "member", "left", user=LAN), ME).events == ()


def test_private_block_is_bot_removed() -> None:
    [event] = translate_update(membership(PRIVATE, "member", "kicked"), ME).events
    assert event.kind is ChatEventKind.BOT_REMOVED and event.chat.kind is ChatKind.PRIVATE


def test_migration_becomes_migrated_event_with_new_id() -> None:
    update = message_update(GROUP, "", migrate_to_chat_id=-1001234567890)
    del update["message"]["text"]
    [event] = translate_update(update, ME).events
    assert event.kind is ChatEventKind.MIGRATED
    assert (event.chat.id, event.new_chat_id) == ("-4001", "-1001234567890")
    other_side = message_update(SUPERGROUP, "", migrate_from_chat_id=-4001)
    del other_side["message"]["text"]
    translated = translate_update(other_side, ME)
    assert translated.events == () and translated.incoming is None


def test_mentions() -> None:
    assert mentions("hỏi @DAUMOI_BOT nhé", "DauMoi_bot")
    assert not mentions("hỏi @DauMoi_bot2", "DauMoi_bot")
    assert not mentions("a@DauMoi_bot", "DauMoi_bot")
    assert strip_mention("@DauMoi_bot so  y te", "DauMoi_bot") == "so y te"


def test_keyboard_uses_tokens_and_skips_untokened_choices() -> None:
    rows = keyboard(
        [
            Choice("Nhiệm vụ 2.4", "/nhiemvu 2.4", token="abc.1"),
            Choice("Không token", "/x"),
            Choice("Quá dài " * 20, "/y", token="abc.3"),
            Choice("Token quá dài", "/z", token="x" * 65),
        ]
    )
    assert rows is not None
    assert [data for row in rows for _, data in row] == ["abc.1", "abc.3"]
    assert all(len(label) <= 60 for row in rows for label, _ in row)
    assert keyboard([Choice("a", "/a")]) is None


def test_prepare_splits_long_text_and_keeps_choices_on_last_part() -> None:
    text = "\n".join(f"dòng {n}" + "x" * 90 for n in range(100))
    choice = Choice("A", "/a", token="t.1")
    parts = prepare(Reply(text, choices=(choice,)))
    assert len(parts) == 3
    assert all(len(part.text) <= 4096 for part in parts)
    assert "\n".join(part.text for part in parts) == text
    assert [part.choices for part in parts] == [(), (), (choice,)]


def test_command_menu_keeps_only_valid_commands() -> None:
    menu = command_menu([("tim", "Tìm"), ("Bad-Name", "x"), ("start", " "), ("a" * 33, "x")])
    assert menu == [("tim", "Tìm")]


def test_document_or_photo_without_caption_carries_file_ref() -> None:
    update = message_update(PRIVATE, "")
    del update["message"]["text"]
    update["message"]["document"] = {"file_id": "DOC1", "file_unique_id": "u"}
    incoming = translate_update(update, ME).incoming
    assert incoming is not None and incoming.file_ref == "DOC1" and incoming.text == ""
    photo = message_update(PRIVATE, "")
    del photo["message"]["text"]
    photo["message"]["caption"] = "ảnh hiện trường"
    photo["message"]["photo"] = [
        {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90},
        {"file_id": "large", "file_unique_id": "l", "width": 800, "height": 800},
    ]
    incoming = translate_update(photo, ME).incoming
    assert incoming is not None and incoming.file_ref == "large"
    assert incoming.text == "ảnh hiện trường"


RAW_UPDATES: list[dict[str, Any]] = [
    message_update(PRIVATE, "/tim san bay"),
    message_update(
        GROUP,
        "2.4",
        reply_to_message={"message_id": 1, "date": 0, "chat": GROUP, "from": BOT, "text": "…"},
    ),
    message_update(GROUP, "@DauMoi_bot so y te"),
    {
        "update_id": 43,
        "message": {
            "message_id": 6,
            "date": 0,
            "chat": PRIVATE,
            "from": LAN,
            "caption": "báo cáo",
            "document": {"file_id": "DOC9", "file_unique_id": "u9"},
        },
    },
    {
        "update_id": 44,
        "message": {"message_id": 7, "date": 0, "chat": GROUP, "migrate_to_chat_id": -100123},
    },
    {
        "update_id": 45,
        "callback_query": {
            "id": "cb1",
            "from": LAN,
            "chat_instance": "1",
            "data": "tok.1",
            "message": {"message_id": 9, "date": 0, "chat": SUPERGROUP, "from": BOT, "text": "…"},
        },
    },
    membership(GROUP, "member", "left"),
    membership(GROUP, "left", "member"),
]


def _strip_raw(translated: Any) -> Any:
    incoming = translated.incoming
    if incoming is not None:
        incoming = type(incoming)(**{**incoming.__dict__, "raw": None})
    return (incoming, translated.events, translated.callback_id)


@pytest.mark.parametrize("raw", RAW_UPDATES, ids=lambda u: next(k for k in u if k != "update_id"))
def test_library_objects_translate_like_the_raw_json(raw: dict[str, Any]) -> None:
    import telegram
    from aiogram.types import Update as AiogramUpdate

    expected = _strip_raw(translate_update(raw, ME))
    ptb_update = telegram.Update.de_json(raw, None)
    aiogram_update = AiogramUpdate.model_validate(raw)
    assert _strip_raw(translate(ptb_update, ME)) == expected
    assert _strip_raw(translate(aiogram_update, ME)) == expected
