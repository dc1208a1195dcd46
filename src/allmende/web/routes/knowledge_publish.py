"""Publishing knowledge on the web: a form per kind of item, editing (a new version each time) and
withdrawing (after a confirmation). Owners and members may do it, like publishing offerings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from allmende.knowledge import service
from allmende.knowledge.model import KnowledgeError
from allmende.knowledge.records import KnowledgeIndexRecord, KnowledgeItemRecord
from allmende.knowledge.routes import model_of, publisher
from allmende.protocol.endpoint import in_read, in_transaction, node_of
from allmende.web.forms import FormState
from allmende.web.routes.knowledge_forms import (
    FORM_TITLES,
    FORMS,
    MODEL_ERROR_FIELD,
    FormField,
    form_values,
    item_errors,
    posted_values,
    read_form,
)
from allmende.web.routes.knowledge_pages import KIND_LABELS
from allmende.web.security import Editor, checked_form
from allmende.web.templating import N_, Page, render

router = APIRouter(include_in_schema=False)
NOTICES = {
    "published": N_("The item is published: this node's catalog and the network's search show it."),
    "edited": N_("The new version is published."),
    "withdrawn": N_("The item is withdrawn. Other nodes drop it at their next visit."),
}


@dataclass(frozen=True)
class Section:
    """Fields shown together: in a fieldset with a legend, or (no legend) one after another."""

    legend: str
    fields: list[dict[str, Any]]


def sections(kind: str, page: Page) -> list[Section]:
    """The form's fields, translated and grouped as they follow each other (a KPI row, the contact…)."""
    result: list[Section] = []
    key: tuple[str, int | None] | None = None
    for f in FORMS[kind]:
        row = next((step for step in f.path if isinstance(step, int)), None)
        legend = page.gettext(f.group) + (f" {row + 1}" if row is not None else "") if f.group else ""
        if key != (legend, row) or not result:
            result.append(Section(legend, []))
            key = (legend, row)
        result[-1].fields.append(_field(f, page))
    return result


def _field(f: FormField, page: Page) -> dict[str, Any]:
    return {
        "name": f.name,
        "label": page.gettext(f.label),
        "kind": f.kind,
        "required": f.required,
        "options": [(value, page.gettext(label)) for value, label in f.options],
        "hint": page.gettext(f.hint) if f.hint else "",
    }


def _form(
    request: Request,
    page: Page,
    kind: str,
    state: FormState,
    action: str,
    *,
    editing: bool,
    status: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "kind": kind,
        "title": page.gettext(FORM_TITLES[kind]),
        "sections": sections(kind, page),
        "form": state,
        "action": action,
        "editing": editing,
        "kind_label": page.gettext(KIND_LABELS[kind]),
    }
    return render(request, "knowledge_publish_form.html", context, status=status)


def _not_found(request: Request) -> Response:
    return render(request, "knowledge_item.html", {"item": None}, status=404)


@router.get("/hub/publish")
async def publish_start(request: Request, page: Editor, notice: str = "") -> Response:
    """What this node publishes, with links to edit or withdraw each, and a form per kind."""
    node = node_of(request)

    def mine(session: Session) -> list[tuple[KnowledgeItemRecord, int | None]]:
        rows = {
            str(item_id): int(row)
            for item_id, row in session.execute(
                select(KnowledgeIndexRecord.item_id, KnowledgeIndexRecord.id).where(
                    KnowledgeIndexRecord.node_did == node.did
                )
            )
        }
        return [(record, rows.get(record.id)) for record in service.published(session)]

    items = await in_read(node, mine)
    context: dict[str, Any] = {
        "kinds": [(kind, page.gettext(KIND_LABELS[kind])) for kind in FORMS],
        "items": items,
        "kind_labels": KIND_LABELS,
        "notice": page.gettext(NOTICES[notice]) if notice in NOTICES else "",
    }
    return render(request, "knowledge_publish.html", context)


@router.get("/hub/publish/{kind}")
async def new_item_form(kind: str, request: Request, page: Editor) -> Response:
    """An empty form for a new item of ``kind``."""
    if kind not in FORMS:
        return _not_found(request)
    state = FormState(values={"language": page.language})
    return _form(request, page, kind, state, f"/hub/publish/{kind}", editing=False)


