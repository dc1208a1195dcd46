"""DSP TCK scenarios CN_C:01-01 .. CN_C:03-06: the node is the CONSUMER, a scripted provider talks to it.

The node's owner starts the negotiation (POST /api/v1/negotiations against the scripted provider, which
serves a catalog at the DataService endpoint of its DID document and answers the request with 201) and
steers the consumer's side through the management API: accept, counter-offer, terminate. The scripted
provider sends offers, signed agreements, FINALIZED and terminations to the node's callback address.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import NodeFactory, RunningNode
from tests.support.counterparty import Received, ScriptedParty, canonical_digest, new_pid
from tests.support.dsp import (
    NODE_PORT,
    OTHER_PARTY_PORT,
    PARTY_PORT,
    PartyFactory,
    admin_state,
    admin_view,
    assert_negotiation_error,
    event,
    message,
    scripted_parties,
    termination,
)
from tests.support.waiting import eventually

from allmende.loopback import InProcessNetwork
from allmende.protocol.schemas import validate_message

pytestmark = pytest.mark.anyio


def purpose_rule(purpose: str) -> dict[str, Any]:
    return {
        "action": "use",
        "constraint": [{"leftOperand": "purpose", "operator": "eq", "rightOperand": purpose}],
    }


@pytest.fixture
async def parties(network: InProcessNetwork, tmp_path: Path) -> AsyncIterator[PartyFactory]:
    async with scripted_parties(network, tmp_path) as make:
        yield make


@dataclass
class Case:
    """One negotiation with the node as consumer and the scripted party as provider."""

    node: RunningNode
    party: ScriptedParty
    dataset_id: str
    consumer_pid: str
    provider_pid: str
    on_the_table: dict[str, Any]
    agreements: list[dict[str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{self.node.node.callback_url}/negotiations/{self.consumer_pid}"

    async def send(self, leaf: str, body: Any, **kwargs: Any) -> httpx.Response:
        return await self.party.send(f"{self.url}/{leaf}", body, audience=self.node.did, **kwargs)

    async def dsp_state(self) -> str:
        """The state the node answers to the provider's DSP GET on its callback (a ContractNegotiation)."""
        response = await self.party.send(self.url, audience=self.node.did, method="GET")
        assert response.status_code == 200, response.text
        body = response.json()
        validate_message(body, "ContractNegotiation")
        assert (body["providerPid"], body["consumerPid"]) == (self.provider_pid, self.consumer_pid)
        return str(body["state"])

    async def assert_state(self, state: str) -> None:
        assert await self.dsp_state() == state
        assert await admin_state(self.node, self.consumer_pid) == state

    async def assert_rejected(self, response: httpx.Response, state: str, status: int = 400) -> None:
        body = assert_negotiation_error(response, status)
        assert body["consumerPid"] == self.consumer_pid
        await self.assert_state(state)


async def start(make_node: NodeFactory, parties: PartyFactory, **settings: Any) -> Case:
    """The owner asks the scripted provider for its offer; the provider answers 201 with its providerPid."""
    node = await make_node("Feinteile KG", NODE_PORT, **settings)
    party = parties(PARTY_PORT)
    dataset = party.offer_dataset()
    offer = dataset["hasPolicy"][0]
    started = await node.api.post(
        "/api/v1/negotiations", json={"address": party.base_url, "offer_id": offer["@id"]}
    )
    assert started.status_code == 201, started.text
    negotiation_id = started.json()["id"]
    catalog = party.messages("CatalogRequestMessage")
    assert len(catalog) == 1 and catalog[0].valid, catalog
    request = await party.wait_for("ContractRequestMessage")
    assert request.valid, request.problems
    assert request.status == 201
    assert request.path == "/dsp/negotiations/request"
    assert request.claims is not None and request.claims.issuer == node.did
    body = request.body
    assert "providerPid" not in body
    assert body["callbackAddress"] == node.node.callback_url
    assert body["offer"]["@id"] == offer["@id"]
    assert body["offer"]["target"] == dataset["@id"]
    consumer_pid = str(body["consumerPid"])
    provider_pid = next(p.provider_pid for p in party.processes.values() if p.consumer_pid == consumer_pid)
    assert provider_pid is not None
    view = await eventually(
        lambda: admin_view(node, negotiation_id), lambda v: v["providerPid"] == provider_pid
    )
    assert view["consumerPid"] == consumer_pid and view["role"] == "consumer"
    case = Case(node, party, dataset["@id"], consumer_pid, provider_pid, {**offer, "target": dataset["@id"]})
    await case.assert_state("REQUESTED")
    return case


