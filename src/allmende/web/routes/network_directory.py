"""The directory this node runs: applications to review, members, refusals and revocations."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from allmende.network import directory
from allmende.network.errors import NetworkError
from allmende.network.records import DirectoryEntryRecord
from allmende.network.targets import MEMBER_LIST_PATH
from allmende.node import Node
from allmende.protocol.endpoint import in_read, in_transaction, node_of
from allmende.web.forms import FormState
from allmende.web.routes.identity_view import actor_of
from allmende.web.security import Owner, Viewer, WebDenied, checked_form
from allmende.web.templating import N_, Page, render

router = APIRouter(include_in_schema=False)

MAX_REASON = 1000
NOTICES = {
    "admitted": N_("The node is admitted; it receives its membership credential when it next asks."),
    "refused": N_("The application is refused."),
    "revoked": N_("The membership is revoked; the credential is on the revocation list now."),
}
NO_DIRECTORY = N_("This node does not run a directory.")
NO_ENTRY = N_("This directory has no such application or member.")
# What each confirmation page asks for: the state it acts on, its texts and the service call.
DECISIONS: dict[str, dict[str, Any]] = {
    "refuse": {
        "from": "pending",
        "title": N_("Refuse the application"),
        "explain": N_(
            "%(name)s is told that its application was refused, with your reason. It can apply again later."
        ),
        "button": N_("Refuse"),
        "notice": "refused",
    },
    "revoke": {
        "from": "admitted",
        "title": N_("Revoke the membership"),
        "explain": N_(
            "The credential of %(name)s is revoked at once: nodes that check it refuse it from now on, and "
            "%(name)s no longer appears in the member list. The reason is kept in the history."
        ),
        "button": N_("Revoke"),
        "notice": "revoked",
    },
}


def enabled(node: Node) -> bool:
    """Whether this node runs a directory (setting ``directory_enabled``)."""
    return bool(node.settings.directory_enabled)


def _overview(session: Session) -> dict[str, list[DirectoryEntryRecord]]:
    entries = directory.list_entries(session)
    by_state: dict[str, list[DirectoryEntryRecord]] = {"pending": [], "admitted": [], "history": []}
    for entry in entries:
        by_state[entry.state if entry.state in ("pending", "admitted") else "history"].append(entry)
    by_state["pending"].sort(key=lambda e: e.received_at)
    by_state["admitted"].sort(key=lambda e: e.name.lower())
    by_state["history"].sort(key=lambda e: e.decided_at or e.received_at, reverse=True)
    return by_state


async def _directory_page(
    request: Request, page: Page, *, notice: str = "", problem: str = "", status: int = 200
) -> Response:
    node = node_of(request)
    context: dict[str, Any] = await in_read(node, _overview)
    context.update(
        community=directory.community_name(node),
        members_url=node.base_url + MEMBER_LIST_PATH,
        status_list_url=f"{node.base_url}/directory/status-list",
        auto_admit=bool(node.settings.directory_auto_admit),
        notice=page.gettext(NOTICES[notice]) if notice in NOTICES else "",
        problem=problem,
    )
    return render(request, "network_directory.html", context, status=status)


@router.get("/directory")
async def directory_page(request: Request, page: Viewer, notice: str = "") -> Response:
    """Applications to review first, then the members, then the refused and revoked ones."""
    if not enabled(node_of(request)):
        return render(request, "network_directory_off.html", {})
    return await _directory_page(request, page, notice=notice)


def _find(session: Session, entry_id: str) -> DirectoryEntryRecord | None:
    return session.get(DirectoryEntryRecord, entry_id)


async def _known_entry(request: Request, entry_id: str) -> DirectoryEntryRecord:
    node = node_of(request)
    if not enabled(node):
        raise WebDenied(404, NO_DIRECTORY)
    entry = await in_read(node, lambda s: _find(s, entry_id))
    if entry is None:
        raise WebDenied(404, NO_ENTRY)
    return entry


def _entry_url(entry_id: str, action: str) -> str:
    return f"/directory/entries/{quote(entry_id, safe='')}/{action}"


@router.post("/directory/entries/{entry_id}/admit")
async def admit(request: Request, page: Owner, entry_id: str) -> Response:
    """Admit a pending application: the directory issues the membership credential."""
    await checked_form(request, page)
    await _known_entry(request, entry_id)
    node = node_of(request)
    actor = actor_of(page)
    try:
        await in_transaction(node, lambda s: directory.admit(s, node, entry_id, actor))
    except NetworkError as exc:
        problem = page.gettext("Nothing was changed: %(reason)s") % {"reason": str(exc)}
        return await _directory_page(request, page, problem=problem, status=409)
    return RedirectResponse("/directory?notice=admitted", status_code=303)


def _decision(action: str) -> dict[str, Any]:
    decision = DECISIONS.get(action)
    if decision is None:
        raise WebDenied(404, "This page does not exist.")
    return decision


def _confirm(
    request: Request,
    page: Page,
    entry: DirectoryEntryRecord,
    action: str,
    form: FormState,
    *,
    status: int = 200,
    problem: str = "",
) -> Response:
    decision = _decision(action)
    context = {
        "entry": entry,
        "action_url": _entry_url(entry.id, action),
        "title": page.gettext(decision["title"]),
        "explain": page.gettext(decision["explain"]) % {"name": entry.name},
        "button": page.gettext(decision["button"]),
        "form": form,
        "problem": problem,
    }
    return render(request, "network_directory_decide.html", context, status=status)


@router.get("/directory/entries/{entry_id}/{action}")
async def confirm_page(request: Request, page: Owner, entry_id: str, action: str) -> Response:
    """The confirmation page of a refusal or revocation, with the reason field."""
    decision = _decision(action)
    entry = await _known_entry(request, entry_id)
    if entry.state != decision["from"]:
        return RedirectResponse("/directory", status_code=303)
    return _confirm(request, page, entry, action, FormState())


@router.post("/directory/entries/{entry_id}/{action}")
async def decide(request: Request, page: Owner, entry_id: str, action: str) -> Response:
    """Refuse an application or revoke a membership, with a reason; then back to the directory."""
    decision = _decision(action)
    form = await checked_form(request, page)
    entry = await _known_entry(request, entry_id)
    state = FormState.of(form, "reason")
    reason = state.require("reason", page.gettext("Give a reason; the node is told it."))
    if len(reason) > MAX_REASON:
        state.errors["reason"] = page.gettext("At most %(count)s characters.") % {"count": MAX_REASON}
    if not state.ok:
        return _confirm(request, page, entry, action, state, status=400)
    node = node_of(request)
    actor = actor_of(page)
    work = directory.refuse if action == "refuse" else directory.revoke
    try:
        await in_transaction(node, lambda s: work(s, entry_id, reason, actor))
    except NetworkError as exc:
        problem = page.gettext("Nothing was changed: %(reason)s") % {"reason": str(exc)}
        return _confirm(request, page, entry, action, state, status=409, problem=problem)
    return RedirectResponse(f"/directory?notice={decision['notice']}", status_code=303)
