"""What the compute pages show: the two job lists, one job with its review facts, an agreement's terms.

The routes of ``compute_pages`` and ``compute_actions`` render through the functions here, so that a
refused action can show the job page again with its message. A consumer's page asks the provider how
its job stands (``consumer.refresh``) at most every :data:`REFRESH_SECONDS` per job, however often the
page polls.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy import case, select
from sqlalchemy.orm import Session

from allmende.catalog.records import AssetRecord
from allmende.compute import consumer
from allmende.compute.jobs import ComputeError
from allmende.compute.records import ApprovedAlgorithmRecord, ComputeJobRecord
from allmende.compute.states import OPEN, is_final
from allmende.compute.views import result_preview
from allmende.negotiation.records import AgreementRecord
from allmende.node import Node
from allmende.policy.compute import ComputeTerms, compute_terms
from allmende.policy.errors import PolicyError
from allmende.policy.jsonld import policy_from_json
from allmende.protocol.endpoint import in_read, node_of
from allmende.web.forms import FormState
from allmende.web.security import WebDenied
from allmende.web.templating import N_, Page, render

LIST_LIMIT = 200
REFRESH_SECONDS = 2.0
NO_JOB = N_("There is no such compute job on this node.")
NOTICES = {
    "submitted": N_("The job was sent to the provider. Its state is shown here as it changes."),
    "released": N_("The result was released to the consumer."),
    "rejected": N_("The job was rejected; the consumer sees your reason."),
    "approved": N_(
        "The algorithm is pre-approved: its future jobs release by themselves once the checks pass."
    ),
    "withdrawn": N_("The pre-approval was withdrawn; jobs of this algorithm are reviewed again."),
}


def notice_text(page: Page, key: str) -> str:
    """The translated status message for a ``?notice=`` key (unknown keys show nothing)."""
    message = NOTICES.get(key)
    return page.gettext(message) if message else ""


def problem_text(page: Page, reason: str) -> str:
    """A refusal of the compute service as a sentence in the page's language (the reason stays English)."""
    return page.gettext("This could not be done: %(reason)s") % {"reason": reason}


def terms_of(policy: dict[str, Any] | None) -> ComputeTerms | None:
    """The compute conditions of an agreement's policy; None when it permits no jobs or cannot be read."""
    if not policy:
        return None
    try:
        return compute_terms(policy_from_json(policy))
    except PolicyError:
        return None


def short_digest(digest: str) -> str:
    """``sha-256:1a2b3c4d5e6f…`` — enough to tell algorithms apart in a list."""
    return digest[: len("sha-256:") + 12] + "…" if len(digest) > 24 else digest


def _provider_order() -> Any:
    """The review queue first (awaiting release), then open jobs, then the finished ones."""
    return case(
        (ComputeJobRecord.state == "awaiting-release", 0),
        (ComputeJobRecord.state.in_(OPEN), 1),
        else_=2,
    )


def list_jobs(session: Session, agreement_id: str | None) -> dict[str, Any]:
    """Both lists (one more than ``LIST_LIMIT`` each, to tell that there are more) and dataset titles."""
    found: dict[str, Any] = {}
    for role in ("provider", "consumer"):
        query = select(ComputeJobRecord).where(ComputeJobRecord.role == role)
        if agreement_id:
            query = query.where(ComputeJobRecord.agreement_id == agreement_id)
        order = [ComputeJobRecord.created_at.desc(), ComputeJobRecord.id]
        if role == "provider":
            order.insert(0, _provider_order())
        found[role] = list(session.execute(query.order_by(*order).limit(LIST_LIMIT + 1)).scalars())
    ids = {job.dataset_id for job in found["provider"]}
    titles = dict(
        session.execute(select(AssetRecord.id, AssetRecord.title).where(AssetRecord.id.in_(ids))).all()
    )
    return {"provider_jobs": found["provider"], "consumer_jobs": found["consumer"], "titles": titles}


def jobs_of_agreement(session: Session, agreement_id: str) -> list[ComputeJobRecord]:
    """The jobs under one agreement, newest first (for the agreement page)."""
    query = (
        select(ComputeJobRecord)
        .where(ComputeJobRecord.agreement_id == agreement_id)
        .order_by(ComputeJobRecord.created_at.desc(), ComputeJobRecord.id)
        .limit(LIST_LIMIT)
    )
    return list(session.execute(query).scalars())


