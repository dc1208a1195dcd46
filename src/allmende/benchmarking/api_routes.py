"""Management API of benchmark rounds (``/api/v1/benchmarks``): rounds this node organises, and this
node's participations in other nodes' rounds. API-key protected like the rest of ``/api/v1``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from allmende.api.auth import ApiCaller, admin, reader
from allmende.api.errors import ApiProblem
from allmende.benchmarking import listing, organiser, participant
from allmende.benchmarking.errors import BenchmarkError
from allmende.benchmarking.records import BenchmarkParticipationRecord
from allmende.benchmarking.states import IllegalMove
from allmende.benchmarking.views import participation_view, round_view
from allmende.protocol.endpoint import in_read, in_transaction, node_of

router = APIRouter(prefix="/api/v1/benchmarks", tags=["benchmarks"])
Reader = Annotated[ApiCaller, Depends(reader)]
Admin = Annotated[ApiCaller, Depends(admin)]


class KpiIn(BaseModel):
    """A KPI: its name, unit, bounds and number of equal-width histogram buckets."""

    name: str = Field(max_length=60)
    unit: str = Field(default="", max_length=40)
    label: str = Field(default="", max_length=200)
    lower: float
    upper: float
    buckets: int = 10


class RoundIn(BaseModel):
    """A new benchmark round."""

    title: str = Field(max_length=300)
    description: str = Field(default="", max_length=4000)
    kpis: list[KpiIn]
    deadline: str = Field(description="When joining closes (ISO 8601)")
    minParticipants: int = Field(default=organiser.DEFAULT_MIN_PARTICIPANTS)
    threshold: int | None = Field(default=None, description="Share-sums needed (raised to a majority)")
    community: str | None = Field(default=None, description="DID of the community whose members may join")
    phaseSeconds: float = Field(default=organiser.DEFAULT_PHASE_SECONDS)
    epsilon: float | None = Field(default=None, description="Differential privacy of the released figures")


class JoinIn(BaseModel):
    """Join another node's round with this node's values (they never leave this node in the clear)."""

    round_url: str = Field(max_length=1000)
    values: dict[str, float | None]


async def _guard(work: Any) -> Any:
    try:
        return await work
    except BenchmarkError as error:
        raise ApiProblem(error.status, error.message) from None
    except IllegalMove as error:
        raise ApiProblem(409, str(error)) from None


@router.post("/rounds", status_code=201)
async def create_round(body: RoundIn, request: Request, caller: Admin) -> dict[str, Any]:
    """Define a round; members join it at its ``url`` until the deadline or until it is closed."""
    node = node_of(request)
    spec = body.model_dump()
    spec["kpis"] = [kpi.model_dump() for kpi in body.kpis]

    def create(session: Any) -> dict[str, Any]:
        return round_view(organiser.create_round(session, spec, caller.actor), [], node.base_url)

    result: dict[str, Any] = await _guard(in_transaction(node, create))
    return result


@router.get("/rounds")
async def rounds(request: Request, _: Reader) -> list[dict[str, Any]]:
    """Rounds this node organises, newest first."""
    node = node_of(request)

    def read(session: Any) -> list[dict[str, Any]]:
        return [
            round_view(r, organiser.participants_of(session, r.id), node.base_url)
            for r in organiser.list_rounds(session)
        ]

    result: list[dict[str, Any]] = await in_read(node, read)
    return result


@router.get("/rounds/{round_id}")
async def one_round(round_id: str, request: Request, _: Reader) -> dict[str, Any]:
    """One round this node organises, with its participants and, once released, the figures."""
    node = node_of(request)

    def read(session: Any) -> dict[str, Any]:
        record = organiser.get_round(session, round_id)
        return round_view(record, organiser.participants_of(session, round_id), node.base_url)

    result: dict[str, Any] = await _guard(in_read(node, read))
    return result


@router.post("/rounds/{round_id}/close")
async def close_round(round_id: str, request: Request, caller: Admin) -> dict[str, Any]:
    """Close joining now: the roster goes out and sharing starts (or the round fails: too few joined)."""
    node = node_of(request)

    def close(session: Any) -> dict[str, Any]:
        record = organiser.close(session, node, round_id, caller.actor)
        return round_view(record, organiser.participants_of(session, round_id), node.base_url)

    result: dict[str, Any] = await _guard(in_transaction(node, close))
    return result


@router.post("/rounds/{round_id}/cancel")
async def cancel_round(round_id: str, request: Request, caller: Admin) -> dict[str, Any]:
    """Stop a round that is not over; its participants are told."""
    node = node_of(request)

    def cancel(session: Any) -> dict[str, Any]:
        record = organiser.cancel(session, node, round_id, caller.actor)
        return round_view(record, organiser.participants_of(session, round_id), node.base_url)

    result: dict[str, Any] = await _guard(in_transaction(node, cancel))
    return result


@router.get("/remote")
async def remote_round(request: Request, _: Reader, url: str = Query(max_length=1000)) -> dict[str, Any]:
    """Another node's round as its organiser shows it to this node (before joining)."""
    result: dict[str, Any] = await _guard(participant.fetch_round(node_of(request), url))
    return result


@router.get("/open-rounds")
async def open_rounds(
    request: Request, _: Reader, address: str = Query(max_length=1000, description="The organiser node's URL")
) -> list[dict[str, Any]]:
    """The rounds the organiser at ``address`` lists as open to this node (its memberships count)."""
    result: list[dict[str, Any]] = await _guard(listing.fetch_open_rounds(node_of(request), address))
    return result


@router.post("/participations", status_code=201)
async def join(body: JoinIn, request: Request, caller: Admin) -> dict[str, Any]:
    """Join another node's round with this node's values."""
    values = {name: value for name, value in body.values.items() if value is not None}
    record = await _guard(participant.join(node_of(request), body.round_url, values, caller.actor))
    return participation_view(record)


@router.get("/participations")
async def participations(request: Request, _: Reader) -> list[dict[str, Any]]:
    """This node's participations, newest first, each with where its values stand once released."""
    records = await in_read(node_of(request), participant.list_participations)
    return [participation_view(record) for record in records]


@router.get("/participations/{participation_id}")
async def one_participation(participation_id: str, request: Request, _: Reader) -> dict[str, Any]:
    """One participation with the released figures and this node's standing among its peers."""

    def read(session: Session) -> BenchmarkParticipationRecord:
        record = session.get(BenchmarkParticipationRecord, participation_id)
        if record is None:
            raise BenchmarkError(f"no participation {participation_id}", status=404)
        return record

    return participation_view(await _guard(in_read(node_of(request), read)))
