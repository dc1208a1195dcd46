"""My offerings: the node's assets with their offers, one offer in detail, publishing and unpublishing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from allmende.catalog.records import AssetRecord, OfferRecord
from allmende.catalog.service import set_published
from allmende.negotiation.records import AgreementRecord, NegotiationRecord
from allmende.policy.templates import TEMPLATES
from allmende.protocol.endpoint import in_read, in_transaction, node_of
from allmende.sources import SourceConfigError, describe, parse_source
from allmende.web.offering_policy import language_of, policy_text, template_summary, template_title
from allmende.web.routes import offering_new
from allmende.web.security import Editor, Viewer, WebDenied, checked_form
from allmende.web.templating import N_, Page, render

# One router for the page group; the form's routes are on it first, as "new" is no offer id.
router = offering_new.router

SOURCE_KINDS = {
    "file": N_("File"),
    "folder": N_("Folder"),
    "http_api": N_("HTTP API"),
    "sql_query": N_("Database query"),
}
NOTICES = {
    "published": N_("The offering is published: partners find it in your catalog now."),
    "republished": N_("The offer is published again."),
    "unpublished": N_("The offer is no longer published."),
}
_NO_SUCH_OFFER = N_("This node has no such offer.")


@dataclass(frozen=True)
class Terms:
    """An offer's terms as a list shows them: the template's title and summary, or the policy's text."""

    title: str
    summary: str


@dataclass(frozen=True)
class OfferingRow:
    offer: OfferRecord
    asset: AssetRecord
    source: str
    terms: Terms


def terms_of(offer: OfferRecord, page: Page) -> Terms:
    template = TEMPLATES.get(offer.template or "")
    if template is not None:
        return Terms(template_title(template, page), template_summary(template, page))
    text = policy_text(offer.policy, language_of(page)) or ""
    return Terms(offer.template or page.gettext("Own terms (ODRL)"), text)


def source_name(asset: AssetRecord, page: Page) -> str:
    kind = str(asset.source.get("kind", ""))
    return page.gettext(SOURCE_KINDS[kind]) if kind in SOURCE_KINDS else kind


def _notice(page: Page, key: str) -> str:
    return page.gettext(NOTICES[key]) if key in NOTICES else ""


@router.get("/offerings")
async def offerings(request: Request, page: Viewer, notice: str = "") -> Response:
    def load(session: Session) -> list[tuple[OfferRecord, AssetRecord]]:
        query = (
            select(OfferRecord, AssetRecord)
            .join(AssetRecord, OfferRecord.asset_id == AssetRecord.id)
            .order_by(AssetRecord.created_at.desc(), OfferRecord.created_at, OfferRecord.id)
        )
        return [(offer, asset) for offer, asset in session.execute(query)]

    found = await in_read(node_of(request), load)
    rows = [OfferingRow(o, a, source_name(a, page), terms_of(o, page)) for o, a in found]
    return render(request, "offerings.html", {"rows": rows, "notice": _notice(page, notice)})


async def _offer(request: Request, offer_id: str) -> tuple[OfferRecord, AssetRecord]:
    def load(session: Session) -> tuple[OfferRecord, AssetRecord] | None:
        offer = session.get(OfferRecord, offer_id)
        asset = session.get(AssetRecord, offer.asset_id) if offer is not None else None
        return (offer, asset) if offer is not None and asset is not None else None

    found = await in_read(node_of(request), load)
    if found is None:
        raise WebDenied(404, _NO_SUCH_OFFER)
    return found


def _counts(session: Session, offer_id: str) -> dict[str, int]:
    negotiations = session.execute(
        select(func.count())
        .select_from(NegotiationRecord)
        .where(NegotiationRecord.role == "provider", NegotiationRecord.offer_id == offer_id)
    ).scalar_one()
    agreements = session.execute(
        select(func.count())
        .select_from(AgreementRecord)
        .join(NegotiationRecord, AgreementRecord.negotiation_id == NegotiationRecord.id)
        .where(
            NegotiationRecord.role == "provider",
            NegotiationRecord.offer_id == offer_id,
            AgreementRecord.terminated_at.is_(None),
        )
    ).scalar_one()
    return {"negotiations": int(negotiations), "agreements": int(agreements)}


@router.get("/offerings/{offer_id}")
async def offering(request: Request, page: Viewer, offer_id: str, notice: str = "") -> Response:
    offer, asset = await _offer(request, offer_id)
    counts = await in_read(node_of(request), lambda s: _counts(s, offer_id))
    language = language_of(page)
    other: Literal["en", "de"] = "en" if language == "de" else "de"
    context: dict[str, Any] = {
        "offer": offer,
        "asset": asset,
        "source": _shown_source(asset),
        "source_name": source_name(asset, page),
        "terms": terms_of(offer, page),
        "text": policy_text(offer.policy, language),
        "other_text": policy_text(offer.policy, other),
        "other_language": other,
        "access_text": policy_text(offer.access_policy, language) if offer.access_policy else None,
        "odrl": json.dumps(offer.policy, indent=2, ensure_ascii=False),
        "counts": counts,
        "notice": _notice(page, notice),
    }
    return render(request, "offerings_detail.html", context)


@router.get("/offerings/{offer_id}/unpublish")
async def confirm_unpublish(request: Request, page: Editor, offer_id: str, back: str = "detail") -> Response:
    offer, asset = await _offer(request, offer_id)
    if not offer.published:
        return RedirectResponse(_detail(offer_id), status_code=303)
    context = {"offer": offer, "asset": asset, "back": "list" if back == "list" else "detail"}
    return render(request, "offerings_unpublish.html", context)


@router.post("/offerings/{offer_id}/unpublish")
async def unpublish(request: Request, page: Editor, offer_id: str) -> Response:
    return await _set_published(request, page, offer_id, published=False)


@router.post("/offerings/{offer_id}/publish")
async def publish(request: Request, page: Editor, offer_id: str) -> Response:
    return await _set_published(request, page, offer_id, published=True)


async def _set_published(request: Request, page: Page, offer_id: str, *, published: bool) -> Response:
    form = await checked_form(request, page)
    actor = page.user.username if page.user else "web"

    def work(session: Session) -> bool:
        offer = session.get(OfferRecord, offer_id)
        if offer is None:
            return False
        if offer.published != published:
            set_published(session, offer_id, published, actor=actor)
        return True

    if not await in_transaction(node_of(request), work):
        raise WebDenied(404, _NO_SUCH_OFFER)
    notice = "republished" if published else "unpublished"
    target = _detail(offer_id) if form.get("back") == "detail" else "/offerings"
    return RedirectResponse(f"{target}?notice={notice}", status_code=303)


def _shown_source(asset: AssetRecord) -> dict[str, Any]:
    """The asset's source as the owner may see it: secrets by name, header names without values."""
    try:
        return describe(parse_source(asset.source))
    except SourceConfigError:
        return {"kind": asset.source.get("kind")}


def _detail(offer_id: str) -> str:
    return "/offerings/" + quote(offer_id, safe="")
