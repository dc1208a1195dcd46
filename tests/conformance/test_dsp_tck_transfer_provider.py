"""DSP TCK scenarios TP:01-01 .. TP:03-06: the node is the transfer PROVIDER, a scripted consumer talks to it.

Set-up: the node publishes an open-use CSV, the scripted party negotiates it to FINALIZED and sends a
TransferRequestMessage (HttpData-PULL). The node answers 201 and starts at once: "provider started" is the
TransferStartMessage with a data address that the party receives. "provider ..." steps are the node
owner's actions through the management API; "consumer ..." steps are messages the scripted party sends.

Because the node starts every accepted request at once, its provider side is never observably REQUESTED:
TP:01-05 / TP:02-05 (termination "after the request") terminate the started transfer, and TP:03-01 /
TP:03-02 (completion / suspension "in REQUESTED", invalid in the TCK) meet a STARTED transfer, where the
message is valid. Those two tests check that, plus the rejection from REQUESTED in the state machine.
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
    admin_transfers,
    agreement_with_node_as_provider,
    assert_transfer_error,
    read_address,
    transfer_completion,
    transfer_request,
    transfer_start,
    transfer_suspension,
    transfer_termination,
)

from allmende.loopback import InProcessNetwork
from allmende.negotiation.states import Role
from allmende.protocol.schemas import validate_message
from allmende.transfer.states import (
    InvalidTransferTransition,
    TransferMessage,
    TransferState,
    next_transfer_state,
)

pytestmark = pytest.mark.anyio

CSV = b"timestamp,rms_mm_s\n2026-01-01T00:00:00Z,1.2\n"


@pytest.fixture
async def parties(network: InProcessNetwork, tmp_path: Path) -> AsyncIterator[PartyFactory]:
    async with scripted_parties(network, tmp_path) as make:
        yield make


@dataclass
class Case:
    """One transfer with the node as provider and the scripted party as consumer."""

    node: RunningNode
    party: ScriptedParty
    agreement_id: str
    consumer_pid: str
    provider_pid: str
    starts: int = 1

    @property
    def url(self) -> str:
        return f"{self.node.node.dsp_url}/transfers/{self.provider_pid}"

    async def send(self, leaf: str, body: Any, party: ScriptedParty | None = None) -> httpx.Response:
        return await (party or self.party).send(f"{self.url}/{leaf}", body, audience=self.node.did)

    async def dsp_state(self) -> str:
        """The state the node answers to the consumer's DSP GET (validated as TransferProcess)."""
        response = await self.party.send(self.url, audience=self.node.did, method="GET")
        assert response.status_code == 200, response.text
        body = response.json()
        validate_message(body, "TransferProcess")
        assert (body["providerPid"], body["consumerPid"]) == (self.provider_pid, self.consumer_pid)
        return str(body["state"])

    async def admin_state(self) -> str:
        view = await admin_transfer(self.node, self.provider_pid)
        assert view["role"] == "provider" and view["consumerPid"] == self.consumer_pid
        return str(view["state"])

    async def assert_state(self, state: str) -> None:
        assert await self.dsp_state() == state
        assert await self.admin_state() == state

    async def assert_rejected(self, response: httpx.Response, state: str, status: int = 400) -> None:
        """An invalid step: ``status`` with a TransferError, and the state is still ``state``."""
        body = assert_transfer_error(response, status)
        assert body["providerPid"] == self.provider_pid
        await self.assert_state(state)

    async def admin(self, action: str, reason: str | None = None) -> httpx.Response:
        return await self.node.api.post(
            f"/api/v1/transfers/{self.provider_pid}/{action}",
            json={"reason": reason} if reason is not None else None,
        )

    async def received(self, kind: str, count: int = 1) -> Received:
        """The ``count``-th ``kind`` message at the party's callback for this transfer; checked."""
        got = await self.party.wait_for(kind, count)
        assert got.valid, got.problems
        leaf = {
            "TransferStartMessage": "start",
            "TransferSuspensionMessage": "suspension",
            "TransferCompletionMessage": "completion",
            "TransferTerminationMessage": "termination",
        }[kind]
        assert got.path == f"/dsp/callback/transfers/{self.consumer_pid}/{leaf}"
        assert got.claims is not None and got.claims.issuer == self.node.did
        assert (got.body["providerPid"], got.body["consumerPid"]) == (self.provider_pid, self.consumer_pid)
        return got

    async def pull(self, start: Received) -> httpx.Response:
        endpoint, token = read_address(start.body.get("dataAddress"))
        assert endpoint == f"{self.node.node.base_url}/data/{self.provider_pid}"
        return await self.party.http.get(endpoint, headers={"Authorization": f"Bearer {token}"})

    async def assert_pull_works(self) -> None:
        response = await self.pull(await self.received("TransferStartMessage", self.starts))
        assert response.status_code == 200, response.text
        assert response.content == CSV

    async def assert_pull_refused(self, state: str) -> None:
        """Every data address the party was given is refused now: 403 with a JSON reason."""
        for start in self.party.messages("TransferStartMessage"):
            response = await self.pull(start)
            assert response.status_code == 403, response.text
            assert state in response.json()["reason"]


