"""First steps in a real browser: set-up, log-in and log-out, the language switch, the keyboard."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import LOCALES, VIEWPORT, PageFactory
from tests.browser.nodes import ServedNode, served_nodes
from tests.browser.pages import PASSWORD, ConsoleWatch, check_page, log_in, set_up, shoot, shoot_both

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def node(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedNode]:
    """A served node whose owner "olga" was set up through the browser."""
    with served_nodes(tmp_path_factory.mktemp("first-steps"), "Maschinenbau Muster GmbH") as (served,):
        context = browser.new_context(locale=LOCALES["en"], viewport=VIEWPORT)
        page = context.new_page()
        watch = ConsoleWatch(page)
        set_up(page, served)
        context.close()
        watch.assert_clean()
        yield served


def test_set_up_in_german_shows_a_wrong_code_at_its_field_then_opens_the_dashboard(
    new_page: PageFactory, tmp_path: Path
) -> None:
    with served_nodes(tmp_path, "Feinteile KG") as (fresh,):
        page = new_page("de")
        page.goto(f"{fresh.url}/")
        expect(page).to_have_url(f"{fresh.url}/setup")
        expect(page.get_by_role("heading", level=1)).to_have_text("Diesen Knoten einrichten")
        check_page(page)
        shoot_both(page, "setup")

        code = page.get_by_label("Einrichtungscode")
        code.fill("000000-000000-000000")
        expect(page.get_by_label("Name des Unternehmens")).to_have_value("Feinteile KG")
        page.get_by_role("combobox", name="Sprache").select_option("de")
        page.get_by_label("Ihr Name").fill("Frieda Feinteil")
        page.get_by_label("Benutzername").fill("frieda")
        page.get_by_label("Passwort").fill(PASSWORD)
        page.get_by_role("button", name="Einrichten").click()

        expect(code).to_have_attribute("aria-invalid", "true")
        field_error = page.locator(".field", has=code).locator(".error")
        expect(field_error).to_have_text("Fehler: Das ist nicht der Einrichtungscode dieses Knotens.")
        expect(code).to_have_attribute("aria-describedby", re.compile(r"\bsetup_code-error\b"))
        expect(page.get_by_role("alert")).to_contain_text("Bitte korrigieren Sie die markierten Felder.")
        expect(code).to_have_value("000000-000000-000000")
        expect(page.get_by_label("Ihr Name")).to_have_value("Frieda Feinteil")
        expect(page.get_by_label("Benutzername")).to_have_value("frieda")
        expect(page.get_by_label("Passwort")).to_have_value("")
        check_page(page)
        shoot(page, "setup-error", "de")

        code.fill(fresh.setup_code())
        page.get_by_label("Passwort").fill(PASSWORD)
        page.get_by_role("button", name="Einrichten").click()

        expect(page).to_have_url(f"{fresh.url}/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Übersicht")
        expect(page.get_by_text("Angemeldet als Frieda Feinteil")).to_be_visible()
        check_page(page)
        assert not (fresh.data_dir / "setup-code").exists()
        page.goto(f"{fresh.url}/setup")
        expect(page).to_have_url(re.compile(r"/$"))  # set-up is over; signed in, so the dashboard


def test_log_out_and_log_in_again(node: ServedNode, new_page: PageFactory) -> None:
    page = new_page("en")
    page.goto(f"{node.url}/")
    expect(page).to_have_url(f"{node.url}/login?next=%2F")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    check_page(page)
    shoot_both(page, "login")

    page.get_by_label("User name").fill("olga")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("User name or password is wrong.")
    expect(page.get_by_label("User name")).to_have_value("olga")
    expect(page.get_by_label("Password")).to_have_value("")
    check_page(page)

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{node.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(page.get_by_text("Signed in as Olga Owner")).to_be_visible()
    check_page(page)
    shoot_both(page, "dashboard")

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{node.url}/login")
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    page.goto(f"{node.url}/")
    expect(page).to_have_url(f"{node.url}/login?next=%2F")


def test_the_language_switch_keeps_the_page_and_the_users_choice(
    node: ServedNode, new_page: PageFactory
) -> None:
    page = new_page("en")
    page.goto(f"{node.url}/login")
    page.get_by_role("button", name="Deutsch").click()
    expect(page).to_have_url(f"{node.url}/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("Anmelden")
    expect(page.locator("html")).to_have_attribute("lang", "de")

    page.get_by_label("Benutzername").fill("olga")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Übersicht")
    page.get_by_role("button", name="English").click()
    expect(page).to_have_url(f"{node.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    check_page(page)

    # The choice is the user's: a browser asking for German shows the user's English after log-in.
    other = new_page("de")
    other.goto(f"{node.url}/login")
    expect(other.get_by_role("heading", level=1)).to_have_text("Anmelden")
    other.get_by_label("Benutzername").fill("olga")
    other.get_by_label("Passwort").fill(PASSWORD)
    other.get_by_role("button", name="Anmelden").click()
    expect(other.get_by_role("heading", level=1)).to_have_text("Dashboard")


def test_tab_reaches_the_skip_link_first_and_it_moves_the_focus_to_main(
    node: ServedNode, new_page: PageFactory
) -> None:
    page = new_page("de")
    log_in(page, node, language="de")
    page.goto(f"{node.url}/")
    skip = page.get_by_role("link", name="Zum Inhalt springen")
    expect(skip).not_to_be_in_viewport()

    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    expect(page).to_have_url(f"{node.url}/#main")
    page.keyboard.press("Tab")  # the next stop is inside the page's content, past header and navigation
    assert page.evaluate("() => document.querySelector('main').contains(document.activeElement)")
