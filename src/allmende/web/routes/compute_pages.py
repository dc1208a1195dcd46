"""Compute job pages: jobs on this node's data and jobs it runs elsewhere, one job with its live state,
and the result as a CSV file.

Anyone signed in may look (viewers too: nothing here changes a job); owners and members submit jobs
(``compute_new``); owners release, reject and pre-approve (``compute_actions``). The state of a job that
is not final is a fragment that HTMX polls every two seconds; on the consumer's node each poll may ask
the provider (throttled, ``compute_views.refresh_if_due``). When the polled state differs from the one
the page shows, HTMX loads the page again (``HX-Redirect``), so that its preview and actions match.
Without JavaScript the page has a Refresh link.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from allmende.compute.records import ComputeJobRecord
from allmende.compute.views import result_bytes
from allmende.dataplane.disposition import attachment
from allmende.protocol.endpoint import in_read, node_of
from allmende.web.routes import compute_actions, compute_algorithms, compute_new
from allmende.web.routes.compute_views import (
    LIST_LIMIT,
    NO_JOB,
    job_context,
    job_page,
    list_jobs,
    notice_text,
    refresh_if_due,
)
from allmende.web.routes.transfer_download import DOWNLOAD_HEADERS
from allmende.web.security import Editor, Viewer, WebDenied, checked_form
from allmende.web.templating import render

router = APIRouter(include_in_schema=False)
_UNSAFE = re.compile(r"[^\w.-]+")


def job_href(job_id: str) -> str:
    return f"/compute/jobs/{quote(job_id, safe='')}"


@router.get("/compute")
async def compute_jobs(request: Request, page: Viewer, agreement: str = "", notice: str = "") -> Response:
    """Jobs on this node's data (the review queue first) and the jobs this node runs on others' data."""
    found = await in_read(node_of(request), lambda s: list_jobs(s, agreement or None))
    context: dict[str, Any] = {
        "provider_jobs": found["provider_jobs"][:LIST_LIMIT],
        "consumer_jobs": found["consumer_jobs"][:LIST_LIMIT],
        "more": len(found["provider_jobs"]) > LIST_LIMIT or len(found["consumer_jobs"]) > LIST_LIMIT,
        "limit": LIST_LIMIT,
        "titles": found["titles"],
        "agreement": agreement,
        "notice": notice_text(page, notice),
    }
    return render(request, "compute.html", context)


@router.get("/compute/jobs/{job_id}")
async def show_job(request: Request, page: Viewer, job_id: str, notice: str = "") -> Response:
    return await job_page(request, page, job_id, notice=notice_text(page, notice))


@router.get("/compute/jobs/{job_id}/state")
async def job_state(request: Request, page: Viewer, job_id: str, shown: str = "") -> Response:
    """The live state fragment (polled by HTMX while the job is not final; also readable on its own).

    For HTMX, ``shown`` is the state the page shows: the same state is answered 204 (no swap, so screen
    readers do not hear it again), another one loads the page again.
    """
    context = await job_context(request, job_id, refresh=True)
    job: ComputeJobRecord = context["job"]
    if request.headers.get("hx-request") and shown:
        if shown != job.state:
            return Response(status_code=204, headers={"HX-Redirect": job_href(job_id)})
        return Response(status_code=204)
    return render(request, "compute_state.html", context)


@router.post("/compute/jobs/{job_id}/refresh")
async def refresh_job(request: Request, page: Editor, job_id: str) -> Response:
    """Ask the provider now how a submitted job stands (the no-JavaScript way to follow it)."""
    await checked_form(request, page)
    context = await job_context(request, job_id)
    job: ComputeJobRecord = context["job"]
    if job.role != "consumer":
        return RedirectResponse(job_href(job_id), status_code=303)
    reason = await refresh_if_due(request, job, force=True)
    if reason:
        problem = page.gettext("The provider could not be asked: %(reason)s") % {"reason": reason}
        return await job_page(request, page, job_id, problem=problem, status=409)
    return RedirectResponse(job_href(job_id), status_code=303)


def result_filename(job: ComputeJobRecord) -> str:
    """A file name for the result: the job's title made safe, else ``result-<id>``, with ``.csv``."""
    cleaned = _UNSAFE.sub("-", job.title).strip(".-")[:80]
    if not cleaned:
        cleaned = "result-" + re.sub(r"[^A-Za-z0-9]", "", job.id.rsplit(":", 1)[-1])[:8]
    return cleaned + ".csv"


@router.get("/compute/jobs/{job_id}/result.csv")
async def download_result(request: Request, page: Viewer, job_id: str) -> Response:
    """The result as a CSV file: on the consumer's node the released copy, on the provider's the result
    under review (or released). Always an attachment, sandboxed, never shown as a page of this node."""

    def work(session: Session) -> tuple[ComputeJobRecord, bytes | None] | None:
        job = session.get(ComputeJobRecord, job_id)
        return None if job is None else (job, result_bytes(job))

    found = await in_read(node_of(request), work)
    if found is None:
        raise WebDenied(404, NO_JOB)
    job, data = found
    if data is None or job.state in ("rejected", "failed"):
        raise WebDenied(404, "This job has no result on this node (yet).")
    headers = {**DOWNLOAD_HEADERS, "Content-Disposition": attachment(result_filename(job))}
    return Response(data, media_type="text/csv; charset=utf-8", headers=headers)


router.include_router(compute_new.router)
router.include_router(compute_actions.router)
router.include_router(compute_algorithms.router)
