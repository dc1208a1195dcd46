"""A scripted DSP 2025-1 counterparty, written from the spec, that talks to a node over (in-process) HTTP.

It is a small Starlette app of its own with its own Ed25519 key and did:web DID. It serves its DID
document, plays either role of a contract negotiation and records every DSP message it receives:

- as PROVIDER: ``POST /dsp/catalog/request`` (a scripted catalog), ``POST /dsp/negotiations/request``
  (answers 201 with a ContractNegotiation) and ``POST /dsp/negotiations/{providerPid}/{request|events|
  agreement/verification|termination}``;
- as CONSUMER: the callbacks ``POST /dsp/callback/negotiations/offers`` and
  ``POST /dsp/callback/negotiations/{consumerPid}/{offers|agreement|events|termination}``.

Every incoming message is authenticated (the node's self-issued token, aud = our DID, resolved over the
same network) and validated against the DSP schema of the message its path expects; the answer's status
can be scripted per message type. It SENDS messages to the node with a fresh self-issued token each
(``aud`` = the node's DID), or with a token the test chose (replays, wrong audience).

Agreements follow the node's signing scheme: the provider's ContractAgreementMessage token carries the
claim ``agreement_signature``, a JWT by the provider with ``sub`` = agreement id and ``agreement_digest``
= ``sha-256=:BASE64:`` of the agreement's canonical JSON (sorted keys, no whitespace, UTF-8).
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from allmende.identity import (
    DidResolver,
    InMemoryReplayGuard,
    KeyStore,
    TokenClaims,
    TokenError,
    build_did_document,
    decode_jwt,
    did_from_url,
    issue_token,
    sign_jwt,
    verify_jwt,
    verify_request_token,
)
from allmende.loopback import InProcessNetwork
from allmende.protocol.schemas import SchemaViolation, validate_message
from tests.support.waiting import eventually

DSP_CONTEXT = ["https://w3id.org/dspace/2025/1/context.jsonld"]

PROVIDER_LEAVES: dict[str, str] = {
    "request": "ContractRequestMessage",
    "events": "ContractNegotiationEventMessage",
    "agreement/verification": "ContractAgreementVerificationMessage",
    "termination": "ContractNegotiationTerminationMessage",
}
CONSUMER_LEAVES: dict[str, str] = {
    "offers": "ContractOfferMessage",
    "agreement": "ContractAgreementMessage",
    "events": "ContractNegotiationEventMessage",
    "termination": "ContractNegotiationTerminationMessage",
}


def new_pid() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def canonical_digest(value: Any) -> str:
    """``sha-256=:BASE64:`` of the canonical JSON of ``value`` (sorted keys, compact, UTF-8)."""
    data = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return "sha-256=:" + base64.b64encode(hashlib.sha256(data).digest()).decode("ascii") + ":"


@dataclass(frozen=True)
class Received:
    """One DSP message the counterparty received, with what it answered."""

    method: str
    path: str
    expected_type: str | None
    body: Any
    claims: TokenClaims | None
    status: int
    problems: tuple[str, ...] = ()

    @property
    def type(self) -> str | None:
        """The message's ``@type`` (events as ``ContractNegotiationEventMessage:<eventType>``)."""
        if not isinstance(self.body, dict):
            return None
        kind = self.body.get("@type")
        if kind == "ContractNegotiationEventMessage":
            return f"{kind}:{self.body.get('eventType')}"
        return str(kind) if kind is not None else None

    @property
    def valid(self) -> bool:
        """Authenticated and valid against the schema of the message the path expects."""
        return self.claims is not None and not self.problems


@dataclass
class ScriptedProcess:
    """A negotiation as the scripted party remembers it (it does not enforce the state machine)."""

    provider_pid: str | None
    consumer_pid: str | None
    callback: str | None = None
    offer: dict[str, Any] | None = None
    state: str = "REQUESTED"


