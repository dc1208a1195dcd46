"""Discussions in a real browser on two live nodes: a topic opened on one node, read and answered from
the other (the post signed and delivered through the outbox), then hidden by the host's owner."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PageFactory
from tests.browser.nodes import served_nodes
from tests.browser.pages import check_page, set_up, shoot_both

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TITLE = "Predictive maintenance for small machine shops"


def test_a_topic_is_answered_from_another_node_and_moderated(new_page: PageFactory, tmp_path: Path) -> None:
    with served_nodes(tmp_path, "Kompetenzzentrum", "Feinteile KG") as (host, author):
        h = new_page("en")
        set_up(h, host, username="olga", display_name="Olga Owner")
        h.goto(f"{host.url}/discussions")
        check_page(h)
        h.get_by_label("Title").fill(TITLE)
        h.get_by_label("What the topic is for").fill("Which sensors pay off first?")
        h.get_by_role("button", name="Open the topic").click()
        expect(h.get_by_role("status")).to_contain_text("The topic is open.")
        expect(h.locator("h1")).to_have_text(TITLE)
        topic_url = h.url.split("?")[0]
        h.get_by_label("Your post").fill("We start with **spindle current**.")
        h.get_by_role("button", name="Publish the post").click()
        expect(h.get_by_role("status")).to_contain_text("Your post was added.")
        expect(h.locator("main strong")).to_have_text("spindle current")
        check_page(h)

        a = new_page("en")
        set_up(a, author, username="carl", display_name="Carl Weber")
        a.goto(f"{author.url}/discussions")
        a.get_by_label("Address of the topic").fill(topic_url)
        a.get_by_role("button", name="Read the topic").click()
        expect(a.locator("h1")).to_have_text(TITLE)
        expect(a.locator("main .badge.ok")).to_have_text("signature checked")
        a.get_by_role("link", name="Reply #1").click()
        expect(a.locator("#reply-title")).to_have_text("Reply to #1 by Olga Owner")
        a.get_by_label("Your post").fill("Vibration sensors paid off for us within a year.")
        a.get_by_role("button", name="Publish the post").click()
        expect(a.get_by_role("status")).to_contain_text("Your post was delivered to the hosting node.")
        expect(a.locator("article#post-2")).to_contain_text("in reply to #1")
        check_page(a)
        shoot_both(a, "discussion-remote-thread")

        h.goto(topic_url)
        expect(h.locator("article#post-2")).to_contain_text("Vibration sensors paid off")
        h.get_by_role("link", name="Hide #2").click()
        check_page(h)
        h.get_by_label("Reason").fill("Please post offers in the market instead.")
        h.get_by_role("button", name="Hide", exact=True).click()
        expect(h.get_by_role("status")).to_contain_text("The post is hidden.")
        expect(h.locator("article#post-2")).to_contain_text("Hidden by the moderator: Please post offers")
        shoot_both(h, "discussion-thread-moderated")
