"""A link an admin sends is fetched only from public addresses: never the bot's own network."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from bot.bridge import Translated
from bot.platforms import downloads
from bot.platforms.downloads import _public, fetch_link
from core.model import FileRefused
from core.settings import Settings
from data.store.db import Database
from tests.test_chat_import import ADMIN, Chatter, _router

if TYPE_CHECKING:
    from tests.link_server import LinkServer

pytest_plugins = ("tests.link_server",)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.9",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "224.0.0.251",
        "::1",
        "fe80::1%eth0",
        "fd00::5",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
    ],
)
def test_private_and_special_addresses_are_not_public(address: str) -> None:
    assert not _public(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "203.162.4.190", "2001:4860:4860::8888"])
def test_global_addresses_are_public(address: str) -> None:
    assert _public(address)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP port on 127.0.0.1 that records whether anything connected."""
    sock = socket.create_server(("127.0.0.1", 0))
    sock.setblocking(False)
    try:
        yield sock
    finally:
        sock.close()


def _nobody_connected(sock: socket.socket) -> bool:
    try:
        sock.accept()[0].close()
    except BlockingIOError:
        return True
    return False


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"])
async def test_a_link_to_this_machine_is_refused_before_connecting(
    listener: socket.socket, host: str
) -> None:
    port = listener.getsockname()[1]
    with pytest.raises(FileRefused):
        await fetch_link(f"https://{host}:{port}/qd.docx", 1024)
    assert _nobody_connected(listener)


async def test_an_allowed_host_is_fetched(links: LinkServer) -> None:
    links.files["qd.docx"] = b"PK content"
    assert await fetch_link(links.url("qd.docx"), 1024) == b"PK content"


async def test_a_redirect_into_the_network_is_refused(
    links: LinkServer, listener: socket.socket
) -> None:
    inside = f"https://127.0.0.1:{listener.getsockname()[1]}/qd.docx"
    links.redirects["qd.docx"] = inside
    with pytest.raises(FileRefused):
        await fetch_link(links.url("qd.docx"), 1024)
    assert links.requests == ["/qd.docx"] and _nobody_connected(listener)


async def test_the_admin_is_told_in_vietnamese(
    seeded_db: Database, listener: socket.socket
) -> None:
    router = _router(seeded_db, Settings(admins=(f"telegram:{ADMIN}",)))
    link = f"https://127.0.0.1:{listener.getsockname()[1]}/qd.docx"
    incoming = downloads.attach_link(Translated(Chatter(router)._incoming(link))).incoming
    assert incoming is not None and incoming.document is not None
    [reply] = await asyncio.to_thread(router.handle, incoming)
    assert "mạng nội bộ" in reply.text and "daumoi import" in reply.text
    assert _nobody_connected(listener)