async def provider_offers(case: Case, purpose: str = "research") -> None:
    """The scripted provider sends a ContractOfferMessage: OFFERED, waiting for the owner."""
    offer = {
        "@id": new_pid(),
        "@type": "Offer",
        "target": case.dataset_id,
        "permission": [purpose_rule(purpose)],
    }
    body = message(
        "ContractOfferMessage", providerPid=case.provider_pid, consumerPid=case.consumer_pid, offer=offer
    )
    response = await case.send("offers", body)
    assert response.status_code == 200, response.text
    case.on_the_table = offer
    await case.assert_state("OFFERED")
    view = await admin_view(case.node, case.consumer_pid)
    assert view["reviewPending"] is True
    assert view["offer"]["permission"] == offer["permission"]


async def consumer_accepts(case: Case) -> None:
    response = await case.node.api.post(f"/api/v1/negotiations/{case.consumer_pid}/accept")
    assert response.status_code == 200, response.text
    received = await case.party.wait_for("ContractNegotiationEventMessage:ACCEPTED")
    assert received.valid, received.problems
    assert received.path == f"/dsp/negotiations/{case.provider_pid}/events"
    assert (received.body["providerPid"], received.body["consumerPid"]) == (
        case.provider_pid,
        case.consumer_pid,
    )
    await case.assert_state("ACCEPTED")


async def consumer_counter_offers(case: Case) -> None:
    counter = {"permission": [purpose_rule("teaching")]}
    response = await case.node.api.post(
        f"/api/v1/negotiations/{case.consumer_pid}/counter-offer", json={"offer": counter}
    )
    assert response.status_code == 200, response.text
    received = await case.party.wait_for("ContractRequestMessage", count=2)
    assert received.valid, received.problems
    assert received.path == f"/dsp/negotiations/{case.provider_pid}/request"
    assert (received.body["providerPid"], received.body["consumerPid"]) == (
        case.provider_pid,
        case.consumer_pid,
    )
    assert received.body["offer"]["permission"] == counter["permission"]
    assert received.body["offer"]["target"] == case.dataset_id
    await case.assert_state("REQUESTED")


async def consumer_terminates(case: Case) -> None:
    response = await case.node.api.post(
        f"/api/v1/negotiations/{case.consumer_pid}/terminate", json={"reason": "no longer needed"}
    )
    assert response.status_code == 200, response.text
    received = await case.party.wait_for("ContractNegotiationTerminationMessage")
    assert received.valid, received.problems
    assert received.path == f"/dsp/negotiations/{case.provider_pid}/termination"
    assert received.body["reason"] == ["no longer needed"]
    await case.assert_state("TERMINATED")


async def provider_terminates(case: Case, state_before: str) -> None:
    await case.assert_state(state_before)
    body = termination(case.provider_pid, case.consumer_pid, "offer withdrawn", code="P1")
    response = await case.send("termination", body)
    assert response.status_code == 200, response.text
    await case.assert_state("TERMINATED")
    view = await admin_view(case.node, case.consumer_pid)
    assert "offer withdrawn" in view["terminationReason"]
    assert case.party.messages("ContractNegotiationTerminationMessage") == []


def agreement_message(case: Case, agreement: dict[str, Any]) -> dict[str, Any]:
    return message(
        "ContractAgreementMessage",
        providerPid=case.provider_pid,
        consumerPid=case.consumer_pid,
        agreement=agreement,
    )


