"""Webhook server (aiohttp) shared by the Telegram adapters, with a /healthz endpoint.

Every request must carry the secret token given to setWebhook; an update is acknowledged
(HTTP 200) only after the core has handled it and its database transaction has committed.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

from aiohttp import web

from core.settings import Settings

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_PATH = "/healthz"


class UpdateSink(Protocol):
    """Where accepted updates go (TelegramBridge)."""

    async def accept(self, update: Mapping[str, Any]) -> bool:
        """Handle an update; True once it is safely committed."""
        ...


SetWebhook = Callable[[str, str], Awaitable[None]]


def listen_address(listen: str) -> tuple[str, int]:
    """Split 'host:port' (host optional) into its parts."""
    host, _, port = listen.rpartition(":")
    return host or "0.0.0.0", int(port)


def webhook_path(url: str) -> str:
    """The local path the webhook URL points at."""
    return urlsplit(url).path or "/"


def make_app(sink: UpdateSink, path: str, secret: str) -> web.Application:
    """The aiohttp application: POST <path> for updates, GET /healthz for probes."""

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("webhook call with a wrong secret token from %s", request.remote)
            return web.Response(status=401, text="unauthorized")
        try:
            update = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.Response(status=400, text="bad json")
        if not isinstance(update, dict):
            return web.Response(status=400, text="bad update")
        if await sink.accept(update):
            return web.Response(text="ok")
        return web.Response(status=500, text="retry")

    async def health(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_post(path, receive)
    app.router.add_get(HEALTH_PATH, health)
    return app


async def serve(
    settings: Settings, sink: UpdateSink, set_webhook: SetWebhook, stop: asyncio.Event
) -> None:
    """Listen on settings.webhook_listen, register the webhook, serve until stop is set."""
    secret = settings.webhook_secret or secrets.token_urlsafe(32)
    host, port = listen_address(settings.webhook_listen)
    runner = web.AppRunner(make_app(sink, webhook_path(settings.webhook_url), secret))
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        await set_webhook(settings.webhook_url, secret)
        log.info("Telegram webhook at %s (listening on %s:%s)", settings.webhook_url, host, port)
        await stop.wait()
    finally:
        await runner.cleanup()
