"""Node-to-node endpoints of benchmark rounds; every call carries the caller's self-issued ID token.

Organiser side (``/benchmarks/rounds``): the rounds open to the caller; (``/benchmarks/rounds/{id}``):
read the round, join it, report held shares.
Participant side (``/benchmarks/participations/{round id}``): the roster (``start``), a peer's share
(``shares``), the organiser's questions (``receipt``, ``sum``) and the round's ``outcome``. A refused
message is answered with ``{"error": reason}`` and changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from allmende.api.errors import ApiProblem
from allmende.benchmarking import listing, organiser, participant
from allmende.benchmarking.errors import BenchmarkError
from allmende.benchmarking.records import BenchmarkRoundParticipantRecord
from allmende.benchmarking.roster import Roster, known_roster, roster_kid, verify_roster
from allmende.benchmarking.runtime import BenchmarkRuntime
from allmende.benchmarking.states import IllegalMove
from allmende.identity.errors import ResolutionError
from allmende.network.presentation import refusal_note, verify_presented
from allmende.node import Node
from allmende.protocol.endpoint import caller_claims, in_read, in_transaction, node_of, read_json_object

router = APIRouter(prefix="/benchmarks", tags=["benchmarks (protocol)"])
MAX_BODY_BYTES = 2_000_000
T = TypeVar("T")


async def _body(request: Request) -> dict[str, Any]:
    return await read_json_object(request, MAX_BODY_BYTES, what="the message")


async def _guard(work: Awaitable[T]) -> T:
    try:
        return await work
    except BenchmarkError as error:
        raise ApiProblem(error.status, error.message) from None
    except IllegalMove as error:
        raise ApiProblem(409, str(error)) from None


async def _roster(node: Node, token: object, organiser_did: str, round_id: str) -> tuple[str, Roster]:
    """The roster of a message, checked against the organiser's key."""
    kid = roster_kid(token)
    assert isinstance(token, str)
    try:
        key = await node.resolver.public_key(kid)
    except ResolutionError as error:
        raise BenchmarkError(f"the organiser's key is not available: {error.reason}", status=502) from None
    return token, verify_roster(token, key, organiser=organiser_did, round_id=round_id)


# --- organiser side -------------------------------------------------------------------------------


@router.get("/rounds")
async def list_open_rounds(request: Request) -> JSONResponse:
    """The rounds still taking participants that the caller may join (its memberships count)."""
    node = node_of(request)
    claims = await caller_claims(request)
    presented = await verify_presented(node, claims)

    def read(session: Any) -> list[dict[str, Any]]:
        return listing.open_rounds(session, presented.communities, claims.issuer, node.base_url, node.did)

    rounds = await _guard(in_read(node, read))
    return JSONResponse({"organiser": node.did, "name": node.name, "rounds": rounds})


@router.get("/rounds/{round_id}")
async def read_round(round_id: str, request: Request) -> JSONResponse:
    """The round's definition for a prospective participant (members only when it names a community)."""
    node = node_of(request)
    claims = await caller_claims(request)
    presented = await verify_presented(node, claims)

    def read(session: Any) -> dict[str, Any]:
        record = organiser.get_round(session, round_id)
        organiser.check_access(record, presented.communities, refusal_note(presented))
        joined = organiser.participants_of(session, round_id)
        view = organiser.public_view(record, node.base_url, node.did, len(joined))
        view["joined"] = any(p.did == claims.issuer for p in joined)
        return view

    return JSONResponse(await _guard(in_read(node, read)))


@router.post("/rounds/{round_id}/participants", status_code=201)
async def join_round(round_id: str, request: Request) -> JSONResponse:
    """Join the round: the caller's token says who joins, the body where it is reached."""
    node = node_of(request)
    claims = await caller_claims(request)
    body = await _body(request)
    presented = await verify_presented(node, claims)

    def join(session: Any) -> dict[str, Any]:
        entry: BenchmarkRoundParticipantRecord = organiser.join(
            session, round_id, claims.issuer, body, presented.communities, node.did, refusal_note(presented)
        )
        return {"round": round_id, "did": entry.did, "joined": True}

    return JSONResponse(await _guard(in_transaction(node, join)), status_code=201)