async def start(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> Case:
    """Agreement, then the TransferRequestMessage: 201 TransferProcess; the node starts at once."""
    node = await make_node("Maschinenbau Muster GmbH", NODE_PORT)
    party = parties(PARTY_PORT)
    TransferRoles(party)
    agreement_id = await agreement_with_node_as_provider(node, party, tmp_path)
    consumer_pid = new_pid()
    response = await party.send(
        f"{node.node.dsp_url}/transfers/request",
        transfer_request(consumer_pid, agreement_id, party.callback_url),
        audience=node.did,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    validate_message(body, "TransferProcess")
    assert body["consumerPid"] == consumer_pid
    assert body["state"] in ("REQUESTED", "STARTED")
    case = Case(node, party, agreement_id, consumer_pid, str(body["providerPid"]))
    view = await admin_transfer(node, case.provider_pid)
    assert (view["agreementId"], view["counterparty"], view["format"]) == (
        agreement_id,
        party.did,
        "HttpData-PULL",
    )
    return case


async def provider_started(case: Case) -> None:
    """The party received the TransferStartMessage with a working data address; the node is STARTED."""
    await case.received("TransferStartMessage", case.starts)
    await case.assert_state("STARTED")
    await case.assert_pull_works()


async def provider_resumes(case: Case) -> None:
    response = await case.admin("resume")
    assert response.status_code == 200, response.text
    case.starts += 1
    await provider_started(case)


async def provider_suspends(case: Case) -> None:
    response = await case.admin("suspend", "maintenance window")
    assert response.status_code == 200, response.text
    got = await case.received("TransferSuspensionMessage")
    assert got.body["reason"] == ["maintenance window"]
    await case.assert_state("SUSPENDED")
    await case.assert_pull_refused("SUSPENDED")


async def provider_completes(case: Case) -> None:
    response = await case.admin("complete")
    assert response.status_code == 200, response.text
    await case.received("TransferCompletionMessage")
    await case.assert_state("COMPLETED")
    await case.assert_pull_refused("COMPLETED")


async def provider_terminates(case: Case) -> None:
    response = await case.admin("terminate", "contract ended")
    assert response.status_code == 200, response.text
    got = await case.received("TransferTerminationMessage")
    assert got.body["reason"] == ["contract ended"]
    await case.assert_state("TERMINATED")
    assert (await admin_transfer(case.node, case.provider_pid))["terminationReason"] == "contract ended"
    await case.assert_pull_refused("TERMINATED")


async def consumer_sends(case: Case, kind: TransferMessage) -> httpx.Response:
    p, c = case.provider_pid, case.consumer_pid
    if kind is TransferMessage.START:
        return await case.send("start", transfer_start(p, c))
    if kind is TransferMessage.SUSPENSION:
        return await case.send("suspension", transfer_suspension(p, c, "consumer busy"))
    if kind is TransferMessage.COMPLETION:
        return await case.send("completion", transfer_completion(p, c))
    return await case.send("termination", transfer_termination(p, c, "no longer needed"))


async def consumer_suspends(case: Case) -> None:
    response = await consumer_sends(case, TransferMessage.SUSPENSION)
    assert response.status_code == 200, response.text
    await case.assert_state("SUSPENDED")
    await case.assert_pull_refused("SUSPENDED")


async def consumer_resumes(case: Case) -> None:
    response = await consumer_sends(case, TransferMessage.START)
    assert response.status_code == 200, response.text
    await case.assert_state("STARTED")
    await case.assert_pull_works()  # the last data address works again


async def consumer_completes(case: Case) -> None:
    response = await consumer_sends(case, TransferMessage.COMPLETION)
    assert response.status_code == 200, response.text
    await case.assert_state("COMPLETED")
    await case.assert_pull_refused("COMPLETED")


async def consumer_terminates(case: Case) -> None:
    response = await consumer_sends(case, TransferMessage.TERMINATION)
    assert response.status_code == 200, response.text
    await case.assert_state("TERMINATED")
    reason = (await admin_transfer(case.node, case.provider_pid))["terminationReason"]
    assert "no longer needed" in reason
    await case.assert_pull_refused("TERMINATED")


def assert_no_messages_after_the_start(case: Case) -> None:
    """The node sent nothing but its start message(s): the consumer's steps are not echoed back."""
    kinds = {r.type for r in case.party.received if r.path.startswith("/dsp/callback/transfers/")}
    assert kinds == {"TransferStartMessage"}, kinds


# --- TP:01 (the provider steers) -----------------------------------------------------------------


async def test_TP_01_01(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    """Transfer request, provider started, provider terminated."""
    case = await start(make_node, parties, tmp_path)
    await provider_started(case)
    await provider_terminates(case)


async def test_TP_01_02(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    """Transfer request, provider started, provider completed."""
    case = await start(make_node, parties, tmp_path)
    await provider_started(case)
    await provider_completes(case)


async def test_TP_01_03(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    """Transfer request, provider started, provider suspended, provider terminated."""
    case = await start(make_node, parties, tmp_path)
    await provider_started(case)
    await provider_suspends(case)
    await provider_terminates(case)


async def test_TP_01_04(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    """Transfer request, provider started, provider suspended, provider started, provider completed."""
    case = await start(make_node, parties, tmp_path)
    await provider_started(case)
    await provider_suspends(case)
    await provider_resumes(case)
    await provider_completes(case)


async def test_TP_01_05(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    """Transfer request, provider terminated (the node had started at once)."""
    case = await start(make_node, parties, tmp_path)
    await case.received("TransferStartMessage")
    await provider_terminates(case)


# --- TP:02 (the consumer steers) -----------------------------------------------------------------


async def test_TP_02_01(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    """Transfer request, provider started, consumer terminated."""
    case = await start(make_node, parties, tmp_path)
    await provider_started(case)
    await consumer_terminates(case)
    assert_no_messages_after_the_start(case)


async def test_TP_02_02(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    """Transfer request, provider started, consumer completed."""
    case = await start(make_node, parties, tmp_path)
    await provider_started(case)
    await consumer_completes(case)
    assert_no_messages_after_the_start(case)


async def test_TP_02_03(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    """Transfer request, provider started, consumer suspended, consumer terminated."""
    case = await start(make_node, parties, tmp_path)
    await provider_started(case)
    await consumer_suspends(case)
    await consumer_terminates(case)
    assert_no_messages_after_the_start(case)


async def test_TP_02_04(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    """Transfer request, provider started, consumer suspended, consumer started, consumer completed."""
    case = await start(make_node, parties, tmp_path)
    await provider_started(case)
    await consumer_suspends(case)
    await consumer_resumes(case)
    await consumer_completes(case)
    assert_no_messages_after_the_start(case)


async def test_TP_02_05(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    """Transfer request, consumer terminated (the node had started at once)."""
    case = await start(make_node, parties, tmp_path)
    await case.received("TransferStartMessage")
    await consumer_terminates(case)


# --- TP:03 (invalid consumer steps) --------------------------------------------------------------


def assert_rejected_in_requested(kind: TransferMessage) -> None:
    with pytest.raises(InvalidTransferTransition):
        next_transfer_state(TransferState.REQUESTED, kind, Role.CONSUMER)


async def test_TP_03_01(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    """Transfer request, consumer completed: invalid in REQUESTED, but the node is STARTED at once."""
    assert_rejected_in_requested(TransferMessage.COMPLETION)
    case = await start(make_node, parties, tmp_path)
    await case.assert_state("STARTED")
    await consumer_completes(case)


async def test_TP_03_02(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    """Transfer request, consumer suspended: invalid in REQUESTED, but the node is STARTED at once."""
    assert_rejected_in_requested(TransferMessage.SUSPENSION)
    case = await start(make_node, parties, tmp_path)
    await case.assert_state("STARTED")
    await consumer_suspends(case)


async def test_TP_03_03(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    """Transfer request, provider started, consumer suspended, invalid consumer completed."""
    case = await start(make_node, parties, tmp_path)
    await provider_started(case)
    await consumer_suspends(case)
    await case.assert_rejected(await consumer_sends(case, TransferMessage.COMPLETION), "SUSPENDED")
    await case.assert_pull_refused("SUSPENDED")


async def _terminated_then(
    make_node: NodeFactory, parties: PartyFactory, tmp_path: Path, late: TransferMessage
) -> None:
    case = await start(make_node, parties, tmp_path)
    await provider_started(case)
    await consumer_terminates(case)
    await case.assert_rejected(await consumer_sends(case, late), "TERMINATED")
    await case.assert_pull_refused("TERMINATED")


async def test_TP_03_04(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    """Transfer request, provider started, consumer terminated, invalid consumer started."""
    await _terminated_then(make_node, parties, tmp_path, TransferMessage.START)


async def test_TP_03_05(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    """Transfer request, provider started, consumer terminated, invalid consumer suspended."""
    await _terminated_then(make_node, parties, tmp_path, TransferMessage.SUSPENSION)


async def test_TP_03_06(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    """Transfer request, provider started, consumer terminated, invalid consumer completed."""
    await _terminated_then(make_node, parties, tmp_path, TransferMessage.COMPLETION)


# --- beyond the TCK ------------------------------------------------------------------------------


async def test_unknown_transfer_is_404(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    case = await start(make_node, parties, tmp_path)
    unknown = new_pid()
    url = f"{case.node.node.dsp_url}/transfers/{unknown}"
    got = await case.party.send(url, audience=case.node.did, method="GET")
    assert assert_transfer_error(got, 404)["providerPid"] == unknown
    sent = await case.party.send(
        f"{url}/completion", transfer_completion(unknown, case.consumer_pid), audience=case.node.did
    )
    assert_transfer_error(sent, 404)
    await case.assert_state("STARTED")


async def test_transfer_of_another_party_is_404(
    make_node: NodeFactory, parties: PartyFactory, tmp_path: Path
) -> None:
    case = await start(make_node, parties, tmp_path)
    other = parties(OTHER_PARTY_PORT)
    got = await other.send(case.url, audience=case.node.did, method="GET")
    assert_transfer_error(got, 404)
    for leaf, body in (
        ("suspension", transfer_suspension(case.provider_pid, case.consumer_pid, "mine now")),
        ("completion", transfer_completion(case.provider_pid, case.consumer_pid)),
        ("termination", transfer_termination(case.provider_pid, case.consumer_pid, "mine now")),
    ):
        assert_transfer_error(await case.send(leaf, body, party=other), 404)
    await case.assert_state("STARTED")
    await case.assert_pull_works()


async def test_request_for_an_agreement_the_caller_does_not_hold_is_400(
    make_node: NodeFactory, parties: PartyFactory, tmp_path: Path
) -> None:
    case = await start(make_node, parties, tmp_path)
    other = parties(OTHER_PARTY_PORT)
    TransferRoles(other)
    url = f"{case.node.node.dsp_url}/transfers/request"
    for sender, agreement_id in ((other, case.agreement_id), (case.party, new_pid())):
        consumer_pid = new_pid()
        response = await sender.send(
            url, transfer_request(consumer_pid, agreement_id, sender.callback_url), audience=case.node.did
        )
        assert assert_transfer_error(response)["consumerPid"] == consumer_pid
    assert [t["id"] for t in await admin_transfers(case.node, "provider")] == [case.provider_pid]
    assert other.messages() == []


async def test_push_without_a_data_address_is_400(
    make_node: NodeFactory, parties: PartyFactory, tmp_path: Path
) -> None:
    """A push request must say where the data goes (DSP: dataAddress in the TransferRequestMessage)."""
    case = await start(make_node, parties, tmp_path)
    consumer_pid = new_pid()
    response = await case.party.send(
        f"{case.node.node.dsp_url}/transfers/request",
        transfer_request(consumer_pid, case.agreement_id, case.party.callback_url, format="HttpData-PUSH"),
        audience=case.node.did,
    )
    body = assert_transfer_error(response)
    assert body["consumerPid"] == consumer_pid
    assert "dataAddress" in " ".join(body["reason"])
    assert [t["id"] for t in await admin_transfers(case.node, "provider")] == [case.provider_pid]


async def test_repeated_request_is_idempotent(
    make_node: NodeFactory, parties: PartyFactory, tmp_path: Path
) -> None:
    case = await start(make_node, parties, tmp_path)
    await provider_started(case)
    again = await case.party.send(
        f"{case.node.node.dsp_url}/transfers/request",
        transfer_request(case.consumer_pid, case.agreement_id, case.party.callback_url),
        audience=case.node.did,
    )
    assert again.status_code in (200, 201), again.text
    body = again.json()
    validate_message(body, "TransferProcess")
    assert (body["providerPid"], body["consumerPid"], body["state"]) == (
        case.provider_pid,
        case.consumer_pid,
        "STARTED",
    )
    assert [t["id"] for t in await admin_transfers(case.node, "provider")] == [case.provider_pid]
    assert len(case.party.messages("TransferStartMessage")) == 1


async def test_schema_violation_is_400_and_changes_nothing(
    make_node: NodeFactory, parties: PartyFactory, tmp_path: Path
) -> None:
    case = await start(make_node, parties, tmp_path)
    await provider_started(case)
    no_consumer_pid = {
        k: v for k, v in transfer_completion(case.provider_pid, "x").items() if k != "consumerPid"
    }
    await case.assert_rejected(await case.send("completion", no_consumer_pid), "STARTED")
    reason_not_a_list = {**transfer_suspension(case.provider_pid, case.consumer_pid, "x"), "reason": 42}
    await case.assert_rejected(await case.send("suspension", reason_not_a_list), "STARTED")
    wrong_type = transfer_termination(case.provider_pid, case.consumer_pid, "x")
    wrong_type["@type"] = "TransferCompletionMessage"
    await case.assert_rejected(await case.send("termination", wrong_type), "STARTED")
    no_agreement = {
        k: v
        for k, v in transfer_request(new_pid(), case.agreement_id, case.party.callback_url).items()
        if k != "agreementId"
    }
    response = await case.party.send(
        f"{case.node.node.dsp_url}/transfers/request", no_agreement, audience=case.node.did
    )
    assert_transfer_error(response)
    assert [t["id"] for t in await admin_transfers(case.node, "provider")] == [case.provider_pid]
    await case.assert_pull_works()


async def test_mismatched_consumer_pid_is_400(
    make_node: NodeFactory, parties: PartyFactory, tmp_path: Path
) -> None:
    case = await start(make_node, parties, tmp_path)
    await provider_started(case)
    body = transfer_completion(case.provider_pid, new_pid())
    await case.assert_rejected(await case.send("completion", body), "STARTED")
    await case.assert_pull_works()


async def test_mismatched_provider_pid_in_body_is_400(
    make_node: NodeFactory, parties: PartyFactory, tmp_path: Path
) -> None:
    case = await start(make_node, parties, tmp_path)
    await provider_started(case)
    body = transfer_completion(new_pid(), case.consumer_pid)
    await case.assert_rejected(await case.send("completion", body), "STARTED")


async def test_consumer_pid_used_by_another_party_is_a_separate_transfer(
    make_node: NodeFactory, parties: PartyFactory, tmp_path: Path
) -> None:
    case = await start(make_node, parties, tmp_path)
    other = parties(OTHER_PARTY_PORT)
    TransferRoles(other)
    (tmp_path / "other").mkdir()
    other_agreement = await agreement_with_node_as_provider(case.node, other, tmp_path / "other")
    response = await other.send(
        f"{case.node.node.dsp_url}/transfers/request",
        transfer_request(case.consumer_pid, other_agreement, other.callback_url),
        audience=case.node.did,
    )
    # Each consumer picks its own pids; the same consumerPid from another party is another process.
    assert response.status_code == 201, response.text
    theirs = response.json()
    assert theirs["consumerPid"] == case.consumer_pid and theirs["providerPid"] != case.provider_pid
    transfers = await admin_transfers(case.node, "provider")
    assert sorted(t["id"] for t in transfers) == sorted([case.provider_pid, theirs["providerPid"]])
    assert {t["counterparty"] for t in transfers} == {case.party.did, other.did}
    await case.assert_state("STARTED")
