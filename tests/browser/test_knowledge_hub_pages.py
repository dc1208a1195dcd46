"""The knowledge hub in a real browser on a live node: the owner seeds the programmes and demo items,
finds a case by meaning, opens it, and gets matchmaking for the demo need with the company profile
pre-filled from the node's settings and eligible programmes first; then publishes an event through its form
(an error shown at its field first)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PageFactory
from tests.browser.nodes import served_nodes
from tests.browser.pages import check_page, set_up, shoot_both

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PROFILE = {"sector": "Kunststoffverarbeitung", "size_class": "small", "region": "Sachsen"}
NEED = "Wir wollen unsere Spritzgussmaschinen vernetzen und Ausfälle vorhersagen, 40 Mitarbeiter"


def test_search_item_and_matchmaking(new_page: PageFactory, tmp_path: Path) -> None:
    with served_nodes(tmp_path, "Kompetenzzentrum", settings={"Kompetenzzentrum": PROFILE}) as (centre,):
        seeded = subprocess.run(
            [
                sys.executable,
                "-m",
                "allmende.cli",
                "knowledge",
                "seed",
                "--demo",
                "--data-dir",
                str(centre.data_dir),
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert seeded.returncode == 0, seeded.stderr.decode(errors="replace")
        page = new_page("en")
        set_up(page, centre)

        page.goto(f"{centre.url}/hub")
        check_page(page)
        page.get_by_role("searchbox", name="Search for").fill(
            "predict failures of injection moulding machines"
        )
        page.get_by_role("button", name="Search", exact=True).click()
        first = page.locator("main article h2 a").first
        expect(first).to_contain_text("Spritzgießmaschinen")
        shoot_both(page, "knowledge-search")
        first.click()
        expect(page.get_by_role("heading", level=2)).to_contain_text("Good-practice criteria: 7 of 7 met")
        check_page(page)
        shoot_both(page, "knowledge-case")

        page.goto(f"{centre.url}/hub/match")
        expect(page.get_by_role("textbox", name="Sector")).to_have_value("Kunststoffverarbeitung")
        expect(page.get_by_role("textbox", name="Region")).to_have_value("Sachsen")
        page.get_by_role("textbox", name="Your need").fill(NEED)
        page.get_by_role("spinbutton", name="Employees").fill("40")
        page.get_by_role("button", name="Find matches").click()
        programmes = page.locator("section", has=page.get_by_role("heading", name="Funding programmes"))
        expect(programmes.locator("article").first).to_contain_text("eligible")
        expect(programmes.locator("article").first).not_to_contain_text("not eligible")
        expect(page.get_by_role("heading", name="Cases of similar companies")).to_be_visible()
        check_page(page)
        shoot_both(page, "knowledge-match")

        # publishing: the event form, an error at its field, then the event in the node's list
        page.goto(f"{centre.url}/hub")
        page.get_by_role("link", name="Publish knowledge").click()
        page.get_by_role("link", name="Event").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Publish an event")
        check_page(page)
        page.get_by_role("textbox", name="Title").fill("Sprechstunde Energie")
        page.get_by_role("textbox", name="Summary").fill("Fragen zum Energiemonitoring im Betrieb")
        page.get_by_role("textbox", name="Topic").fill("Energie")
        page.get_by_label("Starts").fill("2026-12-03T17:00")
        page.get_by_role("button", name="Publish").click()
        expect(page.get_by_role("alert")).to_contain_text("Give a place or tick online.")
        expect(page.get_by_role("textbox", name="Place")).to_have_attribute("aria-invalid", "true")
        check_page(page)
        page.get_by_role("checkbox", name="Online").check()
        page.get_by_role("button", name="Publish").click()
        expect(page.get_by_role("status")).to_contain_text("The item is published")
        expect(page.get_by_role("table")).to_contain_text("Sprechstunde Energie")
        check_page(page)
        shoot_both(page, "knowledge-publish")
