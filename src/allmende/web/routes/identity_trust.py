"""Trusted participants: peers whose public keys are pinned, so their DID documents are never fetched.

The list is the setting ``trusted_participants`` in ``node.json``; a change is written there and
applied to the running node's DID resolver at once. Only owners change it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from allmende.audit import log as audit
from allmende.identity.did import did_document_url
from allmende.identity.errors import DidError
from allmende.identity.key_encoding import public_key_from_jwk
from allmende.node import Node
from allmende.protocol.endpoint import in_transaction, node_of
from allmende.settings import NodeSettings, update_settings
from allmende.web.forms import FormState
from allmende.web.routes.identity_view import (
    SETTINGS_NOT_WRITTEN,
    actor_of,
    identity_context,
    trusted_entries,
)
from allmende.web.security import Owner, WebDenied, checked_form
from allmende.web.templating import N_, Page, render

router = APIRouter(include_in_schema=False)
MAX_JWK = 2000
NOT_TRUSTED = N_("This participant is not on the list of trusted participants.")


def _check_jwk(text: str, state: FormState, t: Callable[[str], str]) -> dict[str, str] | None:
    """The public Ed25519 JWK in ``text`` as stored (kty, crv, x), or None with the error recorded."""
    if len(text) > MAX_JWK:
        state.errors["jwk"] = t("At most %(count)s characters.") % {"count": MAX_JWK}
        return None
    try:
        value = json.loads(text)
    except ValueError:
        state.errors["jwk"] = t("This is not valid JSON.")
        return None
    if not isinstance(value, dict):
        state.errors["jwk"] = t(
            'The key must be a JSON object, e.g. {"kty": "OKP", "crv": "Ed25519", "x": "…"}.'
        )
        return None
    if value.get("kty") != "OKP" or value.get("crv") != "Ed25519":
        state.errors["jwk"] = t(
            'Only Ed25519 keys are accepted: the JWK needs "kty": "OKP" and "crv": "Ed25519".'
        )
        return None
    if "d" in value:
        state.errors["jwk"] = t(
            'This JWK holds a private key ("d"). Paste only the public part, and ask the participant '
            "to replace its key: it is no longer secret."
        )
        return None
    try:
        public_key_from_jwk(value)
    except DidError:
        state.errors["jwk"] = t('"x" must be the 32-byte public key, base64url-encoded.')
        return None
    return {"kty": "OKP", "crv": "Ed25519", "x": str(value["x"])}


def check_participant(state: FormState, page: Page, own_did: str, known: list[str]) -> dict[str, Any] | None:
    """The entry to store for the typed DID and JWK, or None with errors next to the fields."""
    t = page.gettext
    did = state.require("did", t("Enter the participant's DID."))
    if did:
        try:
            did_document_url(did)
        except DidError:
            state.errors["did"] = t("Enter a did:web DID, e.g. did:web:partner.example.")
        else:
            if did == own_did:
                state.errors["did"] = t("This is this node's own DID.")
            elif did in known:
                state.errors["did"] = t(
                    "This participant is trusted already. Remove it first to pin another key."
                )
    text = state.require("jwk", t("Paste the participant's public key as JWK."))
    jwk = _check_jwk(text, state, t) if text else None
    if not state.ok or jwk is None:
        return None
    return {"did": did, "jwk": jwk}


async def _save(node: Node, page: Page, entries: list[dict[str, Any]], event: str, did: str) -> None:
    """Write the new list with an audit entry (rolled back when the file cannot be written), then apply it."""
    actor = actor_of(page)

    def work(session: Session) -> NodeSettings:
        audit.append(session, actor=actor, event=event, subject=did)
        return update_settings(node.settings.data_dir, {"trusted_participants": entries})

    node.apply_settings(await in_transaction(node, work))


@router.post("/identity/trusted")
async def add_trusted(request: Request, page: Owner) -> Response:
    form = await checked_form(request, page)
    node = node_of(request)
    state = FormState.of(form, "did", "jwk")
    entries = trusted_entries(node.settings)
    entry = check_participant(state, page, node.did, [str(e.get("did")) for e in entries])
    if entry is None:
        return render(request, "identity.html", identity_context(node, page, trust_form=state), status=400)
    try:
        await _save(node, page, [*entries, entry], "identity.participant_trusted", entry["did"])
    except (ValueError, OSError, DidError):
        context = identity_context(node, page, trust_form=state)
        context["failure"] = page.gettext(SETTINGS_NOT_WRITTEN)
        return render(request, "identity.html", context, status=500)
    return RedirectResponse("/identity?done=trusted#trusted", status_code=303)


@router.get("/identity/trusted/remove")
async def remove_trusted_form(request: Request, page: Owner, did: str = "") -> Response:
    node = node_of(request)
    if did not in [e.get("did") for e in trusted_entries(node.settings)]:
        raise WebDenied(404, NOT_TRUSTED)
    return render(request, "identity_untrust.html", {"did": did, "failure": ""})


@router.post("/identity/trusted/remove")
async def remove_trusted(request: Request, page: Owner) -> Response:
    form = await checked_form(request, page)
    node = node_of(request)
    did = str(form.get("did") or "")
    entries = trusted_entries(node.settings)
    remaining = [e for e in entries if e.get("did") != did]
    if len(remaining) == len(entries):
        raise WebDenied(404, NOT_TRUSTED)
    try:
        await _save(node, page, remaining, "identity.participant_untrusted", did)
    except (ValueError, OSError, DidError):
        failure = page.gettext(SETTINGS_NOT_WRITTEN)
        return render(request, "identity_untrust.html", {"did": did, "failure": failure}, status=500)
    return RedirectResponse("/identity?done=untrusted#trusted", status_code=303)
