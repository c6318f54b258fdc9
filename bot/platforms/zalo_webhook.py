"""The Zalo adapter's HTTP server (aiohttp): webhook updates, generated files, health checks.

Updates must carry the secret given to setWebhook in X-Bot-Api-Secret-Token; an update is
acknowledged (HTTP 200) only after the core has handled it. Files (reports) are served under
an unguessable token that expires, so a link in a group chat does not stay valid forever.
They are kept in the database when there is one (`DatabaseFileStore`: every instance behind
a load balancer serves every link), else in this process's memory (`FileStore`).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot.bridge import ChatBridge, Translated
from bot.health import Readiness
from bot.platforms.health_http import add_health_routes
from bot.platforms.zalo_client import ZaloUpdate, parse_update
from core.model import Attachment
from data.store.shared_files import SharedFiles

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Bot-Api-Secret-Token"
FILES_PREFIX = "/zalo/files"
NOT_FOUND = (
    "Liên kết không tồn tại hoặc đã hết hạn. Anh/chị vui lòng yêu cầu lại báo cáo trong cuộc "
    "trò chuyện với bot."
)
UNAVAILABLE = "Tạm thời chưa lấy được tệp. Anh/chị vui lòng thử lại sau ít phút."


def link_path(token: str, filename: str) -> str:
    """The URL path a file is downloaded from."""
    return f"{FILES_PREFIX}/{token}/{quote(filename or 'tep')}"


class FileLinks(Protocol):
    """Where generated files wait to be downloaded (called on the event loop)."""

    async def put(self, file: Attachment) -> tuple[str, float] | None:
        """Keep a file; (its URL path, epoch seconds it expires at), or None if it cannot be."""
        ...

    async def fetch(self, token: str) -> Attachment | None:
        """The file under token, unless it expired or never existed."""
        ...


@dataclass(frozen=True)
class _Stored:
    file: Attachment
    expires_at: float


class FileStore:
    """Generated files kept in memory for a while, each under a random token."""

    def __init__(
        self,
        ttl_seconds: float = 24 * 3600,
        *,
        max_files: int = 500,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_files = max_files
        self._clock = clock
        self._files: OrderedDict[str, _Stored] = OrderedDict()

    def add(self, file: Attachment) -> tuple[str, float]:
        """Store a file; return (its URL path, epoch seconds it expires at)."""
        now = self._clock()
        self._purge(now)
        token = secrets.token_urlsafe(24)
        expires_at = now + self.ttl_seconds
        self._files[token] = _Stored(file, expires_at)
        while len(self._files) > self.max_files:
            self._files.popitem(last=False)
        return link_path(token, file.filename), expires_at

    def get(self, token: str) -> Attachment | None:
        """The file stored under token, unless it expired or never existed."""
        stored = self._files.get(token)
        if stored is None:
            return None
        if stored.expires_at <= self._clock():
            del self._files[token]
            return None
        return stored.file

    def _purge(self, now: float) -> None:
        for token in [t for t, s in self._files.items() if s.expires_at <= now]:
            del self._files[token]

    def __len__(self) -> int:
        return len(self._files)

    async def put(self, file: Attachment) -> tuple[str, float] | None:
        """FileLinks.put: in memory, no waiting."""
        return self.add(file)

    async def fetch(self, token: str) -> Attachment | None:
        """FileLinks.fetch: in memory, no waiting."""
        return self.get(token)


class DatabaseFileStore:
    """Generated files in the shared_file table, so any instance serves any link."""

    def __init__(self, files: SharedFiles, ttl_seconds: float = 24 * 3600) -> None:
        self.files = files
        self.ttl_seconds = ttl_seconds

    async def put(self, file: Attachment) -> tuple[str, float] | None:
        """Store the file in a worker thread; None when it is refused or the database fails."""
        try:
            link = await asyncio.to_thread(self.files.add, file, self.ttl_seconds)
        except (SQLAlchemyError, ValueError) as exc:
            log.warning("file %s not stored for a link: %s", file.filename, exc)
            return None
        return link_path(link.token, file.filename), link.expires_at.timestamp()

    async def fetch(self, token: str) -> Attachment | None:
        """Read the file in a worker thread (SQLAlchemyError when the database fails)."""
        return await asyncio.to_thread(self.files.get, token)


def update_of(body: Any) -> ZaloUpdate | None:
    """The update in a webhook body: bare, or wrapped like an API answer ({ok, result})."""
    if not isinstance(body, Mapping):
        return None
    if body.get("ok") is True and isinstance(body.get("result"), Mapping):
        body = body["result"]
    if not body.get("event_name"):
        return None
    return parse_update(body)


def make_app(
    *,
    bridge: ChatBridge | None = None,
    parse: Callable[[ZaloUpdate], Translated] | None = None,
    path: str = "",
    secret: str = "",
    files: FileLinks | None = None,
    readiness: Readiness | None = None,
) -> web.Application:
    """POST <path> for updates (when a bridge is given), GET files, /healthz and /readyz."""
    app = web.Application(client_max_size=1024 * 1024)

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("Zalo webhook call with a wrong secret token from %s", request.remote)
            return web.Response(status=401, text="unauthorized")
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.Response(status=400, text="bad json")
        update = update_of(body)
        if update is None:
            return web.Response(status=400, text="bad update")
        if bridge is not None and parse is not None:
            translated = parse(update)
            if await bridge.accept(translated, translated.key or ""):
                return web.Response(text="ok")
        return web.Response(status=500, text="retry")

    async def download(request: web.Request) -> web.Response:
        try:
            found = await files.fetch(request.match_info["token"]) if files is not None else None
        except SQLAlchemyError as exc:
            log.warning("shared file unreadable: %s", exc)
            return web.Response(status=503, text=UNAVAILABLE, charset="utf-8")
        if found is None:
            return web.Response(status=404, text=NOT_FOUND, charset="utf-8")
        disposition = f"attachment; filename*=UTF-8''{quote(found.filename)}"
        return web.Response(
            body=found.content,
            content_type=found.mime_type,
            headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
        )

    if bridge is not None and path:
        app.router.add_post(path, receive)
    app.router.add_get(FILES_PREFIX + "/{token}/{name}", download)
    add_health_routes(app, readiness)
    return app


def listen_address(listen: str) -> tuple[str, int]:
    """Split 'host:port' (host optional) into its parts."""
    host, _, port = listen.rpartition(":")
    return host or "0.0.0.0", int(port)


async def start(app: web.Application, listen: str) -> web.AppRunner:
    """Serve app on listen ('host:port'); call .cleanup() on the result to stop."""
    host, port = listen_address(listen)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    log.info("Zalo HTTP server listening on %s:%s", host, port)
    return runner
