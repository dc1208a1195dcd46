"""No message between nodes and no stored row on any node but the owner holds a participant's value."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from allmende.benchmarking.kpis import SCALE
from allmende.store.records import Base
from tests.benchmarking.round_helpers import VALUES, RecordingNetwork, close, join, organise, wait_round
from tests.conftest import NodeFactory, RunningNode

pytestmark = pytest.mark.anyio


def patterns(values: dict[str, float]) -> list[re.Pattern[str]]:
    """The value as a decimal and as its fixed-point integer, not as part of a longer number."""
    found = []
    for value in values.values():
        found.append(re.compile(rf"(?<![\d.]){re.escape(repr(value))}(?!\d)"))
        found.append(re.compile(rf"(?<!\d){round(value * SCALE)}(?!\d)"))
    return found


def stored_text(node: RunningNode) -> list[str]:
    """Every row of every table of the node's database, as text."""
    rows = []
    with node.node.db.read() as session:
        for table in Base.metadata.sorted_tables:
            rows.extend(f"{table.name}: {row!r}" for row in session.execute(select(table)))
    return rows


async def test_no_value_leaves_its_owner(make_node: NodeFactory, network: RecordingNetwork) -> None:
    association = await make_node("Verband", 8610)
    members = [await make_node(f"Firma {i}", 8611 + i) for i in range(len(VALUES))]
    created = await organise(association)
    for member, values in zip(members, VALUES, strict=True):
        await join(member, created["url"], values)
    await close(association, created["id"])
    assert (await wait_round(association, created["id"]))["state"] == "released"

    messages = [body.decode("utf-8", "replace") for body in network.bodies]
    assert any('"shares"' in m for m in messages) and any('"sum"' in m for m in messages)
    stored = {node.did: stored_text(node) for node in [association, *members]}
    for owner, values in zip(members, VALUES, strict=True):
        owned = patterns(values)
        raw = owned[0]  # the scan finds what is there: the owner keeps its own value
        assert any(raw.search(row) for row in stored[owner.did]), raw.pattern
        for pattern in owned:
            leaks = [m[:200] for m in messages if pattern.search(m)]
            assert not leaks, f"{pattern.pattern} sent between nodes: {leaks}"
            for did, rows in stored.items():
                if did != owner.did:
                    leaked = [row[:200] for row in rows if pattern.search(row)]
                    assert not leaked, f"{pattern.pattern} of {owner.did} stored on {did}: {leaked}"
