"""Dropouts: after sharing the round completes with the threshold; below it, or below the minimum, it
fails cleanly with a reason that every participant is told; too few joiners release nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from tests.benchmarking.round_helpers import (
    VALUES,
    RecordingNetwork,
    caller_of,
    close,
    in_future,
    join,
    organise,
    round_state,
    tick_until,
    to_node,
    wait_participation,
)
from tests.conftest import NodeFactory
from tests.support.waiting import eventually

pytestmark = pytest.mark.anyio
WINDOW = 4.0  # seconds for sharing and for summing: ample on a loaded machine, short for a test


async def test_a_dropout_after_sharing_still_counts(
    make_node: NodeFactory, network: RecordingNetwork
) -> None:
    association = await make_node("Verband", 8620)
    members = [await make_node(f"Firma {i}", 8621 + i) for i in range(6)]
    silent = members[2]
    # Silent once it has shared: it neither reports nor answers the organiser.
    network.blocked = lambda r: (
        to_node(r, silent, "/receipt")
        or to_node(r, silent, "/sum")
        or (caller_of(r) == silent.did and r.url.path.endswith("/receipts"))
    )
    created = await organise(association, phaseSeconds=WINDOW)
    joined = [await join(m, created["url"], v) for m, v in zip(members, VALUES, strict=False)]
    await close(association, created["id"])
    await eventually(
        lambda: round_state(association, created["id"]),
        lambda r: sum(p["holdsAllShares"] for p in r["participants"]) == 5,
    )
    final = await tick_until(association, created["id"])
    assert final["state"] == "released", final["reason"]
    assert final["contributors"] == 6 and final["threshold"] == 4
    assert [p["shareSumReceived"] for p in final["participants"]] == [True, True, False, True, True, True]
    oee = next(f for f in final["result"] if f["name"] == "oee")
    assert oee["count"] == 6 and oee["mean"] == pytest.approx(sum(v["oee"] for v in VALUES) / 6, abs=1e-4)
    assert (await wait_participation(members[0], joined[0]["id"], ("released",)))["result"] == final["result"]


async def test_a_dropout_before_sharing_is_left_out(
    make_node: NodeFactory, network: RecordingNetwork
) -> None:
    association = await make_node("Verband", 8630)
    members = [await make_node(f"Firma {i}", 8631 + i) for i in range(6)]
    created = await organise(association, phaseSeconds=WINDOW)
    for member, values in zip(members, VALUES, strict=False):
        await join(member, created["url"], values)
    network.remove(members[4].node.base_url)  # gone before the roster arrives
    await close(association, created["id"])
    final = await tick_until(association, created["id"])
    assert final["state"] == "released", final["reason"]
    assert final["contributors"] == 5
    assert [p["contributes"] for p in final["participants"]] == [True, True, True, True, False, True]
    oee = next(f for f in final["result"] if f["name"] == "oee")
    expected = [v["oee"] for i, v in enumerate(VALUES) if i != 4]
    assert oee["count"] == 5 and oee["mean"] == pytest.approx(sum(expected) / 5, abs=1e-4)
    energy = next(f for f in final["result"] if f["name"] == "energy")
    assert energy["count"] == 5  # participant 4 gave none; the dropout's energy figure is not counted


async def test_too_few_share_sums_fail_the_round_cleanly(
    make_node: NodeFactory, network: RecordingNetwork
) -> None:
    association = await make_node("Verband", 8640)
    members = [await make_node(f"Firma {i}", 8641 + i) for i in range(5)]
    created = await organise(association, phaseSeconds=WINDOW)
    joined = [await join(m, created["url"], v) for m, v in zip(members, VALUES, strict=False)]
    network.blocked = lambda r: any(to_node(r, m, "/sum") for m in members[2:])  # three fall silent
    await close(association, created["id"])
    final = await tick_until(association, created["id"])
    assert final["state"] == "failed"
    assert final["reason"] == "only 2 of the 3 share-sums needed arrived in time"
    assert final["result"] is None
    for member, participation in zip(members, joined, strict=True):
        told = await wait_participation(member, participation["id"], ("failed",))
        assert told["reason"] == final["reason"] and told["result"] is None and told["standing"] == []


async def test_too_few_sharers_fail_the_round_cleanly(
    make_node: NodeFactory, network: RecordingNetwork
) -> None:
    association = await make_node("Verband", 8650)
    members = [await make_node(f"Firma {i}", 8651 + i) for i in range(5)]
    created = await organise(association, phaseSeconds=WINDOW)
    for member, values in zip(members, VALUES, strict=False):
        await join(member, created["url"], values)
    network.remove(members[0].node.base_url)
    await close(association, created["id"])
    final = await tick_until(association, created["id"])
    assert final["state"] == "failed" and final["result"] is None
    assert final["reason"] == (
        "only 4 participants shared their figures with enough peers; the round needs at least 5"
    )


async def test_fewer_joiners_than_the_minimum_release_nothing(make_node: NodeFactory) -> None:
    association = await make_node("Verband", 8660)
    members = [await make_node(f"Firma {i}", 8661 + i) for i in range(4)]
    created = await organise(association, deadline=in_future(8.0))
    joined = [await join(m, created["url"], v) for m, v in zip(members, VALUES, strict=False)]
    deadline = datetime.fromisoformat(created["deadline"].replace("Z", "+00:00"))
    await asyncio.sleep(
        max(0.0, (deadline - datetime.now(UTC)).total_seconds()) + 0.1
    )  # the timer closes joining
    final = await tick_until(association, created["id"])
    assert final["state"] == "failed" and final["result"] is None
    assert final["reason"] == "only 4 participants joined; the round needs at least 5"
    assert all(p["position"] is None for p in final["participants"])
    told = await wait_participation(members[0], joined[0]["id"], ("failed",))
    assert told["reason"] == final["reason"]
    late = await members[0].api.get("/api/v1/benchmarks/remote", params={"url": created["url"]})
    assert late.json()["state"] == "failed"
