"""DSP TCK scenarios CN:01-01 .. CN:03-04: the node is the PROVIDER, a scripted consumer talks to it.

The node's owner steers the provider's side through the management API: a request for an offer with
``review_required`` waits in the review queue, and "offer received" means the owner counter-offered
from there (the node then sends a ContractOfferMessage). Open-use offers without review are agreed at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
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
    catalog_request,
    event,
    message,
    publish,
    scripted_parties,
    state_probe,
    termination,
    verification,
)
from tests.support.waiting import eventually

from allmende.loopback import InProcessNetwork
from allmende.protocol.schemas import validate_message

pytestmark = pytest.mark.anyio

PURPOSE_RESEARCH = {
    "permission": [
        {
            "action": "use",
            "constraint": [{"leftOperand": "purpose", "operator": "eq", "rightOperand": "research"}],
        }
    ]
}


@pytest.fixture
async def parties(network: InProcessNetwork, tmp_path: Path) -> AsyncIterator[PartyFactory]:
    async with scripted_parties(network, tmp_path) as make:
        yield make


@dataclass
class Case:
    """One negotiation with the node as provider and the scripted party as consumer."""

    node: RunningNode
    party: ScriptedParty
    offer: dict[str, Any]
    consumer_pid: str
    provider_pid: str
    started: httpx.Response

    @property
    def url(self) -> str:
        return f"{self.node.node.dsp_url}/negotiations/{self.provider_pid}"

    async def send(self, leaf: str, body: Any, **kwargs: Any) -> httpx.Response:
        return await self.party.send(f"{self.url}/{leaf}", body, audience=self.node.did, **kwargs)

    async def dsp_state(self, party: ScriptedParty | None = None) -> str:
        """The state the node answers to the consumer's DSP GET (validated as ContractNegotiation)."""
        response = await (party or self.party).send(self.url, audience=self.node.did, method="GET")
        assert response.status_code == 200, response.text
        body = response.json()
        validate_message(body, "ContractNegotiation")
        assert (body["providerPid"], body["consumerPid"]) == (self.provider_pid, self.consumer_pid)
        return str(body["state"])

    async def assert_state(self, state: str) -> None:
        """Both the DSP GET and the management API show ``state``."""
        assert await self.dsp_state() == state
        assert await admin_state(self.node, self.provider_pid) == state

    async def assert_rejected(self, response: httpx.Response, state: str, status: int = 400) -> None:
        """An invalid step: ``status`` with a ContractNegotiationError, and the state is still ``state``."""
        body = assert_negotiation_error(response, status)
        assert body["providerPid"] == self.provider_pid
        await self.assert_state(state)

    async def wait_state(self, state: str) -> None:
        await eventually(state_probe(self.node, self.provider_pid), lambda s: s == state)
        assert await self.dsp_state() == state


async def start(
    make_node: NodeFactory, parties: PartyFactory, tmp_path: Path, *, review: bool = False
) -> Case:
    """Publish an open-use offer (optionally with review), then the scripted consumer requests it."""
    node = await make_node("Maschinenbau Muster GmbH", NODE_PORT)
    await publish(node, tmp_path, review_required=review)
    party = parties(PARTY_PORT)
    catalog = await party.send(f"{node.node.dsp_url}/catalog/request", catalog_request(), audience=node.did)
    assert catalog.status_code == 200, catalog.text
    dataset = catalog.json()["dataset"][0]
    offer = {**dataset["hasPolicy"][0], "target": dataset["@id"]}
    consumer_pid = new_pid()
    request = message(
        "ContractRequestMessage", consumerPid=consumer_pid, offer=offer, callbackAddress=party.callback_url
    )
    response = await party.send(f"{node.node.dsp_url}/negotiations/request", request, audience=node.did)
    assert response.status_code == 201, response.text
    body = response.json()
    validate_message(body, "ContractNegotiation")
    assert body["consumerPid"] == consumer_pid
    case = Case(node, party, offer, consumer_pid, str(body["providerPid"]), response)
    if review:
        assert body["state"] == "REQUESTED"
        queue = (await node.api.get("/api/v1/negotiations/review-queue")).json()
        assert [n["id"] for n in queue] == [case.provider_pid]
    return case


