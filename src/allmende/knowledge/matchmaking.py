"""Matchmaking: from a company profile and a free-text need to programmes it may apply to, cases of
similar companies, experts, and partners, each with the reasons it matches.

Programmes are ordered by eligibility first (eligible, then "check" — a condition the profile cannot
answer —, then ineligible) and by relevance to the need within each tier, so an ineligible programme
never ranks above an eligible one. The other groups are ordered by relevance plus closeness of profile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from allmende.knowledge.analysis import field_terms
from allmende.knowledge.compounds import compound_parts
from allmende.knowledge.eligibility import RANK, CompanyProfile, EligibilityResult, assess
from allmende.knowledge.embeddings import Embedder
from allmende.knowledge.model import FundingProgramme, GoodPracticeCase, KnowledgeError, parse_item
from allmende.knowledge.query_words import found_in, query_word, written_words
from allmende.knowledge.reasons import Reason
from allmende.knowledge.records import KnowledgeIndexRecord as R
from allmende.knowledge.regions import covers, region_label
from allmende.knowledge.search import search

T = TypeVar("T")
GROUPS = {
    "case": "cases",
    "expertise": "experts",
    "cooperation": "partners",
    "event": "events",
    "security": "security",
}
_META = frozenset({"@context", "@id", "@type", "version", "publisher", "modified", "checklist"})
PROFILE_WEIGHT = 0.012
"""What each matching profile field (sector, size, region) adds to a relevance of about 1/(30 + rank)
(the fusion's k, :data:`allmende.knowledge.search.FUSION_K`): worth about as many places as 0.004 was
when k was 60."""


@dataclass(frozen=True)
class Match:
    """One matched item, its score and why it matches."""

    item_id: str
    node_did: str
    node_name: str
    kind: str
    title: str
    score: float
    why: list[str]
    document: dict[str, Any]
    eligibility: EligibilityResult | None = None


def text_reasons(need: str, hit_text: str) -> list[Reason]:
    """The words of the need the item's text contains, matched as the keyword search matches them (by
    stem, compound part or ending; the item's own words split the need's compounds)."""
    return term_reasons(need, field_terms(hit_text))


def term_reasons(need: str, terms: str) -> list[Reason]:
    """:func:`text_reasons` for an item's index terms (as stored: nothing to stem again)."""
    padded = f" {terms} "
    own = set(padded.split())
    written = written_words(need)
    parts = compound_parts((w for w in written if " " not in w), lambda stems: stems & own)
    found = [w for w in written if found_in(query_word(w, parts.get(w, ())), padded)]
    return [Reason("mentions", words=", ".join(found))] if found else []


def profile_reasons(item: Any, profile: CompanyProfile) -> list[Reason]:
    """The profile fields an item (a case: its company; others: whom they are for) shares with the profile."""
    reasons: list[Reason] = []
    if isinstance(item, GoodPracticeCase):
        company = item.company
        if profile.sector and company.sector.casefold() == profile.sector.casefold():
            reasons.append(Reason("same_sector", sector=company.sector))
        if profile.size_class and company.size_class == profile.size_class:
            reasons.append(Reason("same_size", size=company.size_class))
        code = profile.region_code
        if code and company.region == code:
            reasons.append(Reason("same_region", region=region_label(code)))
        return reasons
    code = profile.region_code
    if code and item.regions and any(covers(a, code) for a in item.regions):
        reasons.append(Reason("active_in", regions=", ".join(region_label(r) for r in item.regions)))
    if profile.sector and any(s.casefold() == profile.sector.casefold() for s in item.sectors):
        reasons.append(Reason("for_sector", sector=profile.sector))
    return reasons


def rank_programmes(
    programmes: Sequence[tuple[T, FundingProgramme, float]], profile: CompanyProfile
) -> list[tuple[T, EligibilityResult, float]]:
    """(key, programme, relevance) ordered for ``profile``: eligible, then "check", then ineligible;
    by relevance within each (ties keep their order)."""
    assessed = [(key, assess(programme, profile), score) for key, programme, score in programmes]
    return sorted(assessed, key=lambda entry: (RANK[entry[1].verdict], -entry[2]))


def _item(document: dict[str, Any]) -> Any:
    try:
        return parse_item({k: v for k, v in document.items() if k not in _META})
    except KnowledgeError:
        return None


def _match(
    hit_or_row: Any, score: float, why: list[str], eligibility: EligibilityResult | None = None
) -> Match:
    return Match(
        hit_or_row.item_id,
        hit_or_row.node_did,
        hit_or_row.node_name,
        hit_or_row.kind,
        hit_or_row.title,
        score,
        why,
        hit_or_row.document,
        eligibility,
    )


def match(
    session: Session, profile: CompanyProfile, need: str, *, embedder: Embedder | None, per_group: int = 10
) -> dict[str, Any]:
    """The ranked groups for ``profile`` and ``need``: programmes, cases, experts, partners, events and
    security help."""
    found = search(session, need, limit=200, embedder=embedder)
    relevance = found.scores
    rows = [
        (row, item, relevance.get(row.id, 0.0))
        for row in session.execute(select(R).where(R.kind == "programme")).scalars()
        if isinstance(item := _item(row.document), FundingProgramme)
    ]
    programmes: list[Match] = []
    for row, verdict, score in rank_programmes(rows, profile):
        why: list[str] = [
            *verdict.met,
            *(Reason("check", reason=u) for u in verdict.unknown),
            *(Reason("not_eligible", reason=f) for f in verdict.failed),
        ]
        why = [*term_reasons(need, f"{row.title_terms} {row.keyword_terms} {row.body_terms}"), *why]
        programmes.append(_match(row, score, why, verdict))
    groups: dict[str, list[Match]] = {name: [] for name in GROUPS.values()}
    for hit in found.hits:
        group = GROUPS.get(hit.kind)
        if group is None:
            continue
        item = _item(hit.document)
        closeness = profile_reasons(item, profile) if item is not None else []
        reasons = term_reasons(need, hit.terms)
        if hit.semantic_rank is not None and hit.semantic_rank <= 20:
            reasons.append(Reason("meaning"))
        score = hit.score + PROFILE_WEIGHT * len(closeness)
        groups[group].append(_match(hit, score, [*reasons, *closeness]))
    result: dict[str, Any] = {"mode": found.mode, "notice": found.notice}
    result["programmes"] = programmes[:per_group]
    for name, matches in groups.items():
        matches.sort(key=lambda m: -m.score)
        result[name] = matches[:per_group]
    return result
