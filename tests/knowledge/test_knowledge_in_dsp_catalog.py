"""Knowledge items in the node's DSP catalog (open datasets after the assets, paged with them), found
by the federated catalog crawler once each, and the background crawl refreshing the knowledge index."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from tests.conftest import NodeFactory, RunningNode
from tests.support.dsp import catalog_request, publish
from tests.support.federation import admit_directly
from tests.support.knowledge import publish_demo_items

from allmende.catalog.remote import fetch_catalog
from allmende.knowledge.catalog_entries import MEDIA_TYPE
from allmende.knowledge.records import KnowledgeIndexRecord
from allmende.network.crawler import crawl, crawl_forever
from allmende.network.records import FederatedDatasetRecord
from allmende.protocol.schemas import validate_message

pytestmark = pytest.mark.anyio
QUIET = {"crawl_interval_seconds": 0}


async def _ask(caller: RunningNode, provider: RunningNode, query: str = "") -> httpx.Response:
    return await caller.node.http.post(
        f"{provider.node.dsp_url}/catalog/request{query}",
        json=catalog_request(),
        headers={"Authorization": "Bearer " + caller.node.issue_token(provider.did)},
    )


def _ids(catalog: dict[str, Any]) -> list[str]:
    datasets = catalog.get("dataset", [])
    return [d["@id"] for d in (datasets if isinstance(datasets, list) else [datasets])]


async def test_items_follow_the_assets_in_the_dsp_catalog_and_page_with_them(
    make_node: NodeFactory, tmp_path: Path
) -> None:
    provider = await make_node("Centre", 8830, **QUIET)
    consumer = await make_node("SME", 8831, **QUIET)
    asset = (await publish(provider, tmp_path, "Spindle data"))["asset"]["id"]
    items = await publish_demo_items(provider, 3)

    whole = await _ask(consumer, provider)
    assert whole.status_code == 200
    validate_message(whole.json(), "Catalog")
    assert _ids(whole.json()) == [asset, *items]

    first = await _ask(consumer, provider, "?limit=2")
    assert _ids(first.json()) == [asset, items[0]] and 'rel="next"' in first.headers["link"]
    second = await _ask(consumer, provider, "?offset=2&limit=2")
    assert _ids(second.json()) == items[1:] and 'rel="next"' not in second.headers.get("link", "")
    assert _ids((await _ask(consumer, provider, "?offset=9&limit=2")).json()) == []

    fetched = await fetch_catalog(consumer.node, provider.node.base_url)
    assert sorted(_ids(fetched.catalog)) == sorted([asset, *items])

    one = await consumer.node.http.get(
        f"{provider.node.dsp_url}/catalog/datasets/{items[1]}",
        headers={"Authorization": "Bearer " + consumer.node.issue_token(provider.did)},
    )
    assert one.status_code == 200 and one.json()["@id"] == items[1]
    validate_message(one.json(), "Dataset")

    withdrawn = await provider.api.delete(f"/api/v1/knowledge/items/{items[1]}")
    assert withdrawn.status_code == 200
    assert _ids((await _ask(consumer, provider)).json()) == [asset, items[0], items[2]]


async def test_the_federated_catalog_holds_each_item_once(make_node: NodeFactory) -> None:
    sme = await make_node("SME", 8832, directory_enabled=True, **QUIET)
    centre = await make_node("Centre", 8833, **QUIET)
    admit_directly(sme.node, centre.node.base_url, "Centre of Excellence")
    items = await publish_demo_items(centre, 2)

    await crawl(sme.node)
    await crawl(sme.node, full=True)
    with sme.node.db.read() as session:
        rows = session.execute(
            select(FederatedDatasetRecord.dataset_id, FederatedDatasetRecord.formats)
        ).all()
    assert sorted(r[0] for r in rows) == sorted(items) and all(MEDIA_TYPE in r[1] for r in rows)


async def test_the_background_crawl_also_refreshes_the_knowledge_index(make_node: NodeFactory) -> None:
    sme = await make_node("SME", 8834, directory_enabled=True, crawl_interval_seconds=0)
    centre = await make_node("Centre", 8835, **QUIET)
    admit_directly(sme.node, centre.node.base_url, "Centre of Excellence")
    items = await publish_demo_items(centre, 1)

    settings = sme.node.settings
    sme.node.settings = replace(settings, values={**settings.values, "crawl_interval_seconds": 1})
    task = asyncio.create_task(crawl_forever(sme.node))
    try:
        for _ in range(400):
            with sme.node.db.read() as session:
                found = session.execute(select(KnowledgeIndexRecord.item_id)).scalars().all()
            if found:
                break
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert list(found) == items
