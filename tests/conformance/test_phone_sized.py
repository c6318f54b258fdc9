"""Replies sized and formatted for a phone: Telegram HTML the Bot API accepts (hostile text
inside), task cards within one screen with "Xem thêm", /baocao within 15 lines."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from core.limits import LIMITS
from core.markup import plain
from core.model import Reply
from core.render import render, text_length
from data.store.models import Role
from tests.conformance.conftest import TelegramDriver
from tests.report_support import seed_reports
from tests.telegram_html import parse_html

if TYPE_CHECKING:
    from tests.status_harness import Desk

pytest_plugins = ("tests.status_harness",)
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")

CARD_MAX = 1000
REPORT_LINES = 15
HOSTILE = "<b>&amp; </code>\ue000x&"  # tags, an entity, a stray ampersand, a sentinel


def _visible(driver: TelegramDriver, sent: Any) -> str:
    """What the user sees: the server's parsed text (Telegram) or the text itself (Zalo)."""
    return str(sent.text)


def _no_rejections(driver: TelegramDriver) -> None:
    if driver.library == "zalo":
        texts = [call.text for call in driver.fake.sent]
        assert not any("\ue000" <= ch <= "\ue00f" for text in texts for ch in text)
        return
    refused = [call for call in driver.fake.errors if "entities" in str(call.params)]
    assert driver.fake.errors == [] and refused == []
    for call in driver.fake.calls("sendMessage"):
        assert call.params.get("parse_mode") == "HTML"
        assert "text_html" in call.params  # the server parsed it as HTML


def test_hostile_text_is_escaped(driver: TelegramDriver) -> None:
    driver.say(driver.private, f"/tim {HOSTILE}")
    text = _visible(driver, driver.expect(driver.private)[0])
    assert "<b>&amp; </code>x&" in text  # shown exactly as typed, the sentinel dropped
    driver.say(driver.private, "/donvi </b><i>&lt; so")
    assert "</b><i>&lt; so" in _visible(driver, driver.expect(driver.private)[0])
    note = "Kết quả <b>đậm</b> & </code> xong \ue001"
    driver.say(driver.private, f"/capnhat 2.4 đang thực hiện 50% {note}")
    assert "Đã ghi nhận" in _visible(driver, driver.expect(driver.private)[0])
    driver.say(driver.private, "/nhiemvu 2.4")
    card = driver.expect(driver.private)[0]
    assert "Kết quả <b>đậm</b> & </code> xong" in _visible(driver, card)
    if driver.library != "zalo":
        entities = card.params["entities"]
        assert {"type": "bold", "offset": 0, "length": len("Nhiệm vụ 2.4")} in entities
    _no_rejections(driver)


def test_task_card_fits_one_screen_and_has_more(driver: TelegramDriver) -> None:
    driver.say(driver.private, "/nhiemvu 2.6")
    [card] = driver.expect(driver.private)
    text = _visible(driver, card)
    assert text_length(text) <= CARD_MAX
    assert "Chủ trì: Sở Văn hóa Thể thao và Du lịch" in text and "Lý Sơn" not in text
    more = next(button for button in card.buttons if button["text"] == "Xem thêm")
    driver.press(driver.private, more)
    details = _visible(driver, driver.expect(driver.private)[0])
    assert "Giải pháp cụ thể (7):" in details and "Lý Sơn" in details
    _no_rejections(driver)


def test_report_fits_fifteen_lines_with_details_a_tap_away(driver: TelegramDriver) -> None:
    driver.say(driver.private, "/baocao")  # Lan administers
    [summary] = driver.expect(driver.private)
    text = _visible(driver, summary)
    shown = text.split("\n")
    if driver.library == "zalo":  # the numbered choices follow the summary
        shown = shown[: shown.index("1. Theo lĩnh vực")]
    assert len(shown) <= REPORT_LINES
    labels = [button["text"] for button in summary.buttons]
    assert labels[:3] == ["Theo lĩnh vực", "Theo đơn vị", "Vướng mắc"]
    driver.press(driver.private, summary.buttons[1])
    agencies = _visible(driver, driver.expect(driver.private)[0])
    assert "Đơn vị chưa báo cáo nhiệm vụ nào" in agencies
    driver.press(driver.private, summary.buttons[0])
    sectors = _visible(driver, driver.expect(driver.private)[0])
    assert "Theo lĩnh vực (hoàn thành/tổng số · quá hạn · vướng mắc):" in sectors
    _no_rejections(driver)


# -- every card of a conversation, as a stranger, a focal point and an admin sees it ----------


def _shown(reply: Reply, platform: str) -> list[str]:
    """The messages a reply becomes, as the user sees them (HTML parsed on Telegram)."""
    limits = LIMITS[platform]
    parts = [part.text for part in render(reply, limits)]
    if limits.markup == "html":
        return [parse_html(part)[0] for part in parts]
    assert all(part == plain(part) for part in parts)
    return parts


