"""Importing a decision sent in chat (handlers/imports.py): preview, apply, discard, refusals,
on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot.app import build_search
from bot.router import Router
from core.limits import LIMITS
from core.model import (
    Chat,
    ChatKind,
    FileUnavailable,
    Incoming,
    IncomingFile,
    Notice,
    Reply,
    User,
)
from core.render import text_length
from core.settings import Settings
from data.importing.documents import parse_document
from data.importing.importer import SEED_FILE
from data.importing.preview import from_json, to_json
from data.store.db import Database
from handlers import imports
from tests.decision_documents import (
    SMALL_NUMBER,
    export_json,
    word_decisions,
)

ADMIN = "700"
OTHER = "701"
_IDS = itertools.count(1)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The seed and the second decision as Word files, and the seed as text."""
    folder = tmp_path_factory.mktemp("chat-import")
    return {**word_decisions(folder), "seed.txt": SEED_FILE.read_bytes()}


class Chatter:
    """One person talking to the router in a private chat (or a group)."""

    def __init__(self, router: Router, user_id: str = ADMIN, group: bool = False) -> None:
        self.router = router
        kind = ChatKind.GROUP if group else ChatKind.PRIVATE
        self.chat = Chat(id="-5" if group else user_id, kind=kind)
        self.user = User(id=user_id, display_name="Lan")
        self.fetched = 0

    def _incoming(self, text: str = "", **fields: Any) -> Incoming:
        number = str(next(_IDS))
        return Incoming(
            platform="telegram",
            chat=self.chat,
            user=self.user,
            text=text,
            message_id=number,
            update_id=f"u{number}",
            addressed=self.chat.kind is ChatKind.PRIVATE or bool(text),
            **fields,
        )

    def send_file(self, name: str, content: bytes, size: int | None = None) -> list[Reply]:
        """Send a document (its content fetched when the handler asks)."""

        def fetch(limit: int) -> bytes:
            self.fetched += 1
            assert len(content) <= limit
            return content

        document = IncomingFile(name, len(content) if size is None else size, fetch)
        return self.router.handle(self._incoming(file_ref=f"f{name}", document=document))

    def say(self, text: str) -> list[Reply]:
        """Type text."""
        return self.router.handle(self._incoming(text))

    def press(self, reply: Reply, label: str, user: User | None = None) -> list[Reply]:
        """Press the button labelled label under reply."""
        [choice] = [c for c in reply.choices if c.label == label]
        pressed = self._incoming(choice_token=choice.token, choice_label=label)
        return self.router.handle(replace(pressed, user=user or self.user))


@pytest.fixture
def settings() -> Settings:
    return Settings(admins=(f"telegram:{ADMIN}",))


def _router(database: Database, settings: Settings) -> Router:
    return Router(database, build_search(database), settings, LIMITS)


def _reload(router: Router, database: Database) -> None:
    """What the running bot's data watch does after an import."""
    router.search = build_search(database)


def test_seed_docx_into_an_empty_database(
    db: Database, settings: Settings, files: dict[str, bytes]
) -> None:
    router = _router(db, settings)
    admin = Chatter(router)
    [preview] = admin.send_file("QD 1731.docx", files["seed.docx"])
    text = preview.text
    assert "Quyết định 1731/QĐ-UBND ngày 04/11/2021" in text
    assert "Lĩnh vực (9): 1. " in text and "và 6 lĩnh vực khác" in text
    assert "Số nhiệm vụ: 44" in text and "Đơn vị mới (" in text
    assert "chương trình mới" in text and text_length(text) <= imports.MAX_PREVIEW
    assert [c.label for c in preview.choices] == ["Áp dụng", "Bỏ qua"]
    assert export_json(db)["programmes"] == []  # a preview writes nothing
    [done] = admin.press(preview, "Áp dụng")
    assert "Đã nhập Quyết định 1731/QĐ-UBND từ QD 1731.docx: 9 lĩnh vực, 44 nhiệm vụ" in done.text
    _reload(router, db)
    [found] = admin.say("/tim san bay chu lai")
    assert "2.4" in found.text
    before = export_json(db)
    [again] = admin.send_file("QD 1731.docx", files["seed.docx"])
    assert "không có gì thay đổi" in again.text and not again.choices
    assert export_json(db) == before


def test_second_decision_beside_the_first(
    seeded_db: Database, settings: Settings, files: dict[str, bytes]
) -> None:
    router = _router(seeded_db, settings)
    admin = Chatter(router)
    [preview] = admin.send_file("qd3579.docx", files["qd3579.docx"])
    assert f"Quyết định {SMALL_NUMBER} ngày 20/05/2024" in preview.text
    assert "Số nhiệm vụ: 6" in preview.text
    assert "chương trình mới, bên cạnh 1731/QĐ-UBND" in preview.text
    [done] = admin.press(preview, "Áp dụng")
    assert "chương trình mới, bên cạnh" in done.text
    numbers = [p["decision_number"] for p in export_json(seeded_db)["programmes"]]
    assert sorted(numbers) == ["1731/QĐ-UBND", SMALL_NUMBER]
    _reload(router, seeded_db)
    [found] = admin.say("/tim kham chua benh")
    assert f"({SMALL_NUMBER})" in found.text or SMALL_NUMBER in found.text
    assert "1731/QĐ-UBND" in found.text
    pressed = admin.press(preview, "Áp dụng")  # the same preview pressed again
    assert Reply(imports.STALE, notice=Notice.ALERT) in pressed
    assert Reply("", edit=True) in pressed  # its buttons go


