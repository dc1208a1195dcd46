"""Choosing an offer's policy in a form: a template, its parameters as fields, and the text it gives.

The fields of every template's parameters are in the form at once (``param-TEMPLATE-NAME``), so the
form works without JavaScript; only the chosen template's fields are read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Literal
from zoneinfo import ZoneInfo

from allmende.catalog.policy_source import DEFAULT_TEMPLATE
from allmende.catalog.service import CatalogError, check_offer_policy, new_id
from allmende.clock import parse_datetime, utcnow
from allmende.policy.errors import PolicyError
from allmende.policy.jsonld import policy_from_json, policy_to_json
from allmende.policy.render import render_policy
from allmende.policy.templates import TEMPLATES, PolicyTemplate
from allmende.web.forms import FormState
from allmende.web.i18n import text_language
from allmende.web.templating import N_, Page

# Templates want a target; offers in the catalog carry none, so it is dropped again (check_offer_policy).
_NO_TARGET_YET = "urn:uuid:00000000-0000-0000-0000-000000000000"
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")

PARAMETER_LABELS = {"duration": N_("Period of use"), "until": N_("Use until")}
PARAMETER_HINTS = {
    "duration": N_(
        "How long the data may be used after the agreement, "
        "e.g. P6M (6 months), P1Y (1 year) or P30D (30 days)."
    ),
    "until": N_(
        "Optional, replaces the period: a date such as 2026-12-31 (use ends with that day) "
        "or a date and time such as 2026-12-31T18:00:00+01:00."
    ),
}
PARAMETER_ERRORS = {
    "duration": N_("Enter a period such as P6M (6 months), P1Y (1 year) or P30D (30 days)."),
    "until": N_("Enter a date such as 2026-12-31, or a date and time such as 2026-12-31T18:00:00+01:00."),
}


def parameter_field(template: str, parameter: str) -> str:
    """The form field of a template's parameter."""
    return f"param-{template}-{parameter}"


def policy_field_names() -> tuple[str, ...]:
    """Every form field the policy part of the form has."""
    params = (parameter_field(t.name, p.name) for t in TEMPLATES.values() for p in t.parameters)
    return ("template", "review_required", *params)


def policy_defaults() -> dict[str, str]:
    """The policy fields of a fresh form: the default template, every parameter's default."""
    values = {"template": DEFAULT_TEMPLATE}
    for template in TEMPLATES.values():
        for parameter in template.parameters:
            values[parameter_field(template.name, parameter.name)] = parameter.default or ""
    return values


def language_of(page: Page) -> Literal["en", "de"]:
    return text_language(page.language)


@dataclass(frozen=True)
class ParameterChoice:
    """A parameter's field as the form shows it."""

    field: str
    label: str
    hint: str


@dataclass(frozen=True)
class TemplateChoice:
    """A template as the form lists it, in the page's language."""

    name: str
    title: str
    summary: str
    parameters: tuple[ParameterChoice, ...]


def template_title(template: PolicyTemplate, page: Page) -> str:
    return template.title_de if language_of(page) == "de" else template.title_en


def template_summary(template: PolicyTemplate, page: Page) -> str:
    return template.summary_de if language_of(page) == "de" else template.summary_en


def template_choices(page: Page) -> list[TemplateChoice]:
    """Every template with its title, summary and parameter fields in the page's language."""
    german = language_of(page) == "de"
    choices = []
    for template in TEMPLATES.values():
        parameters = tuple(
            ParameterChoice(
                parameter_field(template.name, p.name),
                page.gettext(PARAMETER_LABELS[p.name]) if p.name in PARAMETER_LABELS else p.name,
                page.gettext(PARAMETER_HINTS[p.name])
                if p.name in PARAMETER_HINTS
                else (p.description_de if german else p.description_en),
            )
            for p in template.parameters
        )
        choices.append(
            TemplateChoice(
                template.name, template_title(template, page), template_summary(template, page), parameters
            )
        )
    return choices


@dataclass(frozen=True)
class PolicyChoice:
    """The policy a form describes: its template, the ODRL offer to store and its plain-language text."""

    template: str
    policy: dict[str, Any]
    text: str


def read_policy(state: FormState, page: Page, assigner: str) -> PolicyChoice | None:
    """The policy of the form's template and parameters; None with errors in ``state`` if invalid."""
    t = page.gettext
    name = state.get("template")
    template = TEMPLATES.get(name)
    if template is None:
        state.errors["template"] = t("Choose one of the policy templates.")
        return None
    params: dict[str, str] = {}
    for parameter in template.parameters:
        field = parameter_field(name, parameter.name)
        value = state.get(field)
        if not value:
            continue
        if parameter.name == "until":
            moment = _moment(value, page.formats.zone)
            if moment is not None and moment <= utcnow():
                state.errors[field] = t("This moment has passed already.")
                return None
            value = moment.isoformat() if moment is not None else value
        params[parameter.name] = value
    try:
        built = template.build(assigner, _NO_TARGET_YET, **params)
        offer = check_offer_policy({**policy_to_json(built), "@id": new_id()})
        text = render_policy(policy_from_json(offer), language_of(page), heading=False)
    except PolicyError as exc:
        if exc.path in params:
            field = parameter_field(name, exc.path)
            known = PARAMETER_ERRORS.get(exc.path)
            state.errors[field] = t(known) if known else exc.problem
        else:
            state.errors["template"] = t("These settings give no valid policy: %(problem)s") % {
                "problem": exc.problem
            }
        return None
    except CatalogError as exc:
        state.errors["template"] = t("These settings give no valid policy: %(problem)s") % {
            "problem": str(exc)
        }
        return None
    return PolicyChoice(name, offer, text)


def policy_text(policy: Mapping[str, Any], language: Literal["en", "de"]) -> str | None:
    """A stored ODRL policy in plain language, or None if it cannot be read."""
    try:
        return render_policy(policy_from_json(policy), language, heading=False)
    except PolicyError:
        return None


def _moment(value: str, zone: ZoneInfo) -> datetime | None:
    """A date (meaning the end of that day in the node's time zone) or an RFC 3339 moment; None if neither."""
    try:
        if _DATE_ONLY.fullmatch(value):
            return datetime.combine(date.fromisoformat(value), time(23, 59, 59), tzinfo=zone)
        return parse_datetime(value)
    except ValueError:
        return None
