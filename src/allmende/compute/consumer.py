"""The consumer's side of compute jobs: submit under an agreement, follow the provider's state, fetch
the released result.

The jobs travel over Allmende's compute extension endpoint (``/compute/v1`` on the provider, see
docs/compute.md), authenticated with the same self-issued ID tokens as DSP calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from allmende.audit import log as audit
from allmende.clock import utcnow
from allmende.compute.jobs import JOBS_FOLDER, ComputeError
from allmende.compute.records import ComputeJobRecord
from allmende.compute.requests import JobRequest
from allmende.compute.states import STATES
from allmende.negotiation.records import AgreementRecord, NegotiationRecord
from allmende.protocol.endpoint import in_read, in_transaction

if TYPE_CHECKING:
    from allmende.node import Node

log = logging.getLogger(__name__)
MAX_RESULT_BYTES = 100 * 1024 * 1024


def provider_base(address: str) -> str:
    """The provider's base URL from the DSP address the negotiation used."""
    base = address.rstrip("/")
    return base[: -len("/dsp")] if base.endswith("/dsp") else base


def _agreement_and_address(session: Session, agreement_id: str) -> tuple[AgreementRecord, str]:
    agreement = session.get(AgreementRecord, agreement_id)
    if agreement is None or agreement.role != "consumer":
        raise ComputeError(404, f"there is no agreement {agreement_id} with this node as consumer")
    negotiation = session.get(NegotiationRecord, agreement.negotiation_id)
    if negotiation is None or not negotiation.counterparty_address:
        raise ComputeError(409, "the provider's address is not known for this agreement")
    return agreement, provider_base(negotiation.counterparty_address)


