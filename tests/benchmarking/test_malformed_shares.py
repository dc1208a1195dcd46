"""Malformed shares and share-sum requests are refused with a reason and change nothing; a round
survives them, and an organiser restarted in the middle of a round finishes it."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from allmende.app import create_app
from allmende.benchmarking.field import PRIME
from allmende.benchmarking.organiser import get_round
from allmende.benchmarking.records import BenchmarkParticipationRecord, BenchmarkShareRecord
from allmende.messaging.records import OutboxRecord
from allmende.node import Node
from allmende.settings import load_settings
from tests.benchmarking.round_helpers import (
    VALUES,
    RecordingNetwork,
    close,
    join,
    organise,
    round_state,
    tick_until,
    to_node,
)
from tests.conftest import NodeFactory, RunningNode
from tests.support.waiting import eventually

pytestmark = pytest.mark.anyio


def snapshot(node: RunningNode) -> tuple[Any, ...]:
    """Everything a share could change on ``node``."""
    with node.node.db.read() as session:
        shares = [
            (r.dealer_position, r.shares) for r in session.execute(select(BenchmarkShareRecord)).scalars()
        ]
        states = [
            (r.state, r.updated_at) for r in session.execute(select(BenchmarkParticipationRecord)).scalars()
        ]
        outbox = session.execute(select(OutboxRecord.id)).scalars().all()
    return sorted(shares), states, len(outbox)


def participation_of(node: RunningNode) -> BenchmarkParticipationRecord:
    with node.node.db.read() as session:
        record = session.execute(select(BenchmarkParticipationRecord)).scalars().one()
        session.expunge(record)
    return record


async def running_round(
    make_node: NodeFactory, network: RecordingNetwork, port: int
) -> tuple[RunningNode, list[RunningNode], str]:
    """Five members that hold all shares, with the organiser's share-sum requests cut off."""
    association = await make_node("Verband", port)
    members = [await make_node(f"Firma {i}", port + 1 + i) for i in range(5)]
    created = await organise(association, phaseSeconds=0.5)
    for member, values in zip(members, VALUES, strict=False):
        await join(member, created["url"], values)
    network.blocked = lambda r: any(to_node(r, m, "/sum") for m in members)
    await close(association, created["id"])
    await eventually(
        lambda: round_state(association, created["id"]),
        lambda r: r["state"] == "summing" and all(p["holdsAllShares"] for p in r["participants"]),
    )
    return association, members, created["id"]


async def test_malformed_shares_are_refused_and_change_nothing(
    make_node: NodeFactory, network: RecordingNetwork
) -> None:
    association, members, round_id = await running_round(make_node, network, 8670)
    target, sender, other = members[0], members[1], members[2]
    record = participation_of(target)
    assert record.roster is not None and record.position == 1
    with target.node.db.read() as session:
        held = session.get(BenchmarkShareRecord, (record.id, 2))
        assert held is not None
        valid = list(held.shares)
    good = {
        "round": round_id,
        "organiser": association.did,
        "roster": record.roster,
        "from": 2,
        "to": 1,
        "shares": valid,
    }
    header, payload, signature = record.roster.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["threshold"] = 5
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    forged = f"{header}.{forged_payload}.{signature}"
    cases: list[tuple[RunningNode | None, str, dict[str, Any], int, str]] = [
        (
            sender,
            round_id,
            {**good, "shares": valid[:-1]},
            400,
            f"must be a list of {len(valid)} field elements",
        ),
        (sender, round_id, {**good, "shares": [str(PRIME), *valid[1:]]}, 400, "outside the field"),
        (sender, round_id, {**good, "shares": ["-5", *valid[1:]]}, 400, "not a decimal field element"),
        (sender, round_id, {**good, "round": "0" * 32}, 400, "names another round"),
        (sender, "f" * 32, {**good, "round": "f" * 32}, 404, "takes no part in round"),
        (sender, round_id, {**good, "from": 3}, 400, "claims position 3; its sender is 2"),
        (sender, round_id, {**good, "to": 3}, 400, "addressed to position 3; this node is 1"),
        (association, round_id, {**good, "from": 1}, 403, "is not a participant of this round"),
        (
            sender,
            round_id,
            {**good, "shares": [str((int(valid[0]) + 1) % PRIME), *valid[1:]]},
            409,
            "a different share from position 2 is already held",
        ),
        (sender, round_id, {**good, "roster": forged}, 400, "the roster does not check out"),
        (other, round_id, {**good, "from": 3, "shares": valid}, 409, "a different share from position 3"),
        (None, round_id, good, 401, "not authenticated"),
    ]
    before = snapshot(target)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=target.app), base_url=target.node.base_url
    ) as peer:
        for caller, path_round, body, status, reason in cases:
            headers = (
                {} if caller is None else {"Authorization": f"Bearer {caller.node.issue_token(target.did)}"}
            )
            answer = await peer.post(
                f"/benchmarks/participations/{path_round}/shares", json=body, headers=headers
            )
            assert answer.status_code == status, (reason, answer.text)
            assert reason in answer.json()["error"]
            assert snapshot(target) == before, reason
        again = await peer.post(
            f"/benchmarks/participations/{round_id}/shares",
            json=good,
            headers={"Authorization": f"Bearer {sender.node.issue_token(target.did)}"},
        )
        assert again.status_code == 200 and snapshot(target) == before  # the same share again: no change

        async def ask_sum(dealers: list[int]) -> httpx.Response:
            token = association.node.issue_token(target.did)
            return await peer.post(
                f"/benchmarks/participations/{round_id}/sum",
                json={"dealers": dealers},
                headers={"Authorization": f"Bearer {token}"},
            )

        small = await ask_sum([1, 2])
        assert (
            small.status_code == 409
            and small.json()["error"] == "a share-sum needs at least 5 dealers, not 2"
        )
        stranger = await peer.post(
            f"/benchmarks/participations/{round_id}/sum",
            json={"dealers": [1, 2, 3, 4, 5]},
            headers={"Authorization": f"Bearer {sender.node.issue_token(target.did)}"},
        )
        assert stranger.status_code == 404  # only the organiser asks for share-sums
        assert snapshot(target) == before
        assert (await ask_sum([1, 2, 3, 4, 5])).status_code == 200
        other_set = await ask_sum([1, 2, 3, 4])
        assert other_set.status_code == 409
    network.blocked = lambda _r: False
    final = await tick_until(association, round_id)
    assert final["state"] == "released", final["reason"]


async def test_a_restarted_organiser_finishes_the_round(
    make_node: NodeFactory, network: RecordingNetwork
) -> None:
    association, _members, round_id = await running_round(make_node, network, 8680)
    await association.node.stop()
    network.remove(association.node.base_url)
    restarted = Node(load_settings(association.created.data_dir, environ={}), transport=network.transport())
    app = create_app(restarted, manage_lifecycle=False)
    network.add(restarted.base_url, app)
    await restarted.start()
    try:
        network.blocked = lambda _r: False
        runtime = app.state.benchmarks

        async def state() -> str:
            await runtime.tick()
            with restarted.db.read() as session:
                return str(get_round(session, round_id).state)

        assert await eventually(state, lambda s: s in ("released", "failed")) == "released"
    finally:
        await restarted.stop()
