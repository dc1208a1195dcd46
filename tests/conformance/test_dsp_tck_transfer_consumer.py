"""DSP TCK scenarios TP_C:01-01 .. TP_C:03-06: the node is the transfer CONSUMER, a scripted provider.

Set-up: the node negotiates the scripted provider's open-use offer to FINALIZED, then its owner asks for
the data (POST /api/v1/transfers). The scripted provider answers the TransferRequestMessage with 201 and
its providerPid and sends TransferStartMessage (with a data address), suspension, completion and
termination to the node's callback. "consumer ..." steps are the node owner's actions through the
management API; the scripted provider records what the node sends to ``/dsp/transfers/{providerPid}/...``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import NodeFactory, RunningNode
from tests.support.counterparty import Received, ScriptedParty, new_pid
from tests.support.dsp import NODE_PORT, OTHER_PARTY_PORT, PARTY_PORT, PartyFactory, scripted_parties
from tests.support.transfers import (
    TransferRoles,
    admin_transfer,
    agreement_with_node_as_consumer,
    assert_transfer_error,
    data_address,
    transfer_completion,
    transfer_start,
    transfer_suspension,
    transfer_termination,
)
from tests.support.waiting import eventually

from allmende.loopback import InProcessNetwork
from allmende.protocol.schemas import validate_message
from allmende.transfer.states import TransferMessage

pytestmark = pytest.mark.anyio


@pytest.fixture
async def parties(network: InProcessNetwork, tmp_path: Path) -> AsyncIterator[PartyFactory]:
    async with scripted_parties(network, tmp_path) as make:
        yield make


@dataclass
class Case:
    """One transfer with the node as consumer and the scripted party as provider."""

    node: RunningNode
    party: ScriptedParty
    agreement_id: str
    consumer_pid: str
    provider_pid: str
    addresses: int = 0

    @property
    def url(self) -> str:
        return f"{self.node.node.callback_url}/transfers/{self.consumer_pid}"

    async def send(self, leaf: str, body: Any, party: ScriptedParty | None = None) -> httpx.Response:
        return await (party or self.party).send(f"{self.url}/{leaf}", body, audience=self.node.did)

    async def dsp_state(self) -> str:
        """The state the node answers to the provider's DSP GET on its callback (a TransferProcess)."""
        response = await self.party.send(self.url, audience=self.node.did, method="GET")
        assert response.status_code == 200, response.text
        body = response.json()
        validate_message(body, "TransferProcess")
        assert (body["providerPid"], body["consumerPid"]) == (self.provider_pid, self.consumer_pid)
        return str(body["state"])

    async def view(self) -> dict[str, Any]:
        view = await admin_transfer(self.node, self.consumer_pid)
        assert view["role"] == "consumer" and view["providerPid"] == self.provider_pid
        assert view["agreementId"] == self.agreement_id
        return view

    async def assert_state(self, state: str) -> None:
        assert await self.dsp_state() == state
        assert (await self.view())["state"] == state

    async def assert_rejected(self, response: httpx.Response, state: str, status: int = 400) -> None:
        """An invalid step: ``status`` with a TransferError, and the state is still ``state``."""
        body = assert_transfer_error(response, status)
        assert body["consumerPid"] == self.consumer_pid
        await self.assert_state(state)

    async def admin(self, action: str, reason: str | None = None) -> httpx.Response:
        return await self.node.api.post(
            f"/api/v1/transfers/{self.consumer_pid}/{action}",
            json={"reason": reason} if reason is not None else None,
        )

    async def received(self, kind: str, count: int = 1) -> Received:
        """The ``count``-th ``kind`` message the node sent to the scripted provider; checked."""
        got = await self.party.wait_for(kind, count)
        assert got.valid, got.problems
        leaf = {
            "TransferStartMessage": "start",
            "TransferSuspensionMessage": "suspension",
            "TransferCompletionMessage": "completion",
            "TransferTerminationMessage": "termination",
        }[kind]
        assert got.path == f"/dsp/transfers/{self.provider_pid}/{leaf}"
        assert got.claims is not None and got.claims.issuer == self.node.did
        assert (got.body["providerPid"], got.body["consumerPid"]) == (self.provider_pid, self.consumer_pid)
        return got

    def new_address(self) -> dict[str, Any]:
        self.addresses += 1
        return data_address(f"{self.party.base_url}/data/{self.provider_pid}", f"token-{self.addresses}")


