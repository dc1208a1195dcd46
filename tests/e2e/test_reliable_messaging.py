"""Nothing is lost: peers that are down, restarts, and peers that never come back."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from allmende.app import create_app
from allmende.loopback import InProcessNetwork
from allmende.messaging.records import OutboxRecord
from allmende.node import Node
from allmende.settings import load_settings
from tests.conftest import NodeFactory
from tests.e2e.test_negotiation_between_nodes import negotiation, publish
from tests.support.waiting import eventually

pytestmark = pytest.mark.anyio


async def test_provider_outage_is_retried_until_it_returns(
    make_node: NodeFactory, tmp_path: Path, network: InProcessNetwork
) -> None:
    provider = await make_node("Provider", 8311)
    consumer = await make_node("Consumer", 8312, outbox_retry_seconds=0.05, outbox_max_retry_seconds=0.2)
    offer_id = (await publish(provider, tmp_path))["offer"]["id"]
    started = await consumer.api.post(
        "/api/v1/negotiations", json={"address": provider.node.base_url, "offer_id": offer_id}
    )
    assert started.status_code == 201
    # Take the provider off the network right away: the request may not be delivered yet.
    network.remove(provider.node.base_url)

    def attempts() -> int:
        with consumer.node.db.read() as session:
            rows = session.execute(select(OutboxRecord)).scalars().all()
            return sum(r.attempts for r in rows if r.status == "pending")

    async def probe() -> int:
        return attempts()

    await eventually(probe, lambda n: n >= 2, timeout=10)
    network.add(provider.node.base_url, provider.app)
    final = await eventually(
        lambda: negotiation(consumer, started.json()["id"]), lambda n: n["state"] == "FINALIZED"
    )
    assert final["agreementId"]


async def test_consumer_restart_resumes_pending_messages(
    make_node: NodeFactory, tmp_path: Path, network: InProcessNetwork
) -> None:
    provider = await make_node("Provider", 8321)
    consumer = await make_node("Consumer", 8322)
    offer_id = (await publish(provider, tmp_path))["offer"]["id"]
    # Stop the consumer's sender before it can deliver: the request stays in the outbox.
    await consumer.node.stop()
    with consumer.node.db.transaction() as session:
        remote_offer = (await provider.api.get("/api/v1/offers")).json()[0]
        record = consumer.node.consumer.start(
            session,
            provider_did=provider.did,
            provider_url=provider.node.dsp_url,
            offer=remote_offer["policy"],
            dataset_id=remote_offer["assetId"],
            actor="test",
        )
    assert record is not None
    # A new process of the same node (same data folder) picks the message up and finishes.
    restarted = Node(load_settings(consumer.created.data_dir, environ={}), transport=network.transport())
    network.add(consumer.node.base_url, create_app(restarted, manage_lifecycle=False))
    try:
        await restarted.start()

        async def state() -> str:
            with restarted.db.read() as session:
                return str(restarted.consumer.state(session, provider.did, record.id)["state"])

        assert await eventually(state, lambda s: s == "FINALIZED") == "FINALIZED"
    finally:
        await restarted.stop()
    assert offer_id == remote_offer["id"]


async def test_unreachable_peer_ends_in_terminated_with_a_reason(
    make_node: NodeFactory, tmp_path: Path
) -> None:
    consumer = await make_node(
        "Consumer", 8332, outbox_retry_seconds=0.05, outbox_max_retry_seconds=0.1, peer_deadline_seconds=0.5
    )
    with consumer.node.db.transaction() as session:
        record = consumer.node.consumer.start(
            session,
            provider_did="did:web:127.0.0.1%3A8339",
            provider_url="http://127.0.0.1:8339/dsp",
            offer={
                "@id": "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427",
                "@type": "Offer",
                "permission": [{"action": "use"}],
            },
            dataset_id="urn:uuid:2b4e28ba-2fa1-11d2-883f-0016d3cca427",
            actor="test",
        )
    consumer.node.sender.wake()
    final = await eventually(lambda: negotiation(consumer, record.id), lambda n: n["state"] == "TERMINATED")
    assert "unreachable" in final["terminationReason"]
    audit = (await consumer.api.get("/api/v1/audit", params={"subject": record.id})).json()
    assert audit[-1]["event"] == "negotiation.terminated"