async def provider_agrees(case: Case) -> Received:
    """The scripted provider sends a signed agreement; the node stores it and verifies it at once."""
    agreement = case.party.agreement(case.on_the_table, target=case.dataset_id, assignee=case.node.did)
    claims = case.party.signed_agreement_claims(agreement, case.node.did)
    response = await case.send("agreement", agreement_message(case, agreement), extra_claims=claims)
    assert response.status_code == 200, response.text
    case.agreements.append(agreement)
    verified = await case.party.wait_for("ContractAgreementVerificationMessage")
    assert verified.valid, verified.problems
    assert verified.path == f"/dsp/negotiations/{case.provider_pid}/agreement/verification"
    signature = await case.party.check_agreement_signature(verified)
    assert signature["sub"] == agreement["@id"]
    assert signature["agreement_digest"] == canonical_digest(agreement)
    await case.assert_state("VERIFIED")
    stored = (await case.node.api.get(f"/api/v1/agreements/{agreement['@id']}")).json()
    assert stored["providerSignature"] == claims["agreement_signature"]
    assert stored["digest"] == canonical_digest(agreement)
    return verified


async def provider_finalizes(case: Case) -> None:
    response = await case.send("events", event(case.provider_pid, case.consumer_pid, "FINALIZED"))
    assert response.status_code == 200, response.text
    await case.assert_state("FINALIZED")
    stored = (await case.node.api.get(f"/api/v1/agreements/{case.agreements[-1]['@id']}")).json()
    assert stored["finalized"] is not None


# --- CN_C:01 -------------------------------------------------------------------------------------


async def test_CN_C_01_01(make_node: NodeFactory, parties: PartyFactory) -> None:
    """Contract request, offer received, consumer accepted, provider agreed, consumer verified, finalized."""
    case = await start(make_node, parties)
    await provider_offers(case)
    await consumer_accepts(case)
    await provider_agrees(case)
    await provider_finalizes(case)


async def test_CN_C_01_02(make_node: NodeFactory, parties: PartyFactory) -> None:
    """Contract request, offer received, consumer counter-offer, provider terminated."""
    case = await start(make_node, parties)
    await provider_offers(case)
    await consumer_counter_offers(case)
    await provider_terminates(case, "REQUESTED")


async def test_CN_C_01_03(make_node: NodeFactory, parties: PartyFactory) -> None:
    """Contract request, offer received, consumer terminated."""
    case = await start(make_node, parties)
    await provider_offers(case)
    await consumer_terminates(case)


async def test_CN_C_01_04(make_node: NodeFactory, parties: PartyFactory) -> None:
    """Contract request, provider agreement, consumer verified, provider finalized."""
    case = await start(make_node, parties)
    await provider_agrees(case)
    await provider_finalizes(case)


# --- CN_C:02 -------------------------------------------------------------------------------------


async def test_CN_C_02_01(make_node: NodeFactory, parties: PartyFactory) -> None:
    """Contract request, provider terminated."""
    case = await start(make_node, parties)
    await provider_terminates(case, "REQUESTED")


async def test_CN_C_02_02(make_node: NodeFactory, parties: PartyFactory) -> None:
    """Contract request, consumer terminated."""
    case = await start(make_node, parties)
    await consumer_terminates(case)


async def test_CN_C_02_03(make_node: NodeFactory, parties: PartyFactory) -> None:
    """Contract request, provider agreement, consumer terminated (the node had verified at once)."""
    case = await start(make_node, parties)
    await provider_agrees(case)
    await consumer_terminates(case)


async def test_CN_C_02_04(make_node: NodeFactory, parties: PartyFactory) -> None:
    """Contract request, offer received, provider terminated."""
    case = await start(make_node, parties)
    await provider_offers(case)
    await provider_terminates(case, "OFFERED")
    assert (await admin_view(case.node, case.consumer_pid))["reviewPending"] is False


async def test_CN_C_02_05(make_node: NodeFactory, parties: PartyFactory) -> None:
    """Contract request, offer received, consumer accepted, provider terminated."""
    case = await start(make_node, parties)
    await provider_offers(case)
    await consumer_accepts(case)
    await provider_terminates(case, "ACCEPTED")


async def test_CN_C_02_06(make_node: NodeFactory, parties: PartyFactory) -> None:
    """Contract request, provider agreement, consumer verified, provider terminated."""
    case = await start(make_node, parties)
    await provider_agrees(case)
    await provider_terminates(case, "VERIFIED")


