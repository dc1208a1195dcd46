"""A private peer benchmark in a real browser, on four live nodes: an association opens a round from the
form, three companies look it up by its address and join with their values, the association closes
joining, and each company's page follows the round by itself until it shows where the company stands,
as a chart with its own bucket marked and as a table; screenshots in German and English."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PageFactory
from tests.browser.nodes import ServedNode, served_nodes
from tests.browser.pages import check_page, main_text, set_up, shoot_both

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TITLE = "OEE 2026"
VALUES = {"Feinteile KG": ("58", "1.4"), "Dreherei Beispiel": ("71", ""), "Gießerei Muster": ("83.5", "2.2")}


def visit(page: Page, name: str) -> None:
    check_page(page)
    shoot_both(page, name)


def join(page: Page, member: ServedNode, round_url: str, oee: str, energy: str, *, shoot: bool) -> None:
    """Look the round up by its address on ``member``'s Benchmarks page and join with the values."""
    page.goto(f"{member.url}/benchmarks")
    page.get_by_label("Organiser's address or round address").fill(round_url)
    page.get_by_role("button", name="Look up the round").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Join “{TITLE}”")
    if shoot:
        visit(page, "benchmark-join")  # before typing: switching the language loads the page again
    page.get_by_label("OEE (%)").fill(oee)
    page.get_by_label("Energy per part (kWh)").fill(energy)
    page.get_by_role("button", name="Join with these values").click()
    expect(page.get_by_role("status")).to_contain_text("This node takes part in the round.")


def test_a_round_from_the_form_to_each_companys_position(new_page: PageFactory, tmp_path: Path) -> None:
    with served_nodes(tmp_path, "Verband Metall", *VALUES) as (association, *members):
        a = new_page("en")
        set_up(a, association, username="vera", display_name="Vera Verband")
        a.goto(f"{association.url}/benchmarks")
        a.get_by_role("link", name="Start a benchmark round").click()
        visit(a, "benchmark-new")  # before typing: switching the language loads the page again
        a.locator("#title").fill(TITLE)
        a.locator("#kpi1_name").fill("oee")
        a.locator("#kpi1_label").fill("OEE")
        a.locator("#kpi1_unit").fill("%")
        a.locator("#kpi1_lower").fill("0")
        a.locator("#kpi1_upper").fill("100")
        a.locator("#kpi2_name").fill("energy")
        a.locator("#kpi2_label").fill("Energy per part")
        a.locator("#kpi2_unit").fill("kWh")
        a.locator("#kpi2_lower").fill("0")
        a.locator("#kpi2_upper").fill("5")
        a.locator("#kpi2_buckets").fill("5")
        a.locator("#min_participants").fill("3")
        a.get_by_role("button", name="Open the round").click()
        expect(a.get_by_role("status")).to_contain_text("The round is open.")
        round_url = a.locator("main code.address").inner_text().strip()
        assert round_url.startswith(f"{association.url}/benchmarks/rounds/")
        round_page = a.url.split("?")[0]

        pages = []
        for index, (member, (oee, energy)) in enumerate(zip(members, VALUES.values(), strict=True)):
            page = new_page("en")
            set_up(page, member, username="mia", display_name="Mia Member", language="en")
            join(page, member, round_url, oee, energy, shoot=index == 0)
            pages.append(page)
        visit(pages[0], "benchmark-joined")

        a.goto(round_page)
        expect(a.get_by_role("main")).to_contain_text("3 of at least 3 participants have joined.")
        a.get_by_role("button", name="Close joining and start").click()
        expect(a.get_by_role("status")).to_contain_text("Joining is closed.")
        expect(a.locator("main .badge.round-released")).to_be_visible(timeout=30_000)  # HTMX reloads
        expect(a.get_by_role("heading", name="Result", exact=True)).to_be_visible()
        visit(a, "benchmark-round-released")

        for page, (oee, _energy) in zip(pages, VALUES.values(), strict=True):
            expect(page.get_by_role("heading", name="Where I stand")).to_be_visible(timeout=30_000)
            chart = page.locator("main svg[role=img]").first
            expect(chart).to_be_visible()
            expect(chart.locator("rect.received")).to_have_count(1)  # this company's bucket
            expect(chart.locator("text", has_text="you")).to_have_count(1)
            expect(page.locator("main tr.mine").first).to_contain_text("your value is here")
            assert f"Your OEE of {oee} % is in the" in main_text(page)
            assert "of the 3 participants' values" in main_text(page)
        visit(pages[0], "benchmark-standing")
        pages[1].goto(f"{members[1].url}/benchmarks")
        expect(pages[1].locator("main .badge.round-released")).to_be_visible()
        visit(pages[1], "benchmarks")
