"""Helpers for the DSP conformance scenarios: a node under test and scripted counterparties."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from allmende.loopback import InProcessNetwork
from allmende.protocol.schemas import validate_message
from tests.support.counterparty import DSP_CONTEXT, ScriptedParty

PartyFactory = Callable[[int], ScriptedParty]

NODE_PORT = 8401
PARTY_PORT = 9400
OTHER_PARTY_PORT = 9401


@asynccontextmanager
async def scripted_parties(network: InProcessNetwork, tmp_path: Path) -> AsyncIterator[PartyFactory]:
    """``make(port)`` creates a scripted party at ``http://127.0.0.1:<port>``; all are closed afterwards."""
    made: list[ScriptedParty] = []

    def make(port: int) -> ScriptedParty:
        party = ScriptedParty(network, f"http://127.0.0.1:{port}", tmp_path / f"party-{port}" / "keys")
        made.append(party)
        return party

    try:
        yield make
    finally:
        for party in made:
            await party.aclose()


async def publish(
    node: Any, tmp_path: Path, title: str = "Spindle vibration", **extra: Any
) -> dict[str, Any]:
    """Publish a small CSV on ``node`` (default: template open-use); returns {asset, offer}."""
    data = tmp_path / f"{title.replace(' ', '-').lower()}.csv"
    data.write_text("timestamp,rms_mm_s\n2026-01-01T00:00:00Z,1.2\n", encoding="utf-8")
    response = await node.api.post(
        "/api/v1/assets",
        json={
            "path": str(data),
            "title": title,
            "description": f"{title}, 1 kHz",
            "keywords": ["vibration"],
            "template": "open-use",
            **extra,
        },
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def catalog_request() -> dict[str, Any]:
    return {"@context": DSP_CONTEXT, "@type": "CatalogRequestMessage", "filter": []}


def message(kind: str, **fields: Any) -> dict[str, Any]:
    """A DSP message of ``kind`` with ``fields`` (None values left out)."""
    return {"@context": DSP_CONTEXT, "@type": kind, **{k: v for k, v in fields.items() if v is not None}}


def event(provider_pid: str, consumer_pid: str, event_type: str) -> dict[str, Any]:
    return message(
        "ContractNegotiationEventMessage",
        providerPid=provider_pid,
        consumerPid=consumer_pid,
        eventType=event_type,
    )


def termination(provider_pid: str, consumer_pid: str, reason: str, code: str | None = None) -> dict[str, Any]:
    return message(
        "ContractNegotiationTerminationMessage",
        providerPid=provider_pid,
        consumerPid=consumer_pid,
        code=code,
        reason=[reason],
    )


def verification(provider_pid: str, consumer_pid: str) -> dict[str, Any]:
    return message("ContractAgreementVerificationMessage", providerPid=provider_pid, consumerPid=consumer_pid)


def assert_negotiation_error(response: httpx.Response, status: int = 400) -> dict[str, Any]:
    """``response`` is ``status`` with a schema-valid ContractNegotiationError body; returns the body."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["@type"] == "ContractNegotiationError", body
    validate_message(body, "ContractNegotiationError")
    return body


async def admin_state(node: Any, negotiation_id: str) -> str:
    """The state of a negotiation in the node's management API."""
    response = await node.api.get(f"/api/v1/negotiations/{negotiation_id}")
    assert response.status_code == 200, response.text
    return str(response.json()["state"])


async def admin_view(node: Any, negotiation_id: str) -> dict[str, Any]:
    response = await node.api.get(f"/api/v1/negotiations/{negotiation_id}")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def state_probe(node: Any, negotiation_id: str) -> Callable[[], Awaitable[str]]:
    async def probe() -> str:
        return await admin_state(node, negotiation_id)

    return probe
