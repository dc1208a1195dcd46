"""The "why this matches" reasons: equal to their English text, shown in German by their template."""

from __future__ import annotations

import pickle

from allmende.knowledge.eligibility import CompanyProfile, assess
from allmende.knowledge.model import FundingProgramme, parse_item
from allmende.knowledge.reasons import TEMPLATES, Reason
from allmende.web.i18n import Formats
from allmende.web.routes.knowledge_reasons import REASON_TEXTS, reason_text
from allmende.web.templating import Page


def _page(language: str) -> Page:
    return Page(None, language, Formats(language, "Europe/Berlin"), "/hub/match", "Node")


def _programme() -> FundingProgramme:
    item = parse_item(
        {
            "kind": "programme",
            "title": "Digital now",
            "summary": "Grants for small firms",
            "language": "en",
            "operator": "Ministry",
            "funding_types": ["grant"],
            "funds": "software",
            "eligibility": {"text": "SMEs in Saxony", "max_employees": 249, "regions": ["DE-SN"],
                            "max_turnover_eur": 50_000_000},
            "status": "closed",
            "status_note": "until spring",
            "official_page": "https://example.org/programme",
            "verified_on": "2026-11-01",
            "verified_source": "https://example.org/programme",
        }
    )  # fmt: skip
    assert isinstance(item, FundingProgramme)
    return item


def test_the_web_marks_the_same_templates_for_translation() -> None:
    assert REASON_TEXTS == TEMPLATES


def test_a_reason_is_its_english_text_and_keeps_its_parts() -> None:
    reason = Reason("check", reason=Reason("turnover_unknown", amount=50_000_000.0))
    assert reason == "check: turnover not given (at most EUR 50,000,000)"
    assert reason.code == "check" and reason.values["reason"].code == "turnover_unknown"  # type: ignore[union-attr]
    again = pickle.loads(pickle.dumps(reason))
    assert again == reason and again.code == "check"


def test_eligibility_reasons_in_german_with_german_numbers() -> None:
    result = assess(_programme(), CompanyProfile(employees=40, region="Sachsen"))
    assert result.verdict == "ineligible"
    english = [*result.met, *result.unknown, *result.failed]
    assert english == [
        "employees within 0–249",
        "region Sachsen within Sachsen",
        "turnover not given (at most EUR 50,000,000)",
        "programme is closed (until spring)",
    ]
    german = [reason_text(_page("de"), r) for r in english]
    assert german == [
        "Beschäftigte im Bereich 0–249",
        "Region Sachsen liegt in Sachsen",
        "Umsatz nicht angegeben (höchstens 50.000.000 EUR)",
        "Programm ist geschlossen (until spring)",
    ]
    assert [reason_text(_page("en"), r) for r in english] == english
    assert reason_text(_page("de"), "plain text from elsewhere") == "plain text from elsewhere"
