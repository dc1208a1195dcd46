"""The crawler: concurrent, bounded by a timeout, incremental (ETags), with back-off, following the
directories' member lists; and what it caches is what each node shows the crawler's identity."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from tests.conftest import NodeFactory, RunningNode
from tests.support.dsp import publish
from tests.support.federation import Recorder, admit_directly, joined, set_entry_state, slow_node

from allmende.clock import utcnow
from allmende.network.crawler import crawl
from allmende.network.records import FederatedDatasetRecord, FederatedNodeRecord
from allmende.network.search import SearchQuery, search

pytestmark = pytest.mark.anyio

QUIET = {"crawl_interval_seconds": 0}


def titles(running: RunningNode, **query: Any) -> list[str]:
    with running.node.db.read() as session:
        return sorted(hit.title for hit in search(session, SearchQuery(**query)).hits)


def federated_nodes(running: RunningNode) -> dict[str, FederatedNodeRecord]:
    with running.node.db.read() as session:
        return {r.did: r for r in session.execute(select(FederatedNodeRecord)).scalars()}


async def test_dead_and_slow_nodes_back_off_and_never_block(
    make_node: NodeFactory, network: Any, tmp_path: Path
) -> None:
    crawler = await make_node("Crawler", 8570, directory_enabled=True, crawl_timeout_seconds=0.5, **QUIET)
    alive = await make_node("Alive", 8571, **QUIET)
    await publish(alive, tmp_path, "Spindle vibration")
    await publish(alive, tmp_path, "Coolant temperature")
    admit_directly(crawler.node, alive.node.base_url, "Alive", sector="machinery", region="Saxony")
    dead = admit_directly(crawler.node, "http://127.0.0.1:8572", "Dead")
    network.add("http://127.0.0.1:8573", slow_node(5.0))
    slow = admit_directly(crawler.node, "http://127.0.0.1:8573", "Slow")

    report = await crawl(crawler.node)

    assert (report.nodes_seen, report.nodes_updated, report.nodes_failed) == (3, 1, 2)
    assert report.datasets == 2 and report.seconds < 3
    assert titles(crawler) == ["Coolant temperature", "Spindle vibration"]
    assert titles(crawler, sector="machinery", region="Saxony", text="spindle") == ["Spindle vibration"]
    nodes = federated_nodes(crawler)
    assert nodes[dead].failures == 1 and "not reachable" in (nodes[dead].last_error or "")
    assert nodes[slow].failures == 1 and "within 0.5 s" in (nodes[slow].last_error or "")
    for did in (dead, slow):
        next_attempt = nodes[did].next_attempt_at
        assert next_attempt is not None and next_attempt > utcnow()
    assert nodes[alive.did].failures == 0 and nodes[alive.did].etag

    again = await crawl(crawler.node)  # the failed nodes wait for their back-off

    assert (again.nodes_waiting, again.nodes_failed, again.nodes_unchanged) == (2, 0, 1)
    full = await crawl(crawler.node, full=True)  # a full crawl asks everyone again
    assert (full.nodes_failed, full.nodes_updated) == (2, 1)
    assert federated_nodes(crawler)[dead].failures == 2


async def test_incremental_crawl_and_unpublished_offers_disappear(
    make_node: NodeFactory, network: Any, tmp_path: Path
) -> None:
    crawler = await make_node("Crawler", 8575, directory_enabled=True, **QUIET)
    provider = await make_node("Provider", 8576, catalog_page_size=1, **QUIET)
    recorder = Recorder(provider.app)
    network.add(provider.node.base_url, recorder)
    first = await publish(provider, tmp_path, "Spindle vibration")
    await publish(provider, tmp_path, "Coolant temperature")
    admit_directly(crawler.node, provider.node.base_url, "Provider")

    report = await crawl(crawler.node)

    assert report.nodes_updated == 1 and report.datasets == 2
    assert [c["if_none_match"] for c in recorder.calls] == [None, None]  # two pages
    etags = (federated_nodes(crawler)[provider.did].etag or "").split()
    with crawler.node.db.read() as session:
        before = {(r.id, r.updated_at) for r in session.execute(select(FederatedDatasetRecord)).scalars()}
    recorder.calls.clear()

    unchanged = await crawl(crawler.node)

    assert (unchanged.nodes_unchanged, unchanged.nodes_updated) == (1, 0)
    assert [c["if_none_match"] for c in recorder.calls] == etags and len(etags) == 2
    assert [c["status"] for c in recorder.calls] == [304, 304]
    with crawler.node.db.read() as session:
        after = {(r.id, r.updated_at) for r in session.execute(select(FederatedDatasetRecord)).scalars()}
    assert after == before

    offer_id = first["offer"]["id"] if "offer" in first else first["offers"][0]["id"]
    withdrawn = await provider.api.post(f"/api/v1/offers/{offer_id}/unpublish")
    assert withdrawn.status_code == 200, withdrawn.text

    changed = await crawl(crawler.node)

    assert changed.nodes_updated == 1 and changed.datasets == 1
    assert titles(crawler) == ["Coolant temperature"]
    assert titles(crawler, text="spindle") == []


async def test_member_lists_access_policies_and_leaving(
    make_node: NodeFactory, network: Any, tmp_path: Path
) -> None:
    directory = await make_node("Directory", 8580, directory_enabled=True, directory_name="Cluster", **QUIET)
    provider = await make_node("Provider", 8581, **QUIET)
    insider = await make_node("Insider", 8582, **QUIET)
    outsider = await make_node("Outsider", 8583, **QUIET)
    for running in (provider, insider, outsider):
        admit_directly(directory.node, running.node.base_url, running.node.name, region="Saxony")
    joined(insider.node, directory.node)
    joined(outsider.node, directory.node)
    await publish(provider, tmp_path, "Open data")
    only_insider = {"@type": "Offer", "assignee": insider.did, "permission": [{"action": "use"}]}
    await publish(provider, tmp_path, "Restricted data", access_policy=only_insider)

    inside, outside = await crawl(insider.node), await crawl(outsider.node)

    assert inside.nodes_seen == 2 and outside.nodes_seen == 2  # the others, never itself
    assert titles(insider) == ["Open data", "Restricted data"]
    assert titles(outsider) == ["Open data"]
    assert federated_nodes(insider)[provider.did].region == "Saxony"

    network.remove(directory.node.base_url)  # an unreachable directory: its members are kept
    assert (await crawl(insider.node)).nodes_dropped == 0
    assert titles(insider) == ["Open data", "Restricted data"]

    network.add(directory.node.base_url, directory.app)
    set_entry_state(directory.node, provider.did, "revoked")  # the provider left: dropped with its data
    left = await crawl(insider.node)
    assert left.nodes_dropped == 1 and left.nodes_seen == 1
    assert titles(insider) == [] and provider.did not in federated_nodes(insider)
