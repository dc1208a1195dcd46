"""Publishing knowledge on the web: a form per kind, errors shown at their fields (nothing stored),
editing as a new version, withdrawing after a confirmation; members and owners only."""

from __future__ import annotations

import re
from typing import Any

import pytest
from tests.conftest import NodeFactory, RunningNode
from tests.support.web import Browser, logged_in

pytestmark = pytest.mark.anyio
QUIET = {"crawl_interval_seconds": 0}

CASE: dict[str, Any] = {
    "title": "Energiemonitoring in der Galvanik",
    "summary": "Ein Galvanikbetrieb misst den Strom je Bad und senkt den Verbrauch.",
    "language": "de",
    "keywords": "Energie, Monitoring",
    "company_sector": "Oberflächentechnik",
    "company_size": "small",
    "company_region": "Sachsen",
    "problem": "Hohe Stromkosten, niemand wusste, welches Bad wie viel verbraucht.",
    "solution": "Messklemmen an jedem Gleichrichter, Dashboard für die Schichtleitung.",
    "tools": "Shelly Pro 3EM, Grafana",
    "cost_least": "8000",
    "cost_most": "12000",
    "duration_months": "4",
    "kpi_0_name": "Stromverbrauch",
    "kpi_0_before": "410",
    "kpi_0_after": "350,5",
    "kpi_0_unit": "MWh/Jahr",
    "lessons": "Erst messen, dann investieren.",
    "contact_opt_in": "on",
    "contact_name": "Frau Beispiel",
    "contact_email": "kontakt@example.org",
}


async def _items(node: RunningNode) -> list[dict[str, Any]]:
    listed = await node.api.get("/api/v1/knowledge/items")
    assert listed.status_code == 200
    items: list[dict[str, Any]] = listed.json()
    return items


def _error(html: str, name: str) -> str:
    found = re.search(rf'<p class="error" id="{name}-error">(.*?)</p>', html, re.S)
    assert found is not None, f"no error shown at {name}"
    return found.group(1)


async def _form(browser: Browser, path: str) -> str:
    page = await browser.get(path)
    assert page.status_code == 200
    return page.text


async def test_publish_a_case_then_edit_and_withdraw_it(make_node: NodeFactory) -> None:
    node = await make_node("Centre", 8840, **QUIET)
    browser = await logged_in(node, "mia", "member")
    start = await _form(browser, "/hub/publish")
    assert "This node publishes no knowledge items yet." in start and 'href="/hub/publish/case"' in start
    form = await _form(browser, "/hub/publish/case")
    assert 'id="kpi_4_before"' in form and "documented outcome" in form and "Measured result 1" in form

    done = await browser.post("/hub/publish/case", CASE)
    assert done.status_code == 303 and done.headers["location"] == "/hub/publish?notice=published"
    [item] = await _items(node)
    data = item["item"]
    assert data["kpis"] == [{"name": "Stromverbrauch", "before": 410.0, "after": 350.5, "unit": "MWh/Jahr"}]
    assert data["company"] == {"sector": "Oberflächentechnik", "size_class": "small", "region": "DE-SN"}
    assert data["cost"] == {"least": 8000.0, "most": 12000.0} and data["tools"] == [
        "Shelly Pro 3EM",
        "Grafana",
    ]
    assert data["contact_opt_in"] is True and data["checklist"]["met"] == 7

    listed = await _form(browser, "/hub/publish?notice=published")
    assert "The item is published" in listed and CASE["title"] in listed
    row = re.search(r'href="/hub/items/(\d+)"', listed)
    assert row is not None
    shown = await _form(browser, f"/hub/items/{row.group(1)}")
    assert "Good-practice criteria: 7 of 7 met" in shown and f'href="/hub/mine/{item["id"]}/edit"' in shown
    edit_path = f"/hub/mine/{item['id']}/edit"
    editing = await _form(browser, edit_path)
    assert 'value="Sachsen"' not in editing and 'value="DE-SN"' in editing  # stored as its code
    assert 'value="350.5"' in editing and 'value="Shelly Pro 3EM, Grafana"' in editing
    assert re.search(r'id="contact_opt_in" name="contact_opt_in" type="checkbox" checked', editing)

    changed = {**CASE, "title": "Energiemonitoring in der Galvanik (mit Ergebnissen 2026)"}
    saved = await browser.post(edit_path, changed)
    assert saved.status_code == 303 and saved.headers["location"] == "/hub/publish?notice=edited"
    [item] = await _items(node)
    assert item["version"] == 2 and item["item"]["title"].endswith("(mit Ergebnissen 2026)")

    withdraw_path = f"/hub/mine/{item['id']}/withdraw"
    confirm = await _form(browser, withdraw_path)
    assert "Withdraw “Energiemonitoring" in confirm and 'class="danger"' in confirm
    assert await _items(node) != []  # asking changes nothing
    gone = await browser.post(withdraw_path)
    assert gone.status_code == 303 and gone.headers["location"] == "/hub/publish?notice=withdrawn"
    assert await _items(node) == []
    assert (await browser.get(edit_path)).status_code == 404
    await browser.aclose()


