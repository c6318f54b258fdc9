"""The Zalo adapter's HTTP server (aiohttp): webhook updates, generated files, /healthz.

Updates must carry the secret given to setWebhook in X-Bot-Api-Secret-Token; an update is
acknowledged (HTTP 200) only after the core has handled it. Files (reports) are served under
an unguessable token that expires, so a link in a group chat does not stay valid forever.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from aiohttp import web

from bot.bridge import ChatBridge, Translated
from bot.platforms.zalo_client import ZaloUpdate, parse_update
from core.model import Attachment

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Bot-Api-Secret-Token"
FILES_PREFIX = "/zalo/files"
HEALTH_PATH = "/healthz"


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
        return f"{FILES_PREFIX}/{token}/{quote(file.filename or 'tep')}", expires_at

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
    files: FileStore | None = None,
) -> web.Application:
    """POST <path> for updates (when a bridge is given), GET files and /healthz."""
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
        found = files.get(request.match_info["token"]) if files is not None else None
        if found is None:
            return web.Response(
                status=404,
                text="Liên kết không tồn tại hoặc đã hết hạn. Anh/chị vui lòng yêu cầu lại "
                "báo cáo trong cuộc trò chuyện với bot.",
                charset="utf-8",
            )
        disposition = f"attachment; filename*=UTF-8''{quote(found.filename)}"
        return web.Response(
            body=found.content,
            content_type=found.mime_type,
            headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
        )

    async def health(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    if bridge is not None and path:
        app.router.add_post(path, receive)
    app.router.add_get(FILES_PREFIX + "/{token}/{name}", download)
    app.router.add_get(HEALTH_PATH, health)
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
