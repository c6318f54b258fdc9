"""Importing a decision sent in chat, end to end: the admin sends the Word file (Telegram: a
document, fetched with getFile; Zalo: an https link to it), gets a preview with "Áp dụng" /
"Bỏ qua" (numbered on Zalo), and applies it; `/tim` then finds tasks of both programmes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from bot.app import build_search
from bot.router import Router
from data.store.db import Database
from handlers import imports
from tests import fake_telegram as ft
from tests.conformance.conftest import TelegramDriver
from tests.decision_documents import (
    SMALL_NUMBER,
    export_json,
    word_decisions,
)

if TYPE_CHECKING:
    from tests.link_server import LinkServer

pytest_plugins = ("tests.link_server",)
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The seed and the second decision as Word files."""
    return word_decisions(tmp_path_factory.mktemp("chat-import-e2e"))


def send_file(
    driver: TelegramDriver,
    links: LinkServer,
    name: str,
    content: bytes,
    *,
    sender: dict[str, Any] | None = None,
    size: int | None = None,
) -> None:
    """The admin (or sender) sends a file: a document on Telegram, a link to it on Zalo."""
    person = sender or driver.user
    chat = driver.private if sender is None else _private(driver, person)
    if driver.library == "zalo":
        links.files[name] = content
        driver.say(chat, links.url(name), sender=person)
        return
    driver.fake.push_document(chat, name, content, sender=person, size=size)


def _private(driver: TelegramDriver, person: dict[str, Any]) -> dict[str, Any]:
    if driver.library == "zalo":
        return {"id": str(person["id"]), "chat_type": "PRIVATE"}
    return ft.private_chat(person)


def _button(message: Any, label: str) -> dict[str, Any]:
    button = next((b for b in message.buttons if label in b["text"]), None)
    assert button is not None, [b["text"] for b in message.buttons]
    return dict(button)


def _reload(router: Router, database: Database) -> None:
    """What the running bot's data watch does within seconds of an import."""
    router.search = build_search(database)


def test_preview_apply_second_programme_and_search(
    driver: TelegramDriver,
    router: Router,
    seeded_db: Database,
    links: LinkServer,
    files: dict[str, bytes],
) -> None:
    before = export_json(seeded_db)
    send_file(driver, links, "QD-1731.docx", files["seed.docx"])
    same = driver.expect_text(driver.private)
    assert "không có gì thay đổi" in same  # the seed is loaded: nothing to apply
    assert export_json(seeded_db) == before

    send_file(driver, links, "QD-3579.docx", files["qd3579.docx"])
    [preview] = driver.expect(driver.private)
    assert f"Quyết định {SMALL_NUMBER} ngày 20/05/2024" in preview.text
    assert "Số nhiệm vụ: 6" in preview.text and "bên cạnh 1731/QĐ-UBND" in preview.text
    driver.press(driver.private, _button(preview, "Áp dụng"))
    applied = driver.expect_text(driver.private)
    assert f"Đã nhập Quyết định {SMALL_NUMBER} từ QD-3579.docx" in applied
    numbers = sorted(p["decision_number"] for p in export_json(seeded_db)["programmes"])
    assert numbers == ["1731/QĐ-UBND", SMALL_NUMBER]

    _reload(router, seeded_db)
    driver.say(driver.private, "/tim kham chua benh")
    found = driver.expect_text(driver.private)
    assert f"({SMALL_NUMBER})" in found and "(1731/QĐ-UBND)" in found

    send_file(driver, links, "QD-3579.docx", files["qd3579.docx"])
    assert "không có gì thay đổi" in driver.expect_text(driver.private)


def test_discard_changes_nothing(
    driver: TelegramDriver, seeded_db: Database, links: LinkServer, files: dict[str, bytes]
) -> None:
    before = export_json(seeded_db)
    send_file(driver, links, "QD-3579.docx", files["qd3579.docx"])
    [preview] = driver.expect(driver.private)
    driver.press(driver.private, _button(preview, "Bỏ qua"))
    assert "Đã bỏ qua tệp QD-3579.docx" in driver.expect_text(driver.private)
    assert export_json(seeded_db) == before


def test_refusals_are_one_polite_line(
    driver: TelegramDriver, seeded_db: Database, links: LinkServer, files: dict[str, bytes]
) -> None:
    stranger = driver.other_user
    send_file(driver, links, "QD-3579.docx", files["qd3579.docx"], sender=stranger)
    assert driver.expect_text(_private(driver, stranger)) == imports.NOT_ADMIN
    send_file(driver, links, "ghi-chu.docx", b"PK\x03\x04 not really a zip")
    refused = driver.expect_text(driver.private)
    assert refused.startswith("Không nhập được tệp ghi-chu.docx") and "\n" not in refused
    if driver.library != "zalo":
        driver.fake.downloads.clear()
        send_file(driver, links, "lon.pdf", b"%PDF-1.4", size=11 * 1024 * 1024)
        assert driver.expect_text(driver.private).startswith("Tệp lon.pdf quá lớn (11 MB)")
        assert driver.fake.downloads == []  # refused before downloading
    assert len(export_json(seeded_db)["programmes"]) == 1
