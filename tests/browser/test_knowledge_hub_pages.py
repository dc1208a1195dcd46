"""The knowledge hub in a real browser on a live node: the owner seeds the programmes and demo items,
finds a case by meaning, opens it, and gets matchmaking for the demo need with the company profile
pre-filled from the node's settings and eligible programmes first."""

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
