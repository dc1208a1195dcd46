"""The knowledge items a node publishes: typed, validated records (pure; pydantic only).

Six kinds share a few fields (title, summary, language, keywords, sectors, regions) and add their own:
``case`` (good practice), ``programme`` (funding), ``expertise`` (research offer), ``cooperation``
(request or offer), ``event`` and ``security`` (IT-security help). :func:`parse_item` turns JSON into
one of them or raises :class:`KnowledgeError` naming every bad field.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from allmende.knowledge.regions import SIZE_CLASSES, region_code

KINDS = ("case", "programme", "expertise", "cooperation", "event", "security")
FUNDING_TYPES = ("grant", "loan", "voucher", "tax credit", "free service", "equity")
STATUSES = ("open", "closed", "ended")
SERVICE_KINDS = (
    "share a scientist",
    "scientist in residence",
    "student project",
    "open-source result",
    "consulting",
    "lab access",
    "training",
)
Text = Annotated[str, Field(min_length=1, max_length=5000)]
ShortText = Annotated[str, Field(min_length=1, max_length=300)]


class KnowledgeError(ValueError):
    """A knowledge item that cannot be accepted; ``details`` lists (field, message) pairs."""

    def __init__(self, message: str, details: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.details = details or []


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


def _regions(values: list[str]) -> list[str]:
    codes: list[str] = []
    for value in values:
        code = region_code(value)
        if code is None:
            raise ValueError(f"unknown region {value!r}: give a German state, a country code or EU")
        if code not in codes:
            codes.append(code)
    return codes


def _words(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v.strip()))


class Contact(_Strict):
    """How to reach the people behind an item (shown only because its publisher put it there)."""

    name: ShortText
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=300)] | None = None
    phone: Annotated[str, Field(max_length=60)] | None = None
    url: HttpUrl | None = None


class CompanyFacts(_Strict):
    """The profile of the company a case is about (no name needed)."""

    sector: ShortText
    size_class: Literal["micro", "small", "medium", "large"]
    region: ShortText

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return _regions([value])[0]


class Kpi(_Strict):
    """A measured result: its value before and after, in one unit."""

    name: ShortText
    before: float
    after: float
    unit: Annotated[str, Field(max_length=40)] = ""


class CostRange(_Strict):
    """What it cost, in euros (``most`` None: open upwards)."""

    least: Annotated[float, Field(ge=0)]
    most: Annotated[float, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> CostRange:
        if self.most is not None and self.most < self.least:
            raise ValueError("most must not be below least")
        return self


class _Item(_Strict):
    title: ShortText
    summary: Text
    language: Annotated[str, Field(pattern=r"^[a-z]{2}$")] = "de"
    keywords: Annotated[list[Annotated[str, Field(max_length=100)]], Field(max_length=40)] = []
    sectors: Annotated[list[ShortText], Field(max_length=40)] = []
    """The sectors it is for; empty: any sector."""
    regions: Annotated[list[str], Field(max_length=40)] = []
    """Region codes it is for; empty: anywhere."""

    _normalise_regions = field_validator("regions")(classmethod(lambda cls, v: _regions(v)))
    _normalise_keywords = field_validator("keywords", "sectors")(classmethod(lambda cls, v: _words(v)))


class GoodPracticeCase(_Item):
    """How a company solved a problem, with measured results and what it learned."""

    kind: Literal["case"] = "case"
    company: CompanyFacts
    problem: Text
    solution: Text
    tools: Annotated[list[ShortText], Field(max_length=40)] = []
    cost: CostRange | None = None
    duration_months: Annotated[float, Field(gt=0, le=240)] | None = None
    kpis: Annotated[list[Kpi], Field(max_length=40)] = []
    lessons: Annotated[str, Field(max_length=5000)] = ""
    contact_opt_in: bool = False
    contact: Contact | None = None

    @model_validator(mode="after")
    def _consent(self) -> GoodPracticeCase:
        if self.contact is not None and not self.contact_opt_in:
            raise ValueError(
                "contact is given without contact_opt_in: the company must agree to be contacted"
            )
        return self


class Eligibility(_Strict):
    """Who may apply, as far as it is known. Every None or empty field means: no known restriction.

    ``text`` keeps the programme's own words; the structured fields hold only what they say for sure.
    """

    text: Annotated[str, Field(max_length=2000)] = ""
    min_employees: Annotated[int, Field(ge=0)] | None = None
    max_employees: Annotated[int, Field(ge=0)] | None = None
    size_classes: list[Literal["micro", "small", "medium", "large"]] = []
    regions: list[str] = []
    sectors: list[ShortText] = []
    min_company_age_years: Annotated[float, Field(ge=0)] | None = None
    max_company_age_years: Annotated[float, Field(ge=0)] | None = None
    max_turnover_eur: Annotated[float, Field(ge=0)] | None = None

    _normalise_regions = field_validator("regions")(classmethod(lambda cls, v: _regions(v)))

    @model_validator(mode="after")
    def _ordered(self) -> Eligibility:
        if None not in (self.min_employees, self.max_employees):
            assert self.min_employees is not None and self.max_employees is not None
            if self.min_employees > self.max_employees:
                raise ValueError("min_employees must not exceed max_employees")
        return self


class FundingProgramme(_Item):
    """A public support programme: who runs it, what it funds, for whom, and when it was last checked."""

    kind: Literal["programme"] = "programme"
    operator: ShortText
    funding_types: Annotated[list[Literal[FUNDING_TYPES]], Field(min_length=1)]  # type: ignore[valid-type]
    funds: Text
    eligibility: Eligibility = Eligibility()
    amount: Annotated[str, Field(max_length=1000)] = ""
    deadlines: Annotated[list[ShortText], Field(max_length=20)] = []
    status: Literal["open", "closed", "ended"]
    status_note: Annotated[str, Field(max_length=1000)] = ""
    official_page: HttpUrl
    verified_on: date
    verified_source: HttpUrl


class Service(_Strict):
    """One way to work with an institution; open-source results name their licence and repository."""

    kind: Literal[SERVICE_KINDS]  # type: ignore[valid-type]
    description: Annotated[str, Field(max_length=2000)] = ""
    licence: Annotated[str, Field(max_length=100)] | None = None
    repository: HttpUrl | None = None

    @model_validator(mode="after")
    def _open_source(self) -> Service:
        if self.kind == "open-source result" and (not self.licence or self.repository is None):
            raise ValueError("an open-source result needs its licence and its repository")
        return self


class ExpertiseOffer(_Item):
    """What a university, institute or Centre of Excellence offers companies."""

    kind: Literal["expertise"] = "expertise"
    institution: ShortText
    field: ShortText
    services: Annotated[list[Service], Field(min_length=1, max_length=20)]
    contact: Contact


class CooperationItem(_Item):
    """A company or start-up looking for (request) or offering (offer) a partner for a project."""

    kind: Literal["cooperation"] = "cooperation"
    direction: Literal["request", "offer"]
    organisation: ShortText
    organisation_type: Literal["company", "start-up", "research", "association"] = "company"
    project: Text
    looking_for: Text
    contact: Contact


class EventItem(_Item):
    """A date to meet: in a place, online, or both."""

    kind: Literal["event"] = "event"
    starts_at: datetime
    ends_at: datetime | None = None
    place: Annotated[str, Field(max_length=300)] = ""
    online: bool = False
    url: HttpUrl | None = None
    topic: ShortText

    @model_validator(mode="after")
    def _where_and_when(self) -> EventItem:
        if not self.place and not self.online:
            raise ValueError("an event needs a place or online: true")
        if self.starts_at.tzinfo is None:
            raise ValueError("starts_at needs a time zone (e.g. 2026-05-04T09:00:00+02:00)")
        if self.ends_at is not None and (self.ends_at.tzinfo is None or self.ends_at < self.starts_at):
            raise ValueError("ends_at needs a time zone and must not be before starts_at")
        return self


class SecurityHelp(_Item):
    """IT-security help: what it is, for whom, at what cost."""

    kind: Literal["security"] = "security"
    provider: ShortText
    what: Text
    audience: Text
    cost: ShortText
    contact: Contact | None = None


KnowledgeItem = Annotated[
    GoodPracticeCase | FundingProgramme | ExpertiseOffer | CooperationItem | EventItem | SecurityHelp,
    Field(discriminator="kind"),
]
_ADAPTER: TypeAdapter[KnowledgeItem] = TypeAdapter(KnowledgeItem)


def parse_item(data: Any) -> KnowledgeItem:
    """Validate JSON as a knowledge item; :class:`KnowledgeError` lists every problem by field."""
    if not isinstance(data, dict):
        raise KnowledgeError("a knowledge item must be a JSON object")
    if data.get("kind") not in KINDS:
        raise KnowledgeError(
            f"kind must be one of {', '.join(KINDS)}, got {data.get('kind')!r}",
            [{"field": "kind", "message": "unknown kind"}],
        )
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        details = [
            {
                "field": ".".join(str(p) for p in error["loc"][1:]) or "item",
                "message": error["msg"],
                "type": error["type"],
            }
            for error in exc.errors()
        ]
        summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
        raise KnowledgeError(f"invalid {data['kind']}: {summary}", details) from None


def item_json(item: KnowledgeItem) -> dict[str, Any]:
    """The item as plain JSON (what is stored and served)."""
    return item.model_dump(mode="json", exclude_none=True)


__all__ = ["KINDS", "SIZE_CLASSES", "KnowledgeError", "KnowledgeItem", "item_json", "parse_item"]
