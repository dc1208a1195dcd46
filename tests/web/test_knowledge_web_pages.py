"""The knowledge hub's pages: search with filters, matchmaking pre-filled from the node's company profile,
item pages with verified date and good-practice criteria, in English and German."""

from __future__ import annotations

import re

import pytest
from tests.conftest import NodeFactory, RunningNode
from tests.support.web import logged_in

pytestmark = pytest.mark.anyio
_ITEM = re.compile(r'href="/hub/items/(\d+)"')


async def _centre(make_node: NodeFactory, port: int) -> RunningNode:
    node: RunningNode = await make_node(
        "Centre", port, crawl_interval_seconds=0, sector="Kunststoffverarbeitung", size_class="small",
        region="Sachsen",
    )  # fmt: skip
    seeded = await node.api.post("/api/v1/knowledge/seed", params={"demo": "true"})
    assert seeded.status_code == 201
    return node


async def test_search_and_item_pages(make_node: NodeFactory) -> None:
    node = await _centre(make_node, 8830)
    browser = await logged_in(node, "vera", "read")
    found = await browser.get("/hub", params={"q": "Spritzgießmaschinen Stillstände"})
    assert found.status_code == 200 and "Zustandsüberwachung an Spritzgießmaschinen" in found.text
    case = await browser.get(f"/hub/items/{_ITEM.search(found.text).group(1)}")  # type: ignore[union-attr]
    assert "Good-practice criteria: 7 of 7 met" in case.text and "Zustandsüberwachung" in case.text
    discuss = re.search(r'href="(/discussions\?about=[^"]+)"', case.text)
    assert discuss is not None and "title=Zustands" in discuss.group(1)
    assert (await browser.get(discuss.group(1).replace("&amp;", "&"))).status_code == 200
    programmes = await browser.get("/hub", params={"q": "Digitalbonus", "kind": "programme"})
    row = _ITEM.search(programmes.text)
    assert row is not None
    programme = await browser.get(f"/hub/items/{row.group(1)}")
    assert "Last verified" in programme.text and "2026-11-27" in programme.text
    bavaria_only = await browser.get("/hub", params={"q": "Digitalbonus", "region": "Sachsen"})
    assert "Digitalbonus Bayern" not in bavaria_only.text
    unknown = await browser.get("/hub", params={"q": "x", "region": "Mordor"})
    assert unknown.status_code == 200 and "Unknown region" in unknown.text
    assert (await browser.get("/hub/items/999999")).status_code == 404
    await browser.aclose()


async def test_matchmaking_page_is_prefilled_and_german(make_node: NodeFactory) -> None:
    node = await _centre(make_node, 8831)
    browser = await logged_in(node, "olga", "owner", language="de")
    empty = await browser.get("/hub/match")
    assert 'value="Kunststoffverarbeitung"' in empty.text and 'value="Sachsen"' in empty.text
    assert "Finden, was zu Ihrem Unternehmen passt" in empty.text
    need = "Wir wollen unsere Spritzgussmaschinen vernetzen und Ausfälle vorhersagen"
    answer = await browser.get(
        "/hub/match",
        params={"need": need, "sector": "Kunststoffverarbeitung", "size_class": "small", "employees": "40",
                "region": "Sachsen"},
    )  # fmt: skip
    text = answer.text
    assert "Förderprogramme" in text and "Beispiele ähnlicher Unternehmen" in text
    first_eligible = text.index("förderfähig")
    assert "nicht förderfähig" not in text[:first_eligible]
    assert "geprüft am 2026-11-27" in text
    # why each matches, in German too: the words of the need, the profile, the programme's conditions
    assert "erwähnt spritzgussmaschinen" in text.casefold() or "erwähnt vernetzen" in text
    assert "gleiche Region (Sachsen)" in text and "Beschäftigte im Bereich 0–249" in text
    assert "mentions" not in text and "same region" not in text
    bad = await browser.get("/hub/match", params={"need": need, "employees": "many"})
    assert "Geben Sie eine ganze Zahl an." in bad.text
    await browser.aclose()