async def test_errors_are_shown_at_their_fields_and_nothing_is_stored(make_node: NodeFactory) -> None:
    node = await make_node("Centre", 8841, **QUIET)
    browser = await logged_in(node, "olga", "owner")
    await _form(browser, "/hub/publish/case")
    bad = {**CASE, "problem": "", "cost_least": "viel", "company_region": "Mordor", "kpi_1_before": "3"}
    answer = await browser.post("/hub/publish/case", bad)
    assert answer.status_code == 400
    assert _error(answer.text, "cost_least").endswith("Give a number, e.g. 1500 or 2.5.")
    assert 'value="viel"' in answer.text  # what was typed is shown again
    assert await _items(node) == []

    fixed_numbers = {**bad, "cost_least": "8000"}
    answer = await browser.post("/hub/publish/case", fixed_numbers)
    assert answer.status_code == 400
    assert _error(answer.text, "problem").endswith("Fill this in.")
    assert "Unknown region" in _error(answer.text, "company_region")
    assert _error(answer.text, "kpi_1_name").endswith("Fill this in.")  # a KPI row needs its name
    assert 'aria-invalid="true"' in answer.text and 'role="alert"' in answer.text
    no_consent = {**CASE, "contact_opt_in": ""}
    answer = await browser.post("/hub/publish/case", no_consent)
    assert "consent" in _error(answer.text, "contact_opt_in")
    assert await _items(node) == []
    await browser.aclose()


async def test_programme_and_event_forms_in_german(make_node: NodeFactory) -> None:
    node = await make_node("Centre", 8842, time_zone="Europe/Berlin", **QUIET)
    browser = await logged_in(node, "olga", "owner", language="de")
    form = await _form(browser, "/hub/publish/programme")
    assert "Förderprogramm veröffentlichen" in form and "Zuletzt geprüft am" in form
    programme = {
        "title": "Digitalbonus Beispielland",
        "summary": "Zuschuss für Software und IT-Sicherheit",
        "language": "de",
        "operator": "Ministerium",
        "funding_types": ["grant", "voucher"],
        "funds": "Software, Hardware, IT-Sicherheit",
        "eligibility_max_employees": "249",
        "eligibility_regions": "Sachsen",
        "status": "open",
        "official_page": "https://example.org/digitalbonus",
        "verified_on": "2026-11-20",
        "verified_source": "keine Adresse",
    }
    answer = await browser.post("/hub/publish/programme", programme)
    assert answer.status_code == 400
    assert "Geben Sie eine vollständige Webadresse an" in _error(answer.text, "verified_source")
    assert re.search(r'value="voucher" checked', answer.text)
    programme["verified_source"] = "https://example.org/digitalbonus/richtlinie"
    assert (await browser.post("/hub/publish/programme", programme)).status_code == 303

    event = {
        "title": "Sprechstunde KI",
        "summary": "Fragen zu KI im Betrieb",
        "language": "de",
        "topic": "Künstliche Intelligenz",
        "starts_at": "2026-12-03T17:00",
    }
    answer = await browser.post("/hub/publish/event", event)
    assert answer.status_code == 400
    assert _error(answer.text, "place").endswith("Geben Sie einen Ort an oder kreuzen Sie „Online“ an.")
    assert (await browser.post("/hub/publish/event", {**event, "online": "on"})).status_code == 303
    by_kind = {i["kind"]: i["item"] for i in await _items(node)}
    assert by_kind["programme"]["funding_types"] == ["grant", "voucher"]
    assert by_kind["programme"]["eligibility"] == {"max_employees": 249, "regions": ["DE-SN"], "text": "",
                                                   "size_classes": [], "sectors": []}  # fmt: skip
    assert by_kind["programme"]["verified_on"] == "2026-11-20"
    assert by_kind["event"]["starts_at"] == "2026-12-03T17:00:00+01:00" and by_kind["event"]["online"] is True
    await browser.aclose()


async def test_only_members_and_owners_publish(make_node: NodeFactory) -> None:
    node = await make_node("Centre", 8843, **QUIET)
    reader = await logged_in(node, "vera", "read")
    assert (await reader.get("/hub/publish")).status_code == 403
    assert (await reader.get("/hub/publish/case")).status_code == 403
    hub = await reader.get("/hub")
    assert 'href="/hub/publish"' not in hub.text and 'href="/hub"' in hub.text  # in the navigation
    await reader.aclose()
    owner = await logged_in(node, "olga", "owner")
    await owner.get("/hub/publish/case")
    owner.csrf = "forged"
    assert (await owner.post("/hub/publish/case", CASE)).status_code == 403
    assert (await owner.get("/hub/publish/nothing")).status_code == 404
    assert await _items(node) == []
    await owner.aclose()
