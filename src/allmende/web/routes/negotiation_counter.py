"""Counter-offers: other terms from a policy template (or edited ODRL), with their text before sending."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from allmende.negotiation.records import NegotiationRecord
from allmende.policy.errors import PolicyError
from allmende.policy.jsonld import policy_from_json
from allmende.policy.render import render_policy
from allmende.policy.templates import TEMPLATES
from allmende.policy.terms import same_terms
from allmende.protocol.endpoint import node_of
from allmende.web.forms import FormState
from allmende.web.i18n import text_language
from allmende.web.offering_policy import parameter_field, policy_defaults, read_policy, template_choices
from allmende.web.routes.contract_terms import policy_text
from allmende.web.routes.negotiation_actions import actor_of, decide, negotiation_url
from allmende.web.routes.negotiation_pages import actions_for, load
from allmende.web.security import Editor, checked_form
from allmende.web.templating import Page, render

router = APIRouter(include_in_schema=False)
ODRL = "odrl"
PARAMETER_FIELDS = tuple(parameter_field(t.name, p.name) for t in TEMPLATES.values() for p in t.parameters)


@dataclass(frozen=True)
class Proposal:
    """The terms a counter-offer form describes: the ODRL offer and its plain-language text."""

    offer: dict[str, Any]
    text: str


def _assigner(record: NegotiationRecord, own_did: str) -> str:
    """The provider: us when we provide, else the partner."""
    return own_did if record.role == "provider" else record.counterparty_did


def _matching_template(record: NegotiationRecord, assigner: str) -> str:
    """The template whose default terms are the ones on the table, else the ODRL editor."""
    try:
        current = policy_from_json(record.offer or {})
    except PolicyError:
        return ODRL
    target = record.dataset_id or "urn:uuid:0"
    for template in TEMPLATES.values():
        try:
            default = template.build(assigner, target)
        except PolicyError:  # a template without defaults for every parameter (e.g. members-only)
            continue
        if same_terms(default, current):
            return template.name
    return ODRL


def _fresh_form(record: NegotiationRecord, own_did: str) -> FormState:
    offer = {key: value for key, value in (record.offer or {}).items() if key != "@context"}
    values = policy_defaults()
    values["template"] = _matching_template(record, _assigner(record, own_did))
    values[ODRL] = json.dumps(offer, indent=2, ensure_ascii=False)
    return FormState(values=values)


def read_proposal(form: FormState, page: Page, assigner: str) -> Proposal | None:
    """The proposed terms, or None with the errors next to the fields."""
    if form.get("template") != ODRL:
        choice = read_policy(form, page, assigner)
        return Proposal(choice.policy, choice.text) if choice else None
    try:
        offer = json.loads(form.get(ODRL))
    except json.JSONDecodeError as exc:
        form.errors[ODRL] = page.gettext("This is not valid JSON: %(problem)s") % {"problem": str(exc)}
        return None
    if not isinstance(offer, dict):
        form.errors[ODRL] = page.gettext("Enter one ODRL policy as a JSON object.")
        return None
    try:
        text = render_policy(policy_from_json(offer), text_language(page.language), heading=False)
    except PolicyError as exc:
        form.errors[ODRL] = page.gettext("This is no valid ODRL policy: %(problem)s") % {"problem": str(exc)}
        return None
    return Proposal(offer, text)


async def _form_page(
    request: Request,
    page: Page,
    negotiation_id: str,
    form: FormState | None,
    preview: str = "",
    status: int = 200,
) -> Response:
    found = await load(request, negotiation_id)
    record: NegotiationRecord = found["n"]
    if not actions_for(record, page)["counter"]:
        return RedirectResponse(negotiation_url(negotiation_id), status_code=303)
    if form is None:  # a fresh form shows the text of the terms it starts from
        own_did = node_of(request).did
        form = _fresh_form(record, own_did)
        proposal = read_proposal(form, page, _assigner(record, own_did))
        preview = proposal.text if proposal else ""
    context = {
        **found,
        "form": form,
        "templates": template_choices(page),
        "preview": preview,
        "terms": policy_text(record.offer, page.language),
    }
    return render(request, "negotiation_counter.html", context, status=status)


@router.get("/negotiations/{negotiation_id}/counter-offer")
async def counter_form(request: Request, page: Editor, negotiation_id: str) -> Response:
    """The counter-offer form, starting from the terms on the table."""
    return await _form_page(request, page, negotiation_id, None)


async def _posted(request: Request, page: Page) -> tuple[FormState, str]:
    """The form as typed, and which button sent it."""
    posted = await checked_form(request, page)
    return FormState.of(posted, "template", ODRL, *PARAMETER_FIELDS), str(posted.get("action") or "")


@router.post("/negotiations/{negotiation_id}/counter-offer/preview")
async def counter_preview(request: Request, page: Editor, negotiation_id: str) -> Response:
    """The text of the terms as typed so far (HTMX swaps it into the form)."""
    form, _ = await _posted(request, page)
    found = await load(request, negotiation_id)
    proposal = read_proposal(form, page, _assigner(found["n"], node_of(request).did))
    context = {"preview": proposal.text if proposal else "", "form": form}
    return render(request, "negotiation_counter_preview.html", context)


@router.post("/negotiations/{negotiation_id}/counter-offer")
async def counter_offer(request: Request, page: Editor, negotiation_id: str) -> Response:
    """Show the text of the terms (``action=preview``) or send them as a counter-offer."""
    form, action = await _posted(request, page)
    node = node_of(request)
    found = await load(request, negotiation_id)
    record: NegotiationRecord = found["n"]
    proposal = read_proposal(form, page, _assigner(record, node.did))
    if proposal is None or action != "send":
        preview = proposal.text if proposal else ""
        return await _form_page(request, page, negotiation_id, form, preview, 200 if proposal else 400)
    offer = proposal.offer
    if record.role == "consumer":  # the provider knows the request by its catalog offer's id
        offer = {key: value for key, value in offer.items() if key != "@id"}

    def work(session: Session) -> NegotiationRecord:
        side = node.consumer if record.role == "consumer" else node.provider
        return side.counter_offer(session, negotiation_id, offer, actor_of(page))

    return await decide(request, page, negotiation_id, work, "countered")
