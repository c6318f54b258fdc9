"""Headless Chromium (Debian's) driven by Playwright: the browser and a phone-sized page.

Skips when Chromium or Playwright is absent, except under DAUMOI_REQUIRE_SERVICES=1 (CI),
where `.ci/run` installs Chromium first and a missing browser fails.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
REQUIRED = os.environ.get("DAUMOI_REQUIRE_SERVICES") == "1"
PHONE = {"width": 390, "height": 844}


def _playwright() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if REQUIRED:
            raise
        pytest.skip("Playwright for Python is not installed (pip install -e '.[test]')")
    return sync_playwright


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module."""
    if CHROMIUM is None:
        if REQUIRED:
            pytest.fail("Chromium is missing: .ci/run installs it with apt-get install chromium")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    sync_playwright = _playwright()
    with sync_playwright() as driver:
        launched = driver.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A fresh phone-sized page (no cookies); fails the test if any dialog opens."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs
    try:
        yield page
    finally:
        context.close()
    assert not dialogs, f"a dialog opened: {dialogs}"
