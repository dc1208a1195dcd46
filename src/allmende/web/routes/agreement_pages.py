"""Agreements: the list, one agreement ("what I may do, until when") and ending it as provider."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from allmende.catalog.records import AssetRecord
from allmende.clock import utcnow
from allmende.negotiation.records import AgreementRecord
from allmende.policy.compute import offered_action
from allmende.policy.jsonld import policy_from_json
from allmende.protocol.endpoint import in_read, in_transaction, node_of
from allmende.protocol.problems import ProtocolProblem
from allmende.transfer.records import TransferRecord
from allmende.web.forms import FormState
from allmende.web.routes.compute_views import jobs_of_agreement, terms_of
from allmende.web.routes.contract_terms import PolicyText, TermWords, policy_text
from allmende.web.security import Editor, Viewer, WebDenied, checked_form
from allmende.web.templating import N_, Page, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
MAX_REASON = 2000
NOTICES = {"ended": N_("The agreement was ended. Running transfers were stopped; new ones are refused.")}


def partner_of(record: AgreementRecord) -> str:
    """The other party of the agreement."""
    return record.consumer_did if record.role == "provider" else record.provider_did


def status_of(record: AgreementRecord, terms: PolicyText | None, now: datetime) -> str:
    """``terminated``, ``expired``, ``signing`` (not final yet) or ``in_force``."""
    if record.terminated_at is not None:
        return "terminated"
    until = terms.facts.until if terms is not None and terms.facts is not None else None
    if until is not None and until < now:
        return "expired"
    return "in_force" if record.finalized_at is not None else "signing"


def _titles(session: Session, records: list[AgreementRecord]) -> dict[str, str]:
    ids = {record.target for record in records if record.role == "provider"}
    if not ids:
        return {}
    return dict(
        session.execute(select(AssetRecord.id, AssetRecord.title).where(AssetRecord.id.in_(ids))).all()
    )


def _overview(session: Session, page_number: int) -> dict[str, Any]:
    query = (
        select(AgreementRecord)
        .order_by(AgreementRecord.signed_at.desc(), AgreementRecord.id)
        .offset((page_number - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    )
    rows = list(session.execute(query).scalars())
    return {"rows": rows[:PAGE_SIZE], "more": len(rows) > PAGE_SIZE, "titles": _titles(session, rows)}


def _start(record: AgreementRecord) -> datetime | None:
    """When the agreement began: its own timestamp (the same on both sides), else when this node signed it."""
    return None if record.policy.get("timestamp") else record.signed_at


@router.get("/agreements")
async def agreements(request: Request, page: Viewer, number: str = Query("1", alias="page")) -> Response:
    """All agreements, newest first: partner, dataset, role, signed, in force or not."""
    page_number = max(1, int(number)) if number.isdigit() else 1
    context = await in_read(node_of(request), lambda s: _overview(s, page_number))
    now = utcnow()
    context["status"] = {
        record.id: status_of(record, policy_text(record.policy, page.language, start=_start(record)), now)
        for record in context["rows"]
    }
    context["page_number"] = page_number
    return render(request, "agreements.html", context)


def _detail(session: Session, agreement_id: str) -> dict[str, Any] | None:
    record = session.get(AgreementRecord, agreement_id)
    if record is None:
        return None
    transfers = list(
        session.execute(
            select(TransferRecord)
            .where(TransferRecord.agreement_id == agreement_id)
            .order_by(TransferRecord.created_at.desc())
        ).scalars()
    )
    return {
        "a": record,
        "transfers": transfers,
        "title": _titles(session, [record]).get(record.target, ""),
        "jobs": jobs_of_agreement(session, agreement_id),
    }


async def _load(request: Request, page: Page, agreement_id: str) -> dict[str, Any]:
    found = await in_read(node_of(request), lambda s: _detail(s, agreement_id))
    if found is None:
        raise WebDenied(404, "There is no such agreement.")
    record: AgreementRecord = found["a"]
    found["terms"] = policy_text(record.policy, page.language, start=_start(record))
    found["status"] = status_of(record, found["terms"], utcnow())
    found["partner"] = partner_of(record)
    return found


async def _detail_page(
    request: Request, page: Page, agreement_id: str, *, notice: str = "", problem: str = "", status: int = 200
) -> Response:
    found = await _load(request, page, agreement_id)
    record: AgreementRecord = found["a"]
    compute = terms_of(record.policy)
    # A transfer under an agreement that permits only computing on the data would be refused.
    only_compute = compute is not None and offered_action(policy_from_json(record.policy)) == "compute"
    found.update(
        compute=compute,
        may_compute=page.can_change
        and record.role == "consumer"
        and compute is not None
        and found["status"] == "in_force",
        words=TermWords(page.language),
        notice=page.gettext(NOTICES[notice]) if notice in NOTICES else "",
        problem=problem,
        may_end=page.can_change and record.role == "provider" and record.terminated_at is None,
        may_transfer=page.can_change
        and record.role == "consumer"
        and found["status"] == "in_force"
        and not only_compute,
        in_flight={t.id: node_of(request).bytes_in_flight(t.id) for t in found["transfers"]},
    )
    return render(request, "agreement.html", found, status=status)


@router.get("/agreements/{agreement_id}")
async def agreement(request: Request, page: Viewer, agreement_id: str, notice: str = "") -> Response:
    """One agreement: what may be done until when, in plain language and as key facts; its transfers."""
    return await _detail_page(request, page, agreement_id, notice=notice)


async def _end_form(
    request: Request, page: Page, agreement_id: str, form: FormState, status: int = 200
) -> Response:
    found = await _load(request, page, agreement_id)
    record: AgreementRecord = found["a"]
    if record.role != "provider" or record.terminated_at is not None:
        return RedirectResponse(f"/agreements/{quote(agreement_id, safe='')}", status_code=303)
    return render(request, "agreement_end.html", {**found, "form": form}, status=status)


@router.get("/agreements/{agreement_id}/end")
async def end_form(request: Request, page: Editor, agreement_id: str) -> Response:
    """Confirm ending an agreement this node granted, with the reason to record."""
    return await _end_form(request, page, agreement_id, FormState())


@router.post("/agreements/{agreement_id}/end")
async def end(request: Request, page: Editor, agreement_id: str) -> Response:
    """End the agreement: its transfers are terminated and its access tokens stop working."""
    form = FormState.of(await checked_form(request, page), "reason")
    reason = form.require("reason", page.gettext("Give a reason for ending the agreement."))
    if len(reason) > MAX_REASON:
        form.errors["reason"] = page.gettext("At most %(count)s characters, please.") % {"count": MAX_REASON}
    if not form.ok:
        return await _end_form(request, page, agreement_id, form, status=400)
    node = node_of(request)
    assert page.user is not None
    actor = page.user.username
    try:
        await in_transaction(
            node, lambda s: node.provider_transfers.terminate_agreement(s, agreement_id, reason, actor)
        )
    except ProtocolProblem as exc:
        problem = page.gettext(
            "The agreement could not be ended, so nothing was changed. Details: %(reason)s"
        ) % {"reason": "; ".join(exc.reasons)}
        return await _detail_page(request, page, agreement_id, problem=problem, status=409)
    return RedirectResponse(f"/agreements/{quote(agreement_id, safe='')}?notice=ended", status_code=303)
