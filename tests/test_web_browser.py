"""The web view in a real browser: headless Chromium (Debian's) driven by Playwright.

Skips when Chromium or Playwright is absent, except under DAUMOI_REQUIRE_SERVICES=1 (CI),
where `.ci/run` installs Chromium first and a missing browser fails.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from data.store.models import Role
from tests.web_support import ADMIN_TG, Site

pytest_plugins = ("tests.bot_harness", "tests.web_support", "tests.browser_support")

DOCS = Path(__file__).resolve().parents[1] / "docs"
HOSTILE = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')


def _mini_app(page: Any, site: Site, init_data: str, path: str = "/") -> None:
    page.goto("about:blank")  # a new fragment alone would not load the page again
    page.goto(f"{site.base}{path}#tgWebAppData={quote(init_data)}&tgWebAppVersion=8.0")


def test_mini_app_login_shows_the_overview_on_a_phone(site: Site, phone: Any) -> None:
    """initData signed with the bot token starts a session; the overview fits a phone."""
    site.add_person("telegram", "501", Role.OBSERVER, None)
    sizes: list[int] = []
    phone.on("response", lambda r: sizes.append(len(r.body())) if r.ok else None)
    _mini_app(phone, site, site.init_data("501"))
    phone.wait_for_selector("h1:has-text('Tổng quan năm 2026')")
    assert phone.locator("svg.chart rect").count() >= 9
    assert "44 nhiệm vụ" in phone.inner_text("p.lead")
    assert phone.locator("text=Đơn vị chưa báo cáo").count() == 1
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= phone.viewport_size["width"], "the overview scrolls sideways on a phone"
    cookies = phone.context.cookies()
    session = next(c for c in cookies if c["name"] == "daumoi_phien")
    assert session["httpOnly"] and session["secure"] and session["sameSite"] == "None"
    sizes.clear()
    phone.reload()
    phone.wait_for_selector("svg.chart")
    assert sum(sizes) <= 200_000, f"overview weighs {sum(sizes)} bytes"
    if os.environ.get("DAUMOI_WEB_SCREENSHOTS"):
        DOCS.mkdir(exist_ok=True)
        phone.screenshot(path=str(DOCS / "web_tongquan.png"), full_page=False)


def test_forged_expired_replayed_and_strangers_are_refused(site: Site, phone: Any) -> None:
    """A forged or stale initData, a replayed one, and a valid one of a stranger: no session."""
    site.add_person("telegram", "502", Role.OBSERVER, None)
    good = site.init_data("502")
    forged = good.replace("Lan", "Lam")
    cases = [
        (forged, "không hợp lệ"),
        (site.init_data("502", age=2 * 3600), "không hợp lệ"),
        (site.init_data("777"), "chưa đăng ký"),
    ]
    for init_data, said in cases:
        _mini_app(phone, site, init_data)
        phone.wait_for_selector(f"#thongbao:has-text('{said}')")
        assert phone.locator("svg.chart").count() == 0
        assert not [c for c in phone.context.cookies() if c["name"] == "daumoi_phien"]
    _mini_app(phone, site, good)
    phone.wait_for_selector("svg.chart")
    phone.context.clear_cookies()
    _mini_app(phone, site, good)  # the same initData again: a replay
    phone.wait_for_selector("#thongbao:has-text('đã được dùng')")
    assert phone.goto(f"{site.base}/nhiemvu").status == 401


def test_filters_and_search(site: Site, phone: Any) -> None:
    """Sector, status and overdue filters and the chat's search engine narrow the list."""
    site.add_person("telegram", "503", Role.OBSERVER, None)
    _mini_app(phone, site, site.init_data("503"))
    phone.wait_for_selector("svg.chart")
    phone.goto(f"{site.base}/nhiemvu")
    phone.select_option("select[name=linhvuc]", "2")
    phone.click("button:has-text('Lọc')")
    phone.wait_for_url("**/nhiemvu?**linhvuc=2**")
    codes = phone.locator("ul.tasks li b").all_inner_texts()
    assert codes and all(code.startswith("2.") for code in codes)
    phone.fill("input[name=q]", "san bay chu lai")
    phone.select_option("select[name=linhvuc]", "")
    phone.click("button:has-text('Lọc')")
    phone.wait_for_url("**q=san+bay**")
    assert phone.locator("ul.tasks li b").first.inner_text() == "2.4"
    phone.goto(f"{site.base}/nhiemvu?vuongmac=1")
    assert "0 nhiệm vụ" in phone.inner_text("#soketqua")


