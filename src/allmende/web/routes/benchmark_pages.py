"""Private peer benchmark pages: the rounds this node organises and those it takes part in, one round
with its live state, and, once released, the figures and where this node stands among its peers.

``/benchmarks/{id}`` shows a round this node organises (its id is the round's) or a participation in
another node's round (its id is the participation's ``urn:uuid:``). Anyone signed in may look; owners
define, close, cancel and join rounds (``benchmark_actions``, whose router comes first: ``/benchmarks/new``
and ``/benchmarks/join`` are no ids), as only the admin key does in the API.
The state of a round that is not over is a fragment that HTMX polls every three seconds; when it
differs from the one the page shows, HTMX loads the page again (``HX-Redirect``) so that its figures and
actions match. Without JavaScript the page has a Refresh link.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from allmende.benchmarking import organiser, participant
from allmende.benchmarking.calls import round_url
from allmende.benchmarking.errors import BenchmarkError
from allmende.benchmarking.records import (
    BenchmarkParticipationRecord,
    BenchmarkRoundParticipantRecord,
    BenchmarkRoundRecord,
)
from allmende.benchmarking.states import is_final
from allmende.protocol.endpoint import in_read, node_of
from allmende.web.forms import FormState
from allmende.web.routes.benchmark_views import kpis_of, percent, released_figures, when_text, with_unit
from allmende.web.security import Viewer, WebDenied
from allmende.web.templating import N_, Page, render

router = APIRouter(include_in_schema=False)
LIST_LIMIT = 200
NO_ROUND = N_("There is no such benchmark round on this node.")
NOTICES = {
    "created": N_("The round is open. Send its address to the companies that should take part."),
    "joined": N_("This node takes part in the round. Your values stay on this node."),
    "closed": N_("Joining is closed."),
    "cancelled": N_("The round is cancelled; its participants are told."),
}


def item_href(item_id: str) -> str:
    return f"/benchmarks/{quote(item_id, safe='')}"


def notice_text(page: Page, key: str) -> str:
    message = NOTICES.get(key)
    return page.gettext(message) if message else ""


def problem_text(page: Page, reason: str) -> str:
    """A refusal of the benchmarking service in the page's language (the reason stays English)."""
    return page.gettext("This could not be done: %(reason)s") % {"reason": reason}


def _lists(session: Session) -> dict[str, Any]:
    rounds = organiser.list_rounds(session)[:LIST_LIMIT]
    counts = dict(
        session.execute(
            select(BenchmarkRoundParticipantRecord.round_id, func.count()).group_by(
                BenchmarkRoundParticipantRecord.round_id
            )
        ).all()
    )
    return {
        "rounds": rounds,
        "joined": {r.id: counts.get(r.id, 0) for r in rounds},
        "participations": participant.list_participations(session)[:LIST_LIMIT],
    }


async def list_page(
    request: Request, page: Page, *, join_form: FormState | None = None, problem: str = "", status: int = 200
) -> HTMLResponse:
    """The overview with the join form (``join_form`` carries what was typed and what was wrong)."""
    context = await in_read(node_of(request), _lists)
    context.update(
        join_form=join_form or FormState(),
        problem=problem,
        kpis_of=kpis_of,
        when_text=lambda text: when_text(text, page.formats),
        notice=notice_text(page, str(request.query_params.get("notice", ""))),
    )
    return render(request, "benchmarks.html", context, status=status, page=page)


@router.get("/benchmarks")
async def benchmarks(request: Request, page: Viewer) -> Response:
    """Rounds this node organises, rounds it takes part in, and (for owners) joining a round."""
    return await list_page(request, page)


def _load(session: Session, item_id: str) -> dict[str, Any] | None:
    record = session.get(BenchmarkRoundRecord, item_id)
    if record is not None:
        return {"round": record, "participants": organiser.participants_of(session, item_id)}
    mine = session.get(BenchmarkParticipationRecord, item_id)
    return None if mine is None else {"participation": mine}


async def item_context(request: Request, item_id: str) -> dict[str, Any]:
    """What the round or participation page shows; the 404 page when there is neither."""
    node = node_of(request)
    found = await in_read(node, lambda s: _load(s, item_id))
    if found is None:
        raise WebDenied(404, NO_ROUND)
    page = request.state.page
    context: dict[str, Any] = {**found, "item_id": item_id, "href": item_href(item_id)}
    context["percent"] = lambda value: percent(value, page.formats)
    context["with_unit"] = lambda value, unit: with_unit(value, unit, page.formats)
    context["when_text"] = lambda text: when_text(text, page.formats)
    state: str
    if "round" in found:
        organised: BenchmarkRoundRecord = found["round"]
        context["kpis"] = kpis_of(organised.kpis)
        context["round_url"] = round_url(node.base_url, organised.id)
        context["figures"] = _figures(organised.kpis, organised.result, None)
        state = organised.state
    else:
        mine: BenchmarkParticipationRecord = found["participation"]
        context["kpis"] = kpis_of(mine.definition.get("kpis"))
        context["figures"] = _figures(mine.definition.get("kpis"), mine.result, mine.own_values)
        state = mine.state
    context["state"] = state
    context["final"] = is_final(state)
    return context


def _figures(kpis: object, result: object, own: dict[str, Any] | None) -> list[Any]:
    if result is None:
        return []
    try:
        return released_figures(kpis, result, own)
    except BenchmarkError:  # stored by this node after checking; unreadable only if tampered with
        return []


async def _organiser_view(request: Request, record: BenchmarkParticipationRecord) -> dict[str, Any] | None:
    """How many joined so far, as the organiser tells this node (None when it cannot be asked now)."""
    if record.state != "joined":
        return None
    try:
        return await participant.fetch_round(node_of(request), record.round_url)
    except BenchmarkError:
        return None


async def item_page(
    request: Request, page: Page, item_id: str, *, notice: str = "", problem: str = "", status: int = 200
) -> HTMLResponse:
    """The page of a round this node organises, or of a participation in another node's round."""
    context = await item_context(request, item_id)
    context.update(notice=notice, problem=problem)
    if "round" in context:
        return render(request, "benchmark_round.html", context, status=status, page=page)
    context["remote"] = await _organiser_view(request, context["participation"])
    return render(request, "benchmark_participation.html", context, status=status, page=page)


@router.get("/benchmarks/{item_id}")
async def show_item(request: Request, page: Viewer, item_id: str, notice: str = "") -> Response:
    return await item_page(request, page, item_id, notice=notice_text(page, notice))


@router.get("/benchmarks/{item_id}/state")
async def item_state(request: Request, page: Viewer, item_id: str, shown: str = "") -> Response:
    """The live state fragment (polled by HTMX while the round is not over; also readable on its own).

    For HTMX, ``shown`` is the state the page shows: the same state is answered 204 (no swap), another
    one loads the page again.
    """
    context = await item_context(request, item_id)
    if request.headers.get("hx-request") and shown:
        if shown != context["state"]:
            return Response(status_code=204, headers={"HX-Redirect": item_href(item_id)})
        return Response(status_code=204)
    return render(request, "benchmark_state.html", context, page=page)