@router.post("/rounds/{round_id}/receipts")
async def take_receipt(round_id: str, request: Request) -> JSONResponse:
    """A participant reports it holds shares from every other participant (positions only)."""
    node = node_of(request)
    claims = await caller_claims(request)
    body = await _body(request)
    complete = await _guard(
        in_transaction(node, lambda s: organiser.take_receipt(s, round_id, claims.issuer, body))
    )
    if complete:
        runtime: BenchmarkRuntime = request.app.state.benchmarks
        runtime.kick(round_id)
    return JSONResponse({"round": round_id, "accepted": True})


# --- participant side -----------------------------------------------------------------------------


@router.post("/participations/{round_id}/start")
async def start(round_id: str, request: Request) -> JSONResponse:
    """The organiser's roster: this node deals its shares to the peers."""
    node = node_of(request)
    claims = await caller_claims(request)
    body = await _body(request)

    async def work() -> dict[str, Any]:
        await in_read(node, lambda s: participant.find(s, claims.issuer, round_id))
        token, roster = await _roster(node, body.get("roster"), claims.issuer, round_id)

        def deal(session: Any) -> dict[str, Any]:
            record = participant.find(session, claims.issuer, round_id, lock=True)
            participant.deal(session, node, record, token, roster)
            return {"round": round_id, "state": record.state}

        return await in_transaction(node, deal)

    return JSONResponse(await _guard(work()))


@router.post("/participations/{round_id}/shares")
async def take_share(round_id: str, request: Request) -> JSONResponse:
    """A peer's share of its contribution, with the roster it was dealt under."""
    node = node_of(request)
    claims = await caller_claims(request)
    body = await _body(request)

    async def work() -> dict[str, Any]:
        organiser_did = body.get("organiser")
        if body.get("round") != round_id or not isinstance(organiser_did, str):
            raise BenchmarkError("the share names another round (or no organiser)")
        answer = {"round": round_id, "accepted": True}

        def take_under_known_roster(session: Any) -> bool:
            # The common case costs one transaction: the share comes with the roster this node holds.
            record = participant.find(session, organiser_did, round_id, lock=True)
            if record.roster is None or record.roster != body.get("roster"):
                return False
            roster = known_roster(record.roster, organiser=organiser_did, round_id=round_id)
            participant.receive_share(session, node, record, record.roster, roster, claims.issuer, body)
            return True

        if await in_transaction(node, take_under_known_roster):
            return answer
        token, roster = await _roster(node, body.get("roster"), organiser_did, round_id)

        def take(session: Any) -> dict[str, Any]:
            record = participant.find(session, organiser_did, round_id, lock=True)
            participant.receive_share(session, node, record, token, roster, claims.issuer, body)
            return answer

        return await in_transaction(node, take)

    return JSONResponse(await _guard(work()))


@router.get("/participations/{round_id}/receipt")
async def receipt(round_id: str, request: Request) -> JSONResponse:
    """The organiser asks which dealers this node holds shares from."""
    node = node_of(request)
    claims = await caller_claims(request)

    def read(session: Any) -> dict[str, Any]:
        return participant.receipt(session, participant.find(session, claims.issuer, round_id))

    return JSONResponse(await _guard(in_read(node, read)))


@router.post("/participations/{round_id}/sum")
async def share_sum(round_id: str, request: Request) -> JSONResponse:
    """The organiser asks for this node's share-sum over a set of dealers (answered for one set only)."""
    node = node_of(request)
    claims = await caller_claims(request)
    body = await _body(request)

    def work(session: Any) -> dict[str, Any]:
        record = participant.find(session, claims.issuer, round_id, lock=True)
        return participant.share_sum(session, node, record, body.get("dealers"))

    return JSONResponse(await _guard(in_transaction(node, work)))


@router.post("/participations/{round_id}/outcome")
async def outcome(round_id: str, request: Request) -> JSONResponse:
    """The organiser's word on the round: released figures, or why it failed."""
    node = node_of(request)
    claims = await caller_claims(request)
    body = await _body(request)

    def take(session: Any) -> None:
        participant.take_outcome(
            session, node, participant.find(session, claims.issuer, round_id, lock=True), body
        )

    await _guard(in_transaction(node, take))
    return JSONResponse({"round": round_id, "accepted": True})
