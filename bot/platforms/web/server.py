"""The web view over HTTP: every page under /web, served by daumoi itself (DAUMOI_WEB_LISTEN).

Pages come from handlers.web.service (run in a worker thread: one unit of work each); this
module adds what only HTTP has: the session cookie (HttpOnly, Secure, SameSite=Lax; a Mini
App's SameSite=None and Partitioned, for Telegram Web's iframe), a strict
Content-Security-Policy (no inline script or style, nothing from another origin), a same-origin
check on every POST besides the CSRF token, and the static files.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlsplit

from aiohttp import web

from bot.platforms.health_http import ListenFailed, listen_address
from core.model import Reply
from handlers.web import auth
from handlers.web.render import STATIC
from handlers.web.service import BASE, Page, WebService

log = logging.getLogger(__name__)

COOKIE = "daumoi_phien"
LISTEN_VARIABLE = "DAUMOI_WEB_LISTEN"
MAX_FORM = 64 * 1024
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'self' https://web.telegram.org https://*.telegram.org"
)
Notify = Callable[[str, Reply], Awaitable[None]]


@web.middleware
async def _headers(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    if request.method == "POST" and not _same_origin(request):
        return web.Response(status=403, text="Yêu cầu từ trang khác bị từ chối.")
    response = await handler(request)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"  # login links carry a token
    if not request.path.startswith(f"{BASE}/static/"):
        response.headers["Cache-Control"] = "no-store"
    return response


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.host


def _answer(page: Page, secure: bool = True) -> web.StreamResponse:
    response: web.StreamResponse
    if page.file is not None:
        name = quote(page.file.filename)
        response = web.Response(
            body=page.file.content,
            content_type=page.file.mime_type,
            headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
        )
    elif page.redirect is not None:
        response = web.Response(status=303, headers={"Location": page.redirect})
    else:
        response = web.Response(status=page.status, text=page.html, content_type="text/html")
    if page.session:
        _session_cookie(response, page.session, secure=secure)
    elif page.session == "":
        response.del_cookie(COOKIE, path=BASE)
    return response


def make_app(service: WebService, notify: Notify | None = None) -> web.Application:
    """The aiohttp application serving the web view under /web."""

    async def run(call: Callable[[], Page]) -> web.StreamResponse:
        page = await asyncio.to_thread(call)
        if notify is not None:
            for platform, reply in page.notices:
                try:
                    await notify(platform, reply)
                except Exception as exc:  # a group notice must not fail the saved update
                    log.warning("web: blocker notice not sent: %s", type(exc).__name__)
        return _answer(page)

    def cookie(request: web.Request) -> str:
        return request.cookies.get(COOKIE, "")

    async def form(request: web.Request) -> dict[str, str]:
        if (request.content_length or 0) > MAX_FORM:
            raise web.HTTPRequestEntityTooLarge(MAX_FORM, request.content_length or 0)
        data = await request.post()
        return {k: v for k, v in data.items() if isinstance(v, str)}

    async def overview(request: web.Request) -> web.StreamResponse:
        params = dict(request.query)
        return await run(lambda: service.page(cookie(request), "tongquan", params))

    async def section(request: web.Request) -> web.StreamResponse:
        name, item = request.match_info["name"], request.match_info.get("item", "")
        params = dict(request.query)
        return await run(lambda: service.page(cookie(request), name, params, item))

    async def update(request: web.Request) -> web.StreamResponse:
        data = await form(request)
        item = request.match_info["item"]
        if not item.isdigit():
            raise web.HTTPNotFound()
        return await run(lambda: service.update(cookie(request), int(item), data))

    async def link(request: web.Request) -> web.StreamResponse:
        token = request.query.get("t", "")
        return await run(lambda: service.login_link(token))

    async def mini_app(request: web.Request) -> web.StreamResponse:
        data = await form(request)
        page = await asyncio.to_thread(service.login_mini_app, data.get("initData", ""))
        if page.session:  # answered to a script: the cookie, and a line it may show
            response = web.Response(text="ok")
            _session_cookie(response, page.session, secure=True, embedded=True)
            return response
        return web.Response(status=page.status, text=page.html)

    async def logout(request: web.Request) -> web.StreamResponse:
        data = await form(request)
        return await run(lambda: service.logout(cookie(request), data))

    async def home(_request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(f"{BASE}/")

    app = web.Application(middlewares=[_headers], client_max_size=MAX_FORM)
    app.router.add_get(BASE, home)
    app.router.add_get(f"{BASE}/", overview)
    app.router.add_get(f"{BASE}/dangnhap", link)
    app.router.add_post(f"{BASE}/dangnhap/telegram", mini_app)
    app.router.add_post(f"{BASE}/dangxuat", logout)
    app.router.add_post(f"{BASE}/nhiemvu/{{item}}/capnhat", update)
    app.router.add_get(f"{BASE}/{{name:nhiemvu|donvi|taive}}", section)
    app.router.add_get(f"{BASE}/{{name:nhiemvu|donvi|taive}}/{{item}}", section)
    app.router.add_static(f"{BASE}/static", STATIC)
    return app


async def start_web(
    listen: str, service: WebService, notify: Notify | None = None
) -> web.AppRunner:
    """Serve the web view on listen; .cleanup() the result to stop (ListenFailed if it cannot)."""
    host, port = listen_address(listen, LISTEN_VARIABLE)
    runner = web.AppRunner(make_app(service, notify), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise ListenFailed(
            f"Không mở được cổng trang web {host}:{port} ({LISTEN_VARIABLE}): "
            f"{exc.strerror or exc}; hãy chọn địa chỉ hoặc cổng khác rồi chạy lại."
        ) from None
    log.info("web view on http://%s:%s%s/", host, port, BASE)
    return runner


def _session_cookie(
    response: web.StreamResponse, value: str, *, secure: bool, embedded: bool = False
) -> None:
    """The session cookie: HttpOnly, SameSite=Lax, Secure (unless served over plain HTTP).

    A Mini App's session (embedded) is SameSite=None and Partitioned: Telegram Web shows the
    Mini App in an iframe on another site, where a Lax cookie is never sent back. Its POSTs
    stay guarded by the same-origin check and the form token.
    """
    response.set_cookie(
        COOKIE,
        value,
        max_age=auth.SESSION_SECONDS,
        path=BASE,
        httponly=True,
        secure=secure or embedded,
        samesite="None" if embedded else "Lax",
    )
    if embedded:  # Python's cookie module knows no Partitioned before 3.14: write the header
        morsel = response.cookies.pop(COOKIE)
        response.headers.add("Set-Cookie", f"{morsel.OutputString()}; Partitioned")


# Seconds between checks that this year's snapshot is current (a cheap count when it is).
WARM_SECONDS = 2.0


async def serve_web(
    listen: str, service: WebService, stop: asyncio.Event, notify: Notify | None = None
) -> None:
    """Serve the web view until stop is set, keeping this year's snapshot warm."""
    runner = await start_web(listen, service, notify)
    try:
        while not stop.is_set():
            try:
                await asyncio.to_thread(service.warm)
            except Exception as exc:  # a database hiccup: the next request builds it instead
                log.warning("web view snapshot not warmed: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), WARM_SECONDS)
    finally:
        await runner.cleanup()
