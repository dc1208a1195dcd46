"""Knowledge items: validation with clear errors, normalised regions, consent and open-source rules,
the good-practice checklist, and the JSON-LD form."""

from __future__ import annotations

from typing import Any

import pytest

from allmende.knowledge.criteria import checklist
from allmende.knowledge.jsonld import CONTEXT, to_jsonld
from allmende.knowledge.model import (
    GoodPracticeCase,
    KnowledgeError,
    item_json,
    parse_item,
)
from allmende.knowledge.seed import demo_items


def _case(**changes: Any) -> dict[str, Any]:
    data = item_json(demo_items()[0])
    data.update(changes)
    return data


def test_every_demo_item_round_trips_through_json() -> None:
    for item in demo_items():
        assert parse_item(item_json(item)) == item


def test_errors_name_every_bad_field() -> None:
    with pytest.raises(KnowledgeError) as caught:
        parse_item({"kind": "programme", "title": "", "summary": "x", "status": "maybe"})
    fields = {d["field"] for d in caught.value.details}
    assert {"title", "status", "operator", "funding_types", "official_page", "verified_on"} <= fields
    assert str(caught.value).startswith("invalid programme:")


@pytest.mark.parametrize("data", [None, [], "case", {"kind": "recipe", "title": "x"}, {"title": "no kind"}])
def test_not_an_item_at_all(data: Any) -> None:
    with pytest.raises(KnowledgeError, match=r"kind must be one of|JSON object"):
        parse_item(data)


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(KnowledgeError, match="surprise"):
        parse_item(_case(surprise=1))


def test_regions_are_read_in_german_and_english() -> None:
    item = parse_item(_case(regions=["Bavaria", "bayern", "NRW", "EU", "de"]))
    assert item.regions == ["DE-BY", "DE-NW", "EU", "DE"]
    assert isinstance(item, GoodPracticeCase) and item.company.region == "DE-SN"
    with pytest.raises(KnowledgeError, match="unknown region 'Atlantis'"):
        parse_item(_case(regions=["Atlantis"]))


def test_contact_needs_the_companys_consent() -> None:
    with pytest.raises(KnowledgeError, match="contact_opt_in"):
        parse_item(_case(contact_opt_in=False))


def test_open_source_results_need_licence_and_repository() -> None:
    expert = item_json(demo_items()[3])
    expert["services"] = [{"kind": "open-source result", "description": "a tool"}]
    with pytest.raises(KnowledgeError, match="licence and its repository"):
        parse_item(expert)


def test_events_need_a_place_or_online_and_a_time_zone() -> None:
    event = item_json(demo_items()[6])
    with pytest.raises(KnowledgeError, match="place or online"):
        parse_item({**event, "place": "", "online": False})
    with pytest.raises(KnowledgeError, match="time zone"):
        parse_item({**event, "starts_at": "2027-03-11T09:00:00", "ends_at": None})
    with pytest.raises(KnowledgeError, match="ends_at"):
        parse_item({**event, "ends_at": "2027-03-10T09:00:00+01:00"})


def test_checklist_scores_with_reasons() -> None:
    full = parse_item(_case())
    assert isinstance(full, GoodPracticeCase)
    assert checklist(full).score == 1.0
    bare = parse_item(_case(kpis=[], cost=None, tools=[], lessons="", contact=None, contact_opt_in=False))
    assert isinstance(bare, GoodPracticeCase)
    result = checklist(bare)
    assert result.met == 2 and result.as_json()["of"] == 7
    reasons = {c.key: c.reason for c in result.criteria}
    assert reasons["documented_outcome"] == "no KPI with a value before and after"
    assert reasons["contact_available"] == "no contact (the company did not opt in)"
    assert "took 9 months" in reasons["duration_stated"]


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {k for k in value if not k.startswith("@")}
        for key, inner in value.items():
            if key != "@context":
                found |= _keys(inner)
        return found
    if isinstance(value, list):
        return set().union(*(_keys(v) for v in value)) if value else set()
    return set()


def test_jsonld_uses_schema_types_and_defines_every_term() -> None:
    types = {}
    for item in demo_items():
        document = to_jsonld(
            item, item_id="urn:uuid:1", version=2, publisher="did:web:x", modified="2026-01-01T00:00:00Z"
        )
        assert _keys(document) <= set(CONTEXT), _keys(document) - set(CONTEXT)
        types[item.kind] = document["@type"][0]
        assert document["version"] == 2 and document["@context"] is CONTEXT
    assert types == {
        "case": "Article",
        "expertise": "Service",
        "cooperation": "Offer",
        "event": "Event",
        "security": "Service",
    }


def test_jsonld_of_a_case_carries_its_checklist_and_hides_contact_without_consent() -> None:
    case = demo_items()[1]
    document = to_jsonld(case, item_id="urn:uuid:1", version=1, publisher="did:web:x", modified="now")
    assert "contact" not in document and document["checklist"]["met"] == 6
