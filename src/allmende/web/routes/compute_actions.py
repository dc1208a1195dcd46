"""The owner's review of a job on this node's data: release its result, or reject it with a reason.

Both ask for confirmation on a page of their own that shows again what leaves (the checks passed and
a preview of the result); a rejection needs a reason, which the consumer reads. Only owners decide
(as only the admin key does in the API). Every POST redirects to the job page; a refusal of the service
(the job changed meanwhile, the privacy budget is spent) is shown there instead and nothing changes.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from allmende.clock import utcnow
from allmende.compute import jobs
from allmende.compute.jobs import ComputeError
from allmende.compute.records import ComputeJobRecord
from allmende.protocol.endpoint import in_transaction, node_of
from allmende.web.forms import FormState
from allmende.web.routes.compute_views import job_context, job_page, problem_text
from allmende.web.routes.identity_view import actor_of
from allmende.web.security import Owner, checked_form
from allmende.web.templating import Page, render

router = APIRouter(include_in_schema=False)
REASON_MAX = 4000


async def _confirm_page(
    request: Request, page: Page, job_id: str, action: str, form: FormState, status: int = 200
) -> Response:
    context = await job_context(request, job_id)
    allowed = context["may_review"] if action == "release" else context["may_reject"]
    if not allowed:
        job: ComputeJobRecord = context["job"]
        problem = page.gettext("This is not possible while the job is %(state)s.") % {"state": job.state}
        return await job_page(request, page, job_id, problem=problem, status=409)
    context.update(action=action, form=form)
    return render(request, "compute_confirm.html", context, status=status, page=page)


@router.get("/compute/jobs/{job_id}/release")
async def confirm_release(request: Request, page: Owner, job_id: str) -> Response:
    return await _confirm_page(request, page, job_id, "release", FormState())


@router.post("/compute/jobs/{job_id}/release")
async def release(request: Request, page: Owner, job_id: str) -> Response:
    """Release the reviewed result: the consumer's node fetches it when it next asks."""
    await checked_form(request, page)
    await job_context(request, job_id)  # 404 page for an unknown job
    actor = actor_of(page)
    try:
        await in_transaction(node_of(request), lambda s: jobs.release(s, job_id, actor, utcnow()))
    except ComputeError as error:
        return await job_page(request, page, job_id, problem=problem_text(page, error.message), status=409)
    return RedirectResponse(f"/compute/jobs/{job_id}?notice=released", status_code=303)


@router.get("/compute/jobs/{job_id}/reject")
async def confirm_reject(request: Request, page: Owner, job_id: str) -> Response:
    return await _confirm_page(request, page, job_id, "reject", FormState())


@router.post("/compute/jobs/{job_id}/reject")
async def reject(request: Request, page: Owner, job_id: str) -> Response:
    """Reject the job with a reason; its result is discarded and never leaves."""
    form = await checked_form(request, page)
    state = FormState.of(form, "reason")
    reason = state.require("reason", page.gettext("Give a reason; the other party will read it."))
    if len(reason) > REASON_MAX:
        state.errors["reason"] = page.gettext("The reason may have at most %(count)s characters.") % {
            "count": page.formats.number(REASON_MAX)
        }
    if not state.ok:
        return await _confirm_page(request, page, job_id, "reject", state, status=400)
    await job_context(request, job_id)
    node = node_of(request)
    actor = actor_of(page)
    try:
        await in_transaction(node, lambda s: jobs.reject(s, job_id, reason, actor, utcnow()))
    except ComputeError as error:
        return await job_page(request, page, job_id, problem=problem_text(page, error.message), status=409)
    jobs.discard_result(node.settings.data_dir, job_id)
    return RedirectResponse(f"/compute/jobs/{job_id}?notice=rejected", status_code=303)
