"""The provider's compute extension endpoint (``/compute/v1``), called by consumers' nodes.

DSP has no message that carries code and no states for a job's review, so jobs use this small,
documented extension beside the DSP endpoints (docs/compute.md), with the same authentication: a
self-issued ID token whose issuer must be the agreement's consumer.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from allmende.api.errors import ApiProblem
from allmende.clock import utcnow
from allmende.compute import jobs
from allmende.compute.jobs import ComputeError
from allmende.compute.requests import JobRequestError, job_request_from_json
from allmende.compute.views import peer_view, result_bytes
from allmende.protocol.endpoint import caller_claims, in_read, in_transaction, node_of, read_json_object

router = APIRouter(prefix="/compute/v1", tags=["compute (extension)"])
MAX_REQUEST_BYTES = 400 * 1024


async def _caller(request: Request) -> str:
    return (await caller_claims(request)).issuer


@router.post("/jobs", status_code=201)
async def submit(request: Request) -> JSONResponse:
    """Queue a job under an agreement that permits ``compute``; refused with the reason otherwise."""
    node = node_of(request)
    caller = await _caller(request)
    body = await read_json_object(
        request,
        MAX_REQUEST_BYTES,
        what="the job request",
        not_json="the request is not JSON",
        not_object="the request must be a JSON object",
    )
    try:
        job = job_request_from_json(body)
    except JobRequestError as error:
        raise ApiProblem(400, str(error)) from None
    try:
        record = await in_transaction(node, lambda s: jobs.accept_job(s, caller, job, utcnow()))
    except ComputeError as error:
        raise ApiProblem(error.status, error.message) from None
    node.compute.wake()
    return JSONResponse(peer_view(record), status_code=201)


@router.get("/jobs/{job_id}")
async def job(job_id: str, request: Request) -> dict[str, Any]:
    """How the caller's job stands."""
    node = node_of(request)
    caller = await _caller(request)
    try:
        record = await in_read(node, lambda s: jobs.consumer_job(s, job_id, caller))
    except ComputeError as error:
        raise ApiProblem(error.status, error.message) from None
    return peer_view(record)


@router.get("/jobs/{job_id}/result")
async def result(job_id: str, request: Request) -> Response:
    """The released result (CSV); 409 until the job is released."""
    node = node_of(request)
    caller = await _caller(request)
    try:
        record = await in_read(node, lambda s: jobs.consumer_job(s, job_id, caller))
    except ComputeError as error:
        raise ApiProblem(error.status, error.message) from None
    if record.state != "released":
        raise ApiProblem(409, f"the job is {record.state}; only a released result can be fetched")
    data = result_bytes(record)
    if data is None:
        raise ApiProblem(410, "the released result is no longer kept on the provider's node")
    return Response(data, media_type="text/csv; charset=utf-8")


@router.get("/runtimes")
async def runtimes(request: Request) -> dict[str, Any]:
    """The runtimes this node offers and whether each can run jobs now."""
    node = node_of(request)
    await _caller(request)
    available = node.compute.registry.availability()
    return {"runtimes": [{"id": k, "available": v.ok, "reason": v.reason} for k, v in available.items()]}
