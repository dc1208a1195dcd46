"""The owner's control of a transfer: suspend and terminate (confirmed, with a reason), resume, complete.

Either party may take these actions; the state machine decides which are possible now
(``transfer_views.ACTIONS``). Suspending and terminating ask for confirmation on a page of their own
with a required reason, which the other party receives. Every POST redirects to the transfer page; a
refusal of the protocol (the state changed meanwhile) is shown there instead, nothing is changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from allmende.node import Node
from allmende.protocol.endpoint import in_transaction, node_of
from allmende.protocol.problems import ProtocolProblem
from allmende.transfer.records import TransferRecord
from allmende.web.forms import FormState
from allmende.web.routes.transfer_views import actions_for, problem_text, transfer_context, transfer_page
from allmende.web.security import Editor, WebDenied, checked_form
from allmende.web.templating import Page, render

router = APIRouter(include_in_schema=False)
REASON_MAX = 2000
_DONE = {"suspend": "suspended", "resume": "resumed", "complete": "completed", "terminate": "terminated"}

Action = Callable[[Any, Session, TransferRecord], None]


class _NotNow(Exception):
    """The action is not possible in the transfer's current state."""


async def _confirm_page(
    request: Request, page: Page, transfer_id: str, action: str, form: FormState, status: int = 200
) -> Response:
    context = await transfer_context(request, transfer_id)
    if action not in context["actions"]:
        return await transfer_page(request, page, transfer_id, problem=_not_now(page), status=409)
    context.update(action=action, form=form)
    return render(request, "transfer_confirm.html", context, status=status, page=page)


def _not_now(page: Page) -> str:
    return page.gettext("This is not possible in the transfer's current state.")


async def _perform(request: Request, page: Page, transfer_id: str, name: str, action: Action) -> Response:
    node: Node = node_of(request)

    def work(session: Session) -> None:
        record = session.get(TransferRecord, transfer_id)
        if record is None:
            raise WebDenied(404, "This transfer does not exist.")
        if name not in actions_for(record):
            raise _NotNow()
        side = node.provider_transfers if record.role == "provider" else node.consumer_transfers
        action(side, session, record)

    try:
        await in_transaction(node, work)
    except _NotNow:
        return await transfer_page(request, page, transfer_id, problem=_not_now(page), status=409)
    except ProtocolProblem as problem:
        return await transfer_page(
            request, page, transfer_id, problem=problem_text(page, problem.reasons), status=409
        )
    return RedirectResponse(f"/transfers/{transfer_id}?notice={_DONE[name]}", status_code=303)


def _actor(page: Page) -> str:
    return page.user.username if page.user else "web"


async def _with_reason(request: Request, page: Page, transfer_id: str, name: str) -> Response:
    form = await checked_form(request, page)
    state = FormState.of(form, "reason")
    reason = state.require("reason", page.gettext("Give a reason; the other party will read it."))
    if len(reason) > REASON_MAX:
        state.errors["reason"] = page.gettext("The reason may have at most %(count)s characters.") % {
            "count": page.formats.number(REASON_MAX)
        }
    if not state.ok:
        return await _confirm_page(request, page, transfer_id, name, state, status=400)
    actor = _actor(page)
    if name == "suspend":
        return await _perform(
            request, page, transfer_id, name, lambda side, s, r: side.suspend(s, r, reason, actor)
        )
    return await _perform(
        request, page, transfer_id, name, lambda side, s, r: side.terminate(s, r, reason, actor)
    )


@router.get("/transfers/{transfer_id}/suspend")
async def confirm_suspend(request: Request, page: Editor, transfer_id: str) -> Response:
    return await _confirm_page(request, page, transfer_id, "suspend", FormState())


@router.post("/transfers/{transfer_id}/suspend")
async def suspend(request: Request, page: Editor, transfer_id: str) -> Response:
    return await _with_reason(request, page, transfer_id, "suspend")


@router.get("/transfers/{transfer_id}/terminate")
async def confirm_terminate(request: Request, page: Editor, transfer_id: str) -> Response:
    return await _confirm_page(request, page, transfer_id, "terminate", FormState())


@router.post("/transfers/{transfer_id}/terminate")
async def terminate(request: Request, page: Editor, transfer_id: str) -> Response:
    return await _with_reason(request, page, transfer_id, "terminate")


@router.post("/transfers/{transfer_id}/resume")
async def resume(request: Request, page: Editor, transfer_id: str) -> Response:
    await checked_form(request, page)
    actor = _actor(page)
    return await _perform(request, page, transfer_id, "resume", lambda side, s, r: side.resume(s, r, actor))


@router.post("/transfers/{transfer_id}/complete")
async def complete(request: Request, page: Editor, transfer_id: str) -> Response:
    await checked_form(request, page)
    actor = _actor(page)
    return await _perform(
        request, page, transfer_id, "complete", lambda side, s, r: side.complete(s, r, actor)
    )