@dataclass(frozen=True)
class Usage:
    """What this node knows of the jobs used and the privacy budget spent under an agreement."""

    jobs: int
    epsilon: float


def usage(session: Session, agreement_id: str) -> Usage:
    """Jobs submitted (consumer) or accepted (provider) under the agreement, and the ε of released ones."""
    rows = session.execute(
        select(ComputeJobRecord.state, ComputeJobRecord.epsilon_spent).where(
            ComputeJobRecord.agreement_id == agreement_id
        )
    ).all()
    spent = sum(epsilon or 0.0 for state, epsilon in rows if state == "released")
    return Usage(len(rows), spent)


def compute_agreements(session: Session) -> list[tuple[AgreementRecord, ComputeTerms]]:
    """Agreements this node holds as consumer, in force, that permit compute jobs."""
    records = session.execute(
        select(AgreementRecord)
        .where(
            AgreementRecord.role == "consumer",
            AgreementRecord.finalized_at.is_not(None),
            AgreementRecord.terminated_at.is_(None),
        )
        .order_by(AgreementRecord.signed_at.desc())
        .limit(500)
    ).scalars()
    found = []
    for record in records:
        terms = terms_of(record.policy)
        if terms is not None:
            found.append((record, terms))
    return found


def _detail(session: Session, job_id: str) -> dict[str, Any] | None:
    job = session.get(ComputeJobRecord, job_id)
    if job is None:
        return None
    asset = session.get(AssetRecord, job.dataset_id) if job.role == "provider" else None
    approved = session.get(ApprovedAlgorithmRecord, job.digest) if job.role == "provider" else None
    options = dict(job.options or {})
    privacy = options.get("privacy") if isinstance(options.get("privacy"), dict) else None
    return {
        "job": job,
        "dataset_title": asset.title if asset is not None else "",
        "approved": approved,
        "group_size_column": str(options.get("groupSizeColumn") or "n"),
        "privacy": privacy,
        "preview": result_preview(job),
        "final": is_final(job.state),
        "may_review": job.role == "provider" and job.state == "awaiting-release",
        "may_reject": job.role == "provider" and job.state in ("queued", "awaiting-release"),
    }


def _refresh_times(request: Request) -> dict[str, float]:
    times: dict[str, float] | None = getattr(request.app.state, "compute_refreshed", None)
    if times is None:
        times = {}
        request.app.state.compute_refreshed = times
    return times


def needs_refresh(job: ComputeJobRecord) -> bool:
    """A submitted job that is still open, or released without its result here yet."""
    return job.role == "consumer" and (job.state in OPEN or (job.state == "released" and not job.result_path))


async def refresh_if_due(request: Request, job: ComputeJobRecord, *, force: bool = False) -> str:
    """Ask the provider about a submitted job unless that was done moments ago; the failure's reason or ''."""
    if not needs_refresh(job):
        return ""
    times = _refresh_times(request)
    now = time.monotonic()
    if not force and now - times.get(job.id, float("-inf")) < REFRESH_SECONDS:
        return ""
    times[job.id] = now
    while len(times) > 1000:  # bounded: the oldest entries go first
        times.pop(next(iter(times)))
    try:
        await consumer.refresh(node_of(request), job.id)
    except ComputeError as error:
        return error.message
    return ""


async def job_context(request: Request, job_id: str, *, refresh: bool = False) -> dict[str, Any]:
    """The detail page's context (after asking the provider, for a consumer's open job); 404 if unknown."""
    node: Node = node_of(request)
    found = await in_read(node, lambda s: _detail(s, job_id))
    if found is None:
        raise WebDenied(404, NO_JOB)
    unreachable = ""
    if refresh and needs_refresh(found["job"]):
        unreachable = await refresh_if_due(request, found["job"])
        found = await in_read(node, lambda s: _detail(s, job_id)) or found
    found["unreachable"] = unreachable
    return found


async def job_page(
    request: Request,
    page: Page,
    job_id: str,
    *,
    notice: str = "",
    problem: str = "",
    status: int = 200,
    approve_form: FormState | None = None,
) -> HTMLResponse:
    """The detail page of a job with a translated ``notice``, a ``problem``, or the pre-approval typed."""
    context = await job_context(request, job_id, refresh=True)
    job: ComputeJobRecord = context["job"]
    context.update(
        notice=notice,
        problem=problem,
        approve_form=approve_form or FormState(values={"name": job.title}),
    )
    return render(request, "compute_job.html", context, status=status, page=page)