async def start(make_node: NodeFactory, parties: PartyFactory) -> Case:
    """Agreement, then the owner asks for the data; the scripted provider answers 201 (REQUESTED)."""
    node = await make_node("Feinteile KG", NODE_PORT)
    party = parties(PARTY_PORT)
    roles = TransferRoles(party)
    agreement_id = await agreement_with_node_as_consumer(node, party)
    started = await node.api.post("/api/v1/transfers", json={"agreement_id": agreement_id})
    assert started.status_code == 201, started.text
    consumer_pid = str(started.json()["id"])
    request = await party.wait_for("TransferRequestMessage")
    assert request.valid, request.problems
    assert request.status == 201
    assert request.path == "/dsp/transfers/request"
    assert request.claims is not None and request.claims.issuer == node.did
    body = request.body
    assert "providerPid" not in body and "dataAddress" not in body
    assert (body["consumerPid"], body["agreementId"], body["format"]) == (
        consumer_pid,
        agreement_id,
        "HttpData-PULL",
    )
    assert body["callbackAddress"] == node.node.callback_url
    provider_pid = roles.by_consumer_pid(consumer_pid).provider_pid
    await eventually(lambda: admin_transfer(node, consumer_pid), lambda v: v["providerPid"] == provider_pid)
    case = Case(node, party, agreement_id, consumer_pid, provider_pid)
    await case.assert_state("REQUESTED")
    return case


async def provider_sends(case: Case, kind: TransferMessage) -> httpx.Response:
    p, c = case.provider_pid, case.consumer_pid
    if kind is TransferMessage.START:
        return await case.send("start", transfer_start(p, c, case.new_address()))
    if kind is TransferMessage.SUSPENSION:
        return await case.send("suspension", transfer_suspension(p, c, "maintenance window"))
    if kind is TransferMessage.COMPLETION:
        return await case.send("completion", transfer_completion(p, c))
    return await case.send("termination", transfer_termination(p, c, "contract ended"))


async def provider_starts(case: Case) -> None:
    """TransferStartMessage with a data address: STARTED, and the owner sees the address."""
    response = await provider_sends(case, TransferMessage.START)
    assert response.status_code == 200, response.text
    await case.assert_state("STARTED")
    expected = data_address(f"{case.party.base_url}/data/{case.provider_pid}", f"token-{case.addresses}")
    assert (await case.view())["dataAddress"] == expected


async def provider_suspends(case: Case) -> None:
    response = await provider_sends(case, TransferMessage.SUSPENSION)
    assert response.status_code == 200, response.text
    await case.assert_state("SUSPENDED")


async def provider_completes(case: Case) -> None:
    response = await provider_sends(case, TransferMessage.COMPLETION)
    assert response.status_code == 200, response.text
    await case.assert_state("COMPLETED")


async def provider_terminates(case: Case) -> None:
    response = await provider_sends(case, TransferMessage.TERMINATION)
    assert response.status_code == 200, response.text
    await case.assert_state("TERMINATED")
    assert "contract ended" in (await case.view())["terminationReason"]


async def consumer_suspends(case: Case) -> None:
    response = await case.admin("suspend", "pausing the pull")
    assert response.status_code == 200, response.text
    got = await case.received("TransferSuspensionMessage")
    assert got.body["reason"] == ["pausing the pull"]
    await case.assert_state("SUSPENDED")


async def consumer_resumes(case: Case) -> None:
    response = await case.admin("resume")
    assert response.status_code == 200, response.text
    got = await case.received("TransferStartMessage")
    assert "dataAddress" not in got.body
    await case.assert_state("STARTED")


async def consumer_completes(case: Case) -> None:
    response = await case.admin("complete")
    assert response.status_code == 200, response.text
    await case.received("TransferCompletionMessage")
    await case.assert_state("COMPLETED")


async def consumer_terminates(case: Case) -> None:
    response = await case.admin("terminate", "no longer needed")
    assert response.status_code == 200, response.text
    got = await case.received("TransferTerminationMessage")
    assert got.body["reason"] == ["no longer needed"]
    await case.assert_state("TERMINATED")
    assert (await case.view())["terminationReason"] == "no longer needed"