# --- CN_C:03 (invalid steps) ---------------------------------------------------------------------


async def test_CN_C_03_01(make_node: NodeFactory, parties: PartyFactory) -> None:
    """Contract request, invalid provider finalized."""
    case = await start(make_node, parties)
    response = await case.send("events", event(case.provider_pid, case.consumer_pid, "FINALIZED"))
    await case.assert_rejected(response, "REQUESTED")


async def test_CN_C_03_02(make_node: NodeFactory, parties: PartyFactory) -> None:
    """Contract request, offer received, invalid provider agreed (the owner has not accepted)."""
    case = await start(make_node, parties)
    await provider_offers(case)
    agreement = case.party.agreement(case.on_the_table, target=case.dataset_id, assignee=case.node.did)
    claims = case.party.signed_agreement_claims(agreement, case.node.did)
    response = await case.send("agreement", agreement_message(case, agreement), extra_claims=claims)
    await case.assert_rejected(response, "OFFERED")
    assert (await case.node.api.get(f"/api/v1/agreements/{agreement['@id']}")).status_code == 404
    assert case.party.messages("ContractAgreementVerificationMessage") == []


async def test_CN_C_03_03(make_node: NodeFactory, parties: PartyFactory) -> None:
    """Contract request, offer received, invalid provider finalized."""
    case = await start(make_node, parties)
    await provider_offers(case)
    response = await case.send("events", event(case.provider_pid, case.consumer_pid, "FINALIZED"))
    await case.assert_rejected(response, "OFFERED")


async def test_CN_C_03_04(make_node: NodeFactory, parties: PartyFactory) -> None:
    """Contract request, offer received, consumer accepted, invalid provider finalized."""
    case = await start(make_node, parties)
    await provider_offers(case)
    await consumer_accepts(case)
    response = await case.send("events", event(case.provider_pid, case.consumer_pid, "FINALIZED"))
    await case.assert_rejected(response, "ACCEPTED")


async def test_CN_C_03_05(make_node: NodeFactory, parties: PartyFactory) -> None:
    """Contract request, offer received, consumer accepted, invalid provider offer."""
    case = await start(make_node, parties)
    await provider_offers(case)
    await consumer_accepts(case)
    offer = {"@id": new_pid(), "@type": "Offer", "target": case.dataset_id, "permission": [purpose_rule("x")]}
    body = message(
        "ContractOfferMessage", providerPid=case.provider_pid, consumerPid=case.consumer_pid, offer=offer
    )
    response = await case.send("offers", body)
    await case.assert_rejected(response, "ACCEPTED")
    assert (await admin_view(case.node, case.consumer_pid))["offer"]["permission"] != offer["permission"]


async def test_CN_C_03_06(make_node: NodeFactory, parties: PartyFactory) -> None:
    """Contract request, offer received, consumer accepted, provider agreed, invalid provider finalized.

    The node verifies an agreement in the same step as it receives it, so AGREED is not observable and a
    FINALIZED is legal next; the invalid finalizations here are one for another providerPid (while
    VERIFIED) and a repeated one (after FINALIZED).
    """
    case = await start(make_node, parties)
    await provider_offers(case)
    await consumer_accepts(case)
    await provider_agrees(case)
    foreign = await case.send("events", event(new_pid(), case.consumer_pid, "FINALIZED"))
    await case.assert_rejected(foreign, "VERIFIED")
    await provider_finalizes(case)
    repeated = await case.send("events", event(case.provider_pid, case.consumer_pid, "FINALIZED"))
    await case.assert_rejected(repeated, "FINALIZED")


# --- agreements must be signed, and only parties may speak --------------------------------------


async def test_CN_C_unsigned_agreement_is_400(make_node: NodeFactory, parties: PartyFactory) -> None:
    case = await start(make_node, parties)
    agreement = case.party.agreement(case.on_the_table, target=case.dataset_id, assignee=case.node.did)
    response = await case.send("agreement", agreement_message(case, agreement))
    await case.assert_rejected(response, "REQUESTED")
    tampered = {**agreement, "permission": [purpose_rule("anything")]}
    claims = case.party.signed_agreement_claims(agreement, case.node.did)
    response = await case.send("agreement", agreement_message(case, tampered), extra_claims=claims)
    await case.assert_rejected(response, "REQUESTED")
    assert (await case.node.api.get("/api/v1/agreements")).json() == []


