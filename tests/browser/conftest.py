"""Browser tests: Playwright drives Debian's Chromium (/usr/bin/chromium) against real node processes.

Chromium is never downloaded (`playwright install` is not used). Where /usr/bin/chromium is missing
the tests are skipped, unless ALLMENDE_REQUIRE_BROWSER=1 (set by CI) makes that a failure.

The tests are plain synchronous tests: Playwright's sync API runs its own event loop and marks it
as running in the test thread while it is open, so the browser lives only as long as this package's
tests run (package scope) and is gone before any anyio test starts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from tests.browser.pages import ConsoleWatch

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REQUIRE_ENV = "ALLMENDE_REQUIRE_BROWSER"
VIEWPORT: ViewportSize = {"width": 1280, "height": 900}
LOCALES = {"de": "de-DE", "en": "en-GB"}

PageFactory = Callable[..., Page]


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One Chromium for all browser tests."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        reason = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{reason}; {REQUIRE_ENV}=1 requires the browser tests to run", pytrace=False)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[PageFactory]:
    """``new_page(lang)``: a page in a fresh browser context (own cookies) that asks for ``lang``.

    Each node needs its own context: cookies are kept per host, not per port, and all test nodes
    listen on 127.0.0.1. Console errors and server errors of every page fail the test.
    """
    contexts = []
    watches: list[ConsoleWatch] = []

    def factory(lang: str = "en") -> Page:
        context = browser.new_context(
            locale=LOCALES[lang], viewport=VIEWPORT, accept_downloads=True, timezone_id="Europe/Berlin"
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        watches.append(ConsoleWatch(page))
        return page

    yield factory
    for context in contexts:
        context.close()
    problems = [problem for watch in watches for problem in watch.problems]
    assert not problems, "the browser reported problems:\n" + "\n".join(problems)
