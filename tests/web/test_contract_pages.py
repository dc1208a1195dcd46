"""Contracts in the browser: negotiations with review (agree, counter-offer, decline) and agreements."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from tests.conftest import NodeFactory, RunningNode
from tests.support.waiting import eventually
from tests.support.web import logged_in

pytestmark = pytest.mark.anyio


async def publish(
    provider: RunningNode, tmp_path: Path, template: str = "research-only", **extra: Any
) -> str:
    """A CSV file published by ``provider``; the offer's id."""
    data = tmp_path / "spindle-vibration.csv"
    data.write_text("timestamp,rms_mm_s\n2026-01-01T00:00:00Z,1.2\n", encoding="utf-8")
    response = await provider.api.post(
        "/api/v1/assets",
        json={
            "path": str(data),
            "title": "Spindle vibration",
            "description": "Vibration of spindle 3",
            "template": template,
            **extra,
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["offer"]["id"])


async def negotiation(node: RunningNode, negotiation_id: str) -> dict[str, Any]:
    response = await node.api.get(f"/api/v1/negotiations/{negotiation_id}")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def requested_for_review(
    provider: RunningNode, consumer: RunningNode, tmp_path: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A request waiting for the provider's review: (consumer's view, provider's view)."""
    offer_id = await publish(provider, tmp_path, review_required=True)
    started = await consumer.api.post(
        "/api/v1/negotiations", json={"address": provider.node.base_url, "offer_id": offer_id}
    )
    assert started.status_code == 201, started.text

    async def queue() -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = (await provider.api.get("/api/v1/negotiations/review-queue")).json()
        return result

    waiting = await eventually(queue, lambda q: len(q) == 1)
    return started.json(), waiting[0]


def url(negotiation_id: str, leaf: str = "") -> str:
    return f"/negotiations/{quote(negotiation_id, safe='')}" + (f"/{leaf}" if leaf else "")


async def test_the_provider_reviews_and_declines_with_a_reason_the_consumer_reads(
    make_node: NodeFactory, tmp_path: Path
) -> None:
    provider = await make_node("Maschinenbau Muster GmbH", 8450)
    consumer = await make_node("Feinteile KG", 8451)
    theirs, ours = await requested_for_review(provider, consumer, tmp_path)
    owner = await logged_in(provider, "olga", "owner", "en")

    listing = await owner.get("/negotiations")
    queue = listing.text.split("Waiting for your decision</h2>")[1].split("<h2>")[0]
    assert "Spindle vibration" in queue and "waiting for you" in queue

    page = await owner.get(url(ours["id"]))
    assert page.status_code == 200
    assert "You review every request for this offer." in page.text
    assert (
        ">Agree</button>" in page.text and ">Counter-offer</a>" in page.text and ">Decline</a>" in page.text
    )
    assert 'hx-trigger="every 2s"' in page.text and ">Refresh</a>" in page.text
    assert "only for the purpose" in page.text  # the terms on the table in plain language

    confirm = await owner.get(url(ours["id"], "end"))
    assert confirm.status_code == 200 and "<h1>Decline the request</h1>" in confirm.text
    empty = await owner.post(url(ours["id"], "end"), {"reason": "  "})
    assert empty.status_code == 400
    assert 'id="reason-error"' in empty.text and "Give a reason; the other node is told it." in empty.text
    assert (await negotiation(provider, ours["id"]))["state"] == "REQUESTED"

    declined = await owner.post(
        url(ours["id"], "end"), {"reason": "We share spindle data with partners only."}
    )
    assert declined.status_code == 303
    assert declined.headers["location"] == url(ours["id"]) + "?notice=declined"
    after = await owner.get(declined.headers["location"])
    assert "You declined the request." in after.text and "terminated" in after.text
    assert ">Agree</button>" not in after.text and 'hx-trigger="every 2s"' not in after.text

    await eventually(lambda: negotiation(consumer, theirs["id"]), lambda n: n["state"] == "TERMINATED")
    reader = await logged_in(consumer, "gerd", "read", "de")
    seen = await reader.get(url(theirs["id"]))
    assert "Vom Anbieter beendet. Grund: We share spindle data with partners only." in seen.text
    assert "beendet" in seen.text and "Verlauf" in seen.text
    for browser in (owner, reader):
        await browser.aclose()


async def test_a_counter_offer_shows_its_text_and_the_consumer_accepts_it(
    make_node: NodeFactory, tmp_path: Path
) -> None:
    provider = await make_node("Maschinenbau Muster GmbH", 8452)
    consumer = await make_node("Feinteile KG", 8453)
    theirs, ours = await requested_for_review(provider, consumer, tmp_path)
    owner = await logged_in(provider, "olga", "owner", "de")

    form = await owner.get(url(ours["id"], "counter-offer"))
    assert form.status_code == 200
    assert 'id="template-research-only" name="template" value="research-only" checked' in form.text
    assert "Ihr Gegenangebot in einfacher Sprache" in form.text

    fields = {"template": "time-limited", "param-time-limited-duration": "drei Monate"}
    wrong = await owner.post(url(ours["id"], "counter-offer"), {**fields, "action": "send"})
    assert wrong.status_code == 400
    assert 'id="param-time-limited-duration-error"' in wrong.text and 'value="drei Monate"' in wrong.text
    assert (await negotiation(provider, ours["id"]))["state"] == "REQUESTED"

    not_json = await owner.post(url(ours["id"], "counter-offer"), {"template": "odrl", "odrl": "{use: all}"})
    assert not_json.status_code == 400
    assert 'id="odrl-error"' in not_json.text and "Das ist kein gültiges JSON" in not_json.text
    assert "{use: all}</textarea>" in not_json.text

    fields["param-time-limited-duration"] = "P3M"
    preview = await owner.post(url(ours["id"], "counter-offer/preview"), fields)
    assert preview.status_code == 200 and "für 3 Monate ab Vertragsschluss" in preview.text
    assert "<html" not in preview.text
    shown = await owner.post(url(ours["id"], "counter-offer"), {**fields, "action": "preview"})
    assert shown.status_code == 200 and "für 3 Monate ab Vertragsschluss" in shown.text
    sent = await owner.post(url(ours["id"], "counter-offer"), {**fields, "action": "send"})
    assert sent.status_code == 303 and sent.headers["location"].endswith("?notice=countered")

    await eventually(lambda: negotiation(consumer, theirs["id"]), lambda n: n["state"] == "OFFERED")
    buyer = await logged_in(consumer, "gerd", "member", "en")
    page = await buyer.get(url(theirs["id"]))
    assert "The provider answered with other terms." in page.text
    assert "for 3 months after the agreement" in page.text
    assert ">Accept the offer</button>" in page.text and ">End the negotiation</a>" in page.text
    accepted = await buyer.post(url(theirs["id"], "accept"), {})
    assert accepted.status_code == 303 and accepted.headers["location"].endswith("?notice=accepted")

    final = await eventually(lambda: negotiation(consumer, theirs["id"]), lambda n: n["state"] == "FINALIZED")
    agreement = await buyer.get(f"/agreements/{quote(final['agreementId'], safe='')}")
    assert agreement.status_code == 200
    assert "What you may do, until when" in agreement.text
    assert re.search(r"use the data — until \d", agreement.text)
    assert "no end date" not in agreement.text
    # the consumer gets the data through the transfer pages
    assert 'action="/transfers/start"' in agreement.text
    assert f'name="agreement_id" value="{final["agreementId"]}"' in agreement.text
    assert 'value="HttpData-PULL" checked' in agreement.text and 'value="HttpData-PUSH"' in agreement.text
    for browser in (owner, buyer):
        await browser.aclose()


async def test_agree_then_end_the_agreement_with_a_reason(make_node: NodeFactory, tmp_path: Path) -> None:
    provider = await make_node("Maschinenbau Muster GmbH", 8454)
    consumer = await make_node("Feinteile KG", 8455)
    _theirs, ours = await requested_for_review(provider, consumer, tmp_path)
    owner = await logged_in(provider, "olga", "owner", "en")
    await owner.get(url(ours["id"]))
    agreed = await owner.post(url(ours["id"], "agree"), {})
    assert agreed.status_code == 303 and agreed.headers["location"].endswith("?notice=agreed")
    # agreeing twice is refused with a message, not an error page
    again = await owner.post(url(ours["id"], "agree"), {})
    assert again.status_code == 409
    assert "nothing was changed" in again.text and "may have moved on meanwhile" in again.text

    final = await eventually(lambda: negotiation(provider, ours["id"]), lambda n: n["state"] == "FINALIZED")
    listing = await owner.get("/agreements")
    assert "Spindle vibration" in listing.text and "in force" in listing.text
    agreement_url = f"/agreements/{quote(final['agreementId'], safe='')}"
    page = await owner.get(agreement_url)
    assert "only for research" in page.text and "no end date" in page.text
    assert ">End the agreement</a>" in page.text and "/transfers/start" not in page.text

    empty = await owner.post(agreement_url + "/end", {"reason": ""})
    assert empty.status_code == 400 and 'id="reason-error"' in empty.text
    ended = await owner.post(agreement_url + "/end", {"reason": "Contract with the partner cancelled."})
    assert ended.status_code == 303
    after = await owner.get(ended.headers["location"])
    assert "The agreement was ended." in after.text
    assert "Contract with the partner cancelled." in after.text and ">End the agreement</a>" not in after.text
    stored = (await provider.api.get(f"/api/v1/agreements/{final['agreementId']}")).json()
    assert stored["terminationReason"] == "Contract with the partner cancelled."
    await owner.aclose()


async def test_read_only_users_see_no_buttons_and_cannot_post(make_node: NodeFactory, tmp_path: Path) -> None:
    provider = await make_node("Maschinenbau Muster GmbH", 8456)
    consumer = await make_node("Feinteile KG", 8457)
    _, ours = await requested_for_review(provider, consumer, tmp_path)
    reader = await logged_in(provider, "rita", "read", "en")
    page = await reader.get(url(ours["id"]))
    assert page.status_code == 200
    for button in (">Agree</button>", ">Counter-offer</a>", ">Decline</a>"):
        assert button not in page.text
    assert (await reader.post(url(ours["id"], "agree"), {})).status_code == 403
    assert (await reader.post(url(ours["id"], "end"), {"reason": "no"})).status_code == 403
    assert (await reader.get(url(ours["id"], "end"))).status_code == 403
    assert (await reader.get(url(ours["id"], "counter-offer"))).status_code == 403

    owner = await logged_in(provider, "olga", "owner", "en")
    forged = await owner.client.post(url(ours["id"], "agree"), data={"csrf_token": "not-the-token"})
    assert forged.status_code == 403
    state = await negotiation(provider, ours["id"])
    assert state["state"] == "REQUESTED" and state["reviewPending"]
    for browser in (reader, owner):
        await browser.aclose()


async def test_the_list_filters_and_the_live_part_polls_until_final(
    make_node: NodeFactory, tmp_path: Path
) -> None:
    provider = await make_node("Maschinenbau Muster GmbH", 8458)
    consumer = await make_node("Feinteile KG", 8459)
    _theirs, ours = await requested_for_review(provider, consumer, tmp_path)
    owner = await logged_in(provider, "olga", "owner", "de")

    as_consumer = await owner.get("/negotiations", params={"role": "consumer"})
    assert "Keine Verhandlung passt." in as_consumer.text
    waiting = await owner.get(
        "/negotiations", params={"role": "provider", "review": "1", "state": "requested"}
    )
    assert waiting.text.count(f'href="{url(ours["id"])}"') == 2  # in the review queue and in the list
    by_offer = await owner.get("/negotiations", params={"offer": ours["offerId"]})
    assert "Nur Verhandlungen über das Angebot" in by_offer.text
    assert "Keine Verhandlung passt." not in by_offer.text
    other_offer = await owner.get("/negotiations", params={"offer": "urn:uuid:other"})
    assert "Keine Verhandlung passt." in other_offer.text
    second_page = await owner.get("/negotiations", params={"page": "2", "role": "provider"})
    assert "Keine Verhandlung passt." in second_page.text
    assert 'href="/negotiations?role=provider&amp;page=1"' in second_page.text

    live = await owner.get(url(ours["id"], "live"))
    assert live.status_code == 200 and "<html" not in live.text
    version = re.search(r"/live\?v=([0-9a-f]+)", live.text)
    assert version is not None
    unchanged = await owner.get(url(ours["id"], "live"), params={"v": version.group(1)})
    assert unchanged.status_code == 204

    await owner.post(url(ours["id"], "agree"), {})
    await eventually(lambda: negotiation(provider, ours["id"]), lambda n: n["state"] == "FINALIZED")
    changed = await owner.get(url(ours["id"], "live"), params={"v": version.group(1)})
    assert changed.status_code == 200
    assert "abgeschlossen" in changed.text and "hx-trigger" not in changed.text
    assert "Vertrag öffnen" in changed.text

    missing = await owner.get(url("urn:uuid:nothing"))
    assert missing.status_code == 404 and "Diese Verhandlung gibt es nicht." in missing.text
    assert (await owner.get("/agreements/urn:uuid:nothing")).status_code == 404
    await owner.aclose()


async def test_the_consumer_ends_a_negotiation_after_confirming(
    make_node: NodeFactory, tmp_path: Path
) -> None:
    provider = await make_node("Maschinenbau Muster GmbH", 8460)
    consumer = await make_node("Feinteile KG", 8461)
    theirs, ours = await requested_for_review(provider, consumer, tmp_path)
    buyer = await logged_in(consumer, "gerd", "owner", "en")

    async def provider_pid_known() -> dict[str, Any]:
        return await negotiation(consumer, theirs["id"])

    await eventually(provider_pid_known, lambda n: n["providerPid"] is not None)
    page = await buyer.get(url(theirs["id"]))
    assert ">Accept the offer</button>" not in page.text and ">End the negotiation</a>" in page.text
    confirm = await buyer.get(url(theirs["id"], "end"))
    assert "<h1>End the negotiation</h1>" in confirm.text
    ended = await buyer.post(url(theirs["id"], "end"), {"reason": "We found the data elsewhere."})
    assert ended.status_code == 303 and ended.headers["location"].endswith("?notice=terminated")
    await eventually(lambda: negotiation(provider, ours["id"]), lambda n: n["state"] == "TERMINATED")
    seller = await logged_in(provider, "olga", "owner", "en")
    seen = await seller.get(url(ours["id"]))
    assert "Ended by the consumer. Reason: We found the data elsewhere." in seen.text
    # a confirmation page for a negotiation that is over leads back to it
    over = await buyer.get(url(theirs["id"], "end"))
    assert over.status_code == 303
    for browser in (buyer, seller):
        await browser.aclose()