@dataclass
class ScriptedParty:
    """A DSP counterparty reachable at ``base_url`` on ``network``; see the module docstring."""

    network: InProcessNetwork
    base_url: str
    key_folder: Path
    received: list[Received] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    datasets: list[dict[str, Any]] = field(default_factory=list)
    processes: dict[str, ScriptedProcess] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.did = did_from_url(self.base_url)
        self.dsp_url = f"{self.base_url}/dsp"
        self.callback_url = f"{self.dsp_url}/callback"
        self.keys = KeyStore.create(self.key_folder)
        self.http = httpx.AsyncClient(transport=self.network.transport(), timeout=10)
        self.resolver = DidResolver(self.http)
        self.replay = InMemoryReplayGuard()
        self.app = Starlette(
            routes=[
                Route("/.well-known/did.json", self._did_document, methods=["GET"]),
                Route("/dsp/catalog/request", self._catalog, methods=["POST"]),
                Route("/dsp/negotiations/request", self._initial_request, methods=["POST"]),
                Route("/dsp/negotiations/{pid}/{leaf:path}", self._provider_message, methods=["POST"]),
                Route("/dsp/callback/negotiations/offers", self._initial_offer, methods=["POST"]),
                Route(
                    "/dsp/callback/negotiations/{pid}/{leaf:path}", self._consumer_message, methods=["POST"]
                ),
            ]
        )
        self.network.add(self.base_url, self.app)

    async def aclose(self) -> None:
        await self.http.aclose()

    # --- scripting --------------------------------------------------------------------------------

    def answer(self, message_type: str, status: int) -> None:
        """Answer every later ``message_type`` (e.g. ``ContractRequestMessage``) with ``status``."""
        self.statuses[message_type] = status

    def offer_dataset(self, dataset_id: str | None = None, offer_id: str | None = None) -> dict[str, Any]:
        """Add a dataset with one open ``use`` offer to the scripted catalog; returns the dataset."""
        dataset_id = dataset_id or new_pid()
        dataset = {
            "@id": dataset_id,
            "@type": "Dataset",
            "hasPolicy": [
                {"@id": offer_id or new_pid(), "@type": "Offer", "permission": [{"action": "use"}]}
            ],
            "distribution": [
                {"@type": "Distribution", "format": "HttpData-PULL", "accessService": f"{self.did}#dsp"}
            ],
        }
        self.datasets.append(dataset)
        return dataset

    def messages(self, message_type: str | None = None) -> list[Received]:
        """What was received, optionally only messages of ``message_type`` (events with ``:TYPE``)."""
        return [r for r in self.received if message_type is None or r.type == message_type]

    async def wait_for(self, message_type: str, count: int = 1, timeout: float = 10.0) -> Received:
        """The ``count``-th message of ``message_type``, once it arrived."""
        found: list[Received] = await eventually(
            self._probe(message_type), lambda items: len(items) >= count, timeout=timeout
        )
        return found[count - 1]

    def _probe(self, message_type: str) -> Callable[[], Awaitable[list[Received]]]:
        async def probe() -> list[Received]:
            return self.messages(message_type)

        return probe

    # --- sending ------------------------------------------------------------------------------------

    def token(self, audience: str, extra_claims: Mapping[str, Any] | None = None) -> str:
        """A fresh self-issued ID token for a call to ``audience``."""
        return issue_token(self.keys.active, self.did, audience, extra_claims=extra_claims)

    async def send(
        self,
        url: str,
        body: Any = None,
        *,
        audience: str,
        extra_claims: Mapping[str, Any] | None = None,
        token: str | None = None,
        content: bytes | None = None,
        method: str = "POST",
    ) -> httpx.Response:
        """Send ``body`` (JSON) or raw ``content`` to ``url`` with a Bearer token for ``audience``."""
        headers = {"Authorization": "Bearer " + (token or self.token(audience, extra_claims))}
        if content is None and body is not None:
            content = json.dumps(body).encode("utf-8")
        if content is not None:
            headers["Content-Type"] = "application/json"
        return await self.http.request(method, url, content=content, headers=headers)

    def sign_agreement(self, audience: str, agreement_id: str, digest: str) -> str:
        """Our signature over an agreement (the node's scheme): a JWT with sub and agreement_digest."""
        key = self.keys.active
        claims = {
            "iss": self.did,
            "sub": agreement_id,
            "aud": audience,
            "iat": int(datetime.now(UTC).timestamp()),
            "agreement_digest": digest,
        }
        return sign_jwt(claims, key, kid=f"{self.did}#{key.key_id}", header_extras={"typ": "JWT"})

    def agreement(
        self, offer: Mapping[str, Any], *, target: str, assignee: str, agreement_id: str | None = None
    ) -> dict[str, Any]:
        """An ODRL Agreement granting ``assignee`` the rules of ``offer``, assigned by us."""
        agreement: dict[str, Any] = {
            "@id": agreement_id or new_pid(),
            "@type": "Agreement",
            "target": target,
            "assigner": self.did,
            "assignee": assignee,
            "timestamp": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        }
        for key in ("permission", "prohibition", "obligation"):
            if key in offer:
                agreement[key] = offer[key]
        return agreement

    def signed_agreement_claims(self, agreement: Mapping[str, Any], audience: str) -> dict[str, Any]:
        """The token claims that carry our signature of ``agreement``."""
        signature = self.sign_agreement(audience, str(agreement["@id"]), canonical_digest(dict(agreement)))
        return {"agreement_signature": signature}

    async def check_agreement_signature(self, received: Received) -> dict[str, Any]:
        """The verified claims of the ``agreement_signature`` a received agreement/verification carried.

        Checks: a JWT by the sender (kid's DID = token issuer), signed with the sender's key, ``sub`` = the
        agreement id and ``agreement_digest`` = the canonical digest of the agreement (when ``received``
        carries one). Raises AssertionError otherwise.
        """
        assert received.claims is not None, "message was not authenticated"
        token = received.claims.claims.get("agreement_signature")
        assert isinstance(token, str), "no agreement_signature claim in the sender's token"
        kid = str(decode_jwt(token).header.get("kid", ""))
        assert kid.split("#", 1)[0] == received.claims.issuer
        claims = verify_jwt(token, await self.resolver.public_key(kid)).claims
        assert claims.get("iss") == received.claims.issuer
        if isinstance(received.body, dict) and isinstance(received.body.get("agreement"), dict):
            agreement = received.body["agreement"]
            assert claims.get("sub") == agreement["@id"]
            assert claims.get("agreement_digest") == canonical_digest(agreement)
        return dict(claims)

    # --- serving ------------------------------------------------------------------------------------

    async def _did_document(self, _request: Request) -> JSONResponse:
        return JSONResponse(build_did_document(self.did, self.keys.all(), self.dsp_url))

    async def _authenticate(self, request: Request) -> TokenClaims | str:
        try:
            return await verify_request_token(
                request.headers.get("authorization"),
                own_did=self.did,
                resolver=self.resolver,
                replay=self.replay,
            )
        except TokenError as exc:
            return exc.reason

    async def _read(
        self, request: Request, expected_type: str
    ) -> tuple[Any, TokenClaims | None, tuple[str, ...]]:
        authenticated = await self._authenticate(request)
        raw = await request.body()
        if isinstance(authenticated, str):
            return None, None, (f"not authenticated: {authenticated}",)
        try:
            body: Any = json.loads(raw)
        except ValueError as exc:
            return None, authenticated, (f"invalid JSON: {exc}",)
        try:
            validate_message(body, expected_type)
        except SchemaViolation as exc:
            return body, authenticated, tuple(exc.errors) or ("schema violation",)
        return body, authenticated, ()

    def _record(
        self,
        request: Request,
        expected_type: str | None,
        body: Any,
        claims: TokenClaims | None,
        problems: tuple[str, ...],
        default_status: int,
    ) -> int:
        if claims is None:
            status = 401
        elif problems:
            status = 400
        else:
            kind = body.get("@type") if isinstance(body, dict) else None
            status = self.statuses.get(str(kind), default_status)
        self.received.append(
            Received(request.method, request.url.path, expected_type, body, claims, status, problems)
        )
        return status

    @staticmethod
    def _error(status: int, problems: tuple[str, ...], body: Any, error_type: str) -> JSONResponse:
        pids = body if isinstance(body, dict) else {}
        error: dict[str, Any] = {
            "@context": DSP_CONTEXT,
            "@type": error_type,
            "code": str(status),
            "reason": list(problems) or ["scripted error"],
        }
        if error_type == "ContractNegotiationError":
            error["providerPid"] = str(pids.get("providerPid", ""))
            error["consumerPid"] = str(pids.get("consumerPid", ""))
        return JSONResponse(error, status_code=status)

    async def _catalog(self, request: Request) -> Response:
        body, claims, problems = await self._read(request, "CatalogRequestMessage")
        status = self._record(request, "CatalogRequestMessage", body, claims, problems, 200)
        if status != 200:
            return self._error(status, problems, body, "CatalogError")
        catalog = {
            "@context": DSP_CONTEXT,
            "@id": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, self.dsp_url)}",
            "@type": "Catalog",
            "participantId": self.did,
            "service": [{"@id": f"{self.did}#dsp", "@type": "DataService", "endpointURL": self.dsp_url}],
            "dataset": self.datasets,
        }
        return JSONResponse(catalog)

    def _state_body(self, process: ScriptedProcess) -> dict[str, Any]:
        return {
            "@context": DSP_CONTEXT,
            "@type": "ContractNegotiation",
            "providerPid": process.provider_pid,
            "consumerPid": process.consumer_pid,
            "state": process.state,
        }

    async def _initial_request(self, request: Request) -> Response:
        """Provider role: a new ContractRequestMessage → 201 ContractNegotiation (idempotent)."""
        body, claims, problems = await self._read(request, "ContractRequestMessage")
        status = self._record(request, "ContractRequestMessage", body, claims, problems, 201)
        if status >= 300:
            return self._error(status, problems, body, "ContractNegotiationError")
        consumer_pid = str(body["consumerPid"])
        process = next((p for p in self.processes.values() if p.consumer_pid == consumer_pid), None)
        if process is None:
            process = ScriptedProcess(new_pid(), consumer_pid, body.get("callbackAddress"), body.get("offer"))
            self.processes[str(process.provider_pid)] = process
        return JSONResponse(self._state_body(process), status_code=status)

    async def _initial_offer(self, request: Request) -> Response:
        """Consumer role: a provider-initiated ContractOfferMessage → 201 ContractNegotiation."""
        body, claims, problems = await self._read(request, "ContractOfferMessage")
        status = self._record(request, "ContractOfferMessage", body, claims, problems, 201)
        if status >= 300:
            return self._error(status, problems, body, "ContractNegotiationError")
        process = ScriptedProcess(
            str(body["providerPid"]), new_pid(), body.get("callbackAddress"), state="OFFERED"
        )
        self.processes[str(process.consumer_pid)] = process
        return JSONResponse(self._state_body(process), status_code=status)

    async def _provider_message(self, request: Request) -> Response:
        return await self._message(request, PROVIDER_LEAVES)

    async def _consumer_message(self, request: Request) -> Response:
        return await self._message(request, CONSUMER_LEAVES)

    async def _message(self, request: Request, leaves: Mapping[str, str]) -> Response:
        leaf = str(request.path_params["leaf"])
        expected = leaves.get(leaf)
        if expected is None:
            self._record(request, None, None, None, ("unknown path",), 404)
            return self._error(404, ("unknown path",), None, "ContractNegotiationError")
        body, claims, problems = await self._read(request, expected)
        status = self._record(request, expected, body, claims, problems, 200)
        if status >= 300:
            return self._error(status, problems, body, "ContractNegotiationError")
        return Response(status_code=status)
