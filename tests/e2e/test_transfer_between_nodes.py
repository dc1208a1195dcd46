"""Pull transfer under an agreement: data only as the agreement allows; the owner stays in control."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from allmende.dataplane.download import DownloadError, download
from allmende.loopback import InProcessNetwork
from allmende.transfer.messages import read_data_address
from tests.conftest import NodeFactory, RunningNode
from tests.e2e.test_negotiation_between_nodes import negotiation
from tests.support.waiting import eventually

pytestmark = pytest.mark.anyio


async def agreed(
    provider: RunningNode, consumer: RunningNode, data: Path, *, policy: dict[str, Any] | None = None
) -> str:
    body: dict[str, Any] = {"path": str(data), "title": "Spindle vibration", "description": "RMS, 1 kHz"}
    body.update({"policy": policy} if policy else {"template": "open-use"})
    offer = (await provider.api.post("/api/v1/assets", json=body)).json()["offer"]["id"]
    started = await consumer.api.post(
        "/api/v1/negotiations", json={"address": provider.node.base_url, "offer_id": offer}
    )
    final = await eventually(
        lambda: negotiation(consumer, started.json()["id"]), lambda n: n["state"] == "FINALIZED"
    )
    return str(final["agreementId"])


async def transfer(node: RunningNode, transfer_id: str) -> dict[str, Any]:
    result: dict[str, Any] = (await node.api.get(f"/api/v1/transfers/{transfer_id}")).json()
    return result


async def started_transfer(consumer: RunningNode, agreement_id: str) -> dict[str, Any]:
    started = await consumer.api.post("/api/v1/transfers", json={"agreement_id": agreement_id})
    assert started.status_code == 201, started.text
    return await eventually(
        lambda: transfer(consumer, started.json()["id"]), lambda t: t["state"] == "STARTED"
    )


def pull_client(network: InProcessNetwork) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=network.transport())


async def test_pull_delivers_the_file_with_its_digest_and_the_owner_controls_it(
    make_node: NodeFactory, tmp_path: Path, network: InProcessNetwork, database_url: str | None
) -> None:
    provider = await make_node("Maschinenbau Muster GmbH", 8501, database_url=database_url)
    consumer = await make_node("Feinteile KG", 8502)
    data = tmp_path / "spindle.csv"
    data.write_bytes(b"t,rms\n" + b"".join(f"{i},{i % 7}.5\n".encode() for i in range(50_000)))
    agreement_id = await agreed(provider, consumer, data)
    mine = await started_transfer(consumer, agreement_id)
    endpoint, token = read_data_address(mine["dataAddress"])
    assert endpoint.startswith(provider.node.base_url + "/data/") and token

    async with pull_client(network) as client:
        target = tmp_path / "received.csv"
        result = await download(client, endpoint, target, headers={"Authorization": f"Bearer {token}"})
        assert target.read_bytes() == data.read_bytes()
        assert result.sha256_hex == hashlib.sha256(data.read_bytes()).hexdigest()
        partial = await client.get(
            endpoint, headers={"Authorization": f"Bearer {token}", "Range": "bytes=0-9"}
        )
        assert partial.status_code == 206 and partial.content == data.read_bytes()[:10]

        theirs = (await provider.api.get("/api/v1/transfers", params={"role": "provider"})).json()
        assert len(theirs) == 1 and theirs[0]["counterparty"] == consumer.did
        served = await eventually(
            lambda: transfer(provider, theirs[0]["id"]),
            lambda t: t["bytesServed"] >= data.stat().st_size + 10,
        )
        assert served["agreementId"] == agreement_id

        # The owner suspends: the token stops working, with the reason; resuming restores access.
        suspended = await provider.api.post(
            f"/api/v1/transfers/{served['id']}/suspend", json={"reason": "audit"}
        )
        assert suspended.status_code == 200, suspended.text
        refused = await client.get(endpoint, headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 403 and "SUSPENDED" in refused.json()["reason"]
        await eventually(lambda: transfer(consumer, mine["id"]), lambda t: t["state"] == "SUSPENDED")
        await provider.api.post(f"/api/v1/transfers/{served['id']}/resume")
        resumed = await eventually(lambda: transfer(consumer, mine["id"]), lambda t: t["state"] == "STARTED")
        _, fresh = read_data_address(resumed["dataAddress"])
        assert (await client.get(endpoint, headers={"Authorization": f"Bearer {fresh}"})).status_code == 200

        # Terminating the agreement ends the transfer and invalidates every token.
        ended = await provider.api.post(
            f"/api/v1/agreements/{agreement_id}/terminate", json={"reason": "contract ended"}
        )
        assert ended.json()["terminatedTransfers"] == 1
        gone = await client.get(endpoint, headers={"Authorization": f"Bearer {fresh}"})
        assert gone.status_code == 403
        await eventually(lambda: transfer(consumer, mine["id"]), lambda t: t["state"] == "TERMINATED")
        again = await consumer.api.post("/api/v1/transfers", json={"agreement_id": agreement_id})
        assert again.status_code == 201  # the request is sent; the provider refuses it
        refused_transfer = await eventually(
            lambda: transfer(consumer, again.json()["id"]), lambda t: t["state"] == "TERMINATED"
        )
        assert "terminated" in refused_transfer["terminationReason"]

    events = [e["event"] for e in (await provider.api.get("/api/v1/audit", params={"limit": 1000})).json()]
    for expected in (
        "transfer.started",
        "data.accessed",
        "data.refused",
        "transfer.suspended",
        "agreement.terminated",
    ):
        assert expected in events


async def test_tokens_are_refused_with_reasons(
    make_node: NodeFactory, tmp_path: Path, network: InProcessNetwork
) -> None:
    provider = await make_node("Provider", 8503)
    consumer = await make_node("Consumer", 8504)
    data = tmp_path / "d.bin"
    data.write_bytes(b"x" * 1000)
    agreement_id = await agreed(provider, consumer, data)
    mine = await started_transfer(consumer, agreement_id)
    endpoint, token = read_data_address(mine["dataAddress"])
    async with pull_client(network) as client:
        missing = await client.get(endpoint)
        assert missing.status_code == 401 and "access token is required" in missing.json()["reason"]
        forged = await client.get(endpoint, headers={"Authorization": f"Bearer {token[:-4]}AAAA"})
        assert forged.status_code == 401
        other = await client.get(
            endpoint.rsplit("/", 1)[0] + "/urn:uuid:other", headers={"Authorization": f"Bearer {token}"}
        )
        assert other.status_code == 403 and "another transfer" in other.json()["reason"]
        with pytest.raises(DownloadError) as refused:
            await download(
                client, endpoint, tmp_path / "out.bin", headers={"Authorization": "Bearer nonsense"}
            )
        assert refused.value.status == 401
        assert not (tmp_path / "out.bin").exists()


async def test_count_limited_agreement_allows_only_so_many_transfers(
    make_node: NodeFactory, tmp_path: Path, network: InProcessNetwork
) -> None:
    provider = await make_node("Provider", 8505)
    consumer = await make_node("Consumer", 8506)
    data = tmp_path / "d.bin"
    data.write_bytes(b"y" * 100)
    policy = {
        "@type": "Offer",
        "permission": [
            {
                "action": "use",
                "constraint": [{"leftOperand": "count", "operator": "lteq", "rightOperand": "1"}],
            }
        ],
    }
    agreement_id = await agreed(provider, consumer, data, policy=policy)
    first = await started_transfer(consumer, agreement_id)
    assert first["state"] == "STARTED"
    second = await consumer.api.post("/api/v1/transfers", json={"agreement_id": agreement_id})
    refused = await eventually(
        lambda: transfer(consumer, second.json()["id"]), lambda t: t["state"] == "TERMINATED"
    )
    assert "usage policy" in refused["terminationReason"]
    assert json.dumps(refused).count("count") >= 1
