"""Webhook server (aiohttp) shared by the Telegram libraries, with /healthz and /readyz.

Every request must carry the secret token given to setWebhook; an update is acknowledged
(HTTP 200) only after the core has handled it and its database transaction has committed.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from bot.bridge import ChatBridge, Translated
from bot.health import Readiness
from bot.platforms.health_http import add_health_routes
from core.settings import Settings

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


SetWebhook = Callable[[str, str], Awaitable[None]]
# The library parses the JSON body into its update object once and translates it.
Parse = Callable[[dict[str, Any]], Translated]


def listen_address(listen: str) -> tuple[str, int]:
    """Split 'host:port' (host optional) into its parts."""
    host, _, port = listen.rpartition(":")
    return host or "0.0.0.0", int(port)


def webhook_path(url: str) -> str:
    """The local path the webhook URL points at."""
    return urlsplit(url).path or "/"


def make_app(
    bridge: ChatBridge,
    parse: Parse,
    path: str,
    secret: str,
    readiness: Readiness | None = None,
) -> web.Application:
    """The aiohttp application: POST <path> for updates, GET /healthz and /readyz for probes."""

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
        try:
            translated = parse(update)
        except Exception as exc:  # not an update the library can read
            log.warning("webhook body is not an update: %s", type(exc).__name__)
            return web.Response(status=400, text="bad update")
        if await bridge.accept(translated, str(update.get("update_id", ""))):
            return web.Response(text="ok")
        return web.Response(status=500, text="retry")

    app = web.Application()
    app.router.add_post(path, receive)
    add_health_routes(app, readiness)
    return app


async def serve(
    settings: Settings,
    bridge: ChatBridge,
    parse: Parse,
    set_webhook: SetWebhook,
    stop: asyncio.Event,
    readiness: Readiness | None = None,
) -> None:
    """Listen on settings.webhook_listen, register the webhook, serve until stop is set."""
    secret = settings.webhook_secret or secrets.token_urlsafe(32)
    host, port = listen_address(settings.webhook_listen)
    path = webhook_path(settings.webhook_url)
    runner = web.AppRunner(make_app(bridge, parse, path, secret, readiness))
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        await set_webhook(settings.webhook_url, secret)
        log.info("Telegram webhook at %s (listening on %s:%s)", settings.webhook_url, host, port)
        await stop.wait()
    finally:
        await runner.cleanup()
