"""Documents users send, fetched only when a handler asks: a platform's file download, or an
https link (Zalo has no documents: an admin sends a link to the Word or PDF file instead)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Callable, Coroutine
from dataclasses import replace
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from bot.bridge import Translated
from core.model import (
    ChatKind,
    FileRefused,
    FileTooBig,
    FileUnavailable,
    Incoming,
    IncomingFile,
)

Download = Callable[
    [str, int], Coroutine[Any, Any, bytes]
]  # (file reference, byte limit) -> content
FETCH_TIMEOUT = 60.0  # seconds for a whole download, as the worker thread waits for it
LINK_TIMEOUT = 30.0  # seconds for one HTTP request of a link
LINK_SUFFIXES = frozenset({".docx", ".pdf", ".doc"})
MAX_REDIRECTS = 3
# What verifies a link's TLS certificate (True: the system's CAs; tests give their own CA).
LINK_TLS: ssl.SSLContext | bool = True
# Host names whose private addresses a link may still reach (tests: their https server).
PRIVATE_HOSTS_ALLOWED: frozenset[str] = frozenset()


def attach(
    translated: Translated, download: Download, timeout: float = FETCH_TIMEOUT
) -> Translated:
    """The update with its document's fetch bound to download on the running event loop."""
    incoming = translated.incoming
    if incoming is None or incoming.document is None or incoming.file_ref is None:
        return translated
    fetch = blocking(download, incoming.file_ref, timeout)
    return replace(translated, incoming=_with_fetch(incoming, incoming.document, fetch))


def blocking(download: Download, ref: str, timeout: float) -> Callable[[int], bytes]:
    """A fetch for a worker thread that runs download(ref, limit) on this event loop."""
    loop = asyncio.get_running_loop()

    def fetch(limit: int) -> bytes:
        future = asyncio.run_coroutine_threadsafe(download(ref, limit), loop)
        try:
            return future.result(timeout)
        except FileUnavailable:
            raise
        except TimeoutError:
            future.cancel()
            raise FileUnavailable("the download timed out") from None
        except Exception as exc:
            raise FileUnavailable(f"{type(exc).__name__}: {exc}") from exc

    return fetch


def _with_fetch(
    incoming: Incoming, document: IncomingFile, fetch: Callable[[int], bytes]
) -> Incoming:
    return replace(incoming, document=replace(document, fetch=fetch))


def link_document(text: str) -> tuple[str, str] | None:
    """(url, file name) when text is only an https link to a Word or PDF file, else None."""
    text = text.strip()
    if not text.lower().startswith("https://") or any(c.isspace() for c in text):
        return None
    parts = urlsplit(text)
    name = PurePosixPath(unquote(parts.path)).name
    if not parts.hostname or PurePosixPath(name).suffix.lower() not in LINK_SUFFIXES:
        return None
    return text, name


def attach_link(translated: Translated) -> Translated:
    """A private message that is only a link to a document: the document, fetched on demand."""
    incoming = translated.incoming
    if incoming is None or incoming.command is not None or incoming.document is not None:
        return translated
    if incoming.chat.kind is not ChatKind.PRIVATE:
        return translated
    found = link_document(incoming.text)
    if found is None:
        return translated
    url, name = found
    fetch = blocking(lambda _ref, limit: fetch_link(url, limit), url, FETCH_TIMEOUT)
    return replace(translated, incoming=_with_fetch(incoming, IncomingFile(name), fetch))


async def fetch_link(url: str, limit: int, *, timeout: float = LINK_TIMEOUT) -> bytes:
    """The content behind an https link (redirects followed while https), at most limit bytes."""
    async with httpx.AsyncClient(timeout=timeout, verify=LINK_TLS, trust_env=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            if urlsplit(url).scheme.lower() != "https":
                raise FileUnavailable("only https links are fetched")
            await _check_public(url)  # every hop: a redirect may point inside the network
            async with client.stream("GET", url) as response:
                if response.is_redirect and "location" in response.headers:
                    url = str(response.url.join(response.headers["location"]))
                    continue
                if response.status_code != 200:
                    raise FileUnavailable(f"HTTP {response.status_code}")
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise FileTooBig(f"{declared} bytes")
                return await _limited(response, limit)
    raise FileUnavailable("too many redirects")


async def _limited(response: httpx.Response, limit: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    async for chunk in response.aiter_bytes():
        total += len(chunk)
        if total > limit:
            raise FileTooBig(f"more than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _check_public(url: str) -> None:
    """Refuse a link whose host is, or resolves to, a loopback, private or reserved address.

    An admin's link must not make the bot a way into the network it runs in (a router's page,
    a cloud metadata service). The check resolves the name itself; a name that resolves to a
    public address here and a private one a moment later is the window left (DNS rebinding).
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host in PRIVATE_HOSTS_ALLOWED:
        return
    try:
        found = await asyncio.get_running_loop().getaddrinfo(
            host, parts.port or 443, type=socket.SOCK_STREAM
        )
    except (OSError, UnicodeError) as exc:
        raise FileUnavailable(f"cannot resolve {host}: {exc}") from exc
    for *_, address in found:
        if not _public(str(address[0])):
            raise FileRefused(f"{host} is a non-public address ({address[0]})")


def _public(text: str) -> bool:
    """Whether an address (IPv4, IPv6, IPv4-mapped, with or without a zone) is global."""
    address = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast
