"""The publish forms of the knowledge hub, one per kind of item (pure: no FastAPI, no database).

Each form is a list of fields; each field names where its value goes in the item's JSON (``path``).
:func:`read_form` turns what was posted into item JSON (or errors by field: numbers and dates it
cannot read), :func:`item_errors` puts the model's validation errors back on the fields they are
about, and :func:`form_values` fills a form from a published item (to edit it: a new version).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from allmende.knowledge.model import FUNDING_TYPES, KINDS, SERVICE_KINDS, STATUSES
from allmende.knowledge.regions import SIZE_CLASSES
from allmende.web.templating import N_

KPI_ROWS = 5
SERVICE_ROWS = 3


@dataclass(frozen=True)
class FormField:
    """One input: its name in the form, where its value goes, and how it is read.

    ``kind``: text, textarea, number, integer, date, datetime (local time of the node's zone), url,
    email, select, choices (several checkboxes), checkbox, list (comma-separated), lines (one per line).
    """

    name: str
    path: tuple[str | int, ...]
    label: str
    kind: str = "text"
    required: bool = False
    options: tuple[tuple[str, str], ...] = ()
    hint: str = ""
    group: str = ""


def _options(values: Sequence[str], labels: Mapping[str, str] | None = None) -> tuple[tuple[str, str], ...]:
    return tuple((v, (labels or {}).get(v, v)) for v in values)


LANGUAGES = (("de", N_("German")), ("en", N_("English")))
SIZE_LABELS = {"micro": N_("micro"), "small": N_("small"), "medium": N_("medium"), "large": N_("large")}
FUNDING_LABELS = {
    "grant": N_("grant"),
    "loan": N_("loan"),
    "voucher": N_("voucher"),
    "tax credit": N_("tax credit"),
    "free service": N_("free service"),
    "equity": N_("equity"),
}
STATUS_OPTIONS = {"open": N_("open"), "closed": N_("closed"), "ended": N_("ended")}
SERVICE_LABELS = {
    "share a scientist": N_("share a scientist"),
    "scientist in residence": N_("scientist in residence"),
    "student project": N_("student project"),
    "open-source result": N_("open-source result"),
    "consulting": N_("consulting"),
    "lab access": N_("lab access"),
    "training": N_("training"),
}
FORM_TITLES = {
    "case": N_("Publish a good-practice case"),
    "programme": N_("Publish a funding programme"),
    "expertise": N_("Publish expertise or a research offer"),
    "cooperation": N_("Publish a cooperation request or offer"),
    "event": N_("Publish an event"),
    "security": N_("Publish IT-security help"),
}
REGIONS_HINT = N_("Separate them with commas, e.g. Sachsen, DE or EU. Empty: for anyone.")
LIST_HINT = N_("Separate them with commas.")

COMMON = (
    FormField("title", ("title",), N_("Title"), required=True),
    FormField("summary", ("summary",), N_("Summary"), "textarea", required=True),
    FormField("language", ("language",), N_("Language of the text"), "select", True, LANGUAGES),
    FormField("keywords", ("keywords",), N_("Keywords"), "list", hint=LIST_HINT),
    FormField("sectors", ("sectors",), N_("For the sectors"), "list", hint=N_("Empty: for any sector.")),
    FormField("regions", ("regions",), N_("For the regions"), "list", hint=REGIONS_HINT),
)


def _contact(required: bool) -> tuple[FormField, ...]:
    group = N_("Contact")
    return (
        FormField("contact_name", ("contact", "name"), N_("Name"), required=required, group=group),
        FormField("contact_email", ("contact", "email"), N_("Email"), "email", group=group),
        FormField("contact_phone", ("contact", "phone"), N_("Phone"), group=group),
        FormField("contact_url", ("contact", "url"), N_("Web page"), "url", group=group),
    )


def _kpis() -> tuple[FormField, ...]:
    group = N_("Measured result")
    fields: list[FormField] = []
    for row in range(KPI_ROWS):
        fields += [
            FormField(f"kpi_{row}_name", ("kpis", row, "name"), N_("KPI"), group=group),
            FormField(f"kpi_{row}_before", ("kpis", row, "before"), N_("Before"), "number", group=group),
            FormField(f"kpi_{row}_after", ("kpis", row, "after"), N_("After"), "number", group=group),
            FormField(f"kpi_{row}_unit", ("kpis", row, "unit"), N_("Unit"), group=group),
        ]
    return tuple(fields)


def _services() -> tuple[FormField, ...]:
    group = N_("Service")
    kinds = (("", N_("(none)")), *_options(SERVICE_KINDS, SERVICE_LABELS))
    fields: list[FormField] = []
    for row in range(SERVICE_ROWS):
        fields += [
            FormField(f"service_{row}_kind", ("services", row, "kind"), N_("Kind of service"), "select",
                      row == 0, kinds, group=group),
            FormField(f"service_{row}_description", ("services", row, "description"), N_("Description"),
                      group=group),
            FormField(f"service_{row}_licence", ("services", row, "licence"), N_("Licence"),
                      hint=N_("For an open-source result, e.g. MIT."), group=group),
            FormField(f"service_{row}_repository", ("services", row, "repository"), N_("Repository"), "url",
                      group=group),
        ]  # fmt: skip
    return tuple(fields)


_CASE = (
    FormField("company_sector", ("company", "sector"), N_("Sector of the company"), required=True,
              group=N_("The company")),
    FormField("company_size", ("company", "size_class"), N_("Size class"), "select", True,
              _options(SIZE_CLASSES, SIZE_LABELS), group=N_("The company")),
    FormField("company_region", ("company", "region"), N_("Region"), required=True,
              hint=N_("A German state, a country code or EU."), group=N_("The company")),
    FormField("problem", ("problem",), N_("The problem"), "textarea", True),
    FormField("solution", ("solution",), N_("What was done"), "textarea", True),
    FormField("tools", ("tools",), N_("Tools used"), "list", hint=LIST_HINT),
    FormField("cost_least", ("cost", "least"), N_("Cost from (EUR)"), "number"),
    FormField("cost_most", ("cost", "most"), N_("Cost up to (EUR)"), "number"),
    FormField("duration_months", ("duration_months",), N_("Duration (months)"), "number"),
    *_kpis(),
    FormField("lessons", ("lessons",), N_("Lessons learned"), "textarea"),
    FormField("contact_opt_in", ("contact_opt_in",), N_("The company agrees to be contacted"), "checkbox"),
    *_contact(False),
)  # fmt: skip
_ELIGIBILITY = N_("Who is eligible")
_PROGRAMME = (
    FormField("operator", ("operator",), N_("Operator"), required=True),
    FormField("funding_types", ("funding_types",), N_("Type of funding"), "choices", True,
              _options(FUNDING_TYPES, FUNDING_LABELS)),
    FormField("funds", ("funds",), N_("What it funds"), "textarea", True),
    FormField("eligibility_text", ("eligibility", "text"), N_("Eligibility in the programme's words"),
              "textarea", group=_ELIGIBILITY),
    FormField("eligibility_min_employees", ("eligibility", "min_employees"), N_("At least employees"),
              "integer", group=_ELIGIBILITY),
    FormField("eligibility_max_employees", ("eligibility", "max_employees"), N_("At most employees"),
              "integer", group=_ELIGIBILITY),
    FormField("eligibility_size_classes", ("eligibility", "size_classes"), N_("Size classes"), "choices",
              options=_options(SIZE_CLASSES, SIZE_LABELS), group=_ELIGIBILITY),
    FormField("eligibility_regions", ("eligibility", "regions"), N_("Regions"), "list", hint=REGIONS_HINT,
              group=_ELIGIBILITY),
    FormField("eligibility_sectors", ("eligibility", "sectors"), N_("Sectors"), "list",
              hint=N_("Empty: for any sector."), group=_ELIGIBILITY),
    FormField("eligibility_min_company_age_years", ("eligibility", "min_company_age_years"),
              N_("Company at least (years old)"), "number", group=_ELIGIBILITY),
    FormField("eligibility_max_company_age_years", ("eligibility", "max_company_age_years"),
              N_("Company at most (years old)"), "number", hint=N_("0: only before founding."),
              group=_ELIGIBILITY),
    FormField("eligibility_max_turnover_eur", ("eligibility", "max_turnover_eur"),
              N_("Turnover at most (EUR)"), "number", group=_ELIGIBILITY),
    FormField("amount", ("amount",), N_("Amount")),
    FormField("deadlines", ("deadlines",), N_("Deadlines"), "lines", hint=N_("One per line.")),
    FormField("status", ("status",), N_("Status"), "select", True, _options(STATUSES, STATUS_OPTIONS)),
    FormField("status_note", ("status_note",), N_("Note on the status")),
    FormField("official_page", ("official_page",), N_("Official page"), "url", True),
    FormField("verified_on", ("verified_on",), N_("Last verified on"), "date", True,
              hint=N_("The day you checked these facts at the source.")),
    FormField("verified_source", ("verified_source",), N_("Verified at (source)"), "url", True),
)  # fmt: skip
_EXPERTISE = (
    FormField("institution", ("institution",), N_("Institution"), required=True),
    FormField("field", ("field",), N_("Field"), required=True),
    *_services(),
    *_contact(True),
)
_COOPERATION = (
    FormField("direction", ("direction",), N_("Request or offer"), "select", True,
              (("request", N_("We are looking for a partner")), ("offer", N_("We offer to cooperate")))),
    FormField("organisation", ("organisation",), N_("Organisation"), required=True),
    FormField("organisation_type", ("organisation_type",), N_("Type of organisation"), "select", True,
              (("company", N_("company")), ("start-up", N_("start-up")), ("research", N_("research")),
               ("association", N_("association")))),
    FormField("project", ("project",), N_("The project"), "textarea", True),
    FormField("looking_for", ("looking_for",), N_("Looking for"), "textarea", True),
    *_contact(True),
)  # fmt: skip
_EVENT = (
    FormField("topic", ("topic",), N_("Topic"), required=True),
    FormField("starts_at", ("starts_at",), N_("Starts"), "datetime", True),
    FormField("ends_at", ("ends_at",), N_("Ends"), "datetime"),
    FormField("place", ("place",), N_("Place"), hint=N_("Empty if it is online only.")),
    FormField("online", ("online",), N_("Online"), "checkbox"),
    FormField("url", ("url",), N_("Web page"), "url"),
)
_SECURITY = (
    FormField("provider", ("provider",), N_("Provider"), required=True),
    FormField("what", ("what",), N_("What help"), "textarea", True),
    FormField("audience", ("audience",), N_("For whom"), "textarea", True),
    FormField("cost", ("cost",), N_("Cost"), required=True, hint=N_("e.g. free, or EUR 300 per day")),
    *_contact(False),
)
FORMS: dict[str, tuple[FormField, ...]] = {
    "case": (*COMMON, *_CASE),
    "programme": (*COMMON, *_PROGRAMME),
    "expertise": (*COMMON, *_EXPERTISE),
    "cooperation": (*COMMON, *_COOPERATION),
    "event": (*COMMON, *_EVENT),
    "security": (*COMMON, *_SECURITY),
}
assert set(FORMS) == set(KINDS)
MODEL_ERROR_FIELD = {
    "case": "contact_opt_in",
    "programme": "eligibility_min_employees",
    "expertise": "service_0_kind",
    "cooperation": "contact_name",
    "event": "place",
    "security": "contact_name",
}
"""Where an error about the whole item goes (a rule across fields, e.g. an event's place or online)."""

Translate = Callable[[str], str]
NOT_A_NUMBER = N_("Give a number, e.g. 1500 or 2.5.")
NOT_A_WHOLE_NUMBER = N_("Give a whole number.")
NOT_A_DATE = N_("Give a date and time.")
_UNREADABLE = {"integer": NOT_A_WHOLE_NUMBER, "datetime": NOT_A_DATE}


@dataclass(frozen=True)
class ReadForm:
    """What was posted, as typed (to show it again), the item JSON it makes, and errors by field."""

    values: dict[str, str]
    data: dict[str, Any]
    errors: dict[str, str]


def posted_values(
    kind: str, get: Callable[[str], str], get_all: Callable[[str], list[str]]
) -> dict[str, str]:
    """The form's values as typed; several checked boxes of one field joined by newlines."""
    values: dict[str, str] = {}
    for f in FORMS[kind]:
        values[f.name] = "\n".join(get_all(f.name)) if f.kind == "choices" else get(f.name).strip()
    return values


def read_form(kind: str, values: Mapping[str, str], zone: ZoneInfo, translate: Translate) -> ReadForm:
    """Item JSON of ``kind`` from the typed ``values`` (empty fields left out, so the model says which
    are missing); numbers and dates it cannot read are errors at their fields."""
    data: dict[str, Any] = {"kind": kind}
    errors: dict[str, str] = {}
    for f in FORMS[kind]:
        raw = values.get(f.name, "").strip()
        if f.kind == "checkbox":
            _put(data, f.path, raw in ("on", "true", "1", "yes"))
            continue
        if not raw:
            continue
        try:
            value = _parse(f, raw, zone)
        except ValueError:
            errors[f.name] = translate(_UNREADABLE.get(f.kind, NOT_A_NUMBER))
            continue
        if value != []:
            _put(data, f.path, value)
    for rows in ("kpis", "services"):
        if rows in data:
            data[rows] = [row for row in data[rows] if row]
    return ReadForm(dict(values), data, errors)


def _parse(f: FormField, raw: str, zone: ZoneInfo) -> Any:
    if f.kind == "number":
        return float(raw.replace(" ", "").replace(",", "."))
    if f.kind == "integer":
        return int(raw.replace(" ", ""))
    if f.kind == "datetime":
        moment = datetime.fromisoformat(raw)
        return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).isoformat()
    if f.kind == "list":
        return [part.strip() for part in raw.replace("\n", ",").split(",") if part.strip()]
    if f.kind in ("lines", "choices"):
        return [line.strip() for line in raw.splitlines() if line.strip()]
    return raw


def _put(data: dict[str, Any], path: tuple[str | int, ...], value: Any) -> None:
    target: Any = data
    for step, following in pairwise(path):
        if isinstance(step, int):
            while len(target) <= step:
                target.append({})
            target = target[step]
        else:
            target = target.setdefault(step, [] if isinstance(following, int) else {})
    target[path[-1]] = value


def item_errors(kind: str, details: Sequence[Mapping[str, str]], translate: Translate) -> dict[str, str]:
    """The model's errors (``field`` a dotted path, ``message``, ``type``) on the form's fields."""
    names = {".".join(str(p) for p in f.path): f.name for f in FORMS[kind]}
    errors: dict[str, str] = {}
    for detail in details:
        path = detail.get("field", "")
        name = names.get(path) or next(
            (n for p, n in names.items() if p.startswith(path + ".") or path.startswith(p + ".")), None
        )
        errors.setdefault(name or MODEL_ERROR_FIELD[kind], translate(error_message(detail)))
    return errors


ERROR_TEXTS = {
    "missing": N_("Fill this in."),
    "too_short": N_("Fill this in."),
    "string_too_short": N_("Fill this in."),
    "string_too_long": N_("This is too long."),
    "too_long": N_("Too many entries."),
    "url_parsing": N_("Give a full web address, e.g. https://example.org/page."),
    "url_scheme": N_("Give a full web address, e.g. https://example.org/page."),
    "url_type": N_("Give a full web address, e.g. https://example.org/page."),
    "literal_error": N_("Choose one of the options."),
    "enum": N_("Choose one of the options."),
    "date_parsing": N_("Give a date."),
    "date_from_datetime_parsing": N_("Give a date."),
    "date_from_datetime_inexact": N_("Give a date."),
    "datetime_parsing": N_("Give a date and time."),
    "datetime_from_date_parsing": N_("Give a date and time."),
    "greater_than_equal": N_("The number is too small."),
    "greater_than": N_("The number is too small."),
    "less_than_equal": N_("The number is too large."),
    "string_pattern_mismatch": N_("Give a valid email address."),
}
RULE_TEXTS = {
    "unknown region": N_("Unknown region: give a German state, a country code or EU."),
    "contact_opt_in": N_("Contact details need the company's consent to be contacted."),
    "place or online": N_("Give a place or tick online."),
    "ends_at": N_("The end must not be before the start."),
    "starts_at needs a time zone": NOT_A_DATE,
    "licence and its repository": N_("An open-source result needs its licence and its repository."),
    "most must not be below least": N_("The highest cost must not be below the lowest."),
    "min_employees must not exceed": N_("The least employees must not exceed the most."),
}


def error_message(detail: Mapping[str, str]) -> str:
    """The msgid for one model error: by its type, or for a rule by what its message says."""
    kind = detail.get("type", "")
    if kind in ERROR_TEXTS:
        return ERROR_TEXTS[kind]
    message = detail.get("message", "")
    for clue, text in RULE_TEXTS.items():
        if clue in message:
            return text
    return N_("This value is not valid.")


def form_values(kind: str, data: Mapping[str, Any], zone: ZoneInfo) -> dict[str, str]:
    """The form of ``kind`` filled from an item's JSON (to edit it)."""
    values: dict[str, str] = {}
    for f in FORMS[kind]:
        value = _get(data, f.path)
        if value is None:
            values[f.name] = ""
        elif f.kind == "checkbox":
            values[f.name] = "on" if value else ""
        elif f.kind == "list":
            values[f.name] = ", ".join(str(v) for v in value)
        elif f.kind in ("lines", "choices"):
            values[f.name] = "\n".join(str(v) for v in value)
        elif f.kind == "datetime":
            values[f.name] = datetime.fromisoformat(str(value)).astimezone(zone).strftime("%Y-%m-%dT%H:%M")
        elif isinstance(value, float) and value.is_integer():
            values[f.name] = str(int(value))
        else:
            values[f.name] = str(value)
    return values


def _get(data: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        if isinstance(step, int):
            if not isinstance(data, list) or len(data) <= step:
                return None
        elif not isinstance(data, Mapping) or step not in data:
            return None
        data = data[step]
    return data
