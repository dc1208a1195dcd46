"""Management API of compute jobs: submit and follow jobs on others' data, review jobs on ours."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from allmende.api.auth import ApiCaller, admin, reader
from allmende.api.errors import ApiProblem
from allmende.clock import utcnow
from allmende.compute import consumer, jobs
from allmende.compute.algorithm import AlgorithmError, make_bundle
from allmende.compute.jobs import ComputeError
from allmende.compute.records import ComputeJobRecord
from allmende.compute.requests import DEFAULT_RUNTIMES, JobRequestError, job_request_from_json
from allmende.compute.states import STATES
from allmende.compute.views import algorithm_view, job_view, result_bytes
from allmende.protocol.endpoint import in_read, in_transaction, node_of

router = APIRouter(prefix="/compute", tags=["compute"])
Reader = Annotated[ApiCaller, Depends(reader)]
Admin = Annotated[ApiCaller, Depends(admin)]


class NoiseColumnIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    statistic: str = Field(description="count, sum or mean")
    lower: float = 0.0
    upper: float = 0.0


class PrivacyIn(BaseModel):
    epsilon: float = Field(gt=0)
    columns: list[NoiseColumnIn] = Field(min_length=1)


class JobIn(BaseModel):
    """A job to run on a provider's data under an agreement that permits ``compute``."""

    agreement_id: str = Field(min_length=1, max_length=200)
    kind: str = Field(description="sql or python")
    code: str = Field(min_length=1)
    runtime: str | None = Field(
        default=None, description="default: duckdb-sql/1 or python-3.11-numpy-pandas/1"
    )
    title: str = Field(default="", max_length=300)
    group_size_column: str = Field(default="n", description="the result column holding each group's count")
    privacy: PrivacyIn | None = None


class AlgorithmIn(BaseModel):
    kind: str
    code: str = Field(min_length=1)
    runtime: str | None = None


class ApprovalIn(BaseModel):
    digest: str = Field(min_length=1, max_length=80)
    name: str = Field(min_length=1, max_length=300)
    note: str = Field(default="", max_length=4000)


class Decision(BaseModel):
    reason: str = Field(min_length=1, max_length=4000)


def _problem(error: ComputeError) -> ApiProblem:
    return ApiProblem(error.status, error.message)


@router.get("/jobs")
async def list_jobs(
    request: Request, _: Reader, role: str | None = Query(None), state: str | None = Query(None)
) -> list[dict[str, Any]]:
    """Jobs run on this node's data (role provider) and jobs this node submitted (role consumer)."""
    if role not in (None, "provider", "consumer") or (state is not None and state not in STATES):
        raise ApiProblem(400, f"role is provider or consumer; state one of {', '.join(STATES)}")
    node = node_of(request)

    def listed(session: Any) -> list[ComputeJobRecord]:
        query = session.query(ComputeJobRecord)
        if role:
            query = query.filter(ComputeJobRecord.role == role)
        if state:
            query = query.filter(ComputeJobRecord.state == state)
        return list(query.order_by(ComputeJobRecord.created_at.desc()).limit(500))

    return [job_view(record) for record in await in_read(node, listed)]


@router.post("/jobs", status_code=201)
async def submit(body: JobIn, request: Request, caller: Admin) -> dict[str, Any]:
    """Submit a job to the provider of the agreement (this node is the consumer)."""
    node = node_of(request)
    payload: dict[str, Any] = {
        "agreementId": body.agreement_id,
        "title": body.title,
        "algorithm": {"kind": body.kind, "runtime": body.runtime, "code": body.code},
        "groupSizeColumn": body.group_size_column,
    }
    if body.privacy is not None:
        payload["privacy"] = body.privacy.model_dump()
    try:
        job = job_request_from_json(payload)
        record = await consumer.submit(node, job, caller.actor)
    except JobRequestError as error:
        raise ApiProblem(400, str(error)) from None
    except ComputeError as error:
        raise _problem(error) from None
    return job_view(record, details=True)


