"""Submitting a compute job under an agreement (this node is the consumer): the form, its digest preview.

The form shows the agreement's compute terms in plain words (allowed algorithms, the smallest group,
the largest result, jobs and privacy budget left as far as this node knows) and the digest of the code
typed, which is what an allow-list or a pre-approval names: HTMX updates it while typing; without
JavaScript the "Show the digest" button sends the form back with the digest and submits nothing.
The provider checks the job when it arrives; its refusal (with the reason) is shown in the form, and
nothing is stored then.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from allmende.compute import consumer
from allmende.compute.algorithm import AlgorithmError, make_bundle
from allmende.compute.jobs import ComputeError
from allmende.compute.privacy import STATISTICS
from allmende.compute.requests import DEFAULT_RUNTIMES, JobRequestError, job_request_from_json
from allmende.compute.runtime import validate_table_name
from allmende.negotiation.records import AgreementRecord
from allmende.policy.compute import ComputeTerms
from allmende.protocol.endpoint import in_read, node_of
from allmende.web.forms import FormState
from allmende.web.routes.compute_views import Usage, compute_agreements, problem_text, usage
from allmende.web.routes.contract_terms import policy_text
from allmende.web.routes.identity_view import actor_of
from allmende.web.security import Editor, checked_form
from allmende.web.templating import Page, render

router = APIRouter(include_in_schema=False)

FIELDS = (
    "agreement_id",
    "title",
    "kind",
    "code",
    "group_size_column",
    "epsilon",
    "noise_column",
    "noise_statistic",
    "noise_lower",
    "noise_upper",
)
TITLE_MAX = 300


def digest_of(kind: str, code: str) -> str:
    """The digest of ``code`` on the default runtime of ``kind``; '' when it is not a valid bundle."""
    if not code.strip():
        return ""
    try:
        return make_bundle(kind, code, DEFAULT_RUNTIMES.get(kind, "")).digest
    except AlgorithmError:
        return ""


def _choice(
    found: list[tuple[AgreementRecord, ComputeTerms]], agreement_id: str
) -> tuple[AgreementRecord, ComputeTerms] | None:
    return next(((a, t) for a, t in found if a.id == agreement_id), None)


async def _form_page(
    request: Request, page: Page, form: FormState, *, problem: str = "", status: int = 200
) -> Response:
    node = node_of(request)
    agreement_id = form.get("agreement_id")

    def work(session: Any) -> tuple[list[tuple[AgreementRecord, ComputeTerms]], Usage | None]:
        found = compute_agreements(session)
        used = usage(session, agreement_id) if _choice(found, agreement_id) else None
        return found, used

    agreements, used = await in_read(node, work)
    chosen = _choice(agreements, agreement_id)
    terms = chosen[1] if chosen else None
    digest = digest_of(form.get("kind") or "sql", form.get("code"))
    context: dict[str, Any] = {
        "form": form,
        "agreements": agreements,
        "agreement": chosen[0] if chosen else None,
        "terms": terms,
        "text": policy_text(chosen[0].policy, page.language) if chosen else None,
        "used": used,
        "digest": digest,
        "allowed": terms is None or terms.algorithms is None or digest in terms.algorithms,
        "statistics": STATISTICS,
        "problem": problem,
    }
    return render(request, "compute_new.html", context, status=status, page=page)


@router.get("/compute/new")
async def new_job(request: Request, page: Editor, agreement: str = "") -> Response:
    """The form to run a job on a provider's data under one of this node's compute agreements."""
    form = FormState(
        values={"agreement_id": agreement, "kind": "sql", "group_size_column": "n", "noise_statistic": "mean"}
    )
    return await _form_page(request, page, form)


def _number(state: FormState, name: str, message: str) -> float | None:
    text = state.get(name).replace(",", ".")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        state.errors[name] = message
        return None


def _privacy(state: FormState, t: Any) -> dict[str, Any] | None:
    """The noise request of the form, or None; errors go to their fields."""
    epsilon = _number(state, "epsilon", t("Give ε as a number, e.g. 0.5."))
    column = state.get("noise_column")
    if epsilon is None:
        if column and "epsilon" not in state.errors:
            state.errors["epsilon"] = t("Give ε for the noise, or leave the column empty.")
        return None
    if epsilon <= 0:
        state.errors["epsilon"] = t("ε must be above 0.")
    if not column:
        state.errors["noise_column"] = t("Name the result column to add noise to.")
    statistic = state.get("noise_statistic")
    if statistic not in STATISTICS:
        state.errors["noise_statistic"] = t("Choose what the column holds: a count, a sum or a mean.")
    lower = _number(state, "noise_lower", t("Give the lower bound as a number."))
    upper = _number(state, "noise_upper", t("Give the upper bound as a number."))
    noise = {"name": column, "statistic": statistic, "lower": lower or 0.0, "upper": upper or 0.0}
    return {"epsilon": epsilon, "columns": [noise]}


def _checked(state: FormState, page: Page, terms: ComputeTerms | None) -> dict[str, Any] | None:
    """The job request as JSON, or None with the errors in ``state``."""
    t = page.gettext
    if terms is None and "agreement_id" not in state.errors:
        state.errors["agreement_id"] = t("Choose an agreement in force that permits compute jobs.")
    kind = state.get("kind")
    if kind not in DEFAULT_RUNTIMES:
        state.errors["kind"] = t("Choose SQL or Python.")
    state.require("code", t("Write the code to run."))
    if len(state.get("title")) > TITLE_MAX:
        state.errors["title"] = t("The title may have at most %(count)s characters.") % {"count": TITLE_MAX}
    column = state.get("group_size_column") or "n"
    try:
        validate_table_name(column)
    except ValueError:
        state.errors["group_size_column"] = t(
            "A plain column name: letters, digits and _, not starting with a digit."
        )
    privacy = _privacy(state, t)
    if (
        terms is not None
        and terms.epsilon_budget is not None
        and privacy is None
        and "epsilon" not in state.errors
    ):
        state.errors["epsilon"] = t(
            "This agreement releases only noised results: give ε and the column to noise."
        )
    if not state.ok:
        return None
    payload: dict[str, Any] = {
        "agreementId": state.get("agreement_id"),
        "title": state.get("title"),
        "algorithm": {"kind": kind, "code": state.values["code"]},
        "groupSizeColumn": column,
    }
    if privacy is not None:
        payload["privacy"] = privacy
    return payload


def _code(form: FormData) -> str:
    """The code exactly as typed (not stripped: the digest covers every byte); browsers send CRLF."""
    return str(form.get("code") or "").replace("\r\n", "\n")


@router.post("/compute/new")
async def submit_job(request: Request, page: Editor) -> Response:
    """Send the job to the provider (``action=digest``: only show the code's digest)."""
    form = await checked_form(request, page)
    state = FormState.of(form, *FIELDS)
    state.values["code"] = _code(form)
    if str(form.get("action") or "") == "digest":
        return await _form_page(request, page, state)
    node = node_of(request)
    agreements = await in_read(node, compute_agreements)
    chosen = _choice(agreements, state.get("agreement_id"))
    payload = _checked(state, page, chosen[1] if chosen else None)
    if payload is None:
        return await _form_page(request, page, state, status=400)
    try:
        job = job_request_from_json(payload)
    except JobRequestError as error:
        state.errors["code"] = page.gettext("Not accepted: %(reason)s") % {"reason": str(error)}
        return await _form_page(request, page, state, status=400)
    try:
        record = await consumer.submit(node, job, actor_of(page))
    except ComputeError as error:
        return await _form_page(request, page, state, problem=problem_text(page, error.message), status=409)
    return RedirectResponse(f"/compute/jobs/{record.id}?notice=submitted", status_code=303)


@router.post("/compute/digest")
async def digest_preview(request: Request, page: Editor) -> Response:
    """The digest fragment of the form (HTMX), with whether the agreement's allow-list names it."""
    form = await checked_form(request, page)
    kind, code = str(form.get("kind") or "sql"), _code(form)
    digest = digest_of(kind, code)
    agreement_id = str(form.get("agreement_id") or "")
    agreements = await in_read(node_of(request), compute_agreements)
    chosen = _choice(agreements, agreement_id)
    terms = chosen[1] if chosen else None
    context = {
        "digest": digest,
        "allowed": terms is None or terms.algorithms is None or digest in terms.algorithms,
        "terms": terms,
    }
    return render(request, "compute_digest.html", context)
