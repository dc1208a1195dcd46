"""Finding an organiser's open rounds: members-only rounds stay invisible to outsiders, closed and
past rounds are not listed, and a bad address or answer gets a clear error."""

from __future__ import annotations

import pytest

from tests.benchmarking.round_helpers import close, join, organise
from tests.conftest import NodeFactory, RunningNode

pytestmark = pytest.mark.anyio
QUIET = {"crawl_interval_seconds": 0, "membership_poll_seconds": 0}


async def listed(node: RunningNode, address: str) -> list[dict[str, object]]:
    answer = await node.api.get("/api/v1/benchmarks/open-rounds", params={"address": address})
    assert answer.status_code == 200, answer.text
    rounds: list[dict[str, object]] = answer.json()
    return rounds


async def test_members_see_open_and_members_only_rounds_outsiders_only_open_ones(
    make_node: NodeFactory,
) -> None:
    association = await make_node(
        "Verband", 8671, directory_enabled=True, directory_auto_admit=True, directory_name="Verband", **QUIET
    )
    member = await make_node("Mitglied", 8672, **QUIET)
    outsider = await make_node("Fremd", 8673, **QUIET)
    applied = await member.api.post("/api/v1/memberships", json={"directory_url": association.node.base_url})
    assert applied.json()["state"] == "admitted", applied.text
    public = await organise(association, title="Energy for everyone")
    members_only = await organise(association, title="OEE for members", community=association.did)
    closed = await organise(association, title="Closed early")
    await close(association, closed["id"])  # too few joined: failed, no longer open
    address = association.node.base_url

    for_member = await listed(member, address)
    assert {r["title"] for r in for_member} == {"Energy for everyone", "OEE for members"}
    assert all(r["joined"] is False and r["participants"] == 0 for r in for_member)
    assert {r["url"] for r in for_member} == {public["url"], members_only["url"]}
    assert [r["title"] for r in await listed(outsider, address)] == ["Energy for everyone"]

    await join(member, public["url"], {"oee": 70.0})
    after = {r["title"]: r for r in await listed(member, address)}
    energy = after["Energy for everyone"]
    assert energy["joined"] is True and energy["participants"] == 1
    assert after["OEE for members"]["joined"] is False


async def test_bad_addresses_are_refused_clearly(make_node: NodeFactory) -> None:
    organiser = await make_node("Verband", 8674, **QUIET)
    member = await make_node("Firma", 8675, **QUIET)
    cases = [
        ("ftp://example.org", 400, "not a node address"),
        (organiser.node.base_url.replace("8674", "8679"), 502, "unreachable"),
        (member.node.base_url, 400, "this node's own address"),
    ]
    for address, status, message in cases:
        answer = await member.api.get("/api/v1/benchmarks/open-rounds", params={"address": address})
        assert answer.status_code == status and message in answer.json()["error"], (address, answer.text)
    unauthenticated = await organiser.api.get(
        "/benchmarks/rounds", headers={"Authorization": "Bearer not.a.token"}
    )
    assert unauthenticated.status_code == 401
