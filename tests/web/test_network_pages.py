"""The network pages: applying to a directory, reviewing applications, credentials, revocation, search."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pytest
from markupsafe import escape
from sqlalchemy import select
from tests.conftest import NodeFactory, RunningNode
from tests.support.waiting import eventually
from tests.support.web import Browser, logged_in

from allmende.network import crawler
from allmende.network.records import DirectoryEntryRecord, MembershipRecord
from allmende.policy.jsonld import policy_from_json
from allmende.policy.render import render_policy
from allmende.web.routes import network_search

pytestmark = pytest.mark.anyio

COMMUNITY = "Verband Sächsischer Maschinenbauer"
_ENTRY = re.compile(r'/directory/entries/([^/"]+)/admit')
_MEMBERSHIP = re.compile(r'/memberships/([^/"]+)/refresh')


async def directory_node(make_node: NodeFactory, port: int, **settings: Any) -> RunningNode:
    return await make_node("Verband", port, directory_enabled=True, directory_name=COMMUNITY, **settings)


async def apply(member: Browser, directory: RunningNode, message: str = "") -> str:
    """Apply from the member's page; the membership's id."""
    await member.get("/memberships")
    sent = await member.post("/memberships", {"directory_url": directory.node.base_url, "message": message})
    assert sent.status_code == 303, sent.text
    page = await member.get("/memberships")
    found = _MEMBERSHIP.search(page.text)
    assert found, page.text
    return unquote(found.group(1))


async def pending_entry(owner: Browser) -> str:
    """The id of the first application waiting on the directory's page."""
    page = await owner.get("/directory")
    found = _ENTRY.search(page.text)
    assert found, page.text
    return unquote(found.group(1))


async def join(member: Browser, owner: Browser, directory: RunningNode) -> str:
    """Apply, admit and refresh through the pages; the membership's id."""
    membership_id = await apply(member, directory)
    admitted = await owner.post(f"/directory/entries/{await pending_entry(owner)}/admit")
    assert admitted.status_code == 303, admitted.text
    refreshed = await member.post(f"/memberships/{membership_id}/refresh")
    assert refreshed.status_code == 303, refreshed.text
    return membership_id


def stored(running: RunningNode, record: type[Any]) -> list[Any]:
    with running.node.db.read() as session:
        return list(session.execute(select(record)).scalars())


async def test_apply_admit_and_the_credential_on_the_members_page(make_node: NodeFactory) -> None:
    directory = await directory_node(make_node, 8610)
    member = await make_node("Feinteile KG", 8611, sector="Metal parts", region="DE-SN")
    owner = await logged_in(directory, "dora", "owner", "en")
    carl = await logged_in(member, "carl", "owner", "en")

    empty = await carl.get("/memberships")
    assert empty.status_code == 200
    assert "This node has not applied to any directory yet." in empty.text
    assert 'id="directory_url"' in empty.text and 'id="message"' in empty.text

    membership_id = await apply(carl, directory, "We make precision parts")
    waiting = await carl.get("/memberships?notice=applied")
    assert "The application was sent." in waiting.text
    assert "waiting for review" in waiting.text

    review = await owner.get("/directory")
    assert review.status_code == 200
    assert f"Directory: {escape(COMMUNITY)}" in review.text
    assert "Applications to review" in review.text
    assert "Feinteile KG" in review.text and "We make precision parts" in review.text
    assert "Metal parts" in review.text and "DE-SN" in review.text
    assert f"{directory.node.base_url}/directory/members" in review.text
    assert f"{directory.node.base_url}/directory/status-list" in review.text

    admitted = await owner.post(f"/directory/entries/{await pending_entry(owner)}/admit")
    assert admitted.status_code == 303 and admitted.headers["location"] == "/directory?notice=admitted"
    after = await owner.get(admitted.headers["location"])
    assert "The node is admitted" in after.text
    assert "No application is waiting." in after.text
    assert [e.state for e in stored(directory, DirectoryEntryRecord)] == ["admitted"]

    refreshed = await carl.post(f"/memberships/{membership_id}/refresh")
    assert refreshed.status_code == 303
    shown = await carl.get(refreshed.headers["location"])
    assert "This node is a member now and holds the membership credential." in shown.text
    assert escape(COMMUNITY) in shown.text
    assert "Valid until" in shown.text and "Credential ID" in shown.text
    assert "MembershipCredential" in shown.text and "urn:uuid:" in shown.text
    assert directory.did in shown.text
    (record,) = stored(member, MembershipRecord)
    assert record.state == "admitted" and record.credential
    await owner.aclose()
    await carl.aclose()