async def offer_received(case: Case, count: int = 1) -> Received:
    """The owner counter-offers from the review queue; the consumer receives a ContractOfferMessage."""
    response = await case.node.api.post(
        f"/api/v1/negotiations/{case.provider_pid}/counter-offer", json={"offer": PURPOSE_RESEARCH}
    )
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "OFFERED"
    received = await case.party.wait_for("ContractOfferMessage", count)
    assert received.valid, received.problems
    assert received.body["providerPid"] == case.provider_pid
    assert received.body["consumerPid"] == case.consumer_pid
    assert received.body["offer"]["permission"] == PURPOSE_RESEARCH["permission"]
    await case.assert_state("OFFERED")
    return received


async def consumer_accepts(case: Case) -> Received:
    """The consumer sends ACCEPTED; the node (provider) agrees to its own offer at once."""
    response = await case.send("events", event(case.provider_pid, case.consumer_pid, "ACCEPTED"))
    assert response.status_code == 200, response.text
    return await agreement_received(case)


async def agreement_received(case: Case) -> Received:
    """The consumer receives the node's signed ContractAgreementMessage; the node is AGREED."""
    received = await case.party.wait_for("ContractAgreementMessage")
    assert received.valid, received.problems
    agreement = received.body["agreement"]
    assert (agreement["assigner"], agreement["assignee"]) == (case.node.did, case.party.did)
    assert agreement["target"] == case.offer["target"]
    await case.party.check_agreement_signature(received)
    await case.assert_state("AGREED")
    return received


async def consumer_verifies(case: Case, agreement: Received) -> None:
    """The consumer verifies with its own signature; the node finalizes and sends FINALIZED."""
    body = agreement.body["agreement"]
    claims = case.party.signed_agreement_claims(body, case.node.did)
    response = await case.send(
        "agreement/verification", verification(case.provider_pid, case.consumer_pid), extra_claims=claims
    )
    assert response.status_code == 200, response.text
    finalized = await case.party.wait_for("ContractNegotiationEventMessage:FINALIZED")
    assert finalized.valid, finalized.problems
    await case.assert_state("FINALIZED")
    stored = (await case.node.api.get(f"/api/v1/agreements/{body['@id']}")).json()
    assert stored["digest"] == canonical_digest(body)
    assert stored["consumerSignature"] == claims["agreement_signature"]
    assert stored["finalized"] is not None


async def consumer_terminates(case: Case, state_before: str) -> None:
    response = await case.send(
        "termination", termination(case.provider_pid, case.consumer_pid, "no longer needed", code="C1")
    )
    assert response.status_code == 200, response.text
    await case.assert_state("TERMINATED")
    view = await admin_view(case.node, case.provider_pid)
    assert "no longer needed" in view["terminationReason"]
    assert view["reviewPending"] is False
    assert state_before != "TERMINATED"
    assert case.party.messages("ContractNegotiationTerminationMessage") == []


async def provider_terminates(case: Case) -> None:
    """The owner terminates; the consumer receives a ContractNegotiationTerminationMessage."""
    response = await case.node.api.post(
        f"/api/v1/negotiations/{case.provider_pid}/terminate", json={"reason": "terms not acceptable"}
    )
    assert response.status_code == 200, response.text
    received = await case.party.wait_for("ContractNegotiationTerminationMessage")
    assert received.valid, received.problems
    assert received.body["providerPid"] == case.provider_pid
    assert received.body["consumerPid"] == case.consumer_pid
    assert received.body["reason"] == ["terms not acceptable"]
    await case.assert_state("TERMINATED")


async def consumer_counter_offers(case: Case, count: int = 1) -> None:
    """The consumer answers the node's offer with a ContractRequestMessage: REQUESTED, back in review."""
    purpose = "research" if count == 1 else "teaching"
    rule = {
        "action": "use",
        "constraint": [{"leftOperand": "purpose", "operator": "eq", "rightOperand": purpose}],
    }
    counter = {**case.offer, "permission": [rule]}
    body = message(
        "ContractRequestMessage", providerPid=case.provider_pid, consumerPid=case.consumer_pid, offer=counter
    )
    response = await case.send("request", body)
    assert response.status_code == 200, response.text
    await case.assert_state("REQUESTED")
    view = await admin_view(case.node, case.provider_pid)
    assert view["reviewPending"] is True


