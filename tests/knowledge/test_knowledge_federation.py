"""Publication and the knowledge crawl across two in-process nodes: the open list with ETag/304, items
found through the network, edits and withdrawals reaching the crawler within one crawl."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from tests.conftest import NodeFactory, RunningNode
from tests.support.federation import admit_directly

from allmende.knowledge.crawl import crawl_knowledge
from allmende.knowledge.model import item_json
from allmende.knowledge.records import KnowledgeIndexRecord, KnowledgeSourceRecord
from allmende.knowledge.seed import demo_items

pytestmark = pytest.mark.anyio
QUIET = {"crawl_interval_seconds": 0}


async def _publish(node: RunningNode, data: dict[str, Any]) -> str:
    response = await node.api.post("/api/v1/knowledge/items", json=data)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _case() -> dict[str, Any]:
    return item_json(demo_items()[0])


async def test_published_list_is_open_and_answers_304_when_unchanged(make_node: NodeFactory) -> None:
    centre = await make_node("Centre", 8810, **QUIET)
    item_id = await _publish(centre, _case())
    anonymous = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=centre.app), base_url=centre.node.base_url
    )
    first = await anonymous.get("/knowledge/items")
    assert first.status_code == 200 and first.headers["content-type"].startswith("application/ld+json")
    graph = first.json()["@graph"]
    assert [d["@id"] for d in graph] == [item_id]
    assert graph[0]["@type"] == ["Article", "ak:GoodPracticeCase"] and graph[0]["publisher"] == centre.did
    again = await anonymous.get("/knowledge/items", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.headers["etag"] == first.headers["etag"]
    single = await anonymous.get(f"/knowledge/items/{item_id}")
    assert single.status_code == 200 and single.json()["@context"]["@vocab"] == "https://schema.org/"
    assert (await anonymous.get("/knowledge/items/urn:uuid:nothing")).status_code == 404
    await anonymous.aclose()


async def test_crawl_finds_items_and_drops_withdrawn_ones(make_node: NodeFactory) -> None:
    sme = await make_node("SME", 8811, directory_enabled=True, **QUIET)
    centre = await make_node("Centre", 8812, **QUIET)
    admit_directly(sme.node, centre.node.base_url, "Centre of Excellence", sector="research", region="Saxony")
    kept = await _publish(centre, _case())
    gone = await _publish(centre, item_json(demo_items()[3]))

    report = await crawl_knowledge(sme.node)
    assert (report.nodes_seen, report.nodes_updated, report.nodes_failed) == (1, 1, 0)
    found = await sme.api.get("/api/v1/knowledge/search", params={"q": "Spritzgießmaschinen Stillstände"})
    assert found.status_code == 200
    hits = found.json()["hits"]
    assert hits[0]["id"] == kept and hits[0]["node"] == {"did": centre.did, "name": "Centre of Excellence"}

    with sme.node.db.read() as session:
        crawled = {r.item_id: r for r in session.execute(select(KnowledgeIndexRecord)).scalars()}
    assert set(crawled) == {kept, gone} and all(r.embedding for r in crawled.values())
    # an English need reaches the German item through its embedding, computed by the crawling node
    meaning = await sme.api.get("/api/v1/knowledge/search", params={"q": "plastics factory downtime"})
    by_meaning = {h["id"]: h for h in meaning.json()["hits"]}
    assert by_meaning[kept]["keywordRank"] is None and by_meaning[kept]["semanticRank"] is not None

    unchanged = await crawl_knowledge(sme.node)
    assert (unchanged.nodes_updated, unchanged.nodes_unchanged) == (0, 1)

    assert (await centre.api.delete(f"/api/v1/knowledge/items/{gone}")).status_code == 200
    edited = {**_case(), "title": "Zustandsüberwachung (zweite Fassung)"}
    assert (await centre.api.put(f"/api/v1/knowledge/items/{kept}", json=edited)).status_code == 200
    after = await crawl_knowledge(sme.node)
    assert after.nodes_updated == 1 and after.items == 1
    listed = (await sme.api.get("/api/v1/knowledge/search", params={"kind": "expertise"})).json()["hits"]
    assert listed == []
    titles = [h["title"] for h in (await sme.api.get("/api/v1/knowledge/search")).json()["hits"]]
    assert titles == ["Zustandsüberwachung (zweite Fassung)"]
    with sme.node.db.read() as session:
        source = session.execute(select(KnowledgeSourceRecord)).scalar_one()
    assert source.failures == 0 and source.items == 1 and source.etag


async def test_unreachable_node_backs_off(make_node: NodeFactory) -> None:
    sme = await make_node("SME", 8813, directory_enabled=True, **QUIET)
    admit_directly(sme.node, "http://127.0.0.1:8814", "Gone")
    report = await crawl_knowledge(sme.node)
    assert report.nodes_failed == 1
    waiting = await crawl_knowledge(sme.node)
    assert waiting.nodes_waiting == 1 and waiting.nodes_failed == 0
