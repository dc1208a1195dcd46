"""The JSON-LD form of knowledge items (pure): schema.org types where one fits, the rest in the Allmende
knowledge vocabulary. The context is bundled here; nothing is fetched from the network to read it."""

from __future__ import annotations

from typing import Any

from allmende.knowledge.criteria import checklist
from allmende.knowledge.model import (
    CooperationItem,
    EventItem,
    ExpertiseOffer,
    FundingProgramme,
    GoodPracticeCase,
    KnowledgeItem,
    SecurityHelp,
    item_json,
)

VOCAB = "https://w3id.org/allmende/knowledge#"
CONTEXT: dict[str, Any] = {
    "@version": 1.1,
    "@vocab": "https://schema.org/",
    "schema": "https://schema.org/",
    "ak": VOCAB,
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "title": "schema:name",
    "summary": "schema:description",
    "language": "schema:inLanguage",
    "keywords": "schema:keywords",
    "version": "schema:version",
    "modified": {"@id": "schema:dateModified", "@type": "xsd:dateTime"},
    "publisher": {"@id": "schema:publisher", "@type": "@id"},
    "kind": "ak:kind",
    "sectors": "ak:sector",
    "regions": "ak:region",
    "company": "ak:company",
    "problem": "ak:problem",
    "solution": "ak:solution",
    "tools": "ak:tool",
    "cost": "ak:costRange",
    "least": "schema:minValue",
    "most": "schema:maxValue",
    "duration_months": "ak:durationMonths",
    "kpis": "ak:kpi",
    "before": "ak:valueBefore",
    "after": "ak:valueAfter",
    "unit": "schema:unitText",
    "lessons": "ak:lessonsLearned",
    "contact_opt_in": "ak:contactOptIn",
    "contact": "schema:contactPoint",
    "email": "schema:email",
    "phone": "schema:telephone",
    "url": {"@id": "schema:url", "@type": "@id"},
    "name": "schema:name",
    "sector": "ak:sector",
    "size_class": "ak:sizeClass",
    "region": "ak:region",
    "checklist": "ak:goodPracticeChecklist",
    "operator": "schema:funder",
    "funding_types": "ak:fundingType",
    "funds": "ak:funds",
    "eligibility": "schema:eligibleCustomerType",
    "text": "schema:description",
    "min_employees": "ak:minEmployees",
    "max_employees": "ak:maxEmployees",
    "size_classes": "ak:sizeClass",
    "min_company_age_years": "ak:minCompanyAgeYears",
    "max_company_age_years": "ak:maxCompanyAgeYears",
    "max_turnover_eur": "ak:maxTurnoverEur",
    "amount": "schema:amount",
    "deadlines": "ak:deadline",
    "status": "ak:status",
    "status_note": "ak:statusNote",
    "official_page": {"@id": "schema:mainEntityOfPage", "@type": "@id"},
    "verified_on": {"@id": "ak:lastVerified", "@type": "xsd:date"},
    "verified_source": {"@id": "schema:isBasedOn", "@type": "@id"},
    "institution": "schema:provider",
    "field": "schema:knowsAbout",
    "services": "schema:hasOfferCatalog",
    "description": "schema:description",
    "licence": "schema:license",
    "repository": {"@id": "schema:codeRepository", "@type": "@id"},
    "direction": "ak:direction",
    "organisation": "schema:organizer",
    "organisation_type": "ak:organisationType",
    "project": "ak:project",
    "looking_for": "ak:lookingFor",
    "starts_at": {"@id": "schema:startDate", "@type": "xsd:dateTime"},
    "ends_at": {"@id": "schema:endDate", "@type": "xsd:dateTime"},
    "place": "schema:location",
    "online": "ak:online",
    "topic": "schema:about",
    "provider": "schema:provider",
    "what": "schema:serviceType",
    "audience": "schema:audience",
    "score": "ak:score",
    "met": "ak:met",
    "of": "ak:criteriaCount",
    "criteria": "ak:criterion",
    "key": "ak:criterionKey",
    "reason": "ak:reason",
}


def schema_type(item: KnowledgeItem) -> list[str]:
    """The item's types: a schema.org type plus the Allmende kind."""
    own = (
        "ak:"
        + {
            "case": "GoodPracticeCase",
            "programme": "FundingProgramme",
            "expertise": "ExpertiseOffer",
            "cooperation": "CooperationRequest",
            "event": "Event",
            "security": "SecurityHelp",
        }[item.kind]
    )
    if isinstance(item, GoodPracticeCase):
        return ["Article", own]
    if isinstance(item, FundingProgramme):
        if "loan" in item.funding_types:
            return ["LoanOrCredit", own]
        if {"grant", "voucher"} & set(item.funding_types):
            return ["MonetaryGrant", own]
        return ["GovernmentService", own]
    if isinstance(item, ExpertiseOffer | SecurityHelp):
        return ["Service", own]
    if isinstance(item, CooperationItem):
        return ["Demand" if item.direction == "request" else "Offer", own]
    if isinstance(item, EventItem):
        return ["Event", own]
    raise TypeError(f"unknown item {type(item).__name__}")


def to_jsonld(
    item: KnowledgeItem, *, item_id: str, version: int, publisher: str, modified: str
) -> dict[str, Any]:
    """The JSON-LD document of one item version (``item_id`` an IRI, ``publisher`` the node's DID)."""
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "@id": item_id,
        "@type": schema_type(item),
        **item_json(item),
        "version": version,
        "publisher": publisher,
        "modified": modified,
    }
    if isinstance(item, GoodPracticeCase):
        document["checklist"] = checklist(item).as_json()
        if not item.contact_opt_in:
            document.pop("contact", None)
    return document