async def _job(request: Request, job_id: str) -> ComputeJobRecord:
    node = node_of(request)

    def get(session: Any) -> ComputeJobRecord:
        record: ComputeJobRecord | None = session.get(ComputeJobRecord, job_id)
        if record is None:
            raise ApiProblem(404, f"there is no job {job_id}")
        return record

    return await in_read(node, get)


@router.get("/jobs/{job_id}")
async def show(job_id: str, request: Request, _: Reader) -> dict[str, Any]:
    """A job with its code, log, release checks and a preview of its result."""
    return job_view(await _job(request, job_id), details=True)


@router.post("/jobs/{job_id}/refresh")
async def refresh(job_id: str, request: Request, _: Admin) -> dict[str, Any]:
    """Ask the provider how a submitted job stands (fetches the result once released)."""
    try:
        record = await consumer.refresh(node_of(request), job_id)
    except ComputeError as error:
        raise _problem(error) from None
    return job_view(record, details=True)


@router.get("/jobs/{job_id}/result")
async def result(job_id: str, request: Request, _: Reader) -> Response:
    """The result as CSV: on the consumer the released copy, on the provider the (candidate) result."""
    record = await _job(request, job_id)
    data = result_bytes(record)
    if data is None:
        raise ApiProblem(409, f"the job is {record.state} and has no result here")
    return Response(data, media_type="text/csv; charset=utf-8")


@router.post("/jobs/{job_id}/release")
async def release(job_id: str, request: Request, caller: Admin) -> dict[str, Any]:
    """Release a reviewed result to the consumer."""
    try:
        record = await in_transaction(
            node_of(request), lambda s: jobs.release(s, job_id, caller.actor, utcnow())
        )
    except ComputeError as error:
        raise _problem(error) from None
    return job_view(record)


@router.post("/jobs/{job_id}/reject")
async def reject(job_id: str, body: Decision, request: Request, caller: Admin) -> dict[str, Any]:
    """Reject a job (queued or awaiting release) with the reason the consumer will see."""
    node = node_of(request)
    try:
        record = await in_transaction(
            node, lambda s: jobs.reject(s, job_id, body.reason, caller.actor, utcnow())
        )
    except ComputeError as error:
        raise _problem(error) from None
    jobs.discard_result(node.settings.data_dir, job_id)
    return job_view(record)


@router.post("/digest")
async def digest(body: AlgorithmIn, _: Reader) -> dict[str, str]:
    """The digest of an algorithm bundle: what allow-lists and pre-approvals name."""
    runtime = body.runtime or DEFAULT_RUNTIMES.get(body.kind, "")
    try:
        bundle = make_bundle(body.kind, body.code, runtime)
    except AlgorithmError as error:
        raise ApiProblem(400, str(error)) from None
    return {"digest": bundle.digest, "runtime": bundle.runtime}


@router.get("/algorithms")
async def algorithms(request: Request, _: Reader) -> list[dict[str, Any]]:
    """Pre-approved algorithms: their jobs release automatically once the gates pass."""
    return [algorithm_view(r) for r in await in_read(node_of(request), jobs.approved_algorithms)]


@router.post("/algorithms", status_code=201)
async def approve(body: ApprovalIn, request: Request, caller: Admin) -> dict[str, str]:
    """Pre-approve an algorithm by its digest."""
    try:
        await in_transaction(
            node_of(request),
            lambda s: jobs.approve_algorithm(s, body.digest, body.name, body.note, caller.actor, utcnow()),
        )
    except ComputeError as error:
        raise _problem(error) from None
    return {"digest": body.digest}


@router.delete("/algorithms/{digest}", status_code=204)
async def withdraw(digest: str, request: Request, caller: Admin) -> Response:
    """Withdraw a pre-approval (jobs already released stay released)."""
    try:
        await in_transaction(node_of(request), lambda s: jobs.withdraw_algorithm(s, digest, caller.actor))
    except ComputeError as error:
        raise _problem(error) from None
    return Response(status_code=204)


@router.get("/runtimes")
async def runtimes(request: Request, _: Reader) -> list[dict[str, Any]]:
    """The runtimes this node offers and whether each can run jobs now (Python needs bubblewrap)."""
    available = node_of(request).compute.registry.availability()
    return [{"id": k, "available": v.ok, "reason": v.reason} for k, v in available.items()]
