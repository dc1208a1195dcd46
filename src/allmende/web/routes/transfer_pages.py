"""Transfer pages: the list, starting a transfer under an agreement, one transfer with live progress.

Anyone signed in may look; owners and members start and control transfers (``transfer_actions``)
and download the data (``transfer_download``). The progress of a transfer is a fragment that HTMX
polls every two seconds while the transfer is not final; without JavaScript the page has a Refresh
link. When the polled state differs from the one the page shows, HTMX reloads the whole page
(``HX-Redirect``) so that its actions match the state.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from allmende.negotiation.records import AgreementRecord
from allmende.protocol.endpoint import in_read, in_transaction, node_of
from allmende.protocol.problems import ProtocolProblem
from allmende.transfer.messages import FORMATS, PULL_FORMAT
from allmende.transfer.records import TransferRecord
from allmende.web.forms import FormState
from allmende.web.routes import transfer_actions, transfer_download
from allmende.web.routes.transfer_views import (
    DIRECTIONS,
    LIST_LIMIT,
    STATES,
    Progress,
    notice_text,
    problem_text,
    progress_of,
    startable_agreements,
    transfer_page,
)
from allmende.web.routes.transfer_views import list_transfers as query_transfers
from allmende.web.security import Editor, Viewer, WebDenied, checked_form
from allmende.web.templating import Page, render

router = APIRouter(include_in_schema=False)


@router.get("/transfers")
async def list_transfers(
    request: Request,
    page: Viewer,
    direction: str = "",
    state: str = "",
    agreement: str = "",
    notice: str = "",
) -> Response:
    node = node_of(request)
    role = DIRECTIONS.get(direction)
    chosen_state = state.upper() if state.upper() in STATES else ""
    records = await in_read(node, lambda s: query_transfers(s, role, chosen_state, agreement or None))
    context = {
        "transfers": records[:LIST_LIMIT],
        "more": len(records) > LIST_LIMIT,
        "limit": LIST_LIMIT,
        "in_flight": {r.id: node.bytes_in_flight(r.id) for r in records},
        "filters": FormState(
            values={"direction": direction if role else "", "state": chosen_state, "agreement": agreement}
        ),
        "states": STATES,
        "notice": notice_text(page, notice),
    }
    return render(request, "transfers.html", context)


async def _new_page(
    request: Request, page: Page, form: FormState, problem: str = "", status: int = 200
) -> Response:
    agreements = await in_read(node_of(request), startable_agreements)
    known = {a.id for a in agreements}
    typed = form.get("agreement_id")
    context: dict[str, Any] = {
        "form": form,
        "agreements": agreements,
        "unknown_agreement": typed if typed and typed not in known else "",
        "problem": problem,
    }
    return render(request, "transfer_new.html", context, status=status, page=page)


@router.get("/transfers/new")
async def new_transfer(request: Request, page: Editor, agreement: str = "") -> Response:
    form = FormState(values={"agreement_id": agreement, "format": PULL_FORMAT})
    return await _new_page(request, page, form)


@router.post("/transfers/start")
async def start_transfer(request: Request, page: Editor) -> Response:
    """As consumer: ask the provider of an agreement for its data (pull or push to this node)."""
    form = await checked_form(request, page)
    state = FormState.of(form, "agreement_id", "format")
    t = page.gettext
    agreement_id = state.require("agreement_id", t("Choose the agreement whose data you want."))
    data_format = state.get("format") or PULL_FORMAT
    if data_format not in FORMATS:
        state.errors["format"] = t("Choose how the data should come: download or delivery.")
    node = node_of(request)
    if agreement_id:
        agreement = await in_read(node, lambda s: s.get(AgreementRecord, agreement_id))
        if agreement is None or agreement.role != "consumer":
            state.errors["agreement_id"] = t("This node holds no such agreement as the receiving party.")
        elif agreement.terminated_at is not None:
            state.errors["agreement_id"] = t(
                "This agreement was terminated; no data can be transferred under it."
            )
    if not state.ok:
        return await _new_page(request, page, state, status=400)
    actor = page.user.username if page.user else "web"

    def work(session: Session) -> TransferRecord:
        return node.consumer_transfers.start(session, agreement_id, actor, data_format=data_format)

    try:
        record = await in_transaction(node, work)
    except ProtocolProblem as problem:
        return await _new_page(request, page, state, problem_text(page, problem.reasons), status=409)
    return RedirectResponse(f"/transfers/{record.id}?notice=started", status_code=303)


@router.get("/transfers/{transfer_id}")
async def show_transfer(request: Request, page: Viewer, transfer_id: str, notice: str = "") -> Response:
    return await transfer_page(request, page, transfer_id, notice=notice_text(page, notice))


@router.get("/transfers/{transfer_id}/progress")
async def transfer_progress(
    request: Request, page: Viewer, transfer_id: str, shown: str = "", seen: str = ""
) -> Response:
    """The progress fragment (polled by HTMX; also readable on its own).

    For HTMX, ``shown`` is the state the page shows and ``seen`` the figures the fragment shows: an
    unchanged fragment is answered 204 (no swap, so screen readers do not hear it again), a changed
    state loads the page again (its actions change with the state).
    """
    node = node_of(request)

    def work(session: Session) -> Progress | None:
        record = session.get(TransferRecord, transfer_id)
        return None if record is None else progress_of(node, request, session, record)

    progress = await in_read(node, work)
    if progress is None:
        raise WebDenied(404, "This transfer does not exist.")
    if request.headers.get("hx-request") and shown:
        if shown != progress.state:
            # Load the page afresh (without a notice that no longer fits the state).
            return Response(status_code=204, headers={"HX-Redirect": f"/transfers/{transfer_id}"})
        if seen == progress.figures:
            return Response(status_code=204)
    return render(request, "transfer_progress.html", {"progress": progress})


router.include_router(transfer_actions.router)
router.include_router(transfer_download.router)
