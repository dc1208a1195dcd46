"""Two nodes agree on a contract over real HTTP (in-process ASGI transport), both roles persisted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import NodeFactory, RunningNode
from tests.support.waiting import eventually

pytestmark = pytest.mark.anyio


async def publish(
    provider: RunningNode, tmp_path: Path, template: str = "open-use", **extra: Any
) -> dict[str, Any]:
    data = tmp_path / "spindle-vibration.csv"
    data.write_text("timestamp,rms_mm_s\n2026-01-01T00:00:00Z,1.2\n", encoding="utf-8")
    response = await provider.api.post(
        "/api/v1/assets",
        json={
            "path": str(data),
            "title": "Spindle vibration",
            "description": "Vibration of spindle 3, 1 kHz",
            "keywords": ["vibration", "spindle"],
            "template": template,
            **extra,
        },
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def negotiation(node: RunningNode, negotiation_id: str) -> dict[str, Any]:
    response = await node.api.get(f"/api/v1/negotiations/{negotiation_id}")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_open_use_negotiation_finalizes_with_the_same_signed_agreement(
    make_node: NodeFactory, tmp_path: Path, database_url: str | None
) -> None:
    provider = await make_node("Maschinenbau Muster GmbH", 8301, database_url=database_url)
    consumer = await make_node("Feinteile KG", 8302)
    published = await publish(provider, tmp_path)
    offer_id = published["offer"]["id"]

    catalog = await consumer.api.post("/api/v1/remote-catalogs", json={"address": provider.node.base_url})
    assert catalog.status_code == 200, catalog.text
    assert catalog.json()["providerDid"] == provider.did
    assert catalog.json()["catalog"]["participantId"] == provider.did

    started = await consumer.api.post(
        "/api/v1/negotiations", json={"address": provider.node.base_url, "offer_id": offer_id}
    )
    assert started.status_code == 201, started.text
    consumer_view = await eventually(
        lambda: negotiation(consumer, started.json()["id"]), lambda n: n["state"] == "FINALIZED"
    )
    provider_list = (await provider.api.get("/api/v1/negotiations")).json()
    assert [n["state"] for n in provider_list] == ["FINALIZED"]
    assert provider_list[0]["consumerPid"] == consumer_view["consumerPid"]
    assert provider_list[0]["providerPid"] == consumer_view["providerPid"]

    provider_agreements = (await provider.api.get("/api/v1/agreements")).json()
    consumer_agreements = (await consumer.api.get("/api/v1/agreements")).json()
    assert len(provider_agreements) == len(consumer_agreements) == 1
    theirs, ours = provider_agreements[0], consumer_agreements[0]
    for field in ("id", "policy", "digest", "providerSignature", "consumerSignature"):
        assert theirs[field] == ours[field], field
    assert ours["policy"]["assigner"] == provider.did
    assert ours["policy"]["assignee"] == consumer.did
    assert ours["finalized"] is not None and theirs["finalized"] is not None

    for node in (provider, consumer):
        verified = (await node.api.get("/api/v1/audit/verify")).json()
        assert verified["ok"] and verified["entries"] >= 4


async def test_an_offer_published_after_the_catalog_was_cached_can_be_negotiated(
    make_node: NodeFactory, tmp_path: Path
) -> None:
    provider = await make_node("Provider", 8305)
    consumer = await make_node("Consumer", 8306)
    first = (await publish(provider, tmp_path))["offer"]["id"]
    started = await consumer.api.post(
        "/api/v1/negotiations", json={"address": provider.node.base_url, "offer_id": first}
    )
    assert started.status_code == 201
    second = (await publish(provider, tmp_path, template="research-only"))["offer"]["id"]
    again = await consumer.api.post(
        "/api/v1/negotiations", json={"address": provider.node.base_url, "offer_id": second}
    )
    assert again.status_code == 201, again.text
    assert again.json()["offerId"] == second
    missing = await consumer.api.post(
        "/api/v1/negotiations", json={"address": provider.node.base_url, "offer_id": "urn:uuid:nope"}
    )
    assert missing.status_code == 404
    assert "offers no urn:uuid:nope" in missing.json()["error"]


async def test_negotiations_can_be_followed_by_their_last_change(
    make_node: NodeFactory, tmp_path: Path
) -> None:
    provider = await make_node("Provider", 8307)
    consumer = await make_node("Consumer", 8308)
    offer_id = (await publish(provider, tmp_path))["offer"]["id"]
    started = await consumer.api.post(
        "/api/v1/negotiations", json={"address": provider.node.base_url, "offer_id": offer_id}
    )
    final = await eventually(
        lambda: negotiation(consumer, started.json()["id"]), lambda n: n["state"] == "FINALIZED"
    )
    changed = await consumer.api.get("/api/v1/negotiations", params={"updated_after": "2000-01-01T00:00:00Z"})
    assert [n["id"] for n in changed.json()] == [final["id"]]
    later = await consumer.api.get("/api/v1/negotiations", params={"updated_after": final["updated"]})
    assert later.json() == []
    bad = await consumer.api.get("/api/v1/negotiations", params={"updated_after": "yesterday"})
    assert bad.status_code == 422 and "updated_after" in bad.text
    listed = (await consumer.api.get("/api/v1/negotiations")).json()
    assert listed == [final]  # the list shows each negotiation as GET /negotiations/{id} does
    assert (await consumer.api.get("/api/v1/negotiations", params={"state": "finalized"})).json() == [final]
    assert (await consumer.api.get("/api/v1/negotiations", params={"state": "REQUESTED"})).json() == []
    assert (await consumer.api.get("/api/v1/negotiations", params={"role": "provider"})).json() == []
    assert (await consumer.api.get("/api/v1/negotiations", params={"review": "false"})).json() == [final]
    assert (await consumer.api.get("/api/v1/negotiations", params={"limit": 0})).json() == []
    assert (await consumer.api.get("/api/v1/negotiations", params={"limit": -1})).json() == []
