"""The checks the browser tests make on every page catch what they are for (no node needed)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Route

from tests.browser.pages import ConsoleWatch, assert_labelled, assert_one_h1

pytestmark = [pytest.mark.browser]

CSP = "default-src 'self'; script-src 'self'; style-src 'self'"
GOOD = """<!doctype html><html lang="en"><body><main><h1>Form</h1>
<form><label for="a">A</label><input id="a" name="a"><input type="hidden" name="t" value="x">
<select aria-label="B" name="b"><option>1</option></select>
<p id="c-label">C</p><textarea aria-labelledby="c-label" name="c"></textarea>
<button type="submit">Send</button></form></main></body></html>"""


@pytest.fixture
def bare_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    yield context.new_page()
    context.close()


def serve(page: Page, body: str, status: int = 200) -> None:
    """Answer every request of ``page`` on http://site.test with ``body`` (404 for anything else)."""

    def answer(route: Route) -> None:
        if route.request.url.rstrip("/") == "http://site.test/page":
            headers = {"content-type": "text/html", "content-security-policy": CSP}
            route.fulfill(status=status, body=body, headers=headers)
        else:
            route.fulfill(status=404, body="")

    page.route("http://site.test/**", answer)
    page.goto("http://site.test/page")


def test_a_page_with_labelled_fields_and_one_heading_passes(bare_page: Page) -> None:
    watch = ConsoleWatch(bare_page)
    serve(bare_page, GOOD, status=400)  # a page's own status is the test's business, not a console error
    assert_labelled(bare_page)
    assert_one_h1(bare_page)
    watch.assert_clean()


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ('<main><h1>x</h1><input name="a"></main>', "no label"),
        ('<main><h1>x</h1><label for="a"> </label><input id="a" name="a"></main>', "no label"),
        ('<main><h2 id="a">x</h2><label for="a">A</label><input id="a" name="a"></main>', "more than once"),
    ],
    ids=["no label", "empty label", "id used twice"],
)
def test_a_field_without_a_working_label_is_found(bare_page: Page, body: str, problem: str) -> None:
    serve(bare_page, body)
    with pytest.raises(AssertionError, match=problem):
        assert_labelled(bare_page)


def test_two_or_no_h1_are_found(bare_page: Page) -> None:
    serve(bare_page, "<h1>a</h1><h1>b</h1>")
    with pytest.raises(AssertionError, match="2 h1"):
        assert_one_h1(bare_page)
    serve(bare_page, "<h2>a</h2>")
    with pytest.raises(AssertionError, match="0 h1"):
        assert_one_h1(bare_page)


def test_csp_violations_and_failed_loads_are_reported(bare_page: Page) -> None:
    watch = ConsoleWatch(bare_page)
    serve(bare_page, '<h1 style="color: red">x</h1><script>1</script><img src="/missing.png" alt="">')
    bare_page.wait_for_load_state("load")
    problems = "\n".join(watch.problems)
    assert "style-src" in problems
    assert "script-src" in problems
    assert "missing.png" in problems
    with pytest.raises(AssertionError):
        watch.assert_clean()


def test_a_server_error_page_is_reported(bare_page: Page) -> None:
    watch = ConsoleWatch(bare_page)
    serve(bare_page, GOOD, status=500)
    assert any("server error 500" in problem for problem in watch.problems)
