"""Transfer processes for the scripted DSP party, and agreements to run them under.

``TransferRoles(party)`` adds the DSP 2025-1 transfer endpoints to a :class:`ScriptedParty`'s app:

- as PROVIDER: ``POST /dsp/transfers/request`` (answers 201 with a TransferProcess carrying a fresh
  providerPid; the same consumerPid gets the same providerPid) and ``POST /dsp/transfers/{providerPid}/
  {start|suspension|completion|termination}`` (answers 200);
- as CONSUMER: the callbacks ``POST /dsp/callback/transfers/{consumerPid}/{start|suspension|completion|
  termination}`` (answers 200).

Like the party's negotiation endpoints, every message is authenticated, validated against the schema its
path expects and recorded in ``party.received``; it does not enforce the state machine itself.
The two ``agreement_*`` helpers negotiate a FINALIZED agreement between a node and the party.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from allmende.protocol.schemas import validate_message
from tests.support.counterparty import DSP_CONTEXT, ScriptedParty, new_pid
from tests.support.dsp import catalog_request, event, message, publish, verification
from tests.support.waiting import eventually

TRANSFER_LEAVES: dict[str, str] = {
    "start": "TransferStartMessage",
    "suspension": "TransferSuspensionMessage",
    "completion": "TransferCompletionMessage",
    "termination": "TransferTerminationMessage",
}
PULL = "HttpData-PULL"
HTTP_ENDPOINT_TYPE = "https://w3id.org/idsa/v4.1/HTTP"


@dataclass
class ScriptedTransfer:
    """A transfer as the scripted provider remembers it."""

    provider_pid: str
    consumer_pid: str
    callback: str | None
    agreement_id: str | None


class TransferRoles:
    """The transfer endpoints of a scripted party (see the module docstring)."""

    def __init__(self, party: ScriptedParty) -> None:
        self.party = party
        self.transfers: dict[str, ScriptedTransfer] = {}
        party.app.router.routes.extend(
            [
                Route("/dsp/transfers/request", self._request, methods=["POST"]),
                Route("/dsp/transfers/{pid}/{leaf:path}", self._message, methods=["POST"]),
                Route("/dsp/callback/transfers/{pid}/{leaf:path}", self._message, methods=["POST"]),
            ]
        )

    def by_consumer_pid(self, consumer_pid: str) -> ScriptedTransfer:
        return next(t for t in self.transfers.values() if t.consumer_pid == consumer_pid)

    @staticmethod
    def _error(status: int, problems: tuple[str, ...], body: Any) -> JSONResponse:
        pids = body if isinstance(body, dict) else {}
        error = {
            "@context": DSP_CONTEXT,
            "@type": "TransferError",
            "providerPid": str(pids.get("providerPid", "")),
            "consumerPid": str(pids.get("consumerPid", "")),
            "code": str(status),
            "reason": list(problems) or ["scripted error"],
        }
        return JSONResponse(error, status_code=status)

    async def _request(self, request: Request) -> Response:
        """Provider role: TransferRequestMessage → 201 TransferProcess (REQUESTED), idempotent."""
        kind = "TransferRequestMessage"
        body, claims, problems = await self.party._read(request, kind)
        status = self.party._record(request, kind, body, claims, problems, 201)
        if status >= 300:
            return self._error(status, problems, body)
        consumer_pid = str(body["consumerPid"])
        known = [t for t in self.transfers.values() if t.consumer_pid == consumer_pid]
        transfer = known[0] if known else None
        if transfer is None:
            transfer = ScriptedTransfer(
                new_pid(), consumer_pid, body.get("callbackAddress"), body.get("agreementId")
            )
            self.transfers[transfer.provider_pid] = transfer
        answer = message(
            "TransferProcess",
            providerPid=transfer.provider_pid,
            consumerPid=transfer.consumer_pid,
            state="REQUESTED",
        )
        return JSONResponse(answer, status_code=status)

    async def _message(self, request: Request) -> Response:
        expected = TRANSFER_LEAVES.get(str(request.path_params["leaf"]))
        if expected is None:
            self.party._record(request, None, None, None, ("unknown path",), 404)
            return self._error(404, ("unknown path",), None)
        body, claims, problems = await self.party._read(request, expected)
        status = self.party._record(request, expected, body, claims, problems, 200)
        if status >= 300:
            return self._error(status, problems, body)
        return Response(status_code=status)


# --- messages ---------------------------------------------------------------------------------------


def data_address(endpoint: str, token: str) -> dict[str, Any]:
    return {
        "@type": "DataAddress",
        "endpointType": HTTP_ENDPOINT_TYPE,
        "endpoint": endpoint,
        "endpointProperties": [
            {"@type": "EndpointProperty", "name": "authorization", "value": token},
            {"@type": "EndpointProperty", "name": "authType", "value": "bearer"},
        ],
    }


def transfer_request(
    consumer_pid: str, agreement_id: str, callback: str, format: str = PULL
) -> dict[str, Any]:
    return message(
        "TransferRequestMessage",
        consumerPid=consumer_pid,
        agreementId=agreement_id,
        format=format,
        callbackAddress=callback,
    )


def transfer_start(
    provider_pid: str, consumer_pid: str, address: dict[str, Any] | None = None
) -> dict[str, Any]:
    return message(
        "TransferStartMessage", providerPid=provider_pid, consumerPid=consumer_pid, dataAddress=address
    )


def transfer_suspension(provider_pid: str, consumer_pid: str, reason: str) -> dict[str, Any]:
    return message(
        "TransferSuspensionMessage", providerPid=provider_pid, consumerPid=consumer_pid, reason=[reason]
    )


def transfer_completion(provider_pid: str, consumer_pid: str) -> dict[str, Any]:
    return message("TransferCompletionMessage", providerPid=provider_pid, consumerPid=consumer_pid)


def transfer_termination(provider_pid: str, consumer_pid: str, reason: str) -> dict[str, Any]:
    return message(
        "TransferTerminationMessage",
        providerPid=provider_pid,
        consumerPid=consumer_pid,
        code="T1",
        reason=[reason],
    )


def read_address(address: Any) -> tuple[str, str]:
    """(endpoint, bearer token) of a DataAddress; fails when either is missing."""
    assert isinstance(address, dict), address
    validate_message(transfer_start("urn:x:p", "urn:x:c", address), "TransferStartMessage")  # schema
    token = next(
        (p["value"] for p in address.get("endpointProperties", []) if p.get("name") == "authorization"), None
    )
    assert isinstance(token, str) and token, address
    return str(address["endpoint"]), token


def assert_transfer_error(response: httpx.Response, status: int = 400) -> dict[str, Any]:
    """``response`` is ``status`` with a schema-valid TransferError body; returns the body."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["@type"] == "TransferError", body
    validate_message(body, "TransferError")
    return body