# --- CN:01 ---------------------------------------------------------------------------------------


async def test_CN_01_01(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    """Contract request, offer received, consumer terminated."""
    case = await start(make_node, parties, tmp_path, review=True)
    await offer_received(case)
    await consumer_terminates(case, "OFFERED")


async def test_CN_01_02(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    """Contract request, offer received, consumer counter-offer, provider terminated."""
    case = await start(make_node, parties, tmp_path, review=True)
    await offer_received(case)
    await consumer_counter_offers(case)
    await provider_terminates(case)


async def test_CN_01_03(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    """Request, offer received, consumer accepted, provider agreement, consumer verified, finalized."""
    case = await start(make_node, parties, tmp_path, review=True)
    offered = await offer_received(case)
    agreement = await consumer_accepts(case)
    assert agreement.body["agreement"]["permission"] == offered.body["offer"]["permission"]
    await consumer_verifies(case, agreement)


async def test_CN_01_04(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    """Contract request, provider agreement, consumer verified, provider finalized (open-use)."""
    case = await start(make_node, parties, tmp_path)
    agreement = await agreement_received(case)
    await consumer_verifies(case, agreement)


# --- CN:02 ---------------------------------------------------------------------------------------


async def test_CN_02_01(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    """Contract request, provider terminated (the owner declines from the review queue)."""
    case = await start(make_node, parties, tmp_path, review=True)
    response = await case.node.api.post(
        f"/api/v1/negotiations/{case.provider_pid}/decline", json={"reason": "terms not acceptable"}
    )
    assert response.status_code == 200, response.text
    received = await case.party.wait_for("ContractNegotiationTerminationMessage")
    assert received.valid and received.body["reason"] == ["terms not acceptable"]
    await case.assert_state("TERMINATED")
    assert (await case.node.api.get("/api/v1/negotiations/review-queue")).json() == []


async def test_CN_02_02(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    """Contract request, consumer terminated (the review queue is emptied)."""
    case = await start(make_node, parties, tmp_path, review=True)
    await consumer_terminates(case, "REQUESTED")
    assert (await case.node.api.get("/api/v1/negotiations/review-queue")).json() == []


async def test_CN_02_03(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    """Contract request, provider agreement, consumer terminated."""
    case = await start(make_node, parties, tmp_path)
    await agreement_received(case)
    await consumer_terminates(case, "AGREED")


async def test_CN_02_04(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    """Contract request, offer received, consumer terminated (after the offer was delivered)."""
    case = await start(make_node, parties, tmp_path, review=True)
    offered = await offer_received(case)
    assert offered.status == 200
    await consumer_terminates(case, "OFFERED")


async def test_CN_02_05(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    """Contract request, offer received, provider terminated."""
    case = await start(make_node, parties, tmp_path, review=True)
    await offer_received(case)
    await provider_terminates(case)


async def test_CN_02_06(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    """Contract request, offer received, consumer accepted, provider terminated.

    The node agrees at once when the consumer accepts its own offer, so the owner terminates in AGREED.
    """
    case = await start(make_node, parties, tmp_path, review=True)
    await offer_received(case)
    await consumer_accepts(case)
    await provider_terminates(case)


async def test_CN_02_07(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    """Contract request, provider agreement, consumer verified, provider terminated.

    The node finalizes in the same step as it accepts the verification (VERIFIED is never observable), so
    the owner's termination comes too late: refused (409), the state stays FINALIZED, nothing is sent.
    """
    case = await start(make_node, parties, tmp_path)
    agreement = await agreement_received(case)
    await consumer_verifies(case, agreement)
    response = await case.node.api.post(
        f"/api/v1/negotiations/{case.provider_pid}/terminate", json={"reason": "too late"}
    )
    assert response.status_code == 409, response.text
    await case.assert_state("FINALIZED")
    assert case.party.messages("ContractNegotiationTerminationMessage") == []


# --- CN:03 (invalid steps) -----------------------------------------------------------------------


async def test_CN_03_01(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    """Request, provider agreement, consumer verified, provider finalized, invalid consumer terminated."""
    case = await start(make_node, parties, tmp_path)
    agreement = await agreement_received(case)
    await consumer_verifies(case, agreement)
    response = await case.send("termination", termination(case.provider_pid, case.consumer_pid, "late"))
    await case.assert_rejected(response, "FINALIZED")


async def test_CN_03_02(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    """Contract request, offer received, invalid consumer verified."""
    case = await start(make_node, parties, tmp_path, review=True)
    await offer_received(case)
    response = await case.send("agreement/verification", verification(case.provider_pid, case.consumer_pid))
    await case.assert_rejected(response, "OFFERED")
    assert case.party.messages("ContractNegotiationEventMessage:FINALIZED") == []


async def test_CN_03_03(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    """Contract request, offer received, consumer accepted, illegal consumer verified.

    The node agrees as soon as the consumer accepts, so ACCEPTED is not observable; the illegal
    verifications here are a repeated ACCEPTED and a verification whose signature covers another agreement.
    """
    case = await start(make_node, parties, tmp_path, review=True)
    await offer_received(case)
    agreement = await consumer_accepts(case)
    again = await case.send("events", event(case.provider_pid, case.consumer_pid, "ACCEPTED"))
    await case.assert_rejected(again, "AGREED")
    forged = {**agreement.body["agreement"], "target": "urn:uuid:another-dataset"}
    claims = case.party.signed_agreement_claims(forged, case.node.did)
    response = await case.send(
        "agreement/verification", verification(case.provider_pid, case.consumer_pid), extra_claims=claims
    )
    await case.assert_rejected(response, "AGREED")
    assert case.party.messages("ContractNegotiationEventMessage:FINALIZED") == []


async def test_CN_03_04(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    """Contract request, offer received, consumer counter-offer (x2), provider terminated."""
    case = await start(make_node, parties, tmp_path, review=True)
    await offer_received(case)
    await consumer_counter_offers(case)
    await offer_received(case, count=2)
    await consumer_counter_offers(case, count=2)
    await provider_terminates(case)


# --- protocol hygiene ----------------------------------------------------------------------------


async def test_CN_unknown_process_is_404(
    make_node: NodeFactory, parties: PartyFactory, tmp_path: Path
) -> None:
    case = await start(make_node, parties, tmp_path, review=True)
    unknown = new_pid()
    url = f"{case.node.node.dsp_url}/negotiations/{unknown}"
    got = await case.party.send(url, audience=case.node.did, method="GET")
    assert assert_negotiation_error(got, 404)["providerPid"] == unknown
    posted = await case.party.send(
        f"{url}/termination", termination(unknown, case.consumer_pid, "x"), audience=case.node.did
    )
    assert_negotiation_error(posted, 404)
    await case.assert_state("REQUESTED")


async def test_CN_process_of_another_party_is_404(
    make_node: NodeFactory, parties: PartyFactory, tmp_path: Path
) -> None:
    """A second party with another DID learns nothing about, and cannot change, someone else's process."""
    case = await start(make_node, parties, tmp_path, review=True)
    intruder = parties(OTHER_PARTY_PORT)
    got = await intruder.send(case.url, audience=case.node.did, method="GET")
    assert_negotiation_error(got, 404)
    posted = await intruder.send(
        f"{case.url}/termination",
        termination(case.provider_pid, case.consumer_pid, "hijack"),
        audience=case.node.did,
    )
    assert_negotiation_error(posted, 404)
    assert posted.json()["reason"] == got.json()["reason"]
    await case.assert_state("REQUESTED")


async def test_CN_schema_violation_is_400(
    make_node: NodeFactory, parties: PartyFactory, tmp_path: Path
) -> None:
    case = await start(make_node, parties, tmp_path, review=True)
    await offer_received(case)
    broken = event(case.provider_pid, case.consumer_pid, "ACCEPTED")
    del broken["consumerPid"]
    response = await case.send("events", broken)
    await case.assert_rejected(response, "OFFERED")
    wrong_type = await case.send("events", termination(case.provider_pid, case.consumer_pid, "x"))
    await case.assert_rejected(wrong_type, "OFFERED")


async def test_CN_invalid_json_is_400(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    case = await start(make_node, parties, tmp_path, review=True)
    response = await case.send("termination", None, content=b'{"@type": "ContractNegotiationTermin')
    await case.assert_rejected(response, "REQUESTED")


async def test_CN_replayed_token_is_401(
    make_node: NodeFactory, parties: PartyFactory, tmp_path: Path
) -> None:
    case = await start(make_node, parties, tmp_path, review=True)
    token = case.party.token(case.node.did)
    first = await case.party.send(case.url, audience=case.node.did, token=token, method="GET")
    assert first.status_code == 200, first.text
    body = termination(case.provider_pid, case.consumer_pid, "replayed")
    replayed = await case.send("termination", body, token=token)
    assert_negotiation_error(replayed, 401)
    assert replayed.headers["WWW-Authenticate"].startswith("Bearer")
    await case.assert_state("REQUESTED")


async def test_CN_token_for_another_audience_is_401(
    make_node: NodeFactory, parties: PartyFactory, tmp_path: Path
) -> None:
    case = await start(make_node, parties, tmp_path, review=True)
    token = case.party.token("did:web:127.0.0.1%3A9999")
    body = termination(case.provider_pid, case.consumer_pid, "wrong audience")
    response = await case.send("termination", body, token=token)
    assert_negotiation_error(response, 401)
    await case.assert_state("REQUESTED")


async def test_CN_repeated_initial_request_is_idempotent(
    make_node: NodeFactory, parties: PartyFactory, tmp_path: Path
) -> None:
    case = await start(make_node, parties, tmp_path, review=True)
    request = message(
        "ContractRequestMessage",
        consumerPid=case.consumer_pid,
        offer=case.offer,
        callbackAddress=case.party.callback_url,
    )
    again = await case.party.send(
        f"{case.node.node.dsp_url}/negotiations/request", request, audience=case.node.did
    )
    assert again.status_code in (200, 201), again.text
    validate_message(again.json(), "ContractNegotiation")
    assert again.json()["providerPid"] == case.provider_pid
    listed = (await case.node.api.get("/api/v1/negotiations")).json()
    assert [n["id"] for n in listed] == [case.provider_pid]
    await case.assert_state("REQUESTED")


async def test_CN_pids_that_do_not_match_are_400(
    make_node: NodeFactory, parties: PartyFactory, tmp_path: Path
) -> None:
    """A message whose consumerPid is not the process's, or an initial request with a providerPid: 400."""
    case = await start(make_node, parties, tmp_path, review=True)
    response = await case.send("termination", termination(case.provider_pid, new_pid(), "other pid"))
    await case.assert_rejected(response, "REQUESTED")
    initial = message(
        "ContractRequestMessage",
        providerPid=case.provider_pid,
        consumerPid=new_pid(),
        offer=case.offer,
        callbackAddress=case.party.callback_url,
    )
    response = await case.party.send(
        f"{case.node.node.dsp_url}/negotiations/request", initial, audience=case.node.did
    )
    assert_negotiation_error(response, 400)
    assert len((await case.node.api.get("/api/v1/negotiations")).json()) == 1
    await case.assert_state("REQUESTED")


async def test_CN_agreement_rejected_by_the_consumer_ends_terminated(
    make_node: NodeFactory, parties: PartyFactory, tmp_path: Path
) -> None:
    """When the consumer answers the node's agreement with 400, the node gives up: TERMINATED, reason kept."""
    node = await make_node("Maschinenbau Muster GmbH", NODE_PORT)
    await publish(node, tmp_path)
    party = parties(PARTY_PORT)
    party.answer("ContractAgreementMessage", 400)
    catalog = (
        await party.send(f"{node.node.dsp_url}/catalog/request", catalog_request(), audience=node.did)
    ).json()
    dataset = catalog["dataset"][0]
    request = message(
        "ContractRequestMessage",
        consumerPid=new_pid(),
        offer={**dataset["hasPolicy"][0], "target": dataset["@id"]},
        callbackAddress=party.callback_url,
    )
    response = await party.send(f"{node.node.dsp_url}/negotiations/request", request, audience=node.did)
    assert response.status_code == 201, response.text
    provider_pid = response.json()["providerPid"]
    rejected = await party.wait_for("ContractAgreementMessage")
    assert rejected.valid and rejected.status == 400
    await eventually(state_probe(node, provider_pid), lambda s: s == "TERMINATED")
    view = await admin_view(node, provider_pid)
    assert "400" in view["terminationReason"]
