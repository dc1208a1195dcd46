"""The knowledge hub's pages: search (keywords and meaning, with filters), matchmaking with the company
profile pre-filled from the node's settings, and a page per item."""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from allmende.knowledge.eligibility import CompanyProfile
from allmende.knowledge.embeddings import Embedder, embedder
from allmende.knowledge.filters import Filters
from allmende.knowledge.matchmaking import match
from allmende.knowledge.model import KINDS, STATUSES
from allmende.knowledge.records import KnowledgeIndexRecord
from allmende.knowledge.regions import SIZE_CLASSES, region_code, region_label
from allmende.knowledge.search import search
from allmende.node import Node
from allmende.protocol.endpoint import in_read, node_of
from allmende.web.forms import FormState
from allmende.web.routes.knowledge_reasons import STATUS_TEXTS, reason_text
from allmende.web.security import Viewer
from allmende.web.templating import N_, Page, render

router = APIRouter(include_in_schema=False)
MAX_TEXT = 500
KIND_LABELS = {
    "case": N_("Good-practice case"),
    "programme": N_("Funding programme"),
    "expertise": N_("Expertise and research"),
    "cooperation": N_("Cooperation"),
    "event": N_("Event"),
    "security": N_("IT-security help"),
}
STATUS_LABELS = STATUS_TEXTS
VERDICT_LABELS = {
    "eligible": N_("eligible"),
    "check": N_("check the conditions"),
    "ineligible": N_("not eligible"),
}
GROUP_LABELS = {
    "programmes": N_("Funding programmes"),
    "cases": N_("Cases of similar companies"),
    "experts": N_("Experts"),
    "partners": N_("Partners and start-ups"),
    "events": N_("Events"),
    "security": N_("IT-security help"),
}


async def _model(node: Node) -> Embedder | None:
    if not node.settings.semantic_search:
        return None
    return await anyio.to_thread.run_sync(embedder)


def _options(page: Page, labels: dict[str, str]) -> list[tuple[str, str]]:
    return [("", page.gettext("Any")), *((value, page.gettext(label)) for value, label in labels.items())]


@router.get("/hub")
async def hub_search(request: Request, page: Viewer) -> Response:
    """Search the knowledge of this node and of the network."""
    node = node_of(request)
    params = request.query_params
    form = FormState(values={n: str(params.get(n, "")).strip() for n in ("q", "kind", "region", "status")})
    code = region_code(form.get("region")) if form.get("region") else None
    if form.get("region") and code is None:
        form.errors["region"] = page.gettext("Unknown region: give a German state, a country code or EU.")
    kind = form.get("kind") if form.get("kind") in KINDS else None
    status = form.get("status") if form.get("status") in STATUSES else None
    model = await _model(node)
    text = form.get("q")[:MAX_TEXT]
    result = await in_read(
        node, lambda s: search(s, text, filters=Filters(kind, code, None, None, status), embedder=model)
    )
    context: dict[str, Any] = {
        "form": form,
        "kinds": _options(page, KIND_LABELS),
        "statuses": _options(page, STATUS_LABELS),
        "kind_labels": KIND_LABELS,
        "hits": result.hits,
        "keyword_only": result.mode == "keyword",
    }
    return render(request, "knowledge_search.html", context)


@router.get("/hub/match")
async def hub_match(request: Request, page: Viewer) -> Response:
    """Matchmaking: a need and the company profile (pre-filled from the node's settings)."""
    node = node_of(request)
    params = request.query_params
    settings = node.settings
    defaults = {"sector": settings.sector, "size_class": settings.size_class, "region": settings.region}
    names = ("need", "sector", "size_class", "employees", "region")
    form = FormState(values={n: str(params.get(n, defaults.get(n, ""))).strip() for n in names})
    groups: dict[str, Any] | None = None
    if form.get("need"):
        profile = _profile(form, page)
        if profile is not None:
            model = await _model(node)
            need = form.get("need")[:MAX_TEXT]
            groups = await in_read(node, lambda s: match(s, profile, need, embedder=model, per_group=5))
    context: dict[str, Any] = {
        "form": form,
        "sizes": [("", page.gettext("Any")), *((s, s) for s in SIZE_CLASSES)],
        "groups": groups,
        "group_labels": GROUP_LABELS,
        "verdicts": VERDICT_LABELS,
        "reason": lambda why: reason_text(page, why),
    }
    return render(request, "knowledge_match.html", context)


def _profile(form: FormState, page: Page) -> CompanyProfile | None:
    employees: int | None = None
    if form.get("employees"):
        try:
            employees = int(form.get("employees"))
        except ValueError:
            form.errors["employees"] = page.gettext("Give a whole number.")
    if form.get("region") and region_code(form.get("region")) is None:
        form.errors["region"] = page.gettext("Unknown region: give a German state, a country code or EU.")
    if form.get("size_class") and form.get("size_class") not in SIZE_CLASSES:
        form.errors["size_class"] = page.gettext("Choose a size class.")
    if employees is not None and employees < 0:
        form.errors["employees"] = page.gettext("Give a whole number.")
    if form.errors:
        return None
    return CompanyProfile(
        sector=form.get("sector"),
        size_class=form.get("size_class"),
        employees=employees,
        region=form.get("region"),
    )


@router.get("/hub/items/{row_id}")
async def hub_item(row_id: int, request: Request, page: Viewer) -> Response:
    """One knowledge item, this node's or another node's as last crawled."""
    node = node_of(request)
    record = await in_read(
        node,
        lambda s: s.execute(
            select(KnowledgeIndexRecord).where(KnowledgeIndexRecord.id == row_id)
        ).scalar_one_or_none(),
    )
    if record is None:
        return render(request, "knowledge_item.html", {"item": None}, status=404)
    document = record.document
    context: dict[str, Any] = {
        "item": document,
        "record": record,
        "kind_label": KIND_LABELS.get(record.kind, record.kind),
        "regions": [region_label(r) for r in document.get("regions", [])],
        "status_label": STATUS_LABELS.get(str(document.get("status", "")), ""),
        "own": record.node_did == node.did,
    }
    return render(request, "knowledge_item.html", context)