async def _call(node: Node, method: str, url: str, provider_did: str, body: Any = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {node.issue_token(provider_did)}"}
    try:
        return await node.http.request(method, url, json=body, headers=headers)
    except httpx.HTTPError as error:
        raise ComputeError(502, f"the provider is unreachable ({type(error).__name__})") from None


def _said(response: httpx.Response) -> str:
    try:
        answer = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(answer, dict) and isinstance(answer.get("error"), str):
        return str(answer["error"])
    return f"HTTP {response.status_code}"


async def submit(node: Node, request: JobRequest, actor: str) -> ComputeJobRecord:
    """Send the job to the provider and keep a copy of it; the provider's refusal is a ComputeError."""
    agreement, base = await in_read(node, lambda s: _agreement_and_address(s, request.agreement_id))
    if agreement.terminated_at is not None:
        raise ComputeError(409, "the agreement was ended")
    response = await _call(node, "POST", f"{base}/compute/v1/jobs", agreement.provider_did, request.to_json())
    if response.status_code >= 400:
        status = response.status_code if response.status_code in (400, 403, 404, 409, 413, 429) else 502
        raise ComputeError(status, f"the provider refused the job: {_said(response)}")
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if (
        not isinstance(answer, dict)
        or not isinstance(answer.get("id"), str)
        or answer.get("state") not in STATES
    ):
        raise ComputeError(502, "the provider's answer is not a job")
    now = utcnow()

    def store(session: Session) -> ComputeJobRecord:
        record = ComputeJobRecord(
            id=f"urn:uuid:{uuid.uuid4()}",
            role="consumer",
            remote_id=answer["id"],
            provider_url=base,
            agreement_id=agreement.id,
            provider_did=agreement.provider_did,
            consumer_did=node.did,
            dataset_id=agreement.target,
            title=str(answer.get("title") or request.title)[:300],
            kind=request.bundle.kind,
            runtime=request.bundle.runtime,
            code=request.bundle.code,
            digest=request.bundle.digest,
            options=request.options(),
            state=str(answer["state"]),
            reason=None,
            manual_release=bool(answer.get("manualRelease", True)),
            checks=[],
            log="",
            epsilon_spent=0.0,
            created_at=now,
            updated_at=now,
        )
        session.add(record)
        audit.append(
            session,
            actor=actor,
            event="compute.job_submitted",
            subject=record.id,
            detail={
                "agreement": agreement.id,
                "provider": agreement.provider_did,
                "algorithm": record.digest,
            },
        )
        return record

    return await in_transaction(node, store)


async def refresh(node: Node, job_id: str) -> ComputeJobRecord:
    """Ask the provider about a submitted job; fetch its result once released."""
    record = await in_read(node, lambda s: _detached(_consumer_record(s, job_id), s))
    if record.remote_id is None or record.provider_url is None:
        raise ComputeError(409, "the job has no provider address")
    url = f"{record.provider_url}/compute/v1/jobs/{record.remote_id}"
    response = await _call(node, "GET", url, record.provider_did)
    if response.status_code >= 400:
        raise ComputeError(502, f"the provider could not say how the job stands: {_said(response)}")
    answer = response.json()
    if not isinstance(answer, dict) or answer.get("state") not in STATES:
        raise ComputeError(502, "the provider's answer is not a job")
    result: bytes | None = None
    if answer["state"] == "released" and record.result_path is None:
        fetched = await _call(node, "GET", f"{url}/result", record.provider_did)
        if fetched.status_code >= 400:
            raise ComputeError(502, f"the released result could not be fetched: {_said(fetched)}")
        if len(fetched.content) > MAX_RESULT_BYTES:
            raise ComputeError(502, "the provider sent a result larger than this node accepts")
        result = fetched.content

    def update(session: Session) -> ComputeJobRecord:
        stored = _consumer_record(session, job_id)
        if result is not None:
            folder = node.settings.data_dir / JOBS_FOLDER / "results"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{stored.id.rsplit(':', 1)[-1]}.csv"
            path.write_bytes(result)
            stored.result_path = str(path)
            stored.result_bytes = len(result)
        if stored.state != answer["state"]:
            audit.append(
                session,
                actor=stored.provider_did,
                event=f"compute.job_{str(answer['state']).replace('-', '_')}",
                subject=stored.id,
                detail={"reason": answer.get("reason")} if answer.get("reason") else {},
            )
        stored.state = str(answer["state"])
        stored.reason = answer.get("reason") if isinstance(answer.get("reason"), str) else None
        stored.checks = [str(c) for c in answer.get("checks") or [] if isinstance(c, str)]
        rows = answer.get("resultRows")
        stored.result_rows = rows if isinstance(rows, int) else stored.result_rows
        epsilon = answer.get("epsilon")
        stored.epsilon_spent = float(epsilon) if isinstance(epsilon, int | float) else 0.0
        stored.updated_at = utcnow()
        if stored.state in ("released", "rejected", "failed") and stored.finished_at is None:
            stored.finished_at = stored.updated_at
        return stored

    return await in_transaction(node, update)


def _consumer_record(session: Session, job_id: str) -> ComputeJobRecord:
    record = session.get(ComputeJobRecord, job_id)
    if record is None or record.role != "consumer":
        raise ComputeError(404, f"there is no job {job_id} submitted by this node")
    return record


def _detached(record: ComputeJobRecord, session: Session) -> ComputeJobRecord:
    session.expunge(record)
    return record


async def poll_jobs(node: Node) -> None:
    """Follow the submitted jobs that are not final yet (or whose result is not here yet)."""
    while True:
        interval = node.settings.compute_poll_seconds
        if interval <= 0:
            return
        await asyncio.sleep(interval)
        ids = await in_read(node, _open_ids)
        for job_id in ids:
            with contextlib.suppress(ComputeError):
                await refresh(node, job_id)


def _open_ids(session: Session) -> list[str]:
    rows = session.execute(
        select(ComputeJobRecord.id, ComputeJobRecord.state, ComputeJobRecord.result_path).where(
            ComputeJobRecord.role == "consumer"
        )
    ).all()
    return [i for i, state, path in rows if state in ("queued", "running", "awaiting-release")
            or (state == "released" and path is None)]  # fmt: skip
