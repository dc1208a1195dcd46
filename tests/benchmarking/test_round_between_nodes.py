"""An honest round among six in-process nodes: released figures equal the plain computation."""

from __future__ import annotations

import pytest

from allmende.benchmarking.kpis import SCALE, kpis_from_json
from allmende.benchmarking.release import quartiles
from tests.benchmarking.round_helpers import (
    KPIS,
    VALUES,
    close,
    join,
    organise,
    wait_participation,
    wait_round,
)
from tests.conftest import NodeFactory

pytestmark = pytest.mark.anyio


async def test_honest_round_releases_the_plain_figures(
    make_node: NodeFactory, database_url: str | None
) -> None:
    # The organiser and the first member run on each store backend (SQLite, PostgreSQL where reachable).
    association = await make_node("Verband", 8600, database_url=database_url)
    members = [await make_node("Firma 0", 8601, database_url=database_url)]
    members += [await make_node(f"Firma {i}", 8601 + i) for i in range(1, len(VALUES))]
    created = await organise(association)
    joined = [
        await join(member, created["url"], values) for member, values in zip(members, VALUES, strict=True)
    ]
    assert all(j["state"] == "joined" for j in joined)

    closed = await close(association, created["id"])
    assert closed["state"] == "sharing" and closed["threshold"] == 4
    final = await wait_round(association, created["id"])
    assert final["state"] == "released", final["reason"]
    assert final["contributors"] == 6

    figures = {f["name"]: f for f in final["result"]}
    for kpi in kpis_from_json(KPIS):
        given = [v[kpi.name] for v in VALUES if kpi.name in v]
        released = figures[kpi.name]
        assert released["count"] == len(given)
        plain_mean = sum(round(v * SCALE) for v in given) / SCALE / len(given)
        assert released["mean"] == pytest.approx(plain_mean, abs=1 / SCALE)
        histogram = [0] * kpi.buckets
        for value in given:
            histogram[kpi.bucket_of(value)] += 1
        if len(given) >= 5:
            assert released["histogram"] == histogram
            assert released["quartiles"] == pytest.approx(list(quartiles(kpi.edges(), histogram) or ()))
            assert released["withheld"] is None
        else:
            assert released["withheld"] and released["histogram"] is None

    for member, participation in zip(members, joined, strict=True):
        seen = await wait_participation(member, participation["id"], ("released",))
        assert seen["result"] == final["result"]
        oee = next(s for s in seen["standing"] if s["kpi"] == "oee")
        assert 1 <= oee["quartile"] <= 4 and 0 <= oee["percentile"] <= 100
