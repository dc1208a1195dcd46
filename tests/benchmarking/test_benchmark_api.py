"""The management API of benchmark rounds: clear errors that change nothing, members-only rounds,
read-only keys, and the rules of joining."""

from __future__ import annotations

import pytest

from tests.benchmarking.round_helpers import KPIS, close, in_future, join, organise, wait_participation
from tests.conftest import NodeFactory, RunningNode

pytestmark = pytest.mark.anyio
QUIET = {"crawl_interval_seconds": 0, "membership_poll_seconds": 0}


async def rounds_of(node: RunningNode) -> list[dict[str, object]]:
    listed: list[dict[str, object]] = (await node.api.get("/api/v1/benchmarks/rounds")).json()
    return listed


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kpis": []}, "1 to 20 KPIs"),
        ({"kpis": [{**KPIS[0], "lower": 100, "upper": 0}]}, "lower bound must be below"),
        ({"deadline": "2020-01-01T00:00:00Z"}, "deadline must lie in the future"),
        ({"deadline": "next week"}, "ISO 8601"),
        ({"minParticipants": 2}, "minParticipants"),
        ({"epsilon": 0}, "epsilon"),
        ({"community": "Verband"}, "DID of a community"),
        ({"phaseSeconds": 0}, "phaseSeconds"),
    ],
)
async def test_bad_round_definitions_are_refused(
    make_node: NodeFactory, change: dict[str, object], message: str
) -> None:
    node = await make_node("Verband", 8690, **QUIET)
    body = {"title": "OEE", "kpis": KPIS, "deadline": in_future(), **change}
    answer = await node.api.post("/api/v1/benchmarks/rounds", json=body)
    assert answer.status_code == 400 and message in answer.json()["error"], answer.text
    assert await rounds_of(node) == []


async def test_joining_rules_and_clear_errors(make_node: NodeFactory) -> None:
    association = await make_node("Verband", 8691, **QUIET)
    member = await make_node("Firma", 8692, **QUIET)
    created = await organise(association)
    url = created["url"]
    seen = (await member.api.get("/api/v1/benchmarks/remote", params={"url": url})).json()
    assert seen["kpis"] == created["kpis"] and seen["state"] == "open" and seen["participants"] == 0

    refusals = [
        ({"round_url": "https://example.org/x", "values": {"oee": 1}}, 400, "not a benchmark round address"),
        ({"round_url": url, "values": {"oee": 120}}, 400, "outside 0..100"),
        ({"round_url": url, "values": {"speed": 1}}, 400, "no KPI speed"),
        ({"round_url": url[:-4] + "0000", "values": {"oee": 1}}, 404, "no benchmark round"),
    ]
    for body, status, message in refusals:
        answer = await member.api.post("/api/v1/benchmarks/participations", json=body)
        assert answer.status_code == status and message in answer.json()["error"], answer.text
    assert (await member.api.get("/api/v1/benchmarks/participations")).json() == []
    assert (await association.api.get(f"/api/v1/benchmarks/rounds/{created['id']}")).json()[
        "participants"
    ] == []

    own = await association.api.post(
        "/api/v1/benchmarks/participations", json={"round_url": url, "values": {"oee": 1}}
    )
    assert own.status_code == 400 and "cannot take part" in own.json()["error"]
    joined = await join(member, url, {"oee": 50.5})
    assert joined["ownValues"] == {"oee": 50.5} and joined["state"] == "joined"
    again = await member.api.post(
        "/api/v1/benchmarks/participations", json={"round_url": url, "values": {"oee": 2}}
    )
    assert again.status_code == 409 and "already joined" in again.json()["error"]

    read_only = {"Authorization": f"Bearer {association.created.read_key}"}
    denied = await association.api.post(f"/api/v1/benchmarks/rounds/{created['id']}/close", headers=read_only)
    assert denied.status_code == 403
    failed = await close(association, created["id"])  # one participant: below the minimum
    assert (
        failed["state"] == "failed"
        and failed["reason"] == "only 1 participants joined; the round needs at least 5"
    )
    twice = await association.api.post(f"/api/v1/benchmarks/rounds/{created['id']}/close")
    assert twice.status_code == 409 and "not open" in twice.json()["error"]
    assert (await association.api.get("/api/v1/benchmarks/rounds/nope")).status_code == 404
    assert (
        await association.api.get("/api/v1/benchmarks/rounds", headers={"Authorization": "Bearer x"})
    ).status_code == 401


async def test_members_only_rounds_refuse_outsiders(make_node: NodeFactory) -> None:
    association = await make_node(
        "Verband", 8693, directory_enabled=True, directory_auto_admit=True, directory_name="Verband", **QUIET
    )
    member = await make_node("Mitglied", 8694, **QUIET)
    outsider = await make_node("Fremd", 8695, **QUIET)
    applied = await member.api.post("/api/v1/memberships", json={"directory_url": association.node.base_url})
    assert applied.json()["state"] == "admitted", applied.text
    created = await organise(association, community=association.did)

    refused = await outsider.api.post(
        "/api/v1/benchmarks/participations", json={"round_url": created["url"], "values": {"oee": 1}}
    )
    assert refused.status_code == 403
    assert f"open to members of {association.did} only" in refused.json()["error"]
    joined = await join(member, created["url"], {"oee": 64.25})
    assert joined["state"] == "joined"
    view = (await association.api.get(f"/api/v1/benchmarks/rounds/{created['id']}")).json()
    assert [p["did"] for p in view["participants"]] == [member.did]


async def test_cancelled_rounds_tell_their_participants(make_node: NodeFactory) -> None:
    association = await make_node("Verband", 8696, **QUIET)
    member = await make_node("Firma", 8697, **QUIET)
    created = await organise(association)
    joined = await join(member, created["url"], {"oee": 40.0})
    cancelled = (await association.api.post(f"/api/v1/benchmarks/rounds/{created['id']}/cancel")).json()
    assert cancelled["state"] == "failed" and cancelled["reason"] == "cancelled by the organiser"
    told = await wait_participation(member, joined["id"], ("failed",))
    assert told["reason"] == "cancelled by the organiser"
