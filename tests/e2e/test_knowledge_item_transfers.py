"""Knowledge items in the DSP catalog can be negotiated and transferred like any dataset.

A counterparty written from the DSP specification reads the node's catalog, negotiates a knowledge
item's open-use offer to FINALIZED and pulls the item's current JSON-LD, the bytes the open URL
``GET /knowledge/items/{id}`` answers. A node does the same through its management API and the
download code of ``allmende transfer get``, and can have it pushed. Withdrawing an item makes its offer
unknown again, and pulls under existing agreements answer 410.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from allmende.dataplane.download import download
from allmende.knowledge.catalog_entries import MEDIA_TYPE, offer_id_of
from allmende.knowledge.model import item_json
from allmende.knowledge.seed import demo_items
from allmende.loopback import InProcessNetwork
from allmende.protocol.schemas import validate_message
from allmende.transfer.messages import read_data_address
from tests.conftest import NodeFactory, RunningNode
from tests.e2e.test_negotiation_between_nodes import negotiation
from tests.e2e.test_transfer_between_nodes import pull_client, started_transfer, transfer
from tests.support.counterparty import ScriptedParty, new_pid
from tests.support.dsp import (
    PartyFactory,
    assert_negotiation_error,
    catalog_request,
    message,
    publish,
    scripted_parties,
    verification,
)
from tests.support.knowledge import publish_demo_items
from tests.support.transfers import TransferRoles, read_address, transfer_request
from tests.support.waiting import eventually

pytestmark = pytest.mark.anyio
QUIET = {"crawl_interval_seconds": 0}


@pytest.fixture
async def parties(network: InProcessNetwork, tmp_path: Path) -> AsyncIterator[PartyFactory]:
    async with scripted_parties(network, tmp_path) as make:
        yield make


async def _open_item(client: httpx.AsyncClient, node: RunningNode, item_id: str) -> bytes:
    """The bytes the open URL serves for the item (no token, no agreement)."""
    response = await client.get(f"{node.node.base_url}/knowledge/items/{item_id}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == MEDIA_TYPE
    return response.content


async def _events(node: RunningNode) -> list[str]:
    return [e["event"] for e in (await node.api.get("/api/v1/audit", params={"limit": 1000})).json()]


def _request(offer: dict[str, Any], party: ScriptedParty) -> tuple[str, dict[str, Any]]:
    consumer_pid = new_pid()
    body = message(
        "ContractRequestMessage", consumerPid=consumer_pid, offer=offer, callbackAddress=party.callback_url
    )
    return consumer_pid, body


async def _dsp_agreement(node: RunningNode, party: ScriptedParty, offer: dict[str, Any]) -> dict[str, Any]:
    """The party negotiates ``offer`` with the node to FINALIZED, by DSP messages only; the agreement."""
    dsp = node.node.dsp_url
    consumer_pid, body = _request(offer, party)
    response = await party.send(f"{dsp}/negotiations/request", body, audience=node.did)
    assert response.status_code == 201, response.text
    validate_message(response.json(), "ContractNegotiation")
    provider_pid = str(response.json()["providerPid"])
    agreed = await party.wait_for("ContractAgreementMessage")
    assert agreed.valid, agreed.problems
    agreement: dict[str, Any] = agreed.body["agreement"]
    verified = await party.send(
        f"{dsp}/negotiations/{provider_pid}/agreement/verification",
        verification(provider_pid, consumer_pid),
        audience=node.did,
        extra_claims=party.signed_agreement_claims(agreement, node.did),
    )
    assert verified.status_code == 200, verified.text
    await party.wait_for("ContractNegotiationEventMessage:FINALIZED")
    return agreement


async def test_a_dsp_client_negotiates_a_knowledge_item_and_pulls_its_json_ld(
    make_node: NodeFactory, parties: PartyFactory, tmp_path: Path, database_url: str | None
) -> None:
    node = await make_node("Centre of Excellence", 8741, database_url=database_url, **QUIET)
    party = parties(8742)
    TransferRoles(party)
    await publish(node, tmp_path)  # an asset first: the items follow the assets in the catalog
    items = await publish_demo_items(node, 2)

    # Read the catalog and pick the first item's offer, as a DSP client would.
    listed = await party.send(f"{node.node.dsp_url}/catalog/request", catalog_request(), audience=node.did)
    assert listed.status_code == 200, listed.text
    validate_message(listed.json(), "Catalog")
    dataset = next(d for d in listed.json()["dataset"] if d["@id"] == items[0])
    distribution = dataset["distribution"][0]
    assert distribution["format"] == "HttpData-PULL"
    assert distribution["dcat:mediaType"]["@id"].endswith(MEDIA_TYPE)
    offer = {**dataset["hasPolicy"][0], "target": dataset["@id"]}
    assert offer["@id"] == offer_id_of(items[0])

    agreement = await _dsp_agreement(node, party, offer)
    assert agreement["target"] == items[0] and agreement["assigner"] == node.did
    mine = await node.api.get(f"/api/v1/agreements/{agreement['@id']}")
    assert mine.status_code == 200 and mine.json()["finalized"] is not None, mine.text

    response = await party.send(
        f"{node.node.dsp_url}/transfers/request",
        transfer_request(new_pid(), agreement["@id"], party.callback_url),
        audience=node.did,
    )
    assert response.status_code == 201, response.text
    start = await party.wait_for("TransferStartMessage")
    assert start.valid, start.problems
    endpoint, token = read_address(start.body.get("dataAddress"))
    bearer = {"Authorization": f"Bearer {token}"}

    pulled = await party.http.get(endpoint, headers=bearer)
    assert pulled.status_code == 200, pulled.text
    assert pulled.headers["content-type"] == MEDIA_TYPE
    assert pulled.content == await _open_item(party.http, node, items[0])
    assert pulled.json()["@id"] == items[0] and pulled.json()["version"] == 1
    assert (await party.http.get(endpoint)).status_code == 401  # the same token checks as assets

    # An edit: the next pull serves the item's current document.
    edited = {**item_json(demo_items()[0]), "title": "Predictive maintenance, second edition"}
    assert (await node.api.put(f"/api/v1/knowledge/items/{items[0]}", json=edited)).status_code == 200
    again = await party.http.get(endpoint, headers=bearer)
    assert again.status_code == 200 and again.json()["version"] == 2
    assert again.content == await _open_item(party.http, node, items[0])

    # Withdrawn: the agreement's pull answers 410, and the offer is unknown again.
    assert (await node.api.delete(f"/api/v1/knowledge/items/{items[0]}")).status_code == 200
    gone = await party.http.get(endpoint, headers=bearer)
    assert gone.status_code == 410 and "no longer offered" in gone.json()["reason"]
    _, request = _request(offer, party)
    refused = await party.send(f"{node.node.dsp_url}/negotiations/request", request, audience=node.did)
    assert assert_negotiation_error(refused, 400)["reason"] == [f"unknown offer {offer['@id']!r}"]
    _, unknown = _request({**offer, "@id": new_pid()}, party)
    other = await party.send(f"{node.node.dsp_url}/negotiations/request", unknown, audience=node.did)
    assert assert_negotiation_error(other, 400)["reason"][0].startswith("unknown offer ")

    # An item published after the offers were looked up is found as well.
    later = (await node.api.post("/api/v1/knowledge/items", json=item_json(demo_items()[2]))).json()["id"]
    fresh = await party.send(f"{node.node.dsp_url}/catalog/request", catalog_request(), audience=node.did)
    dataset = next(d for d in fresh.json()["dataset"] if d["@id"] == later)
    _, request = _request({**dataset["hasPolicy"][0], "target": later}, party)
    accepted = await party.send(f"{node.node.dsp_url}/negotiations/request", request, audience=node.did)
    assert accepted.status_code == 201, accepted.text
    assert (await party.wait_for("ContractAgreementMessage", 2)).body["agreement"]["target"] == later

    events = await _events(node)
    for expected in ("transfer.started", "data.accessed", "data.refused"):
        assert expected in events


async def test_a_node_negotiates_and_downloads_a_knowledge_item_through_its_management_api(
    make_node: NodeFactory, tmp_path: Path, network: InProcessNetwork, database_url: str | None
) -> None:
    provider = await make_node("Centre of Excellence", 8743, database_url=database_url, **QUIET)
    # The consumer keeps the provider's catalog for a while (it still lists the item withdrawn below).
    consumer = await make_node("Feinteile KG", 8744, remote_catalog_cache_seconds=600, **QUIET)
    items = await publish_demo_items(provider, 3)

    started = await consumer.api.post(
        "/api/v1/negotiations",
        json={"address": provider.node.base_url, "offer_id": offer_id_of(items[1])},
    )
    assert started.status_code == 201, started.text
    final = await eventually(
        lambda: negotiation(consumer, started.json()["id"]), lambda n: n["state"] == "FINALIZED"
    )
    agreement_id = str(final["agreementId"])

    # Pull with the download code of `allmende transfer get`.
    mine = await started_transfer(consumer, agreement_id)
    endpoint, token = read_data_address(mine["dataAddress"])
    async with pull_client(network) as client:
        target = tmp_path / "item.jsonld"
        await download(client, endpoint, target, headers={"Authorization": f"Bearer {token}"})
        assert target.read_bytes() == await _open_item(client, provider, items[1])

        # Push serves it the same way.
        pushed = await consumer.api.post(
            "/api/v1/transfers", json={"agreement_id": agreement_id, "format": "HttpData-PUSH"}
        )
        assert pushed.status_code == 201, pushed.text
        done = await eventually(
            lambda: transfer(consumer, pushed.json()["id"]), lambda t: t["state"] == "COMPLETED"
        )
        assert Path(done["receivedFile"]).read_bytes() == target.read_bytes()

        # The owner ends the agreement: its tokens stop working, as for assets.
        ended = await provider.api.post(
            f"/api/v1/agreements/{agreement_id}/terminate", json={"reason": "contract ended"}
        )
        assert ended.status_code == 200, ended.text
        refused = await client.get(endpoint, headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 403, refused.text

    # Withdrawn after the consumer cached the catalog: the provider refuses the offer as unknown.
    assert (await provider.api.delete(f"/api/v1/knowledge/items/{items[2]}")).status_code == 200
    late = await consumer.api.post(
        "/api/v1/negotiations",
        json={"address": provider.node.base_url, "offer_id": offer_id_of(items[2])},
    )
    assert late.status_code == 201, late.text
    refused_negotiation = await eventually(
        lambda: negotiation(consumer, late.json()["id"]), lambda n: n["state"] == "TERMINATED"
    )
    assert "unknown offer" in refused_negotiation["terminationReason"]
