"""Negotiations: the list with the review queue first, and one negotiation with its live state."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from allmende.audit.records import AuditRecord
from allmende.catalog.records import AssetRecord
from allmende.negotiation.records import AgreementRecord, NegotiationRecord
from allmende.negotiation.states import TERMINAL, State
from allmende.protocol.endpoint import in_read, node_of
from allmende.web.forms import FormState
from allmende.web.routes.contract_terms import TermWords, policy_text
from allmende.web.security import Viewer, WebDenied
from allmende.web.templating import N_, Page, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50

NOTICES = {
    "requested": N_("Your contract request was sent to the provider."),
    "agreed": N_("You agreed. Both nodes now sign the agreement."),
    "accepted": N_("You accepted the offer. The provider's node now signs the agreement."),
    "countered": N_("Your counter-offer was sent."),
    "declined": N_("You declined the request. The other node was told your reason."),
    "terminated": N_("You ended the negotiation. The other node was told your reason."),
}
# The domain's review notes, as the pages say them.
REVIEW_NOTES = {
    "the consumer proposes terms that differ from the published offer": N_(
        "The requester proposes terms that differ from your published offer."
    ),
    "the owner reviews every request for this offer": N_("You review every request for this offer."),
    "the provider offers other terms": N_("The provider answered with other terms."),
    "the provider offers a contract": N_("The provider offers you a contract."),
}
STATE_NAMES = {
    State.REQUESTED: N_("requested"),
    State.OFFERED: N_("offered"),
    State.ACCEPTED: N_("accepted"),
    State.AGREED: N_("agreed"),
    State.VERIFIED: N_("verified"),
    State.FINALIZED: N_("finalized"),
    State.TERMINATED: N_("terminated"),
}
EVENTS = {
    "negotiation.requested": N_("Contract requested"),
    "negotiation.offered": N_("Terms offered"),
    "negotiation.accepted": N_("Offer accepted"),
    "negotiation.agreed": N_("Agreement signed by the provider"),
    "negotiation.verified": N_("Agreement signed by the consumer"),
    "negotiation.finalized": N_("Agreement in force"),
    "negotiation.terminated": N_("Negotiation ended"),
    "negotiation.review_queued": N_("Waiting for review"),
}


@dataclass(frozen=True)
class Filters:
    """The list's filters as given in the query string (unknown values are ignored)."""

    role: str = ""
    state: str = ""
    review: bool = False
    offer: str = ""
    page: int = 1

    def query(self) -> Select[NegotiationRecord]:
        query = select(NegotiationRecord).order_by(NegotiationRecord.created_at.desc(), NegotiationRecord.id)
        if self.role in ("provider", "consumer"):
            query = query.where(NegotiationRecord.role == self.role)
        if self.state in State.__members__:
            query = query.where(NegotiationRecord.state == self.state)
        if self.review:
            query = query.where(NegotiationRecord.review_pending.is_(True))
        if self.offer:
            query = query.where(NegotiationRecord.offer_id == self.offer)
        return query.offset((self.page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)

    def link(self, page: int) -> str:
        """The list URL with these filters on ``page``."""
        params = {
            "role": self.role,
            "state": self.state,
            "review": "1" if self.review else "",
            "offer": self.offer,
        }
        query = "&".join(f"{key}={quote(value, safe='')}" for key, value in params.items() if value)
        return "/negotiations?" + "&".join(part for part in (query, f"page={page}") if part)


def dataset_titles(session: Session, records: list[NegotiationRecord]) -> dict[str, str]:
    """Titles of the datasets this node provides among the records' datasets (others stay ids)."""
    ids = {record.dataset_id for record in records if record.dataset_id and record.role == "provider"}
    if not ids:
        return {}
    rows = session.execute(select(AssetRecord.id, AssetRecord.title).where(AssetRecord.id.in_(ids)))
    return {asset_id: title for asset_id, title in rows}


def _overview(session: Session, filters: Filters) -> dict[str, Any]:
    rows = list(session.execute(filters.query()).scalars())
    queue = list(
        session.execute(
            select(NegotiationRecord)
            .where(NegotiationRecord.review_pending.is_(True))
            .order_by(NegotiationRecord.updated_at)
            .limit(PAGE_SIZE)
        ).scalars()
    )
    return {
        "rows": rows[:PAGE_SIZE],
        "more": len(rows) > PAGE_SIZE,
        "queue": queue,
        "titles": dataset_titles(session, rows + queue),
    }


@router.get("/negotiations")
async def negotiations(
    request: Request,
    page: Viewer,
    role: str = "",
    state: str = "",
    review: str = "",
    offer: str = "",
    number: str = Query("1", alias="page"),
) -> Response:
    """All negotiations, newest first, filtered; the ones waiting for this node's decision on top."""
    page_number = int(number) if number.isdigit() else 1
    filters = Filters(role, state.upper(), review in ("1", "true", "on"), offer.strip(), max(1, page_number))
    context = await in_read(node_of(request), lambda s: _overview(s, filters))
    states = [(s.value, page.gettext(STATE_NAMES[s])) for s in State]
    chosen = FormState(values={"role": filters.role, "state": filters.state})
    context.update(filters=filters, states=states, chosen=chosen)
    return render(request, "negotiations.html", context)


def version_of(record: NegotiationRecord, entries: int) -> str:
    """A short fingerprint of what the live part shows; polling with an unchanged one gets no body."""
    parts = (record.state, record.review_pending, record.updated_at, record.agreement_id, entries)
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def _detail(session: Session, negotiation_id: str) -> dict[str, Any] | None:
    record = session.get(NegotiationRecord, negotiation_id)
    if record is None:
        return None
    history = list(
        session.execute(
            select(AuditRecord).where(AuditRecord.subject == negotiation_id).order_by(AuditRecord.seq)
        ).scalars()
    )
    agreement = session.get(AgreementRecord, record.agreement_id) if record.agreement_id else None
    return {
        "n": record,
        "history": history,
        "agreement": agreement,
        "title": dataset_titles(session, [record]).get(record.dataset_id or "", ""),
        "live_version": version_of(record, len(history)),
    }


def actions_for(record: NegotiationRecord, page: Page) -> dict[str, bool]:
    """Which buttons the user gets: by the user's role, this node's role and the state."""
    open_ = State(record.state) not in TERMINAL and page.can_change
    provider, consumer = record.role == "provider", record.role == "consumer"
    reviewing = open_ and provider and record.state == State.REQUESTED.value
    answering = open_ and consumer and record.state == State.OFFERED.value
    return {
        "agree": reviewing,
        "accept": answering,
        "counter": reviewing or answering,
        "decline": reviewing,
        "terminate": open_ and not reviewing,
    }


async def load(request: Request, negotiation_id: str) -> dict[str, Any]:
    """The negotiation's page data; 404 page if there is none."""
    node = node_of(request)
    found = await in_read(node, lambda s: _detail(s, negotiation_id))
    if found is None:
        raise WebDenied(404, "There is no such negotiation.")
    found["own_did"] = node.did
    return found


ENDINGS = (
    ("terminated by the provider: ", N_("Ended by the provider. Reason: %(reason)s")),
    ("terminated by the consumer: ", N_("Ended by the consumer. Reason: %(reason)s")),
)


def ending_text(record: NegotiationRecord, page: Page) -> str:
    """Who ended the negotiation and why, in the page's language ("" while it is not terminated)."""
    if record.state != State.TERMINATED.value:
        return ""
    reason = record.termination_reason or ""
    for prefix, text in ENDINGS:
        if reason.startswith(prefix):
            return page.gettext(text) % {"reason": reason.removeprefix(prefix)}
    return page.gettext("Ended by this node. Reason: %(reason)s") % {"reason": reason or "—"}


def live_context(found: dict[str, Any], page: Page) -> dict[str, Any]:
    """What the live part of the page needs, besides the loaded data."""
    record: NegotiationRecord = found["n"]
    note = record.review_note or ""
    return {
        **found,
        "final": State(record.state) in TERMINAL,
        "ending": ending_text(record, page),
        "actions": actions_for(record, page),
        "terms": policy_text(record.offer, page.language),
        "words": TermWords(page.language),
        "review_note": page.gettext(REVIEW_NOTES[note]) if note in REVIEW_NOTES else note,
        "events": {event: page.gettext(text) for event, text in EVENTS.items()},
    }


async def detail_page(
    request: Request,
    page: Page,
    negotiation_id: str,
    *,
    problem: str = "",
    status: int = 200,
    notice: str = "",
) -> Response:
    """The negotiation's page, optionally with a problem to report (a refused action)."""
    found = await load(request, negotiation_id)
    context = live_context(found, page)
    context["problem"] = problem
    context["notice"] = page.gettext(NOTICES[notice]) if notice in NOTICES else ""
    return render(request, "negotiation.html", context, status=status)


@router.get("/negotiations/{negotiation_id}")
async def negotiation(request: Request, page: Viewer, negotiation_id: str, notice: str = "") -> Response:
    """One negotiation: partner, terms on the table, history, and what the user may do now."""
    return await detail_page(request, page, negotiation_id, notice=notice)


@router.get("/negotiations/{negotiation_id}/live")
async def negotiation_live(request: Request, page: Viewer, negotiation_id: str, v: str = "") -> Response:
    """The live part of the page for HTMX polling; 204 (nothing to swap) while it has not changed."""
    found = await load(request, negotiation_id)
    if v and v == found["live_version"]:
        return Response(status_code=204)
    return render(request, "negotiation_live.html", {**live_context(found, page), "problem": ""})