@pytest.fixture
def reporting_desk(desk: Desk) -> Desk:
    """The seeded router with the reports' mix of updates and a focal point of Sở Y tế."""
    with desk.database.unit_of_work() as session:
        seed_reports(session)
    for platform in ("telegram", "zalo"):
        desk.add_person("yte", Role.FOCAL, "Sở Y tế", platform=platform)
    return desk


def test_no_card_or_report_is_too_long(reporting_desk: Desk) -> None:
    desk = reporting_desk
    sizes = (3, 7, 7, 6, 4, 4, 4, 4, 5)  # tasks per sector: 44
    codes = [f"{sector}.{n}" for sector, count in enumerate(sizes, 1) for n in range(1, count + 1)]
    searches = ("/tim san bay chu lai", "/tim 2.6", "ai chu tri nhiem vu benh vien", "/tim du lich")
    users = {
        "telegram": ("stranger", "yte", "9001"),
        "zalo": ("stranger", "yte"),
        "console": ("admin",),
    }
    checked = 0
    for platform, people in users.items():
        for user in people:
            for code in codes:
                sent = desk.send(f"/nhiemvu {code}", user, platform=platform)
                for reply in sent.replies:
                    for shown in _shown(reply, platform):
                        assert text_length(shown) <= CARD_MAX, (platform, user, code, shown)
                        checked += 1
            for query in searches:
                for reply in desk.send(query, user, platform=platform).replies:
                    for shown in _shown(reply, platform):
                        if "Chủ trì:" in shown and "Báo cáo kết quả" in shown:  # a task card
                            assert text_length(shown) <= CARD_MAX, (platform, user, query)
            (report,) = desk.send("/baocao", user, platform=platform).replies
            (summary,) = _shown(Reply(report.text), platform)
            assert len(summary.split("\n")) <= REPORT_LINES, (platform, user, summary)
    assert checked >= 44 * 6


# -- one voice (issue 13, item 8) ---------------------------------------------------------------


def test_a_status_without_a_result_asks_for_it(desk: Desk) -> None:
    asked = desk.say("/capnhat 2.4 hoàn thành")
    assert "gõ nội dung kết quả thực hiện" in asked and "không được để trống" not in asked
    assert "Anh/chị kiểm tra lại" in desk.say("Đã mở đường bay Chu Lai – Đà Lạt")
    assert "Đã ghi nhận" in desk.say("gui")
    (update,) = desk.updates("2.4")
    assert (update.status, update.progress) == ("done", 100)


@pytest.mark.parametrize("words", ["xong", "xong rồi", "đã xong", "xong roi", "da xong"])
def test_xong_means_done(desk: Desk, words: str) -> None:
    assert "Đã ghi nhận" in desk.say(f"/capnhat 2.4 {words} Đã mở đường bay")
    assert desk.updates("2.4")[-1].status == "done"


def test_prompts_have_diacritics_and_one_voice(desk: Desk) -> None:
    from bot.platforms.console import PROMPT

    said = desk.say("/capnhat 2.4 60%")
    assert "chưa triển khai, đang thực hiện hoặc hoàn thành" in said
    assert "chua trien khai" not in said and "dang thuc hien" not in said
    assert PROMPT == "Anh/chị: "


def test_one_admin_only_message(desk: Desk) -> None:
    from handlers.permissions import ADMINS_ONLY

    for command in ("/moi so y te", "/nhaclap hangngay 09:00 Họp", "/tralai 2.4 Sai"):
        assert desk.say(command, "stranger") == ADMINS_ONLY


def test_unlinking_in_a_private_chat_explains_itself(desk: Desk) -> None:
    said = desk.say("/huylienket")
    assert said.startswith("Lệnh /huylienket") and "/lienket <tên đơn vị>" not in said


def test_unconfirmed_succession_only_for_admins(desk: Desk) -> None:
    stranger = desk.say("/donvi dai phat thanh truyen hinh quang ngai", "stranger")
    admin = desk.say("/donvi dai phat thanh truyen hinh quang ngai")
    assert "chưa xác nhận" not in stranger and "chưa xác nhận" in admin
    assert "cần xác minh" not in admin and "chưa được xác nhận chính thức" not in admin
    confirmed = desk.say("/donvi so ke hoach va dau tu", "stranger")
    assert "chuyển về Sở Tài chính (căn cứ: Nghị quyết HĐND tỉnh Quảng Ngãi ngày 19/02/2025)." in (
        confirmed
    )


def test_a_span_cut_by_a_split_is_closed_and_reopened() -> None:
    from core.limits import PlatformLimits
    from core.markup import bold, code
    from core.render import pieces

    text = bold("x" * 30 + "\n" + "y" * 30) + " " + code("2.4") + " <&>"
    sent = pieces(text, PlatformLimits(max_text_len=31, markup="html"))
    assert sent == [
        "<b>" + "x" * 30 + "</b>",
        "<b>" + "y" * 30 + "</b>",
        "<code>2.4</code> &lt;&amp;&gt;",
    ]
    assert [parse_html(piece)[0] for piece in sent] == ["x" * 30, "y" * 30, "2.4 <&>"]
    assert pieces(text, PlatformLimits(max_text_len=31)) == ["x" * 30, "y" * 30, "2.4 <&>"]
