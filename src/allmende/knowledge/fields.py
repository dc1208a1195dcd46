"""What search and filters see of an item (pure): its text in three weighted parts and its filter values.

Filter values: ``regions``, ``sectors`` and ``sizes`` are empty when the item is for anyone, which every
filter lets through; ``status`` is set for programmes only.
"""

from __future__ import annotations

from dataclasses import dataclass

from allmende.knowledge.model import (
    CooperationItem,
    EventItem,
    ExpertiseOffer,
    FundingProgramme,
    GoodPracticeCase,
    KnowledgeItem,
    SecurityHelp,
)
from allmende.knowledge.regions import SIZE_CLASSES, SIZE_LIMITS


@dataclass(frozen=True)
class ItemFields:
    """The searchable text and the filter values of one item."""

    kind: str
    title: str
    keywords: str
    body: str
    status: str
    regions: tuple[str, ...]
    sectors: tuple[str, ...]
    sizes: tuple[str, ...]

    @property
    def passage(self) -> str:
        """The text the embedding model reads (title first: it is cut after ~500 tokens)."""
        return f"{self.title}. {self.keywords}. {self.body}"


def _sizes_between(least: int | None, most: int | None) -> tuple[str, ...]:
    if least is None and most is None:
        return ()
    chosen: list[str] = []
    fewest = 0
    for name in SIZE_CLASSES:
        top = SIZE_LIMITS.get(name)
        if (most is None or fewest <= most) and (least is None or top is None or top >= least):
            chosen.append(name)
        fewest = (top or 0) + 1
    return tuple(chosen)


def _unique(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


KIND_WORDS = {
    "case": "Praxisbeispiel good-practice case",
    "programme": "Förderprogramm Förderung funding programme",
    "expertise": "Expertise Forschung Transfer research expertise",
    "cooperation": "Kooperation Partner cooperation partner",
    "event": "Veranstaltung Termin event",
    "security": "IT-Sicherheit Hilfe IT security help",
}
"""What each kind is called in German and English: people search by it ("Veranstaltung", "funding")."""


def item_fields(item: KnowledgeItem) -> ItemFields:
    """The search fields of ``item``."""
    parts: list[str] = [item.summary, KIND_WORDS[item.kind]]
    regions = list(item.regions)
    sectors = list(item.sectors)
    sizes: tuple[str, ...] = ()
    status = ""
    if isinstance(item, GoodPracticeCase):
        parts += [item.problem, item.solution, " ".join(item.tools), item.lessons, item.company.sector]
        parts += [k.name for k in item.kpis]
        regions.append(item.company.region)
        sectors.append(item.company.sector)
        sizes = (item.company.size_class,)
    elif isinstance(item, FundingProgramme):
        rules = item.eligibility
        parts += [item.operator, item.funds, rules.text, item.amount, " ".join(item.funding_types)]
        regions += rules.regions
        sectors += rules.sectors
        sizes = tuple(rules.size_classes) or _sizes_between(rules.min_employees, rules.max_employees)
        status = item.status
    elif isinstance(item, ExpertiseOffer):
        parts += [item.institution, item.field]
        parts += [f"{s.kind} {s.description}" for s in item.services]
    elif isinstance(item, CooperationItem):
        parts += [item.organisation, item.organisation_type, item.project, item.looking_for]
    elif isinstance(item, EventItem):
        parts += [item.topic, item.place, "online" if item.online else ""]
    elif isinstance(item, SecurityHelp):
        parts += [item.provider, item.what, item.audience, item.cost]
    return ItemFields(
        kind=item.kind,
        title=item.title,
        keywords=" ".join(item.keywords),
        body="\n".join(p for p in parts if p),
        status=status,
        regions=_unique(regions),
        sectors=_unique(sectors),
        sizes=sizes,
    )