def test_focal_point_update_is_recorded_and_hostile_text_stays_inert(
    site: Site, phone: Any
) -> None:
    """A focal point's form update lands in the task's history and in /lichsu, inert."""
    agency = site.lead_of("2.4")
    site.add_person("zalo", "z-focal", Role.FOCAL, agency)
    phone.goto(site.login_link("z-focal"))
    phone.wait_for_selector("svg.chart")
    task = site.task_id("2.4")
    phone.goto(f"{site.base}/nhiemvu/{task}")
    phone.select_option("select[name=trangthai]", "done")
    phone.fill("input[name=tiendo]", "60")
    phone.fill("textarea[name=ketqua]", "Đã làm việc")
    phone.click("button:has-text('Ghi nhận cập nhật')")
    phone.wait_for_selector("#loi:has-text('tiến độ là 100%')")  # /capnhat's own validation
    phone.select_option("select[name=trangthai]", "in_progress")
    phone.fill("input[name=tiendo]", "60")
    phone.fill("textarea[name=ketqua]", f"Đã làm việc với hãng bay {HOSTILE[0]}")
    phone.fill("textarea[name=vuongmac]", f"Chờ vốn {HOSTILE[1]}")
    phone.click("button:has-text('Ghi nhận cập nhật')")
    phone.wait_for_selector("#daluu")
    history = phone.inner_text("#lichsu")
    assert HOSTILE[0] in history and HOSTILE[1] in history and "Đang thực hiện (60%)" in history
    assert phone.locator("img").count() == 0 and phone.locator("main script").count() == 0
    shown = phone.inner_text("ul.parts")
    assert HOSTILE[1] in shown
    assert HOSTILE[0] in site.say("/lichsu 2.4", "z-focal")
    phone.goto(f"{site.base}/")
    assert HOSTILE[1] in phone.inner_text("main")  # the open blocker on the overview
    phone.goto(f"{site.base}/nhiemvu?vuongmac=1")
    assert phone.locator("ul.tasks li b").all_inner_texts() == ["2.4"]
    if os.environ.get("DAUMOI_WEB_SCREENSHOTS"):
        phone.goto(f"{site.base}/nhiemvu/{task}")
        phone.screenshot(path=str(DOCS / "web_nhiemvu.png"), full_page=False)


def test_observer_reads_but_has_no_form_and_forms_need_the_csrf_token(
    site: Site, phone: Any
) -> None:
    """An observer sees the task without a form; a post without the CSRF token is refused."""
    site.add_person("telegram", "504", Role.OBSERVER, None)
    _mini_app(phone, site, site.init_data("504"))
    phone.wait_for_selector("svg.chart")
    task = site.task_id("2.4")
    phone.goto(f"{site.base}/nhiemvu/{task}")
    assert phone.locator("form.update").count() == 0
    answer = phone.request.post(
        f"{site.base}/nhiemvu/{task}/capnhat",
        form={"trangthai": "done", "ketqua": "x"},
        headers={"Origin": site.base.rsplit("/web", 1)[0]},
    )
    assert answer.status == 403


def test_login_link_works_once(site: Site, phone: Any, browser: Any) -> None:
    """A /web link starts one session; the same link again is refused."""
    site.add_person("zalo", "z-obs", Role.OBSERVER, None)
    assert "chưa đăng ký" in site.say("/web", "z-nobody").lower()
    link = site.login_link("z-obs")
    phone.goto(link)
    phone.wait_for_selector("svg.chart")
    other = browser.new_context(viewport=phone.viewport_size)
    try:
        page = other.new_page()
        answer = page.goto(link)
        assert answer.status == 403
        assert "đã được dùng" in page.inner_text("#thongbao")
    finally:
        other.close()


def test_admin_downloads_a_report(site: Site, phone: Any) -> None:
    """The report files of the chat are offered for download."""
    _mini_app(phone, site, site.init_data(ADMIN_TG))
    phone.wait_for_selector("svg.chart")
    phone.goto(f"{site.base}/taive")
    with phone.expect_download() as download:
        phone.click("a[href*='/taive/xlsx']")
    assert download.value.suggested_filename == "bao_cao_2026.xlsx"