def assert_node_sent_nothing(case: Case) -> None:
    """The node did not answer the provider's steps with messages of its own."""
    sent = [r.type for r in case.party.received if r.path.startswith(f"/dsp/transfers/{case.provider_pid}")]
    assert sent == [], sent


# --- TP_C:01 (the provider steers) ---------------------------------------------------------------


async def test_TP_C_01_01(make_node: NodeFactory, parties: PartyFactory) -> None:
    """Transfer request, provider started, provider terminated."""
    case = await start(make_node, parties)
    await provider_starts(case)
    await provider_terminates(case)
    assert_node_sent_nothing(case)


async def test_TP_C_01_02(make_node: NodeFactory, parties: PartyFactory) -> None:
    """Transfer request, provider started, provider completed."""
    case = await start(make_node, parties)
    await provider_starts(case)
    await provider_completes(case)
    assert_node_sent_nothing(case)


async def test_TP_C_01_03(make_node: NodeFactory, parties: PartyFactory) -> None:
    """Transfer request, provider started, provider suspended, provider terminated."""
    case = await start(make_node, parties)
    await provider_starts(case)
    await provider_suspends(case)
    await provider_terminates(case)
    assert_node_sent_nothing(case)


async def test_TP_C_01_04(make_node: NodeFactory, parties: PartyFactory) -> None:
    """Transfer request, provider started, provider suspended, provider started, provider completed."""
    case = await start(make_node, parties)
    await provider_starts(case)
    await provider_suspends(case)
    await provider_starts(case)  # a fresh data address replaces the old one
    await provider_completes(case)
    assert_node_sent_nothing(case)


async def test_TP_C_01_05(make_node: NodeFactory, parties: PartyFactory) -> None:
    """Transfer request, provider terminated."""
    case = await start(make_node, parties)
    await provider_terminates(case)
    assert (await case.view())["dataAddress"] is None
    assert_node_sent_nothing(case)


# --- TP_C:02 (the consumer steers) ---------------------------------------------------------------


async def test_TP_C_02_01(make_node: NodeFactory, parties: PartyFactory) -> None:
    """Transfer request, provider started, consumer terminated."""
    case = await start(make_node, parties)
    await provider_starts(case)
    await consumer_terminates(case)


async def test_TP_C_02_02(make_node: NodeFactory, parties: PartyFactory) -> None:
    """Transfer request, provider started, consumer completed."""
    case = await start(make_node, parties)
    await provider_starts(case)
    await consumer_completes(case)


async def test_TP_C_02_03(make_node: NodeFactory, parties: PartyFactory) -> None:
    """Transfer request, provider started, consumer suspended, consumer terminated."""
    case = await start(make_node, parties)
    await provider_starts(case)
    await consumer_suspends(case)
    await consumer_terminates(case)


async def test_TP_C_02_04(make_node: NodeFactory, parties: PartyFactory) -> None:
    """Transfer request, provider started, consumer suspended, consumer started, consumer completed."""
    case = await start(make_node, parties)
    await provider_starts(case)
    await consumer_suspends(case)
    await consumer_resumes(case)
    await consumer_completes(case)


async def test_TP_C_02_05(make_node: NodeFactory, parties: PartyFactory) -> None:
    """Transfer request, consumer terminated."""
    case = await start(make_node, parties)
    await consumer_terminates(case)


# --- TP_C:03 (invalid provider steps) ------------------------------------------------------------


async def test_TP_C_03_01(make_node: NodeFactory, parties: PartyFactory) -> None:
    """Transfer request, invalid provider completed."""
    case = await start(make_node, parties)
    await case.assert_rejected(await provider_sends(case, TransferMessage.COMPLETION), "REQUESTED")
    assert_node_sent_nothing(case)


async def test_TP_C_03_02(make_node: NodeFactory, parties: PartyFactory) -> None:
    """Transfer request, invalid provider suspended."""
    case = await start(make_node, parties)
    await case.assert_rejected(await provider_sends(case, TransferMessage.SUSPENSION), "REQUESTED")
    assert_node_sent_nothing(case)


