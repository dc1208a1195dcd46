"""What every browser test checks on a page, screenshots for review, and the first steps on a node."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

from playwright.sync_api import ConsoleMessage, Locator, Page, Request, Response, expect

from tests.browser.nodes import ServedNode

PASSWORD = "correct horse battery"
SCREENSHOTS_ENV = "ALLMENDE_SCREENSHOTS"
DEFAULT_SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"

# Every visible form control without a label, and every form control whose id is not unique (a label's
# `for` then points at the wrong field). Hidden inputs and buttons are labelled by their own text.
_LABEL_PROBLEMS = """() => {
  const named = (el) => (el.textContent || "").trim().length > 0;
  const controls = Array.from(document.querySelectorAll("input, select, textarea"))
    .filter((el) => !["hidden", "submit", "button", "reset", "image"].includes(el.type));
  const problems = [];
  for (const el of controls) {
    const byLabel = Array.from(el.labels || []).some(named);
    const byAria = (el.getAttribute("aria-label") || "").trim().length > 0;
    const byIds = (el.getAttribute("aria-labelledby") || "").split(/\\s+/).filter(Boolean)
      .some((id) => { const target = document.getElementById(id); return target && named(target); });
    if (!(byLabel || byAria || byIds)) problems.push("no label: " + el.outerHTML.slice(0, 160));
    if (el.id && document.querySelectorAll("[id='" + CSS.escape(el.id) + "']").length > 1) {
      problems.push("id used more than once: " + el.id);
    }
  }
  return problems;
}"""


class ConsoleWatch:
    """Collects console errors (CSP violations, script errors, failed loads) and server errors of a page.

    A page's own HTTP status (400 for a form with errors, 403, 404) is part of what the tests assert,
    so the "Failed to load resource" line Chromium logs for a navigation is not counted; a 5xx page is.
    """

    def __init__(self, page: Page) -> None:
        self.problems: list[str] = []
        self._navigations: set[str] = set()
        page.on("request", self._request)
        page.on("response", self._response)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught script error: {error}"))

    def _request(self, request: Request) -> None:
        if request.is_navigation_request():
            self._navigations.add(request.url)

    def _response(self, response: Response) -> None:
        if response.status >= 500:
            self.problems.append(f"server error {response.status} for {response.url}")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        url = str(message.location.get("url", ""))
        if message.text.startswith("Failed to load resource") and url in self._navigations:
            return
        self.problems.append(f"console error: {message.text} ({url})")

    def assert_clean(self) -> None:
        assert not self.problems, "\n".join(self.problems)


def assert_labelled(page: Page) -> None:
    """Every <input>, <select> and <textarea> on the page has a label that names it."""
    problems: list[str] = page.evaluate(_LABEL_PROBLEMS)
    assert not problems, f"{page.url}:\n" + "\n".join(problems)


def assert_one_h1(page: Page) -> None:
    headings = page.locator("h1").all_inner_texts()
    assert len(headings) == 1, f"{page.url} has {len(headings)} h1 headings: {headings}"


def check_page(page: Page) -> None:
    """The checks every visited page must pass."""
    assert_one_h1(page)
    assert_labelled(page)


def page_language(page: Page) -> str:
    return page.locator("html").get_attribute("lang") or ""


def origin(page: Page) -> str:
    parts = urlsplit(page.url)
    return f"{parts.scheme}://{parts.netloc}"


def screenshot_folder() -> Path:
    """``$ALLMENDE_SCREENSHOTS``, or build/screenshots in the repository."""
    configured = os.environ.get(SCREENSHOTS_ENV)
    return Path(configured) if configured else DEFAULT_SCREENSHOTS


def shoot(page: Page, name: str, lang: str) -> Path:
    """Write a full-page PNG of ``page`` to ``<folder>/<lang>/<name>.png`` for review."""
    assert page_language(page) == lang, f"{name}: the page is in {page_language(page)!r}, not {lang!r}"
    path = screenshot_folder() / lang / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


def switch_language(page: Page, lang: str) -> None:
    """Show the current page in ``lang`` (via /language, which also stores the user's choice)."""
    parts = urlsplit(page.url)
    here = parts.path + (f"?{parts.query}" if parts.query else "")
    page.goto(f"{origin(page)}/language?lang={lang}&next={quote(here, safe='')}")
    expect(page.locator("html")).to_have_attribute("lang", lang)


def shoot_both(page: Page, name: str) -> None:
    """Screenshots of the current page in German and English; the page ends in its first language."""
    first = page_language(page)
    shoot(page, name, first)
    other = "en" if first == "de" else "de"
    switch_language(page, other)
    check_page(page)
    shoot(page, name, other)
    switch_language(page, first)


def set_up(
    page: Page,
    node: ServedNode,
    *,
    language: str = "en",
    username: str = "olga",
    display_name: str = "Olga Owner",
) -> None:
    """Create the node's first owner through /setup (language-neutral locators); ends signed in."""
    page.goto(f"{node.url}/setup")
    page.locator("#setup_code").fill(node.setup_code())
    page.locator("#language").select_option(language)
    page.locator("#display_name").fill(display_name)
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(f"{node.url}/")
    expect(page.locator("html")).to_have_attribute("lang", language)


def log_in(page: Page, node: ServedNode, username: str = "olga", *, language: str = "en") -> None:
    """Sign in through /login and show the pages in ``language``."""
    page.goto(f"{node.url}/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(f"{node.url}/")
    if page_language(page) != language:
        switch_language(page, language)


def main_text(page: Page) -> str:
    """The visible text of <main>, whitespace collapsed."""
    return re.sub(r"\s+", " ", page.locator("main").inner_text())


def reload_until_visible(page: Page, locator: Locator, timeout: float = 15.0) -> None:
    """Reload ``page`` until ``locator`` shows (for parts of a page that HTMX does not update)."""
    deadline = time.monotonic() + timeout
    while not locator.is_visible():
        assert time.monotonic() < deadline, f"not shown on {page.url} within {timeout}s: {locator}"
        page.wait_for_timeout(250)
        page.reload()


def choose(page: Page, name: str, value: str) -> None:
    """Pick ``value`` of the form control ``name`` in <main>, be it a <select> or a radio group."""
    control = page.locator(f'main [name="{name}"]').first
    if control.evaluate("(el) => el.tagName") == "SELECT":
        control.select_option(value)
    else:
        page.locator(f'main input[name="{name}"][value="{value}"]').check()
