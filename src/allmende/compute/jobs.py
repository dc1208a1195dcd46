"""The provider's side of compute jobs: accept a job under an agreement, record its run, release or reject.

Every function takes the caller's open transaction and changes nothing when it raises
:class:`ComputeError` (whose status and message the routes pass on). Running the algorithm itself is the
runner's business (:mod:`allmende.compute.runner`), outside any transaction.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from allmende.audit import log as audit
from allmende.catalog.records import AssetRecord
from allmende.compute.algorithm import is_digest
from allmende.compute.inputs import InputsError, JobInputs, job_inputs
from allmende.compute.records import ApprovedAlgorithmRecord, ComputeJobRecord
from allmende.compute.requests import JobRequest
from allmende.compute.states import JobStateError, check_move
from allmende.negotiation.records import AgreementRecord
from allmende.policy.compute import RESULT_OPERANDS, ComputeTerms, compute_terms
from allmende.policy.errors import PolicyError
from allmende.policy.evaluate import evaluate
from allmende.policy.jsonld import policy_from_json
from allmende.policy.model import Constraint, Policy
from allmende.policy.operands import EvaluationContext
from allmende.transfer.provider import named_communities

JOBS_FOLDER = "compute"


class ComputeError(Exception):
    """A job request or an owner's decision that cannot be carried out; ``message`` says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class AcceptedJob:
    """What the runner needs to run a job, read inside the transaction that claimed it."""

    id: str
    kind: str
    runtime: str
    code: str
    inputs: JobInputs
    terms: ComputeTerms
    options: dict[str, Any]
    spent: float


def job_folder(data_dir: Path, job_id: str) -> Path:
    """Where a job's work files and its candidate result live on the provider's node."""
    return data_dir / JOBS_FOLDER / "jobs" / job_id


def _agreement(session: Session, agreement_id: str, caller_did: str) -> AgreementRecord:
    agreement = session.get(AgreementRecord, agreement_id)
    if agreement is None or agreement.role != "provider":
        raise ComputeError(404, f"there is no agreement {agreement_id} with this node as provider")
    if agreement.consumer_did != caller_did:
        raise ComputeError(403, "the agreement was concluded with another participant")
    if agreement.terminated_at is not None:
        raise ComputeError(
            409, f"the agreement was ended: {agreement.termination_reason or 'no reason given'}"
        )
    return agreement


def _without_result_conditions(policy: Policy) -> Policy:
    """The result conditions (group size, output size, ε) are the gates' business, after the run."""
    permissions = tuple(
        replace(
            p,
            constraints=tuple(
                c
                for c in p.constraints
                if not (isinstance(c, Constraint) and c.left_operand in RESULT_OPERANDS)
            ),
        )
        for p in policy.permissions
    )
    return replace(policy, permissions=permissions)


def jobs_under(session: Session, agreement_id: str) -> int:
    """How many jobs the consumer has run (or has waiting) under the agreement: the ``count`` operand."""
    counted = select(func.count()).where(
        ComputeJobRecord.role == "provider", ComputeJobRecord.agreement_id == agreement_id
    )
    return int(session.execute(counted).scalar_one())


def spent_epsilon(session: Session, agreement_id: str) -> float:
    """The privacy budget spent under the agreement: the ε of every released job."""
    total = select(func.coalesce(func.sum(ComputeJobRecord.epsilon_spent), 0.0)).where(
        ComputeJobRecord.role == "provider",
        ComputeJobRecord.agreement_id == agreement_id,
        ComputeJobRecord.state == "released",
    )
    return float(session.execute(total).scalar_one())