async def admin_transfer(node: Any, transfer_id: str) -> dict[str, Any]:
    response = await node.api.get(f"/api/v1/transfers/{transfer_id}")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def admin_transfers(node: Any, role: str) -> list[dict[str, Any]]:
    response = await node.api.get("/api/v1/transfers", params={"role": role})
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


# --- agreements --------------------------------------------------------------------------------------


async def agreement_with_node_as_provider(node: Any, party: ScriptedParty, tmp_path: Path) -> str:
    """The node publishes an open-use CSV; the party negotiates it to FINALIZED. Returns the agreement id."""
    await publish(node, tmp_path)
    dsp = node.node.dsp_url
    catalog = await party.send(f"{dsp}/catalog/request", catalog_request(), audience=node.did)
    assert catalog.status_code == 200, catalog.text
    dataset = catalog.json()["dataset"][0]
    offer = {**dataset["hasPolicy"][0], "target": dataset["@id"]}
    consumer_pid = new_pid()
    request = message(
        "ContractRequestMessage", consumerPid=consumer_pid, offer=offer, callbackAddress=party.callback_url
    )
    response = await party.send(f"{dsp}/negotiations/request", request, audience=node.did)
    assert response.status_code == 201, response.text
    provider_pid = str(response.json()["providerPid"])
    agreed = await party.wait_for("ContractAgreementMessage")
    assert agreed.valid, agreed.problems
    agreement = agreed.body["agreement"]
    claims = party.signed_agreement_claims(agreement, node.did)
    verified = await party.send(
        f"{dsp}/negotiations/{provider_pid}/agreement/verification",
        verification(provider_pid, consumer_pid),
        audience=node.did,
        extra_claims=claims,
    )
    assert verified.status_code == 200, verified.text
    await party.wait_for("ContractNegotiationEventMessage:FINALIZED")
    stored = await node.api.get(f"/api/v1/agreements/{agreement['@id']}")
    assert stored.status_code == 200 and stored.json()["finalized"] is not None, stored.text
    return str(agreement["@id"])


async def agreement_with_node_as_consumer(node: Any, party: ScriptedParty) -> str:
    """The node negotiates the party's open-use offer; the party agrees and finalizes. Returns the id."""
    dataset = party.offer_dataset()
    offer = dataset["hasPolicy"][0]
    started = await node.api.post(
        "/api/v1/negotiations", json={"address": party.base_url, "offer_id": offer["@id"]}
    )
    assert started.status_code == 201, started.text
    negotiation_id = started.json()["id"]
    request = await party.wait_for("ContractRequestMessage")
    assert request.valid, request.problems
    consumer_pid = str(request.body["consumerPid"])
    provider_pid = next(p.provider_pid for p in party.processes.values() if p.consumer_pid == consumer_pid)
    assert provider_pid is not None

    async def view() -> dict[str, Any]:
        result: dict[str, Any] = (await node.api.get(f"/api/v1/negotiations/{negotiation_id}")).json()
        return result

    await eventually(view, lambda v: v["providerPid"] == provider_pid)
    url = f"{node.node.callback_url}/negotiations/{consumer_pid}"
    agreement = party.agreement({**offer, "target": dataset["@id"]}, target=dataset["@id"], assignee=node.did)
    claims = party.signed_agreement_claims(agreement, node.did)
    body = message(
        "ContractAgreementMessage", providerPid=provider_pid, consumerPid=consumer_pid, agreement=agreement
    )
    sent = await party.send(f"{url}/agreement", body, audience=node.did, extra_claims=claims)
    assert sent.status_code == 200, sent.text
    await party.wait_for("ContractAgreementVerificationMessage")
    final = await party.send(
        f"{url}/events", event(provider_pid, consumer_pid, "FINALIZED"), audience=node.did
    )
    assert final.status_code == 200, final.text
    done = await eventually(view, lambda v: v["state"] == "FINALIZED")
    assert done["agreementId"] == agreement["@id"]
    return str(agreement["@id"])