def test_changed_seed_shows_a_short_diff(seeded_db: Database, settings: Settings) -> None:
    text = SEED_FILE.read_text(encoding="utf-8")
    row = text.rindex("\n2.4 |\n") + len("\n2.4 |\n")  # the appendix row, not section II
    title_end = text.index(" |\n", row)
    changed = text[:row] + "Nhiệm vụ đã đổi tên để kiểm tra." + text[title_end:]
    admin = Chatter(_router(seeded_db, settings))
    [preview] = admin.send_file("seed-moi.txt", changed.encode())
    assert "So với dữ liệu đang có:" in preview.text
    assert "• Sửa " in preview.text and "2.4 (tên nhiệm vụ" in preview.text
    [done] = admin.press(preview, "Áp dụng")
    assert "Đã cập nhật Quyết định 1731/QĐ-UBND" in done.text
    tasks = export_json(seeded_db)["programmes"][0]["tasks"]
    assert any(t["title"].startswith("Nhiệm vụ đã đổi tên") for t in tasks)


def test_discard_leaves_the_database_unchanged(
    seeded_db: Database, settings: Settings, files: dict[str, bytes]
) -> None:
    admin = Chatter(_router(seeded_db, settings))
    before = export_json(seeded_db)
    [preview] = admin.send_file("qd3579.docx", files["qd3579.docx"])
    [discarded] = admin.press(preview, "Bỏ qua")
    assert "Đã bỏ qua tệp qd3579.docx" in discarded.text
    assert export_json(seeded_db) == before
    [stale] = admin.say(preview.choices[0].action)  # the typed form of "Áp dụng", too late
    assert stale.text == imports.STALE and stale.notice is Notice.ALERT
    assert export_json(seeded_db) == before


def test_someone_else_cannot_press_and_strangers_are_refused(
    seeded_db: Database, settings: Settings, files: dict[str, bytes]
) -> None:
    router = _router(seeded_db, settings)
    admin, stranger = Chatter(router), Chatter(router, OTHER)
    [preview] = admin.send_file("qd3579.docx", files["qd3579.docx"])
    [foreign] = admin.press(preview, "Áp dụng", user=stranger.user)
    assert foreign.notice is Notice.ALERT and "dành cho người đã hỏi" in foreign.text
    assert len(export_json(seeded_db)["programmes"]) == 1
    assert stranger.send_file("qd3579.docx", files["qd3579.docx"]) == [Reply(imports.NOT_ADMIN)]
    assert stranger.fetched == 0  # never downloaded
    assert stranger.say("/nhapqd")[0].text.startswith("Xin lỗi, chức năng này chỉ dành")
    in_group = Chatter(router, ADMIN, group=True)
    assert in_group.send_file("qd3579.docx", files["qd3579.docx"]) == []
    assert "/nhapqd" in admin.say("/trogiup quantri")[0].text


def test_one_line_for_a_file_too_big_or_not_a_decision(
    seeded_db: Database, settings: Settings
) -> None:
    admin = Chatter(_router(seeded_db, settings))
    [big] = admin.send_file("lon.pdf", b"%PDF", size=11 * 1024 * 1024)
    assert big.text.startswith("Tệp lon.pdf quá lớn (11 MB)") and admin.fetched == 0
    [notes] = admin.send_file("ghichu.txt", "Ghi chú cuộc họp, không có bảng.".encode())
    assert notes.text.startswith("Không nhập được tệp ghichu.txt: ") and "\n" not in notes.text
    [photo] = admin.send_file("anh.jpg", b"\xff\xd8\xff")
    assert "Không nhận dạng được loại tệp" in photo.text and not photo.choices
    [usage] = admin.say("/nhapqd")
    assert usage.text == imports.USAGE


def test_a_download_that_fails_is_one_line(seeded_db: Database, settings: Settings) -> None:
    router = _router(seeded_db, settings)
    admin = Chatter(router)

    def fail(limit: int) -> bytes:
        raise FileUnavailable("gone")

    document = IncomingFile("qd.docx", 1000, fail)
    [reply] = router.handle(admin._incoming(file_ref="x", document=document))
    assert reply.text == "Tôi chưa tải được tệp qd.docx. Anh/chị vui lòng gửi lại sau ít phút."


def test_parsed_decision_survives_json(tmp_path: Path) -> None:
    parsed = parse_document(SEED_FILE.read_bytes(), "seed.txt").parsed
    assert from_json(to_json(parsed)) == parsed


def test_reading_a_file_does_not_keep_the_database_busy(
    seeded_db: Database, settings: Settings, backend: str
) -> None:
    """While the file downloads (or OCR reads it), other chats' updates can still be written."""
    router = _router(seeded_db, settings)
    admin = Chatter(router)
    url = seeded_db.engine.url
    content = b"not a decision"
    busy: list[str] = []

    def slow_fetch(limit: int) -> bytes:
        if backend == "sqlite":
            other = sqlite3.connect(str(url.database), timeout=1)
            try:
                other.execute("BEGIN IMMEDIATE")  # "database is locked" if a writer holds it
                other.execute("ROLLBACK")
            except sqlite3.OperationalError as exc:
                busy.append(str(exc))
            finally:
                other.close()
        else:
            with seeded_db.engine.connect() as connection:
                busy.extend(
                    connection.execute(
                        text(
                            "SELECT state FROM pg_stat_activity WHERE datname = current_database() "
                            "AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
                        )
                    ).scalars()
                )
        return content

    document = IncomingFile("ghichu.txt", len(content), slow_fetch)
    [reply] = router.handle(admin._incoming(file_ref="x", document=document))
    assert reply.text.startswith("Không nhập được tệp ghichu.txt")
    assert busy == []
