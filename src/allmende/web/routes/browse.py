"""Browse another node: its catalog, one offer in detail, and the one-click contract request."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from allmende.catalog.remote import RemoteCatalogError, fetch_catalog
from allmende.negotiation.start import OfferNotFound, find_remote_offer, start_negotiation
from allmende.protocol.endpoint import node_of
from allmende.protocol.problems import ProtocolProblem
from allmende.web.forms import FormState
from allmende.web.routes.browse_catalog import catalog_title, dataset_view
from allmende.web.security import Editor, Viewer, checked_form
from allmende.web.templating import Page, render

router = APIRouter(include_in_schema=False)
ADDRESS_PREFIXES = ("http://", "https://", "did:web:")


def _address_error(page: Page, address: str) -> str:
    """Why ``address`` cannot be another node's address ("" if it may be one)."""
    if not address:
        return page.gettext("Enter the address of the other node.")
    if not address.startswith(ADDRESS_PREFIXES) or any(char.isspace() for char in address):
        return page.gettext("Enter a web address (https://…) or a did:web identifier.")
    return ""


def _unreachable(page: Page, exc: Exception) -> str:
    return page.gettext("No catalog could be read from this address: %(reason)s") % {"reason": str(exc)}


@router.get("/browse")
async def browse(request: Request, page: Viewer, address: str | None = None) -> Response:
    """The address form; with ``address``, that node's catalog as it shows it to this node."""
    form = FormState(values={"address": (address or "").strip()})
    context: dict[str, Any] = {"form": form, "datasets": None, "remote": None, "title": ""}
    if address is None:
        return render(request, "browse.html", context)
    problem = _address_error(page, form.get("address"))
    if problem:
        form.errors["address"] = problem
        return render(request, "browse.html", context, status=400)
    try:
        remote = await fetch_catalog(node_of(request), form.get("address"))
    except RemoteCatalogError as exc:
        form.errors["address"] = _unreachable(page, exc)
        return render(request, "browse.html", context, status=502)
    context["remote"] = remote
    context["title"] = catalog_title(remote, page.language)
    context["datasets"] = [dataset_view(d, remote, page.language) for d in remote.datasets()]
    return render(request, "browse.html", context)


async def _offer_page(
    request: Request, page: Page, address: str, offer_id: str, *, problem: str = "", status: int = 200
) -> Response:
    context: dict[str, Any] = {
        "address": address,
        "offer_id": offer_id,
        "dataset": None,
        "offer": None,
        "remote": None,
        "problem": problem,
    }
    try:
        found = await find_remote_offer(node_of(request), address, offer_id)
    except RemoteCatalogError as exc:
        context["problem"] = problem or _unreachable(page, exc)
        return render(request, "browse_offer.html", context, status=502)
    except OfferNotFound:
        context["problem"] = problem or page.gettext("This node does not (or no longer) offer this to you.")
        return render(request, "browse_offer.html", context, status=404)
    dataset = dataset_view(found.dataset, found.remote, page.language)
    context["remote"] = found.remote
    context["dataset"] = dataset
    context["offer"] = next(offer for offer in dataset.offers if offer.id == offer_id)
    return render(request, "browse_offer.html", context, status=status)


@router.get("/browse/offer")
async def browse_offer(request: Request, page: Viewer, address: str = "", offer: str = "") -> Response:
    """One offer in detail: the dataset, its policy in plain language and as ODRL, the request button."""
    problem = _address_error(page, address.strip()) or (
        "" if offer else page.gettext("This link names no offer.")
    )
    if problem:
        context = {"address": address, "offer_id": offer, "dataset": None, "offer": None, "remote": None}
        return render(request, "browse_offer.html", {**context, "problem": problem}, status=400)
    return await _offer_page(request, page, address.strip(), offer)


@router.post("/browse/request")
async def request_contract(request: Request, page: Editor) -> Response:
    """Ask the other node for a contract on the offer (as consumer); then follow the negotiation."""
    form = await checked_form(request, page)
    address = str(form.get("address") or "").strip()
    offer_id = str(form.get("offer_id") or "").strip()
    if _address_error(page, address) or not offer_id:
        return await browse_offer(request, page, address, offer_id)
    assert page.user is not None
    try:
        record = await start_negotiation(node_of(request), address, offer_id, page.user.username)
    except (RemoteCatalogError, OfferNotFound):
        return await _offer_page(request, page, address, offer_id)
    except ProtocolProblem as exc:
        problem = page.gettext("The contract request could not be sent: %(reason)s") % {
            "reason": "; ".join(exc.reasons)
        }
        return await _offer_page(request, page, address, offer_id, problem=problem, status=409)
    return RedirectResponse(f"/negotiations/{quote(record.id, safe='')}?notice=requested", status_code=303)
