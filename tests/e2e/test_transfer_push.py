"""HTTP push: the provider streams the data to the endpoint the consumer named, with the consumer's token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from allmende.loopback import InProcessNetwork
from tests.conftest import NodeFactory
from tests.e2e.test_transfer_between_nodes import agreed, transfer
from tests.support.waiting import eventually

pytestmark = pytest.mark.anyio


async def test_push_to_the_consumer_node_completes_on_both_sides(
    make_node: NodeFactory, tmp_path: Path
) -> None:
    provider = await make_node("Provider", 8801)
    consumer = await make_node("Consumer", 8802)
    data = tmp_path / "spindle.csv"
    data.write_bytes(b"t,rms\n" + b"1,1.5\n" * 100_000)
    agreement_id = await agreed(provider, consumer, data)
    started = await consumer.api.post(
        "/api/v1/transfers", json={"agreement_id": agreement_id, "format": "HttpData-PUSH"}
    )
    assert started.status_code == 201, started.text
    done = await eventually(
        lambda: transfer(consumer, started.json()["id"]), lambda t: t["state"] == "COMPLETED"
    )
    received = Path(done["receivedFile"])
    assert received.read_bytes() == data.read_bytes()
    assert received.parent == consumer.created.data_dir / "received"
    theirs = (await provider.api.get("/api/v1/transfers", params={"role": "provider"})).json()
    assert theirs[0]["state"] == "COMPLETED" and theirs[0]["format"] == "HttpData-PUSH"
    assert theirs[0]["bytesServed"] == data.stat().st_size
    events = [e["event"] for e in (await consumer.api.get("/api/v1/audit", params={"limit": 500})).json()]
    assert "data.received" in events


async def test_push_to_a_named_endpoint_carries_the_token_and_the_digest(
    make_node: NodeFactory, tmp_path: Path, network: InProcessNetwork
) -> None:
    seen: list[dict[str, Any]] = []

    async def sink(request: Request) -> Response:
        body = await request.body()
        seen.append(
            {
                "auth": request.headers.get("authorization"),
                "digest": request.headers.get("repr-digest"),
                "body": body,
            }
        )
        return Response(status_code=204)

    network.add("http://127.0.0.1:8899", Starlette(routes=[Route("/inbox", sink, methods=["POST"])]))
    provider = await make_node("Provider", 8803)
    consumer = await make_node("Consumer", 8804)
    data = tmp_path / "d.bin"
    data.write_bytes(b"z" * 5000)
    agreement_id = await agreed(provider, consumer, data)
    started = await consumer.api.post(
        "/api/v1/transfers",
        json={
            "agreement_id": agreement_id,
            "format": "HttpData-PUSH",
            "push_endpoint": "http://127.0.0.1:8899/inbox",
            "push_token": "erp-inbox-token",
        },
    )
    assert started.status_code == 201, started.text
    await eventually(lambda: transfer(consumer, started.json()["id"]), lambda t: t["state"] == "COMPLETED")
    assert len(seen) == 1
    assert seen[0]["auth"] == "Bearer erp-inbox-token"
    assert seen[0]["body"] == data.read_bytes()
    assert seen[0]["digest"].startswith("sha-256=:")


async def test_a_refusing_endpoint_terminates_the_push_with_the_reason(
    make_node: NodeFactory, tmp_path: Path, network: InProcessNetwork
) -> None:
    async def refuse(_request: Request) -> Response:
        return Response("quota exceeded", status_code=403)

    network.add("http://127.0.0.1:8898", Starlette(routes=[Route("/inbox", refuse, methods=["POST"])]))
    provider = await make_node("Provider", 8805)
    consumer = await make_node("Consumer", 8806)
    data = tmp_path / "d.bin"
    data.write_bytes(b"q" * 10)
    agreement_id = await agreed(provider, consumer, data)
    started = await consumer.api.post(
        "/api/v1/transfers",
        json={
            "agreement_id": agreement_id,
            "format": "HttpData-PUSH",
            "push_endpoint": "http://127.0.0.1:8898/inbox",
            "push_token": "t",
        },
    )
    ended = await eventually(
        lambda: transfer(consumer, started.json()["id"]), lambda t: t["state"] == "TERMINATED"
    )
    assert "refused the data" in ended["terminationReason"] and "quota exceeded" in ended["terminationReason"]
