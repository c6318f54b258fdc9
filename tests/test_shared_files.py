"""Files any instance serves: the shared_file repository, and Zalo links across instances.

A link made by one instance (engine A) downloads from another instance's HTTP server (engine B
on the same database) until it expires; afterwards that server answers 404 in Vietnamese.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.platforms import zalo_webhook
from bot.platforms.zalo import ZaloChatClient
from bot.platforms.zalo_client import BotInfo, ZaloClient
from core.model import Attachment, Reply
from data.store.db import Database
from data.store.shared_files import FileTooLarge, SharedFiles
from tests.conformance.zalo_driver import FAST_OPTIONS, ZaloAdapterThread, zalo_settings
from tests.databases import database_url
from tests.fake_zalo import FakeZalo
from tests.http_support import free_port, get, loop_thread, served
from tests.test_zalo_adapter import PRIVATE, RecordingCore

REPORT = Attachment("báo cáo 2026.xlsx", b"PK\x03\x04" + bytes(range(256)) * 8, "application/xlsx")
START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def second(db: Database) -> Iterator[Database]:
    """Another engine on the same database, as a second instance would have."""
    other = Database.connect(database_url(db), migrate=False)
    yield other
    other.engine.dispose()


# -- the repository ------------------------------------------------------------------------------


def test_a_file_comes_back_until_it_expires(db: Database) -> None:
    clock = Clock()
    files = SharedFiles(db, clock=clock)
    link = files.add(REPORT, 3600)
    other = files.add(REPORT, 3600)
    assert len(link.token) >= 32 and link.token != other.token
    assert link.expires_at == START + timedelta(hours=1)
    found = files.get(link.token)
    assert found is not None
    assert (found.filename, found.content, found.mime_type) == (
        REPORT.filename,
        REPORT.content,
        REPORT.mime_type,
    )
    clock.now = START + timedelta(minutes=59)
    assert files.get(link.token) is not None
    clock.now = START + timedelta(hours=1)
    assert files.get(link.token) is None
    assert files.get("guessed") is None and files.get("x" * 500) is None and files.get("") is None


def test_expired_files_are_purged_when_one_is_added(db: Database) -> None:
    clock = Clock()
    files = SharedFiles(db, clock=clock)
    files.add(REPORT, 60)
    files.add(REPORT, 60)
    kept = files.add(REPORT, 7200)
    assert files.count() == 3
    clock.now = START + timedelta(minutes=5)
    newest = files.add(REPORT, 60)
    assert files.count() == 2
    assert files.get(kept.token) is not None and files.get(newest.token) is not None
    clock.now = START + timedelta(hours=3)
    assert files.purge() == 2 and files.count() == 0


def test_only_the_newest_files_are_kept(db: Database) -> None:
    clock = Clock()
    files = SharedFiles(db, max_files=3, clock=clock)
    links = []
    for minute in range(5):
        clock.now = START + timedelta(minutes=minute)
        links.append(files.add(REPORT, 3600))
    assert files.count() == 3
    assert [files.get(link.token) is not None for link in links] == [False, False, True, True, True]


def test_absurdly_large_content_is_refused(db: Database) -> None:
    files = SharedFiles(db, max_bytes=1000)
    with pytest.raises(FileTooLarge):
        files.add(Attachment("big.bin", b"\0" * 1001), 60)
    assert files.count() == 0
    files.add(Attachment("ok.bin", b"\0" * 1000), 60)
    assert files.count() == 1


def test_long_names_are_cut_to_the_columns(db: Database) -> None:
    files = SharedFiles(db)
    link = files.add(Attachment("a" * 400 + ".xlsx", b"x", "m" * 300), 60)
    found = files.get(link.token)
    assert found is not None and len(found.filename) == 255 and len(found.mime_type) == 128


def test_two_instances_share_the_files(db: Database, second: Database) -> None:
    link = SharedFiles(db).add(REPORT, 3600)
    found = SharedFiles(second).get(link.token)
    assert found is not None and found.content == REPORT.content


# -- Zalo links across instances -----------------------------------------------------------------


def test_a_link_made_by_one_instance_downloads_from_another(db: Database, second: Database) -> None:
    clock = Clock()
    made_by_a = zalo_webhook.DatabaseFileStore(SharedFiles(db, clock=clock), 3600)
    server_b = zalo_webhook.DatabaseFileStore(SharedFiles(second, clock=clock), 3600)
    with loop_thread() as loop, served(loop, zalo_webhook.make_app(files=server_b)) as base_b:
        client = ZaloChatClient(
            ZaloClient("0:unused", "http://127.0.0.1:9"),
            BotInfo(id="b", name="daumoi_bot"),
            files=made_by_a,
            public_url=base_b,
        )
        kept = loop.run(made_by_a.put(REPORT))
        assert kept is not None and client.files is made_by_a
        path, expires_at = kept
        assert expires_at == (START + timedelta(hours=1)).timestamp()
        status, body, headers = get(base_b + path)
        assert status == 200 and body == REPORT.content
        assert headers["Content-Disposition"].startswith("attachment; filename*=UTF-8''b%C3%A1o")
        assert headers["Cache-Control"] == "no-store"
        clock.now = START + timedelta(hours=1, seconds=1)
        status, body, _ = get(base_b + path)
        assert status == 404
        assert "đã hết hạn" in body.decode("utf-8")
        loop.run(client.client.aclose())


def test_a_refused_file_becomes_its_summary(db: Database) -> None:
    store = zalo_webhook.DatabaseFileStore(SharedFiles(db, max_bytes=10), 3600)
    assert asyncio.run(store.put(REPORT)) is None


def test_the_adapter_keeps_links_in_the_database(db: Database, second: Database) -> None:
    """The real adapter (instance A, polling) sends a link; instance B's server serves it."""
    with loop_thread() as loop, FakeZalo().running() as fake:
        server_b = zalo_webhook.DatabaseFileStore(SharedFiles(second), 3600)
        with served(loop, zalo_webhook.make_app(files=server_b)) as base_b:
            options = replace(FAST_OPTIONS, file_store=SharedFiles(db))
            settings = zalo_settings(
                fake,
                db,
                public_url=base_b,
                extra={"DAUMOI_ZALO_LISTEN": f"127.0.0.1:{free_port()}"},
            )
            core = RecordingCore(db, lambda _incoming: [Reply("Báo cáo:", file=REPORT)])
            adapter = ZaloAdapterThread(settings, core, options, db).start()
            try:
                fake.wait_for_polls(1)
                fake.push_message(PRIVATE, "/baocao")
                [sent] = fake.wait_for_message("1001")
            finally:
                adapter.stop()
            link = next(word for word in sent.text.split() if word.startswith(base_b))
            status, body, _ = get(link)
    assert status == 200 and body == REPORT.content
    assert SharedFiles(db).count() == 1