def accept_job(session: Session, caller_did: str, request: JobRequest, now: datetime) -> ComputeJobRecord:
    """Check the request against the agreement and queue the job; :class:`ComputeError` otherwise."""
    agreement = _agreement(session, request.agreement_id, caller_did)
    try:
        policy = policy_from_json(agreement.policy)
    except PolicyError as exc:
        raise ComputeError(409, f"the agreement's policy cannot be read: {exc}") from None
    terms = compute_terms(policy)
    if terms is None:
        raise ComputeError(403, "the agreement does not permit compute jobs (no 'compute' permission)")
    digest = request.bundle.digest
    ctx = EvaluationContext(
        now=now,
        assignee=caller_did,
        agreement_start=agreement.signed_at,
        action="compute",
        use_count=jobs_under(session, agreement.id),
        target=agreement.target,
        party_collections=named_communities(agreement.policy),
        facts={"algorithm": digest},
    )
    decision = evaluate(_without_result_conditions(policy), ctx)
    if not decision.allowed:
        reasons = "; ".join(decision.reasons)
        raise ComputeError(403, f"the agreement does not permit this job: {reasons}")
    if terms.epsilon_budget is not None and request.privacy is None:
        raise ComputeError(
            400,
            "this agreement releases only results with differential-privacy noise: state 'privacy' "
            "(epsilon and the columns to noise)",
        )
    asset = session.get(AssetRecord, agreement.target)
    if asset is None:
        raise ComputeError(409, "the agreement's dataset is no longer on this node")
    try:
        job_inputs(asset.source)
    except InputsError as exc:
        raise ComputeError(409, str(exc)) from None
    approved = session.get(ApprovedAlgorithmRecord, digest) is not None
    record = ComputeJobRecord(
        id=f"urn:uuid:{uuid.uuid4()}",
        role="provider",
        agreement_id=agreement.id,
        provider_did=agreement.provider_did,
        consumer_did=caller_did,
        dataset_id=agreement.target,
        title=request.title or asset.title,
        kind=request.bundle.kind,
        runtime=request.bundle.runtime,
        code=request.bundle.code,
        digest=digest,
        options=request.options(),
        state="queued",
        manual_release=not approved,
        checks=[],
        log="",
        epsilon_spent=0.0,
        created_at=now,
        updated_at=now,
    )
    session.add(record)
    audit.append(
        session,
        actor=caller_did,
        event="compute.job_queued",
        subject=record.id,
        detail={"agreement": agreement.id, "algorithm": digest, "kind": record.kind, "preApproved": approved},
    )
    return record


def requeue_interrupted(session: Session) -> int:
    """Jobs left running by a stopped node go back to the queue (a run has no effects but its result)."""
    interrupted = session.execute(
        select(ComputeJobRecord).where(
            ComputeJobRecord.role == "provider", ComputeJobRecord.state == "running"
        )
    ).scalars()
    count = 0
    for record in interrupted:
        record.state = "queued"
        count += 1
    return count


def claim_next(session: Session, now: datetime) -> AcceptedJob | None:
    """The oldest queued job that can run, now running, with what its run needs; None when none is left.

    Jobs that cannot run any more (agreement ended, dataset gone) fail on the way, with the reason.
    """
    while True:
        record = session.execute(
            select(ComputeJobRecord)
            .where(ComputeJobRecord.role == "provider", ComputeJobRecord.state == "queued")
            .order_by(ComputeJobRecord.created_at, ComputeJobRecord.id)
            .limit(1)
        ).scalar_one_or_none()
        if record is None:
            return None
        accepted, problem = _runnable(session, record)
        if accepted is not None:
            record.state = "running"
            record.updated_at = now
            return accepted
        _finish(session, record, "failed", now, reason=problem)
        session.flush()


def _runnable(session: Session, record: ComputeJobRecord) -> tuple[AcceptedJob | None, str]:
    agreement = session.get(AgreementRecord, record.agreement_id)
    if agreement is None:
        return None, "the agreement is gone"
    if agreement.terminated_at is not None:
        return None, "the agreement was ended before the job ran"
    try:
        terms = compute_terms(policy_from_json(agreement.policy))
    except PolicyError as exc:
        return None, f"the agreement's policy cannot be read: {exc}"
    asset = session.get(AssetRecord, record.dataset_id)
    if terms is None or asset is None:
        return None, "the dataset is no longer offered for compute jobs on this node"
    try:
        inputs = job_inputs(asset.source)
    except InputsError as exc:
        return None, str(exc)
    spent = spent_epsilon(session, record.agreement_id)
    job = AcceptedJob(
        record.id, record.kind, record.runtime, record.code, inputs, terms, dict(record.options), spent
    )
    return job, ""


def _finish(
    session: Session, record: ComputeJobRecord, state: str, now: datetime, *, reason: str | None = None
) -> None:
    check_move(record.state, state)
    record.state = state
    record.reason = reason
    record.updated_at = now
    if state in ("released", "rejected", "failed"):
        record.finished_at = now
    audit.append(
        session,
        actor=record.provider_did,
        event=f"compute.job_{state.replace('-', '_')}",
        subject=record.id,
        detail={"reason": reason} if reason else {},
    )


def record_failure(session: Session, job_id: str, reason: str, log: str, now: datetime) -> None:
    """The run failed (the runtime's reason); nothing of it is kept but the log."""
    record = session.get(ComputeJobRecord, job_id)
    if record is None or record.state != "running":
        return
    record.log = log
    _finish(session, record, "failed", now, reason=reason)


