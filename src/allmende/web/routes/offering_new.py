"""Adding an offering: the form, its live policy preview, and publishing the asset with its offer."""

from __future__ import annotations

import contextlib
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from allmende.catalog.service import CatalogError, add_asset
from allmende.protocol.endpoint import in_transaction, node_of
from allmende.sources import SecretError, SecretStore
from allmende.web.forms import FormState
from allmende.web.offering_forms import (
    OfferingDraft,
    ReadOffering,
    blank_form,
    form_fields,
    read_offering,
)
from allmende.web.offering_policy import PolicyChoice, policy_field_names, read_policy, template_choices
from allmende.web.offering_secrets import NewSecret
from allmende.web.security import Editor, checked_form
from allmende.web.templating import Page, render

router = APIRouter(include_in_schema=False)


def _form_page(
    request: Request, page: Page, state: FormState, preview: PolicyChoice | None, *, status: int = 200
) -> Response:
    context: dict[str, Any] = {
        "form": state,
        "templates": template_choices(page),
        "preview": preview,
        "preview_errors": [],
    }
    return render(request, "offerings_new.html", context, status=status)


@router.get("/offerings/new")
async def new_offering_form(request: Request, page: Editor) -> Response:
    state = blank_form()
    return _form_page(request, page, state, read_policy(state, page, node_of(request).did))


@router.post("/offerings/preview")
async def preview_policy(request: Request, page: Editor) -> Response:
    """The plain-language text of the policy the form describes (HTMX swaps it into the form)."""
    form = await checked_form(request, page)
    state = FormState.of(form, *policy_field_names())
    preview = read_policy(state, page, node_of(request).did)
    labels = {p.field: p.label for t in template_choices(page) for p in t.parameters}
    errors = [
        f"{labels[name]}: {message}" if name in labels else message for name, message in state.errors.items()
    ]
    return render(request, "offerings_preview.html", {"preview": preview, "preview_errors": errors})


@router.post("/offerings/new")
async def add_offering(request: Request, page: Editor) -> Response:
    form = await checked_form(request, page)
    node = node_of(request)
    if form.get("action") == "preview":  # the form without JavaScript: show the policy text, store nothing
        state = FormState.of(form, *form_fields())
        return _form_page(request, page, state, read_policy(state, page, node.did))
    result: ReadOffering = await anyio.to_thread.run_sync(
        lambda: read_offering(
            form, page, assigner=node.did, store=node.secrets, data_dir=node.settings.data_dir
        )
    )
    if result.draft is None:
        return _form_page(request, page, result.state, result.policy, status=400)
    draft = result.draft
    state = result.state
    if draft.new_secret is not None and not await _store_secret(node.secrets, draft.new_secret, state, page):
        return _form_page(request, page, state, result.policy, status=400)
    actor = page.user.username if page.user else "web"
    try:
        await in_transaction(node, lambda s: _publish(s, draft, actor, node.secrets))
    except (CatalogError, SecretError) as exc:
        _forget_secret(node.secrets, draft.new_secret)
        state.errors[_field_of(exc, state)] = page.gettext("This cannot be published: %(problem)s") % {
            "problem": exc
        }
        return _form_page(request, page, state, result.policy, status=400)
    except BaseException:
        _forget_secret(node.secrets, draft.new_secret)
        raise
    return RedirectResponse("/offerings?notice=published", status_code=303)


def _publish(session: Session, draft: OfferingDraft, actor: str, store: SecretStore) -> None:
    add_asset(
        session,
        draft.asset,
        draft.policy.policy,
        actor=actor,
        template=draft.policy.template,
        review_required=draft.review_required,
        secrets=store,
    )


async def _store_secret(store: SecretStore, secret: NewSecret, state: FormState, page: Page) -> bool:
    try:
        await anyio.to_thread.run_sync(lambda: store.put(secret.name, secret.value))
    except SecretError as exc:
        state.errors[secret.field] = page.gettext("The secret could not be stored: %(problem)s") % {
            "problem": exc
        }
        return False
    return True


def _forget_secret(store: SecretStore, secret: NewSecret | None) -> None:
    """Nothing half-done: a secret stored for an asset that was not added goes again.

    Synchronous (one small file write) so that it also runs when the request is being cancelled.
    """
    if secret is None:
        return
    with contextlib.suppress(SecretError):
        store.delete(secret.name)


def _field_of(exc: Exception, state: FormState) -> str:
    """The form field a domain error from adding the asset is about."""
    message = str(exc)
    kind = state.get("source_kind")
    for field in ("title", "description"):
        if message.startswith(field):
            return field
    if "secret" in message:
        return "db_secret_name" if kind == "sql_query" else "api_secret_name"
    if "policy" in message or "offer" in message:
        return "template"
    return {"path": "path", "http_api": "url", "sql_query": "query"}.get(kind, "template")
