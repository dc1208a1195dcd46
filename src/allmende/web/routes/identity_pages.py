"""Identity: the node's DID and keys (rotation), and the company profile.

Trusted participants, shown on the same page, are handled in ``identity_trust``. Everyone signed in
may look; only owners change anything.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from allmende.audit import log as audit
from allmende.identity.errors import IdentityError
from allmende.identity.rotation import rotate_key
from allmende.protocol.endpoint import in_transaction, node_of
from allmende.settings import SIZE_CLASSES, NodeSettings, update_settings
from allmende.web.forms import FormState
from allmende.web.routes.identity_view import (
    NOTICES,
    PROFILE_FIELDS,
    SETTINGS_NOT_WRITTEN,
    actor_of,
    identity_context,
)
from allmende.web.security import Owner, Viewer, checked_form
from allmende.web.templating import Page, render

router = APIRouter(include_in_schema=False)
MAX_TEXT = 200


@router.get("/identity")
async def identity(request: Request, page: Viewer, done: str = "") -> Response:
    context = identity_context(node_of(request), page)
    context["notice"] = page.gettext(NOTICES[done]) if done in NOTICES else ""
    return render(request, "identity.html", context)


@router.get("/identity/rotate")
async def rotate_form(request: Request, page: Owner) -> Response:
    node = node_of(request)
    context = {"active": f"{node.did}#{node.keys.active.key_id}", "failure": ""}
    return render(request, "identity_rotate.html", context)


@router.post("/identity/rotate")
async def rotate(request: Request, page: Owner) -> Response:
    await checked_form(request, page)
    node = node_of(request)
    actor = actor_of(page)
    try:
        await in_transaction(node, lambda session: rotate_key(session, node.keys, node.did, actor))
    except (IdentityError, OSError):
        context = {
            "active": f"{node.did}#{node.keys.active.key_id}",
            "failure": page.gettext(
                "The new key could not be written to the key folder; nothing was changed."
            ),
        }
        return render(request, "identity_rotate.html", context, status=500)
    return RedirectResponse("/identity?done=rotated", status_code=303)


def _check_profile(state: FormState, page: Page) -> None:
    t = page.gettext
    state.require("name", t("Enter your company's name."))
    for name in ("name", "sector", "region"):
        if len(state.get(name)) > MAX_TEXT:
            state.errors[name] = t("At most %(count)s characters.") % {"count": MAX_TEXT}
    if state.get("size_class") not in SIZE_CLASSES:
        state.errors["size_class"] = t("Choose one of the size classes.")


@router.post("/identity/profile")
async def save_profile(request: Request, page: Owner) -> Response:
    form = await checked_form(request, page)
    node = node_of(request)
    state = FormState.of(form, *PROFILE_FIELDS)
    _check_profile(state, page)
    if state.ok:
        changes = {name: state.get(name) for name in PROFILE_FIELDS}
        actor = actor_of(page)

        def work(session: Session) -> NodeSettings:
            audit.append(
                session, actor=actor, event="identity.profile_changed", subject=node.did, detail=changes
            )
            return update_settings(node.settings.data_dir, changes)  # last: a failure rolls back the entry

        try:
            settings = await in_transaction(node, work)
        except (ValueError, OSError):
            context = identity_context(node, page, profile_form=state)
            context["failure"] = page.gettext(SETTINGS_NOT_WRITTEN)
            return render(request, "identity.html", context, status=500)
        node.apply_settings(settings)
        return RedirectResponse("/identity?done=profile#profile", status_code=303)
    context = identity_context(node, page, profile_form=state)
    return render(request, "identity.html", context, status=400)