def record_gated(
    session: Session,
    job_id: str,
    *,
    released: bool,
    reasons: tuple[str, ...],
    checks: tuple[str, ...],
    result_path: Path | None,
    result_bytes: int | None,
    result_rows: int | None,
    epsilon: float,
    log: str,
    now: datetime,
) -> ComputeJobRecord | None:
    """The run succeeded and the gates decided: rejected, awaiting the owner, or released."""
    record = session.get(ComputeJobRecord, job_id)
    if record is None or record.state != "running":
        return None
    record.log, record.checks = log, list(checks)
    if not released:
        _finish(
            session,
            record,
            "rejected",
            now,
            reason="the result did not pass the release checks: " + "; ".join(reasons),
        )
        return record
    record.result_path = str(result_path) if result_path is not None else None
    record.result_bytes, record.result_rows = result_bytes, result_rows
    record.epsilon_spent = epsilon
    if record.manual_release:
        _finish(session, record, "awaiting-release", now)
        return record
    _finish(session, record, "released", now)
    record.decided_by = "pre-approved algorithm"
    return record


def release(session: Session, job_id: str, actor: str, now: datetime) -> ComputeJobRecord:
    """The owner releases a reviewed result (the privacy budget is checked again: others may have spent)."""
    record = _provider_job(session, job_id)
    if record.state != "awaiting-release":
        raise ComputeError(409, f"only a job awaiting release can be released; this one is {record.state}")
    if record.epsilon_spent > 0:
        agreement = session.get(AgreementRecord, record.agreement_id)
        terms = compute_terms(policy_from_json(agreement.policy)) if agreement is not None else None
        budget = terms.epsilon_budget if terms is not None else None
        spent = spent_epsilon(session, record.agreement_id)
        if budget is not None and spent + record.epsilon_spent > budget + 1e-9:
            raise ComputeError(
                409,
                f"the privacy budget allows ε {max(0.0, budget - spent):g} more; this result needs "
                f"ε {record.epsilon_spent:g} — reject it",
            )
    record.decided_by = actor
    _finish(session, record, "released", now)
    return record


def reject(session: Session, job_id: str, reason: str, actor: str, now: datetime) -> ComputeJobRecord:
    """The owner rejects a job (queued or awaiting release) with a reason; its result is discarded."""
    record = _provider_job(session, job_id)
    if not reason.strip():
        raise ComputeError(400, "say why the job is rejected")
    try:
        check_move(record.state, "rejected")
    except JobStateError as exc:
        raise ComputeError(409, str(exc)) from None
    if record.state == "running":
        raise ComputeError(409, "the job is running; reject its result once it awaits release")
    record.decided_by = actor
    record.epsilon_spent = 0.0
    _finish(session, record, "rejected", now, reason=reason.strip())
    return record


def discard_result(data_dir: Path, job_id: str) -> None:
    """Remove a job's work files (after a failure or a rejection)."""
    shutil.rmtree(job_folder(data_dir, job_id), ignore_errors=True)


def _provider_job(session: Session, job_id: str) -> ComputeJobRecord:
    record = session.get(ComputeJobRecord, job_id)
    if record is None or record.role != "provider":
        raise ComputeError(404, f"there is no job {job_id} on this node's data")
    return record


def consumer_job(session: Session, job_id: str, caller_did: str) -> ComputeJobRecord:
    """A job on this node's data as its consumer may see it."""
    record = session.get(ComputeJobRecord, job_id)
    if record is None or record.role != "provider" or record.consumer_did != caller_did:
        raise ComputeError(404, f"there is no job {job_id} of yours on this node")
    return record


def approve_algorithm(session: Session, digest: str, name: str, note: str, actor: str, now: datetime) -> None:
    """Pre-approve an algorithm: its future jobs release automatically once the gates pass."""
    if not is_digest(digest):
        raise ComputeError(400, f"expected sha-256:<64 hex digits>, got {digest!r}")
    if not name.strip():
        raise ComputeError(400, "give the algorithm a name")
    record = session.get(ApprovedAlgorithmRecord, digest)
    if record is None:
        session.add(ApprovedAlgorithmRecord(digest=digest, name=name.strip()[:300], note=note.strip(),
                                            approved_by=actor, approved_at=now))  # fmt: skip
    else:
        record.name, record.note = name.strip()[:300], note.strip()
    audit.append(
        session, actor=actor, event="compute.algorithm_approved", subject=digest, detail={"name": name}
    )


def withdraw_algorithm(session: Session, digest: str, actor: str) -> None:
    record = session.get(ApprovedAlgorithmRecord, digest)
    if record is None:
        raise ComputeError(404, f"{digest} is not pre-approved")
    session.delete(record)
    audit.append(session, actor=actor, event="compute.algorithm_withdrawn", subject=digest)


def approved_algorithms(session: Session) -> list[ApprovedAlgorithmRecord]:
    return list(
        session.execute(select(ApprovedAlgorithmRecord).order_by(ApprovedAlgorithmRecord.name)).scalars()
    )