async def test_refusing_needs_a_reason_which_the_applicant_sees_in_german(make_node: NodeFactory) -> None:
    directory = await directory_node(make_node, 8612)
    member = await make_node("Feinteile KG", 8613)
    owner = await logged_in(directory, "dora", "owner", "de")
    carl = await logged_in(member, "carl", "owner", "de")
    membership_id = await apply(carl, directory)

    entry_id = await pending_entry(owner)
    confirm = await owner.get(f"/directory/entries/{entry_id}/refuse")
    assert confirm.status_code == 200
    assert "Antrag ablehnen" in confirm.text and 'id="reason"' in confirm.text
    blank = await owner.post(f"/directory/entries/{entry_id}/refuse", {"reason": "  "})
    assert blank.status_code == 400
    assert 'id="reason-error"' in blank.text
    assert "Geben Sie einen Grund an" in blank.text
    assert [e.state for e in stored(directory, DirectoryEntryRecord)] == ["pending"]

    refused = await owner.post(f"/directory/entries/{entry_id}/refuse", {"reason": "Kein Maschinenbau"})
    assert refused.status_code == 303
    history = await owner.get(refused.headers["location"])
    assert "Der Antrag ist abgelehnt." in history.text
    assert "Abgelehnt und widerrufen" in history.text and "Kein Maschinenbau" in history.text
    again = await owner.get(f"/directory/entries/{entry_id}/refuse")  # decided already: back to the list
    assert again.status_code == 303

    await carl.post(f"/memberships/{membership_id}/refresh")
    page = await carl.get("/memberships")
    assert "abgelehnt" in page.text and "Kein Maschinenbau" in page.text
    await owner.aclose()
    await carl.aclose()


async def test_revoking_a_membership_asks_first_and_the_member_sees_it(make_node: NodeFactory) -> None:
    directory = await directory_node(make_node, 8614)
    member = await make_node("Feinteile KG", 8615)
    owner = await logged_in(directory, "dora", "owner", "en")
    carl = await logged_in(member, "carl", "owner", "en")
    membership_id = await join(carl, owner, directory)

    members = await owner.get("/directory")
    (entry,) = stored(directory, DirectoryEntryRecord)
    assert f"/directory/entries/{quote(entry.id)}/revoke" in members.text
    confirm = await owner.get(f"/directory/entries/{entry.id}/revoke")
    assert "Revoke the membership" in confirm.text and "Feinteile KG" in confirm.text
    revoked = await owner.post(f"/directory/entries/{entry.id}/revoke", {"reason": "Left the association"})
    assert revoked.status_code == 303
    page = await owner.get(revoked.headers["location"])
    assert "The membership is revoked" in page.text
    assert "The directory has no members yet." in page.text and "Left the association" in page.text
    assert [e.state for e in stored(directory, DirectoryEntryRecord)] == ["revoked"]

    await carl.post(f"/memberships/{membership_id}/refresh")
    shown = await carl.get("/memberships")
    assert "revoked" in shown.text
    await owner.aclose()
    await carl.aclose()


