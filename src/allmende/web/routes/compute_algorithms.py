"""Pre-approved algorithms and the runtimes of this node.

A pre-approved algorithm (named by the digest of its code and runtime) releases its jobs by itself
once the release checks pass; the owner adds one here or from a job's page ("Pre-approve this
algorithm"), and withdraws it after a confirmation. The page also says which runtimes can run jobs
now: a node without a working bubblewrap refuses Python jobs, and says why.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from allmende.clock import utcnow
from allmende.compute import jobs
from allmende.compute.algorithm import is_digest
from allmende.compute.jobs import ComputeError
from allmende.compute.records import ApprovedAlgorithmRecord, ComputeJobRecord
from allmende.protocol.endpoint import in_read, in_transaction, node_of
from allmende.web.forms import FormState
from allmende.web.routes.compute_views import job_page, notice_text, problem_text
from allmende.web.routes.identity_view import actor_of
from allmende.web.security import Owner, Viewer, WebDenied, checked_form
from allmende.web.templating import Page, render

router = APIRouter(include_in_schema=False)
NAME_MAX = 300
NOTE_MAX = 4000


def runtime_kind(runtime_id: str) -> str:
    """``sql`` or ``python`` for the runtimes every node has; the id itself for others."""
    registered = {"duckdb-sql/1": "sql", "python-3.11-numpy-pandas/1": "python"}
    return registered.get(runtime_id, runtime_id)


async def _algorithms_page(
    request: Request, page: Page, form: FormState, *, notice: str = "", problem: str = "", status: int = 200
) -> Response:
    node = node_of(request)
    approved = await in_read(node, jobs.approved_algorithms)
    runtimes = [
        {"id": runtime_id, "kind": runtime_kind(runtime_id), "ok": status.ok, "reason": status.reason}
        for runtime_id, status in node.compute.registry.availability().items()
    ]
    context: dict[str, Any] = {
        "approved": approved,
        "runtimes": runtimes,
        "form": form,
        "notice": notice,
        "problem": problem,
    }
    return render(request, "compute_algorithms.html", context, status=status, page=page)


@router.get("/compute/algorithms")
async def algorithms(request: Request, page: Viewer, notice: str = "", digest: str = "") -> Response:
    """The pre-approved algorithms, the form to add one (owners), and the runtimes' availability."""
    form = FormState(values={"digest": digest})
    return await _algorithms_page(request, page, form, notice=notice_text(page, notice))


def _checked(state: FormState, page: Page) -> None:
    t = page.gettext
    digest = state.require("digest", t("Give the digest of the algorithm (sha-256:…)."))
    if digest and not is_digest(digest):
        state.errors["digest"] = t("A digest is sha-256: followed by 64 hexadecimal digits (0-9, a-f).")
    name = state.require("name", t("Give the algorithm a name, e.g. what it computes."))
    if len(name) > NAME_MAX:
        state.errors["name"] = t("At most %(count)s characters, please.") % {"count": NAME_MAX}
    if len(state.get("note")) > NOTE_MAX:
        state.errors["note"] = t("At most %(count)s characters, please.") % {"count": NOTE_MAX}


async def _provider_job(request: Request, job_id: str) -> ComputeJobRecord:
    found = await in_read(node_of(request), lambda s: s.get(ComputeJobRecord, job_id))
    if found is None or found.role != "provider":
        raise WebDenied(404, "There is no such compute job on this node.")
    return found


@router.post("/compute/algorithms")
async def approve(request: Request, page: Owner) -> Response:
    """Pre-approve an algorithm by its digest; from a job's page (``job``) its digest is the job's."""
    form = await checked_form(request, page)
    state = FormState.of(form, "digest", "name", "note", "job")
    job_id = state.get("job")
    if job_id:
        job = await _provider_job(request, job_id)
        state.values["digest"] = job.digest
    _checked(state, page)
    if not state.ok:
        if job_id:
            return await job_page(request, page, job_id, approve_form=state, status=400)
        return await _algorithms_page(request, page, state, status=400)
    actor = actor_of(page)

    def work(session: Session) -> None:
        jobs.approve_algorithm(
            session, state.get("digest"), state.get("name"), state.get("note"), actor, utcnow()
        )

    try:
        await in_transaction(node_of(request), work)
    except ComputeError as error:
        problem = problem_text(page, error.message)
        if job_id:
            return await job_page(request, page, job_id, problem=problem, approve_form=state, status=409)
        return await _algorithms_page(request, page, state, problem=problem, status=409)
    if job_id:
        return RedirectResponse(f"/compute/jobs/{job_id}?notice=approved", status_code=303)
    return RedirectResponse("/compute/algorithms?notice=approved", status_code=303)


async def _approved(request: Request, digest: str) -> ApprovedAlgorithmRecord:
    found = await in_read(node_of(request), lambda s: s.get(ApprovedAlgorithmRecord, digest))
    if found is None:
        raise WebDenied(404, "This algorithm is not pre-approved.")
    return found


@router.get("/compute/algorithms/{digest}/withdraw")
async def confirm_withdraw(request: Request, page: Owner, digest: str) -> Response:
    """Confirm withdrawing a pre-approval."""
    algorithm = await _approved(request, digest)
    action = f"/compute/algorithms/{quote(digest, safe='')}/withdraw"
    return render(request, "compute_withdraw.html", {"algorithm": algorithm, "action_url": action})


@router.post("/compute/algorithms/{digest}/withdraw")
async def withdraw(request: Request, page: Owner, digest: str) -> Response:
    """Withdraw a pre-approval: jobs of the algorithm are reviewed again (released ones stay released)."""
    await checked_form(request, page)
    await _approved(request, digest)
    actor = actor_of(page)
    try:
        await in_transaction(node_of(request), lambda s: jobs.withdraw_algorithm(s, digest, actor))
    except ComputeError as error:
        problem = problem_text(page, error.message)
        return await _algorithms_page(request, page, FormState(), problem=problem, status=409)
    return RedirectResponse("/compute/algorithms?notice=withdrawn", status_code=303)
