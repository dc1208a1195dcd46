"""Browse another node: its catalog with plain-language terms, one offer, the one-click contract request."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pytest
from markupsafe import escape
from tests.conftest import NodeFactory, RunningNode
from tests.support.waiting import eventually
from tests.support.web import logged_in

from allmende.policy.jsonld import policy_from_json
from allmende.policy.render import render_policy

pytestmark = pytest.mark.anyio


async def publish(
    provider: RunningNode, tmp_path: Path, template: str = "research-only", **extra: Any
) -> dict[str, Any]:
    """A CSV file published by ``provider`` through its management API; the created offer."""
    data = tmp_path / "spindle-vibration.csv"
    data.write_text("timestamp,rms_mm_s\n2026-01-01T00:00:00Z,1.2\n", encoding="utf-8")
    response = await provider.api.post(
        "/api/v1/assets",
        json={
            "path": str(data),
            "title": "Spindle vibration",
            "description": "Vibration of spindle 3, sampled at 1 kHz",
            "keywords": ["vibration", "spindle"],
            "media_type": "text/csv",
            "template": template,
            **extra,
        },
    )
    assert response.status_code == 201, response.text
    offer: dict[str, Any] = response.json()["offer"]
    return offer


def lines(policy: dict[str, Any], language: str) -> list[str]:
    """The plain-language rules of ``policy`` as the pages escape them (heading line left out)."""
    text = render_policy(policy_from_json(policy), "de" if language == "de" else "en")
    return [str(escape(line)) for line in text.splitlines()[1:]]


async def test_the_catalog_shows_each_offer_with_its_terms_in_english_and_german(
    make_node: NodeFactory, tmp_path: Path
) -> None:
    provider = await make_node("Maschinenbau Muster GmbH", 8440)
    consumer = await make_node("Feinteile KG", 8441)
    offer = await publish(provider, tmp_path)

    english = await logged_in(consumer, "olga", "owner", "en")
    page = await english.get("/browse", params={"address": provider.node.base_url})
    assert page.status_code == 200, page.text
    for shown in ("Spindle vibration", "Vibration of spindle 3, sampled at 1 kHz", "spindle", "text/csv"):
        assert shown in page.text
    assert "Maschinenbau Muster GmbH" in page.text
    assert "Datasets offered to you: 1" in page.text
    for line in lines(offer["policy"], "en"):
        assert line in page.text
    assert f"offer={quote(offer['id'], safe='')}" in page.text

    german = await logged_in(consumer, "gerd", "member", "de")
    by_did = await german.get("/browse", params={"address": provider.did})
    assert by_did.status_code == 200
    assert "Angebotene Datensätze: 1" in by_did.text
    for line in lines(offer["policy"], "de"):
        assert line in by_did.text
    await english.aclose()
    await german.aclose()


async def test_a_bad_address_is_marked_next_to_the_field_and_kept(make_node: NodeFactory) -> None:
    consumer = await make_node("Feinteile KG", 8442)
    browser = await logged_in(consumer, "olga", "owner", "en")
    empty = await browser.get("/browse")
    assert empty.status_code == 200 and 'id="address"' in empty.text and "address-error" not in empty.text

    wrong = await browser.get("/browse", params={"address": "ftp://example.com"})
    assert wrong.status_code == 400
    assert 'id="address-error"' in wrong.text and 'aria-invalid="true"' in wrong.text
    assert 'value="ftp://example.com"' in wrong.text

    unreachable = await browser.get("/browse", params={"address": "http://127.0.0.1:8449"})
    assert unreachable.status_code == 502
    assert 'id="address-error"' in unreachable.text
    assert "No catalog could be read from this address" in unreachable.text
    assert 'value="http://127.0.0.1:8449"' in unreachable.text

    german = await logged_in(consumer, "gerd", "owner", "de")
    blank = await german.get("/browse", params={"address": "  "})
    assert blank.status_code == 400
    assert "Geben Sie die Adresse des anderen Knotens ein." in blank.text
    await browser.aclose()
    await german.aclose()


async def test_one_click_on_an_offer_gives_an_agreement_in_plain_language(
    make_node: NodeFactory, tmp_path: Path
) -> None:
    provider = await make_node("Maschinenbau Muster GmbH", 8443)
    consumer = await make_node("Feinteile KG", 8444)
    offer = await publish(provider, tmp_path, template="open-use")
    browser = await logged_in(consumer, "olga", "owner", "en")
    address = provider.node.base_url

    detail = await browser.get("/browse/offer", params={"address": address, "offer": offer["id"]})
    assert detail.status_code == 200
    assert "<h1>Spindle vibration</h1>" in detail.text
    assert "The terms as ODRL (JSON)" in detail.text and '<details class="odrl">' in detail.text
    for line in lines(offer["policy"], "en"):
        assert line in detail.text
    assert ">Request a contract</button>" in detail.text

    requested = await browser.post("/browse/request", {"address": address, "offer_id": offer["id"]})
    assert requested.status_code == 303
    location = requested.headers["location"]
    assert location.startswith("/negotiations/") and location.endswith("?notice=requested")
    negotiation_id = unquote(location.split("/")[2].split("?")[0])
    first = await browser.get(location)
    assert "Your contract request was sent to the provider." in first.text

    async def state() -> str:
        response = await consumer.api.get(f"/api/v1/negotiations/{negotiation_id}")
        return str(response.json()["state"])

    await eventually(state, lambda s: s == "FINALIZED")
    final = await browser.get(f"/negotiations/{quote(negotiation_id, safe='')}")
    assert "finalized" in final.text and 'hx-trigger="every 2s"' not in final.text
    agreement_id = (await consumer.api.get("/api/v1/agreements")).json()[0]["id"]
    assert f"/agreements/{quote(agreement_id, safe='')}" in final.text

    agreement = await browser.get(f"/agreements/{quote(agreement_id, safe='')}")
    assert agreement.status_code == 200
    assert "What you may do, until when" in agreement.text
    assert "use the data" in agreement.text and "no end date" in agreement.text
    assert "signed by both parties" in agreement.text
    await browser.aclose()


async def test_the_offer_page_in_german_and_an_offer_that_is_gone(
    make_node: NodeFactory, tmp_path: Path
) -> None:
    provider = await make_node("Maschinenbau Muster GmbH", 8445)
    consumer = await make_node("Feinteile KG", 8446)
    offer = await publish(provider, tmp_path)
    browser = await logged_in(consumer, "olga", "owner", "de")
    address = provider.node.base_url
    detail = await browser.get("/browse/offer", params={"address": address, "offer": offer["id"]})
    assert (
        "Die Bedingungen in einfacher Sprache" in detail.text and ">Vertrag anfragen</button>" in detail.text
    )
    for line in lines(offer["policy"], "de"):
        assert line in detail.text
    gone = await browser.get("/browse/offer", params={"address": address, "offer": "urn:uuid:nope"})
    assert gone.status_code == 404
    assert "Dieser Knoten bietet Ihnen das nicht (mehr) an." in gone.text
    request_gone = await browser.post("/browse/request", {"address": address, "offer_id": "urn:uuid:nope"})
    assert request_gone.status_code == 404
    assert (await consumer.api.get("/api/v1/negotiations")).json() == []
    await browser.aclose()


async def test_read_only_users_may_browse_but_not_request(make_node: NodeFactory, tmp_path: Path) -> None:
    provider = await make_node("Maschinenbau Muster GmbH", 8447)
    consumer = await make_node("Feinteile KG", 8448)
    offer = await publish(provider, tmp_path)
    reader = await logged_in(consumer, "rita", "read", "en")
    address = provider.node.base_url
    detail = await reader.get("/browse/offer", params={"address": address, "offer": offer["id"]})
    assert detail.status_code == 200
    assert "Request a contract</button>" not in detail.text
    denied = await reader.post("/browse/request", {"address": address, "offer_id": offer["id"]})
    assert denied.status_code == 403

    owner = await logged_in(consumer, "olga", "owner", "en")
    await owner.get("/browse")
    forged = await owner.client.post(
        "/browse/request", data={"address": address, "offer_id": offer["id"], "csrf_token": "forged"}
    )
    assert forged.status_code == 403
    assert (await consumer.api.get("/api/v1/negotiations")).json() == []
    await reader.aclose()
    await owner.aclose()
