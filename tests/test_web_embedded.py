"""The Mini App inside Telegram Web: the web view in a cross-site iframe keeps its session."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from bot.platforms.web import server
from data.store.models import Role
from tests.web_support import Site

pytest_plugins = ("tests.bot_harness", "tests.web_support", "tests.browser_support")


class TelegramWeb:
    """A page on another site (localhost vs 127.0.0.1) that frames the Mini App, as
    web.telegram.org does."""

    def __init__(self) -> None:
        self.frame_url = ""
        holder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = f'<!doctype html><iframe src="{holder.frame_url}"></iframe>'.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://localhost:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop serving."""
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def telegram_web(monkeypatch: pytest.MonkeyPatch) -> Iterator[TelegramWeb]:
    """Telegram Web's stand-in, allowed to frame the web view like the real one."""
    outer = TelegramWeb()
    monkeypatch.setattr(server, "CSP", f"{server.CSP} {outer.origin}")
    try:
        yield outer
    finally:
        outer.close()


def test_the_mini_app_signs_in_and_stays_signed_in_inside_a_cross_site_frame(
    site: Site,
    phone: Any,
    telegram_web: TelegramWeb,
) -> None:
    site.add_person("telegram", "505", Role.OBSERVER, None)
    data = quote(site.init_data("505"))
    telegram_web.frame_url = f"{site.base}/#tgWebAppData={data}&tgWebAppVersion=8.0"
    phone.goto(telegram_web.origin + "/")
    frame = phone.frame_locator("iframe")
    frame.locator("h1:has-text('Tổng quan năm 2026')").wait_for()
    frame.locator("a[href*='nhiemvu']").first.click()  # a second page in the frame
    frame.locator("h1:has-text('Nhiệm vụ')").wait_for()
    [session] = [c for c in phone.context.cookies() if c["name"] == "daumoi_phien"]
    assert (session["sameSite"], session["secure"], session["httpOnly"]) == ("None", True, True)
    assert session.get("partitionKey") == "http://localhost"  # kept for this top-level site