async def test_CN_C_unsigned_agreement_is_accepted_when_signatures_are_not_required(
    make_node: NodeFactory, parties: PartyFactory
) -> None:
    """Interop with connectors that do not sign agreements (setting require_agreement_signatures)."""
    case = await start(make_node, parties, require_agreement_signatures=False)
    agreement = case.party.agreement(case.on_the_table, target=case.dataset_id, assignee=case.node.did)
    response = await case.send("agreement", agreement_message(case, agreement))
    assert response.status_code == 200, response.text
    await case.assert_state("VERIFIED")
    stored = (await case.node.api.get("/api/v1/agreements")).json()
    assert [a["id"] for a in stored] == [agreement["@id"]]
    assert stored[0]["providerSignature"] is None and stored[0]["consumerSignature"]


async def test_CN_C_unknown_and_foreign_process_is_404(make_node: NodeFactory, parties: PartyFactory) -> None:
    case = await start(make_node, parties)
    unknown = await case.party.send(
        f"{case.node.node.callback_url}/negotiations/{new_pid()}/termination",
        termination(case.provider_pid, new_pid(), "x"),
        audience=case.node.did,
    )
    assert_negotiation_error(unknown, 404)
    intruder = parties(OTHER_PARTY_PORT)
    foreign = await intruder.send(
        f"{case.url}/termination",
        termination(case.provider_pid, case.consumer_pid, "hijack"),
        audience=case.node.did,
    )
    assert_negotiation_error(foreign, 404)
    await case.assert_state("REQUESTED")


# --- the scripted provider's answers steer the node's delivery -------------------------------------


async def test_CN_C_request_rejected_by_the_provider_ends_terminated(
    make_node: NodeFactory, parties: PartyFactory
) -> None:
    """A 400 to the node's ContractRequestMessage is final: the negotiation ends TERMINATED, not retried."""
    node = await make_node("Feinteile KG", NODE_PORT, outbox_retry_seconds=0.05)
    party = parties(PARTY_PORT)
    offer = party.offer_dataset()["hasPolicy"][0]
    party.answer("ContractRequestMessage", 400)
    started = await node.api.post(
        "/api/v1/negotiations", json={"address": party.base_url, "offer_id": offer["@id"]}
    )
    assert started.status_code == 201, started.text
    view = await eventually(
        lambda: admin_view(node, started.json()["id"]), lambda v: v["state"] == "TERMINATED"
    )
    assert view["providerPid"] is None
    assert "400" in view["terminationReason"]
    assert len(party.messages("ContractRequestMessage")) == 1


async def test_CN_C_request_retried_after_a_server_error(
    make_node: NodeFactory, parties: PartyFactory
) -> None:
    """A 503 to the node's ContractRequestMessage is retried until the provider answers 201."""
    node = await make_node("Feinteile KG", NODE_PORT, outbox_retry_seconds=0.05)
    party = parties(PARTY_PORT)
    offer = party.offer_dataset()["hasPolicy"][0]
    party.answer("ContractRequestMessage", 503)
    started = await node.api.post(
        "/api/v1/negotiations", json={"address": party.base_url, "offer_id": offer["@id"]}
    )
    assert started.status_code == 201, started.text
    await party.wait_for("ContractRequestMessage", count=2)
    assert (await admin_view(node, started.json()["id"]))["state"] == "REQUESTED"
    party.answer("ContractRequestMessage", 201)
    view = await eventually(
        lambda: admin_view(node, started.json()["id"]), lambda v: v["providerPid"] is not None
    )
    assert view["state"] == "REQUESTED"
    consumer_pids = {r.body["consumerPid"] for r in party.messages("ContractRequestMessage")}
    assert consumer_pids == {view["consumerPid"]}
    assert view["providerPid"] == next(iter(party.processes))
