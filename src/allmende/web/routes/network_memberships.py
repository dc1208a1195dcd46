"""My directories: this node's applications and membership credentials, and the form to apply to join."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from allmende.network import membership
from allmende.network.errors import NetworkError
from allmende.network.records import MembershipRecord
from allmende.protocol.endpoint import in_read, node_of
from allmende.web.forms import FormState
from allmende.web.security import Editor, Owner, Viewer, WebDenied, checked_form
from allmende.web.templating import N_, Page, render

router = APIRouter(include_in_schema=False)

MAX_MESSAGE = 1000
MAX_ADDRESS = 1000
NOTICES = {
    "applied": N_("The application was sent. The directory's owner reviews it; refresh to see the decision."),
    "admitted": N_("This node is a member now and holds the membership credential."),
    "waiting": N_("The directory has not decided yet."),
    "refused": N_("The directory refused the application."),
    "revoked": N_("The directory revoked the membership."),
    "expired": N_("The membership credential has expired."),
}
NO_MEMBERSHIP = N_("This node has no such membership.")


@dataclass(frozen=True)
class MembershipView:
    """A membership as the page shows it, with the credential decoded for reading."""

    record: MembershipRecord
    credential_id: str
    credential_json: str


def decode_credential(jwt: str | None) -> dict[str, Any]:
    """The payload of a credential JWT, for display only (verification is the services' job)."""
    if not jwt:
        return {}
    parts = jwt.split(".")
    if len(parts) != 3:
        return {}
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded))
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _view(record: MembershipRecord) -> MembershipView:
    payload = decode_credential(record.credential)
    credential_id = str(payload.get("id") or payload.get("jti") or "")
    text = json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=True) if payload else ""
    return MembershipView(record, credential_id, text)


async def _page(
    request: Request,
    page: Page,
    form: FormState | None = None,
    *,
    notice: str = "",
    problem: str = "",
    status: int = 200,
) -> Response:
    node = node_of(request)
    records = await in_read(node, membership.list_memberships)
    context = {
        "memberships": [_view(record) for record in records],
        "form": form or FormState(),
        "notice": page.gettext(NOTICES[notice]) if notice in NOTICES else "",
        "problem": problem,
    }
    return render(request, "network_memberships.html", context, status=status)


@router.get("/memberships")
async def memberships_page(request: Request, page: Viewer, notice: str = "") -> Response:
    """The directories this node applied to or belongs to, with their credentials; the form to apply."""
    return await _page(request, page, notice=notice)


def _address_error(page: Page, address: str) -> str:
    if not address:
        return page.gettext("Enter the address of the directory.")
    if len(address) > MAX_ADDRESS or not address.startswith(("http://", "https://")) or " " in address:
        return page.gettext("Enter the directory's web address, e.g. https://verband.example.org.")
    return ""


@router.post("/memberships")
async def apply(request: Request, page: Owner) -> Response:
    """Send this node's signed application to a directory."""
    form = await checked_form(request, page)
    state = FormState.of(form, "directory_url", "message")
    problem = _address_error(page, state.get("directory_url"))
    if problem:
        state.errors["directory_url"] = problem
    if len(state.get("message")) > MAX_MESSAGE:
        state.errors["message"] = page.gettext("At most %(count)s characters.") % {"count": MAX_MESSAGE}
    if not state.ok:
        return await _page(request, page, state, status=400)
    try:
        record = await membership.apply(
            node_of(request), state.get("directory_url").rstrip("/"), state.get("message")
        )
    except NetworkError as exc:
        state.errors["directory_url"] = page.gettext("The application was not accepted: %(reason)s") % {
            "reason": str(exc)
        }
        return await _page(request, page, state, status=502)
    notice = "admitted" if record.state == "admitted" else "applied"
    return RedirectResponse(f"/memberships?notice={notice}#m-{quote(record.id, safe='')}", status_code=303)


@router.post("/memberships/{membership_id}/refresh")
async def refresh(request: Request, page: Editor, membership_id: str) -> Response:
    """Ask the directory for the application's state; store the credential once admitted."""
    await checked_form(request, page)
    node = node_of(request)
    known = await in_read(node, lambda s: s.get(MembershipRecord, membership_id))
    if known is None:
        raise WebDenied(404, NO_MEMBERSHIP)
    try:
        record = await membership.refresh(node, membership_id)
    except NetworkError as exc:
        problem = page.gettext("The directory could not be asked: %(reason)s") % {"reason": str(exc)}
        return await _page(request, page, problem=problem, status=502)
    notice = {"applied": "waiting", "pending": "waiting"}.get(record.state, record.state)
    return RedirectResponse(f"/memberships?notice={notice}", status_code=303)