@router.post("/hub/publish/{kind}")
async def publish_item(kind: str, request: Request, page: Editor) -> Response:
    """Publish a new item; the form again, with the errors at their fields, if it is not valid."""
    if kind not in FORMS:
        return _not_found(request)
    node = node_of(request)
    state = await _read(request, page, kind)
    if state.ok:
        model = await model_of(node)
        actor = page.user.username if page.user else "web"
        data = _data(kind, state, page)
        try:
            await in_transaction(
                node,
                lambda s: service.publish(s, data, actor=actor, publisher=publisher(node), embedder=model),
            )
        except KnowledgeError as exc:
            state.errors.update(_errors(kind, exc, page))
        else:
            return RedirectResponse("/hub/publish?notice=published", status_code=303)
    return _form(request, page, kind, state, f"/hub/publish/{kind}", editing=False, status=400)


@router.get("/hub/mine/{item_id}/edit")
async def edit_item_form(item_id: str, request: Request, page: Editor) -> Response:
    """The form of one of this node's items, filled in; saving it publishes a new version."""
    record = await in_read(node_of(request), lambda s: _own(s, item_id))
    if record is None:
        return _not_found(request)
    state = FormState(values=form_values(record.kind, record.data, page.formats.zone))
    return _form(request, page, record.kind, state, _edit_path(item_id), editing=True)


@router.post("/hub/mine/{item_id}/edit")
async def edit_item(item_id: str, request: Request, page: Editor) -> Response:
    node = node_of(request)
    record = await in_read(node, lambda s: _own(s, item_id))
    if record is None:
        return _not_found(request)
    kind = record.kind
    state = await _read(request, page, kind)
    if state.ok:
        model = await model_of(node)
        actor = page.user.username if page.user else "web"
        data = _data(kind, state, page)
        try:
            await in_transaction(
                node,
                lambda s: service.edit(
                    s, item_id, data, actor=actor, publisher=publisher(node), embedder=model
                ),
            )
        except service.NotFound:
            return _not_found(request)
        except KnowledgeError as exc:
            state.errors.update(_errors(kind, exc, page))
        else:
            return RedirectResponse("/hub/publish?notice=edited", status_code=303)
    return _form(request, page, kind, state, _edit_path(item_id), editing=True, status=400)


@router.get("/hub/mine/{item_id}/withdraw")
async def withdraw_confirmation(item_id: str, request: Request, page: Editor) -> Response:
    """Asks before an item is withdrawn."""
    record = await in_read(node_of(request), lambda s: _own(s, item_id))
    if record is None:
        return _not_found(request)
    context = {"record": record, "action": f"/hub/mine/{item_id}/withdraw"}
    return render(request, "knowledge_withdraw.html", context)


@router.post("/hub/mine/{item_id}/withdraw")
async def withdraw_item(item_id: str, request: Request, page: Editor) -> Response:
    await checked_form(request, page)
    node = node_of(request)
    actor = page.user.username if page.user else "web"
    try:
        await in_transaction(
            node, lambda s: service.withdraw(s, item_id, actor=actor, publisher=publisher(node))
        )
    except service.NotFound:
        return _not_found(request)
    return RedirectResponse("/hub/publish?notice=withdrawn", status_code=303)


def _edit_path(item_id: str) -> str:
    return f"/hub/mine/{item_id}/edit"


def _own(session: Session, item_id: str) -> KnowledgeItemRecord | None:
    try:
        return service.get(session, item_id)
    except service.NotFound:
        return None


async def _read(request: Request, page: Page, kind: str) -> FormState:
    form = await checked_form(request, page)
    values = posted_values(
        kind, lambda n: str(form.get(n) or ""), lambda n: [str(v) for v in form.getlist(n)]
    )
    read = read_form(kind, values, page.formats.zone, page.gettext)
    return FormState(values=read.values, errors=dict(read.errors))


def _data(kind: str, state: FormState, page: Page) -> dict[str, Any]:
    return read_form(kind, state.values, page.formats.zone, page.gettext).data


def _errors(kind: str, exc: KnowledgeError, page: Page) -> dict[str, str]:
    return item_errors(kind, exc.details, page.gettext) or {MODEL_ERROR_FIELD[kind]: str(exc)}
