"""The network in a real browser, on three live nodes: join a directory, search, get a members-only offer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from allmende.identity.did import did_from_url
from tests.browser.conftest import PageFactory
from tests.browser.nodes import ServedNode, served_nodes
from tests.browser.pages import check_page, choose, reload_until_visible, set_up, shoot_both

pytestmark = [pytest.mark.browser, pytest.mark.slow]

COMMUNITY = "Verband Sächsischer Maschinenbau"
TITLE = "Spindle vibration for members"
DESCRIPTION = "RMS vibration of the main spindle, shared within the association"


def visit(page: Page, name: str) -> None:
    check_page(page)
    shoot_both(page, name)


def apply_to(page: Page, member: ServedNode, directory: ServedNode, message: str) -> None:
    """Apply to ``directory`` from ``member``'s page 'My directories'."""
    page.goto(f"{member.url}/memberships")
    page.get_by_label("Address of the directory").fill(directory.url)
    page.get_by_label("Message to the directory's owner").fill(message)
    page.get_by_role("button", name="Apply", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("The application was sent.")
    expect(page.get_by_role("main")).to_contain_text("waiting for review")


def refresh_membership(page: Page, member: ServedNode) -> None:
    page.goto(f"{member.url}/memberships")
    page.get_by_role("button", name=re.compile("^Refresh")).first.click()
    expect(page.get_by_role("status")).to_contain_text("This node is a member now")
    expect(page.locator("main .badge.ok").first).to_have_text("admitted")


def test_members_join_find_a_members_only_offer_by_search_and_get_a_contract(
    new_page: PageFactory, tmp_path: Path
) -> None:
    data = tmp_path / "spindle.csv"
    data.write_text("t,rms\n" + "".join(f"{t},{t % 7}.0\n" for t in range(100)), encoding="utf-8")
    directory_settings = {"directory_enabled": True, "directory_name": COMMUNITY}
    with served_nodes(
        tmp_path,
        "Verband",
        "Maschinenbau Muster GmbH",
        "Feinteile KG",
        settings={"Verband": directory_settings},
    ) as (directory, provider, consumer):
        d = new_page("en")
        set_up(d, directory, username="dora", display_name="Dora Director")
        p = new_page("en")
        set_up(p, provider)
        c = new_page("en")
        set_up(c, consumer, username="carl", display_name="Carl Consumer")

        # Both companies apply to join the association's directory.
        c.goto(f"{consumer.url}/memberships")
        visit(c, "memberships-empty")
        apply_to(p, provider, directory, "Machine builder from Chemnitz")
        apply_to(c, consumer, directory, "We make precision parts")
        visit(c, "memberships-applied")

        # The directory's owner reviews the applications and admits both.
        d.goto(f"{directory.url}/directory")
        expect(d.get_by_role("heading", level=1)).to_contain_text(COMMUNITY)
        expect(d.get_by_role("main")).to_contain_text("We make precision parts")
        visit(d, "directory-review")
        for name in ("Maschinenbau Muster GmbH", "Feinteile KG"):
            d.get_by_role("button", name=re.compile(rf"^Admit\W+{re.escape(name)}$")).click()
            expect(d.get_by_role("status")).to_contain_text("The node is admitted")
        expect(d.get_by_role("main")).to_contain_text("No application is waiting.")
        visit(d, "directory-members")
        d.get_by_role("link", name=re.compile(r"^Revoke\W+Feinteile KG$")).click()
        visit(d, "directory-revoke")
        d.get_by_role("link", name="Cancel").click()

        # Both fetch their membership credential.
        refresh_membership(p, provider)
        refresh_membership(c, consumer)
        c.locator("main details summary").first.click()
        expect(c.locator("main details pre").first).to_contain_text("MembershipCredential")
        visit(c, "memberships-admitted")

        # The provider publishes a dataset for members of the association only.
        p.goto(f"{provider.url}/offerings/new")
        p.get_by_role("textbox", name="Title", exact=True).fill(TITLE)
        p.get_by_role("textbox", name="Description", exact=True).fill(DESCRIPTION)
        choose(p, "source_kind", "path")
        p.get_by_role("textbox", name="Path", exact=True).fill(str(data))
        choose(p, "template", "members-only")
        p.locator('[name="param-members-only-community"]').fill(did_from_url(directory.url))
        p.get_by_role("button", name="Publish", exact=True).click()
        expect(p).to_have_url(re.compile(r"/offerings(\?.*)?$"))

        # The consumer searches the network, finds it and asks for a contract in one click.
        c.goto(f"{consumer.url}/search")
        in_nav = c.get_by_role("navigation", name="Main").get_by_role("link", name="Search the network")
        expect(in_nav).to_have_attribute("aria-current", "page")
        c.get_by_role("button", name="Crawl now").click()
        result = c.get_by_role("article").filter(has_text=TITLE)
        reload_until_visible(c, result)
        c.get_by_label("Search for").fill("spindle")
        c.get_by_role("button", name="Search", exact=True).click()
        expect(result).to_contain_text(DESCRIPTION)
        expect(result).to_contain_text("Maschinenbau Muster GmbH")
        visit(c, "search")
        result.get_by_role("button", name=re.compile("^Request a contract")).click()
        expect(c).to_have_url(re.compile(r"/negotiations/[^/?]+(\?.*)?$"))
        expect(c.locator("main .badge.state-FINALIZED").first).to_be_visible(timeout=20_000)