async def test_TP_C_03_03(make_node: NodeFactory, parties: PartyFactory) -> None:
    """Transfer request, provider started, provider suspended, invalid provider completed."""
    case = await start(make_node, parties)
    await provider_starts(case)
    await provider_suspends(case)
    await case.assert_rejected(await provider_sends(case, TransferMessage.COMPLETION), "SUSPENDED")


async def _terminated_then(make_node: NodeFactory, parties: PartyFactory, late: TransferMessage) -> None:
    case = await start(make_node, parties)
    await provider_starts(case)
    await provider_terminates(case)
    before = (await case.view())["dataAddress"]
    await case.assert_rejected(await provider_sends(case, late), "TERMINATED")
    assert (await case.view())["dataAddress"] == before
    assert_node_sent_nothing(case)


async def test_TP_C_03_04(make_node: NodeFactory, parties: PartyFactory) -> None:
    """Transfer request, provider started, provider terminated, invalid provider started."""
    await _terminated_then(make_node, parties, TransferMessage.START)


async def test_TP_C_03_05(make_node: NodeFactory, parties: PartyFactory) -> None:
    """Transfer request, provider started, provider terminated, invalid provider suspended."""
    await _terminated_then(make_node, parties, TransferMessage.SUSPENSION)


async def test_TP_C_03_06(make_node: NodeFactory, parties: PartyFactory) -> None:
    """Transfer request, provider started, provider terminated, invalid provider completed."""
    await _terminated_then(make_node, parties, TransferMessage.COMPLETION)


# --- beyond the TCK ------------------------------------------------------------------------------


async def test_start_without_data_address_is_400(make_node: NodeFactory, parties: PartyFactory) -> None:
    """A pull transfer cannot start without a data address."""
    case = await start(make_node, parties)
    response = await case.send("start", transfer_start(case.provider_pid, case.consumer_pid))
    await case.assert_rejected(response, "REQUESTED")


async def test_unknown_callback_transfer_is_404(make_node: NodeFactory, parties: PartyFactory) -> None:
    case = await start(make_node, parties)
    unknown = new_pid()
    url = f"{case.node.node.callback_url}/transfers/{unknown}"
    got = await case.party.send(url, audience=case.node.did, method="GET")
    assert assert_transfer_error(got, 404)["consumerPid"] == unknown
    body = transfer_start(case.provider_pid, unknown, case.new_address())
    assert_transfer_error(await case.party.send(f"{url}/start", body, audience=case.node.did), 404)
    await case.assert_state("REQUESTED")


async def test_callback_transfer_of_another_party_is_404(
    make_node: NodeFactory, parties: PartyFactory
) -> None:
    case = await start(make_node, parties)
    other = parties(OTHER_PARTY_PORT)
    assert_transfer_error(await other.send(case.url, audience=case.node.did, method="GET"), 404)
    body = transfer_start(case.provider_pid, case.consumer_pid, case.new_address())
    assert_transfer_error(await case.send("start", body, party=other), 404)
    await case.assert_state("REQUESTED")
    assert (await case.view())["dataAddress"] is None


async def test_mismatched_provider_pid_is_400(make_node: NodeFactory, parties: PartyFactory) -> None:
    case = await start(make_node, parties)
    body = transfer_start(new_pid(), case.consumer_pid, case.new_address())
    await case.assert_rejected(await case.send("start", body), "REQUESTED")


async def test_callback_schema_violation_is_400_and_changes_nothing(
    make_node: NodeFactory, parties: PartyFactory
) -> None:
    case = await start(make_node, parties)
    await provider_starts(case)
    no_provider_pid = {
        k: v for k, v in transfer_completion("x", case.consumer_pid).items() if k != "providerPid"
    }
    await case.assert_rejected(await case.send("completion", no_provider_pid), "STARTED")
    bad_address = transfer_start(case.provider_pid, case.consumer_pid, {"@type": "DataAddress"})
    await case.assert_rejected(await case.send("start", bad_address), "STARTED")


async def test_mismatched_consumer_pid_in_body_is_400(make_node: NodeFactory, parties: PartyFactory) -> None:
    case = await start(make_node, parties)
    body = transfer_start(case.provider_pid, new_pid(), case.new_address())
    await case.assert_rejected(await case.send("start", body), "REQUESTED")
