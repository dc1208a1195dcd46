"""Compute-to-data between two nodes: the algorithm travels, only a released result comes back."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import NodeFactory, RunningNode
from tests.e2e.test_negotiation_between_nodes import negotiation
from tests.support.waiting import eventually

pytestmark = pytest.mark.anyio

LOAD_PER_SHIFT = (
    "SELECT shift, count(*) AS n, round(avg(load), 2) AS avg_load FROM data GROUP BY shift ORDER BY shift"
)
BY_MACHINE = "SELECT machine, count(*) AS n FROM data GROUP BY machine ORDER BY machine"
ROWS = "SELECT * FROM data"


def _spindle_csv(folder: Path) -> Path:
    path = folder / "spindle.csv"
    lines = ["machine,shift,load"]
    for i in range(300):
        machine = "rare" if i == 0 else f"m{i % 3}"
        lines.append(f"{machine},{['early', 'late', 'night'][i % 3]},{40 + i % 50}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def _digest(node: RunningNode, code: str, kind: str = "sql") -> str:
    answer = await node.api.post("/api/v1/compute/digest", json={"kind": kind, "code": code})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["digest"])


async def _compute_agreement(provider: RunningNode, consumer: RunningNode, data: Path, **params: str) -> str:
    body = {
        "path": str(data),
        "title": "Spindle load",
        "description": "Spindle load per machine and shift",
        "template": "compute-only",
        "template_params": params,
    }
    created = await provider.api.post("/api/v1/assets", json=body)
    assert created.status_code == 201, created.text
    started = await consumer.api.post(
        "/api/v1/negotiations",
        json={"address": provider.node.base_url, "offer_id": created.json()["offer"]["id"]},
    )
    assert started.status_code == 201, started.text
    final = await eventually(
        lambda: negotiation(consumer, started.json()["id"]),
        lambda n: n["state"] in ("FINALIZED", "TERMINATED"),
    )
    assert final["state"] == "FINALIZED", final
    return str(final["agreementId"])


async def _job(node: RunningNode, job_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = (await node.api.get(f"/api/v1/compute/jobs/{job_id}")).json()
    return answer


async def _provider_job(provider: RunningNode, state: str) -> dict[str, Any]:
    async def listed() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = (
            await provider.api.get("/api/v1/compute/jobs", params={"role": "provider"})
        ).json()
        return found

    jobs = await eventually(listed, lambda js: bool(js) and js[0]["state"] == state)
    return await _job(provider, jobs[0]["id"])


async def _settled(consumer: RunningNode, job_id: str, state: str) -> dict[str, Any]:
    async def refreshed() -> dict[str, Any]:
        answer: dict[str, Any] = (await consumer.api.post(f"/api/v1/compute/jobs/{job_id}/refresh")).json()
        return answer

    return await eventually(refreshed, lambda j: j.get("state") == state)


async def test_reviewed_sql_job_releases_only_the_aggregate(
    make_node: NodeFactory, tmp_path: Path, database_url: str | None
) -> None:
    provider = await make_node("Maschinenbau Muster GmbH", 8711, database_url=database_url)
    consumer = await make_node("Feinteile KG", 8712)
    agreement = await _compute_agreement(provider, consumer, _spindle_csv(tmp_path), min_group_size="5")

    submitted = await consumer.api.post(
        "/api/v1/compute/jobs",
        json={"agreement_id": agreement, "kind": "sql", "code": LOAD_PER_SHIFT, "title": "Load per shift"},
    )
    assert submitted.status_code == 201, submitted.text
    mine = submitted.json()
    assert mine["role"] == "consumer" and mine["state"] in ("queued", "running", "awaiting-release")

    # The owner reviews code and a preview, then releases.
    theirs = await _provider_job(provider, "awaiting-release")
    assert theirs["code"] == LOAD_PER_SHIFT and theirs["consumerDid"] == consumer.did
    assert theirs["preview"]["columns"] == ["shift", "n", "avg_load"]
    assert [row[0] for row in theirs["preview"]["rows"]] == ["early", "late", "night"]
    assert any("at least 5 records" in check for check in theirs["checks"])
    waiting = (await consumer.api.post(f"/api/v1/compute/jobs/{mine['id']}/refresh")).json()
    assert waiting["state"] == "awaiting-release" and waiting["preview"] is None  # nothing left yet

    released = await provider.api.post(f"/api/v1/compute/jobs/{theirs['id']}/release")
    assert released.status_code == 200, released.text
    done = await _settled(consumer, mine["id"], "released")
    expected = {
        shift: round(sum(40 + i % 50 for i in range(300) if i % 3 == n) / 100, 2)
        for n, shift in enumerate(["early", "late", "night"])
    }
    assert done["preview"]["rows"] == [[shift, "100", f"{value:g}"] for shift, value in expected.items()]
    result = await consumer.api.get(f"/api/v1/compute/jobs/{mine['id']}/result")
    assert result.text.startswith("shift,n,avg_load")

    # Both audit logs know; a second release is refused and changes nothing.
    again = await provider.api.post(f"/api/v1/compute/jobs/{theirs['id']}/release")
    assert again.status_code == 409
    events = {entry["event"] for entry in (await provider.api.get("/api/v1/audit")).json()}
    assert {"compute.job_queued", "compute.job_awaiting_release", "compute.job_released"} <= events


async def test_small_groups_rows_and_foreign_algorithms_never_leave(
    make_node: NodeFactory, tmp_path: Path
) -> None:
    provider = await make_node("Maschinenbau Muster GmbH", 8713)
    consumer = await make_node("Feinteile KG", 8714)
    allowed = await _digest(provider, BY_MACHINE)
    allowed_rows = await _digest(provider, ROWS)
    agreement = await _compute_agreement(
        provider, consumer, _spindle_csv(tmp_path), algorithms=f"{allowed},{allowed_rows}", max_jobs="2"
    )
    # An algorithm outside the allow-list is refused at once, with the reason.
    foreign = await consumer.api.post(
        "/api/v1/compute/jobs", json={"agreement_id": agreement, "kind": "sql", "code": LOAD_PER_SHIFT}
    )
    assert foreign.status_code == 403 and "algorithm" in foreign.json()["error"]

    # Group "rare" has one record: the gate rejects the result and names the group.
    small = (
        await consumer.api.post(
            "/api/v1/compute/jobs", json={"agreement_id": agreement, "kind": "sql", "code": BY_MACHINE}
        )
    ).json()
    rejected = await _settled(consumer, small["id"], "rejected")
    assert "rare" in rejected["reason"] and rejected["preview"] is None

    # Row-level output is not an aggregate: refused too. Then the job count is used up.
    rows = (
        await consumer.api.post(
            "/api/v1/compute/jobs", json={"agreement_id": agreement, "kind": "sql", "code": ROWS}
        )
    ).json()
    assert "row-level" in (await _settled(consumer, rows["id"], "rejected"))["reason"]
    third = await consumer.api.post(
        "/api/v1/compute/jobs", json={"agreement_id": agreement, "kind": "sql", "code": BY_MACHINE}
    )
    assert third.status_code == 403 and "count" in third.json()["error"]
    assert not list((provider.node.settings.data_dir / "compute" / "jobs").glob("*/result.csv"))


async def test_pre_approved_algorithm_releases_by_itself_and_bad_sql_fails_clearly(
    make_node: NodeFactory, tmp_path: Path
) -> None:
    provider = await make_node("Maschinenbau Muster GmbH", 8715)
    consumer = await make_node("Feinteile KG", 8716)
    agreement = await _compute_agreement(provider, consumer, _spindle_csv(tmp_path))
    digest = await _digest(provider, LOAD_PER_SHIFT)
    approved = await provider.api.post(
        "/api/v1/compute/algorithms", json={"digest": digest, "name": "Average spindle load per shift"}
    )
    assert approved.status_code == 201
    job = (
        await consumer.api.post(
            "/api/v1/compute/jobs", json={"agreement_id": agreement, "kind": "sql", "code": LOAD_PER_SHIFT}
        )
    ).json()
    done = await _settled(consumer, job["id"], "released")
    assert done["manualRelease"] is False and done["resultRows"] == 3

    escape = (
        await consumer.api.post(
            "/api/v1/compute/jobs",
            json={"agreement_id": agreement, "kind": "sql", "code": "SELECT * FROM read_csv('/etc/passwd')"},
        )
    ).json()
    failed = await _settled(consumer, escape["id"], "failed")
    assert failed["reason"]
    health = await provider.api.get("/api/v1/compute/runtimes")
    assert health.status_code == 200 and {r["id"] for r in health.json()} >= {"duckdb-sql/1"}


async def test_privacy_budget_is_tracked_and_refused_when_spent(
    make_node: NodeFactory, tmp_path: Path
) -> None:
    provider = await make_node("Maschinenbau Muster GmbH", 8717)
    consumer = await make_node("Feinteile KG", 8718)
    agreement = await _compute_agreement(provider, consumer, _spindle_csv(tmp_path), epsilon="1.0")
    plain = await consumer.api.post(
        "/api/v1/compute/jobs", json={"agreement_id": agreement, "kind": "sql", "code": LOAD_PER_SHIFT}
    )
    assert plain.status_code == 400 and "noise" in plain.json()["error"]
    noised = {
        "epsilon": 0.6,
        "columns": [{"name": "avg_load", "statistic": "mean", "lower": 0, "upper": 100}],
    }
    first = (
        await consumer.api.post(
            "/api/v1/compute/jobs",
            json={"agreement_id": agreement, "kind": "sql", "code": LOAD_PER_SHIFT, "privacy": noised},
        )
    ).json()
    theirs = await _provider_job(provider, "awaiting-release")
    assert (await provider.api.post(f"/api/v1/compute/jobs/{theirs['id']}/release")).status_code == 200
    assert (await _settled(consumer, first["id"], "released"))["epsilon"] == pytest.approx(0.6)
    second = (
        await consumer.api.post(
            "/api/v1/compute/jobs",
            json={"agreement_id": agreement, "kind": "sql", "code": LOAD_PER_SHIFT, "privacy": noised},
        )
    ).json()
    refused = await _settled(consumer, second["id"], "rejected")
    assert "privacy budget" in refused["reason"]


@pytest.mark.skipif(
    not shutil.which("bwrap") and os.environ.get("ALLMENDE_REQUIRE_SANDBOX") != "1",
    reason="bubblewrap is not installed",
)
async def test_python_job_runs_in_the_sandbox(make_node: NodeFactory, tmp_path: Path) -> None:
    provider = await make_node("Maschinenbau Muster GmbH", 8719)
    consumer = await make_node("Feinteile KG", 8720)
    agreement = await _compute_agreement(provider, consumer, _spindle_csv(tmp_path))
    code = (
        "import pandas as pd\n"
        "frame = pd.read_csv('/input/data.csv')\n"
        "out = frame.groupby('shift').agg(n=('load', 'size'), peak=('load', 'max')).reset_index()\n"
        "out.to_csv('/output/result.csv', index=False)\n"
    )
    job = (
        await consumer.api.post(
            "/api/v1/compute/jobs", json={"agreement_id": agreement, "kind": "python", "code": code}
        )
    ).json()
    theirs = await _provider_job(provider, "awaiting-release")
    assert theirs["preview"]["columns"] == ["shift", "n", "peak"]
    rejected = await provider.api.post(
        f"/api/v1/compute/jobs/{theirs['id']}/reject", json={"reason": "peaks reveal single machines"}
    )
    assert rejected.status_code == 200
    done = await _settled(consumer, job["id"], "rejected")
    assert done["reason"] == "peaks reveal single machines"