async def test_the_application_form_marks_errors_and_keeps_what_was_typed(make_node: NodeFactory) -> None:
    member = await make_node("Feinteile KG", 8616)
    carl = await logged_in(member, "carl", "owner", "en")
    await carl.get("/memberships")

    wrong = await carl.post("/memberships", {"directory_url": "verband.example", "message": "Hello there"})
    assert wrong.status_code == 400
    assert 'id="directory_url-error"' in wrong.text and 'aria-invalid="true"' in wrong.text
    assert 'value="verband.example"' in wrong.text and "Hello there</textarea>" in wrong.text

    too_long = await carl.post(
        "/memberships", {"directory_url": "http://127.0.0.1:8617", "message": "x" * 1001}
    )
    assert too_long.status_code == 400 and 'id="message-error"' in too_long.text

    unreachable = await carl.post("/memberships", {"directory_url": "http://127.0.0.1:8617", "message": "Hi"})
    assert unreachable.status_code == 502
    assert 'id="directory_url-error"' in unreachable.text
    assert "The application was not accepted" in unreachable.text
    assert 'value="http://127.0.0.1:8617"' in unreachable.text
    assert stored(member, MembershipRecord) == []
    await carl.aclose()


async def test_read_only_users_change_nothing_and_forms_need_the_token(
    make_node: NodeFactory,
) -> None:
    directory = await directory_node(make_node, 8618)
    member = await make_node("Feinteile KG", 8619)
    carl = await logged_in(member, "carl", "owner", "en")
    membership_id = await apply(carl, directory)
    entry_id = stored(directory, DirectoryEntryRecord)[0].id

    reader = await logged_in(directory, "rita", "read", "en")
    page = await reader.get("/directory")
    assert page.status_code == 200 and "Feinteile KG" in page.text
    assert "/admit" not in page.text and "/refuse" not in page.text
    for path in (f"/directory/entries/{entry_id}/admit", f"/directory/entries/{entry_id}/refuse"):
        denied = await reader.post(path, {"reason": "no"})
        assert denied.status_code == 403, path
    assert (await reader.get(f"/directory/entries/{entry_id}/refuse")).status_code == 403
    search = await reader.get("/search")
    assert search.status_code == 200 and "/search/crawl" not in search.text
    assert (await reader.post("/search/crawl")).status_code == 403

    member_reader = await logged_in(member, "rolf", "read", "en")
    mine = await member_reader.get("/memberships")
    assert "/refresh" not in mine.text and 'id="directory_url"' not in mine.text
    assert "Only an owner of this node may apply to join a directory." in mine.text
    assert (
        await member_reader.post("/memberships", {"directory_url": "http://x.example"})
    ).status_code == 403
    assert (await member_reader.post(f"/memberships/{membership_id}/refresh")).status_code == 403

    owner = await logged_in(directory, "dora", "owner", "en")
    forged = await owner.client.post(f"/directory/entries/{entry_id}/admit", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    assert "did not come from this site" in forged.text
    assert [e.state for e in stored(directory, DirectoryEntryRecord)] == ["pending"]
    for browser in (carl, reader, member_reader, owner):
        await browser.aclose()


async def test_a_node_without_a_directory_explains_how_to_run_one(make_node: NodeFactory) -> None:
    plain = await make_node("Feinteile KG", 8620)
    owner = await logged_in(plain, "olga", "owner", "de")
    page = await owner.get("/directory")
    assert page.status_code == 200
    assert "Dieser Knoten betreibt kein Verzeichnis." in page.text and "directory_enabled" in page.text
    assert (await owner.post("/directory/entries/x/admit")).status_code == 404
    search = await owner.get("/search")
    assert "Noch nichts zu durchsuchen" in search.text
    assert 'href="/memberships"' in search.text
    await owner.aclose()


def lines(policy: dict[str, Any], language: str) -> list[str]:
    """The plain-language rules of ``policy`` as the pages escape them (heading line left out)."""
    text = render_policy(policy_from_json(policy), "de" if language == "de" else "en")
    return [str(escape(line)) for line in text.splitlines()[1:]]


async def publish(provider: RunningNode, tmp_path: Path, title: str, **extra: Any) -> dict[str, Any]:
    data = tmp_path / f"{title.replace(' ', '-')}.csv"
    data.write_text("t,value\n1,2\n", encoding="utf-8")
    response = await provider.api.post(
        "/api/v1/assets",
        json={"path": str(data), "title": title, "media_type": "text/csv", **extra},
    )
    assert response.status_code == 201, response.text
    offer: dict[str, Any] = response.json()["offer"]
    return offer


async def test_search_finds_members_offers_with_filters_paging_and_the_contract_request(
    make_node: NodeFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = await directory_node(make_node, 8621)
    provider = await make_node(
        "Maschinenbau Muster GmbH", 8622, sector="Mechanical engineering", region="DE-SN"
    )
    consumer = await make_node("Feinteile KG", 8623, sector="Metal parts", region="DE-BY")
    owner = await logged_in(directory, "dora", "owner", "en")
    paula = await logged_in(provider, "paula", "owner", "en")
    carl = await logged_in(consumer, "carl", "owner", "en")
    await join(paula, owner, directory)
    await join(carl, owner, directory)
    members_only = await publish(
        provider,
        tmp_path,
        "Spindle vibration",
        description="RMS vibration of the main spindle",
        keywords=["vibration"],
        template="members-only",
        template_params={"community": directory.did},
    )
    energy = {"description": "kWh per shift", "keywords": ["energy"], "template": "open-use"}
    await publish(provider, tmp_path, "Energy use", **energy)

    before = await carl.get("/search")
    assert "Nothing to search yet" in before.text
    assert "This node belongs to a directory" in before.text
    report = await crawler.crawl(consumer.node, full=True)
    assert report.datasets >= 2, report

    everything = await carl.get("/search")
    assert everything.status_code == 200
    assert "Spindle vibration" in everything.text and "Energy use" in everything.text
    assert "Maschinenbau Muster GmbH" in everything.text and "Mechanical engineering" in everything.text
    assert "Results 1 to 2 of 2" in everything.text
    assert '<select id="region"' in everything.text and '<option value="DE-SN"' in everything.text
    assert f'value="{members_only["id"]}"' in everything.text
    for line in lines(members_only["policy"], "en"):
        assert line in everything.text
    assert f"/browse?address={quote(provider.did)}" in everything.text

    found = await carl.get("/search", params={"q": "spindle"})
    assert "Spindle vibration" in found.text and "Energy use" not in found.text
    assert 'value="spindle"' in found.text
    by_keyword = await carl.get("/search", params={"keyword": "energy"})
    assert "Energy use" in by_keyword.text and "Spindle vibration" not in by_keyword.text
    nothing = await carl.get("/search", params={"q": "unobtainium"})
    assert "Nothing matches your search." in nothing.text
    odd = await carl.get("/search", params={"q": 'spindle" AND (', "page": "x"})
    assert odd.status_code == 200

    monkeypatch.setattr(network_search, "PAGE_SIZE", 1)
    first = await carl.get("/search")
    assert "Results 1 to 1 of 2" in first.text and "/search?page=2" in first.text
    second = await carl.get("/search?page=2")
    assert "Results 2 to 2 of 2" in second.text and "Previous results" in second.text
    monkeypatch.setattr(network_search, "PAGE_SIZE", 20)

    german = await logged_in(consumer, "gerd", "member", "de")
    deutsch = await german.get("/search", params={"q": "spindle"})
    assert "Im Netzwerk suchen" in deutsch.text and "Ergebnisse 1 bis 1 von 1" in deutsch.text
    assert '<option value="members-only">Nur für Mitglieder</option>' in deutsch.text
    for line in lines(members_only["policy"], "de"):
        assert line in deutsch.text
    members = await german.get("/search", params={"template": "members-only"})
    assert "Spindle vibration" in members.text and "Energy use" not in members.text
    assert '<option value="members-only" selected>' in members.text

    requested = await carl.post("/browse/request", {"address": provider.did, "offer_id": members_only["id"]})
    assert requested.status_code == 303, requested.text
    assert requested.headers["location"].startswith("/negotiations/")
    negotiation = requested.headers["location"].split("?")[0]
    await eventually(lambda: carl.get(negotiation), lambda page: "state-FINALIZED" in page.text)

    crawl = await carl.post("/search/crawl")
    assert crawl.status_code == 303 and crawl.headers["location"].startswith("/search?notice=")
    running = network_search._crawls.get(consumer.did)
    if running is not None:
        await running
    for browser in (owner, paula, carl, german):
        await browser.aclose()
