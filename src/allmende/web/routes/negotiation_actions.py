"""The decisions on a negotiation: agree, accept, and decline or end it with a reason (after confirming)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from allmende.negotiation.records import NegotiationRecord
from allmende.negotiation.states import TERMINAL, State
from allmende.protocol.endpoint import in_transaction, node_of
from allmende.protocol.problems import ProtocolProblem
from allmende.web.forms import FormState
from allmende.web.routes.negotiation_pages import STATE_NAMES, detail_page, load
from allmende.web.security import Editor, checked_form
from allmende.web.templating import Page, render

router = APIRouter(include_in_schema=False)
MAX_REASON = 2000


def negotiation_url(negotiation_id: str, notice: str = "") -> str:
    """The negotiation's page, with a notice key to show there."""
    url = f"/negotiations/{quote(negotiation_id, safe='')}"
    return f"{url}?notice={notice}" if notice else url


async def refused(request: Request, page: Page, negotiation_id: str, exc: ProtocolProblem) -> Response:
    """The negotiation's page saying why the action was refused and that nothing changed."""
    found = await load(request, negotiation_id)
    current = page.gettext(STATE_NAMES[State(found["n"].state)])
    problem = page.gettext(
        "This could not be done, so nothing was changed. The negotiation is now “%(state)s”; "
        "it may have moved on meanwhile. Details: %(reason)s"
    ) % {"state": current, "reason": "; ".join(exc.reasons)}
    return await detail_page(request, page, negotiation_id, problem=problem, status=409)


async def decide(
    request: Request,
    page: Page,
    negotiation_id: str,
    work: Callable[[Session], NegotiationRecord],
    notice: str,
) -> Response:
    """Run a decision in one transaction; back to the negotiation's page either way."""
    try:
        await in_transaction(node_of(request), work)
    except ProtocolProblem as exc:
        return await refused(request, page, negotiation_id, exc)
    return RedirectResponse(negotiation_url(negotiation_id, notice), status_code=303)


def actor_of(page: Page) -> str:
    """The name the audit log records for the signed-in user."""
    assert page.user is not None
    return page.user.username


@router.post("/negotiations/{negotiation_id}/agree")
async def agree(request: Request, page: Editor, negotiation_id: str) -> Response:
    """Provider: agree to the request on the table."""
    await checked_form(request, page)
    provider = node_of(request).provider
    return await decide(
        request, page, negotiation_id, lambda s: provider.agree(s, negotiation_id, actor_of(page)), "agreed"
    )


@router.post("/negotiations/{negotiation_id}/accept")
async def accept(request: Request, page: Editor, negotiation_id: str) -> Response:
    """Consumer: accept the provider's offer."""
    await checked_form(request, page)
    consumer = node_of(request).consumer
    return await decide(
        request,
        page,
        negotiation_id,
        lambda s: consumer.accept(s, negotiation_id, actor_of(page)),
        "accepted",
    )


def _declining(record: NegotiationRecord) -> bool:
    return record.role == "provider" and record.state == State.REQUESTED.value


async def _end_form(
    request: Request, page: Page, negotiation_id: str, form: FormState, status: int = 200
) -> Response:
    found = await load(request, negotiation_id)
    record: NegotiationRecord = found["n"]
    if State(record.state) in TERMINAL:
        return RedirectResponse(negotiation_url(negotiation_id), status_code=303)
    context = {**found, "form": form, "declining": _declining(record)}
    return render(request, "negotiation_end.html", context, status=status)


@router.get("/negotiations/{negotiation_id}/end")
async def end_form(request: Request, page: Editor, negotiation_id: str) -> Response:
    """Confirm declining (provider reviewing) or ending the negotiation, with the reason to give."""
    return await _end_form(request, page, negotiation_id, FormState())


@router.post("/negotiations/{negotiation_id}/end")
async def end(request: Request, page: Editor, negotiation_id: str) -> Response:
    """Decline or end the negotiation; the other node is told the reason."""
    form = FormState.of(await checked_form(request, page), "reason")
    reason = form.require("reason", page.gettext("Give a reason; the other node is told it."))
    if len(reason) > MAX_REASON:
        form.errors["reason"] = page.gettext("At most %(count)s characters, please.") % {"count": MAX_REASON}
    if not form.ok:
        return await _end_form(request, page, negotiation_id, form, status=400)
    node = node_of(request)
    found = await load(request, negotiation_id)
    notice = "declined" if _declining(found["n"]) else "terminated"

    def work(session: Session) -> NegotiationRecord:
        record = session.get(NegotiationRecord, negotiation_id)
        if record is not None and record.role == "provider":
            return node.provider.decline(session, negotiation_id, reason, actor_of(page))
        return node.consumer.terminate(session, negotiation_id, reason, actor_of(page))

    return await decide(request, page, negotiation_id, work, notice)
