"""Search the network: the federated catalog with filters, plain-language terms and the contract request."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from allmende.network import crawler, membership
from allmende.network.search import SearchHit, SearchQuery, facets, search
from allmende.node import Node
from allmende.policy.templates import TEMPLATES
from allmende.protocol.endpoint import in_read, node_of
from allmende.web.forms import FormState
from allmende.web.routes.browse_catalog import OfferView
from allmende.web.routes.contract_terms import policy_text
from allmende.web.security import Editor, Viewer, checked_form
from allmende.web.templating import N_, Page, render

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
MAX_TEXT = 200
FILTERS = ("publisher", "keyword", "theme", "format", "sector", "region", "template")
NOTICES = {
    "crawling": N_(
        "The crawl has started. New results appear here when it is done; reload the page in a moment."
    ),
    "crawl_running": N_("A crawl is already running. Reload the page in a moment."),
}
# One running crawl per node (kept referenced, so that the task is not garbage-collected).
_crawls: dict[str, asyncio.Task[None]] = {}


@dataclass(frozen=True)
class HitView:
    """One search result as the page shows it: the hit and its offers with plain-language terms."""

    hit: SearchHit
    offers: tuple[OfferView, ...]


def _offers(hit: SearchHit, language: str) -> tuple[OfferView, ...]:
    views = []
    for offer in hit.offers:
        policy = offer.get("policy")
        terms = policy_text(policy if isinstance(policy, dict) else None, language)
        views.append(OfferView(str(offer.get("id", "")), terms))
    return tuple(views)


def _page_number(raw: str) -> int:
    try:
        return max(1, min(int(raw), 10_000))
    except ValueError:
        return 1


def _query(form: FormState, number: int) -> SearchQuery:
    chosen = {name: form.get(name) or None for name in FILTERS}
    return SearchQuery(
        text=form.get("q")[:MAX_TEXT],
        limit=PAGE_SIZE,
        offset=(number - 1) * PAGE_SIZE,
        **chosen,
    )


def _link(form: FormState, number: int) -> str:
    params = {name: form.get(name) for name in ("q", *FILTERS) if form.get(name)}
    if number > 1:
        params["page"] = str(number)
    return "/search?" + urlencode(params) if params else "/search"


def _template_title(name: str, language: str) -> str:
    template = TEMPLATES.get(name)
    if template is None:
        return name
    return template.title_de if language == "de" else template.title_en


def _options(page: Page, found: dict[str, list[str]], name: str, chosen: str) -> list[tuple[str, str]]:
    """A filter select's (value, label) pairs: "any" first, the chosen value kept even if no longer found."""
    values = list(found.get(name, []))
    if chosen and chosen not in values:
        values.append(chosen)
    if name == "template":
        pairs = [(value, _template_title(value, page.language)) for value in values]
    else:
        pairs = [(value, value) for value in values]
    return [("", page.gettext("Any")), *pairs]


def _results(session: Session, query: SearchQuery) -> dict[str, Any]:
    results = search(session, query)
    return {
        "total": results.total,
        "hits": list(results.hits),
        "facets": facets(session),
        "memberships": sum(m.state == "admitted" for m in membership.list_memberships(session)),
    }


@router.get("/search")
async def search_page(request: Request, page: Viewer, notice: str = "") -> Response:
    """The search field, the filters and one page of results from the federated catalog."""
    node = node_of(request)
    params = request.query_params
    form = FormState(values={name: str(params.get(name, "")).strip() for name in ("q", *FILTERS)})
    number = _page_number(str(params.get("page", "1")))
    query = _query(form, number)
    found = await in_read(node, lambda s: _results(s, query))
    labels = {
        "publisher": page.gettext("Publisher"),
        "keyword": page.gettext("Keyword"),
        "theme": page.gettext("Theme"),
        "format": page.gettext("Format"),
        "sector": page.gettext("Sector"),
        "region": page.gettext("Region"),
        "template": page.gettext("Terms template"),
    }
    selects = [
        (name, labels[name], _options(page, found["facets"], name, form.get(name)))
        for name in FILTERS
        if found["facets"].get(name) or form.get(name)
    ]
    context: dict[str, Any] = {
        "form": form,
        "selects": selects,
        "total": found["total"],
        "hits": [HitView(hit, _offers(hit, page.language)) for hit in found["hits"]],
        "crawled": any(found["facets"].values()) or found["total"] > 0,
        "memberships": found["memberships"] or bool(node.settings.directory_enabled),
        "first": query.offset + 1,
        "last": query.offset + len(found["hits"]),
        "previous": _link(form, number - 1) if number > 1 else "",
        "next": _link(form, number + 1) if query.offset + len(found["hits"]) < found["total"] else "",
        "crawl_running": _running(node),
        "notice": page.gettext(NOTICES[notice]) if notice in NOTICES else "",
    }
    return render(request, "network_search.html", context)


def _running(node: Node) -> bool:
    task = _crawls.get(node.did)
    return task is not None and not task.done()


async def _crawl(node: Node) -> None:
    try:
        report = await crawler.crawl(node)
        log.info("crawl from the web interface: %s", report)
    except Exception:  # a failed crawl must not end silently, but it has no page to report to
        log.exception("crawl from the web interface failed")


def _forget(did: str, task: asyncio.Task[None]) -> None:
    if _crawls.get(did) is task:
        del _crawls[did]


@router.post("/search/crawl")
async def crawl_now(request: Request, page: Editor) -> Response:
    """Start a crawl of the directories' members in the background, then show the search page."""
    await checked_form(request, page)
    node = node_of(request)
    if _running(node):
        return RedirectResponse("/search?notice=crawl_running", status_code=303)
    task = asyncio.create_task(_crawl(node), name=f"web crawl {node.did}")
    _crawls[node.did] = task
    task.add_done_callback(
        lambda done: _crawls.pop(node.did, None) if _crawls.get(node.did) is done else None
    )
    return RedirectResponse("/search?notice=crawling", status_code=303)
