"""Helpers of the benchmark tests: a recording network and the steps of a round through the API."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from allmende.benchmarking.runtime import BenchmarkRuntime
from allmende.loopback import InProcessNetwork
from tests.conftest import RunningNode
from tests.support.waiting import eventually

KPIS = [
    {"name": "oee", "unit": "%", "lower": 0, "upper": 100, "buckets": 10},
    {"name": "energy", "unit": "kWh/part", "lower": 0, "upper": 5, "buckets": 5},
]

VALUES = [
    {"oee": 61.2837, "energy": 1.2931},
    {"oee": 73.4172, "energy": 0.8813},
    {"oee": 58.9061, "energy": 2.4457},
    {"oee": 82.1549, "energy": 1.7719},
    {"oee": 69.7713},  # no energy figure: counted for OEE only
    {"oee": 77.0388, "energy": 3.1126},
]


class RecordingNetwork(InProcessNetwork):
    """An in-process network that keeps every request and response body and can cut chosen requests."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[bytes] = []
        self.blocked: Callable[[httpx.Request], bool] = lambda _request: False

    def transport(self) -> httpx.AsyncBaseTransport:
        return _Recording(self)


class _Recording(httpx.AsyncBaseTransport):
    def __init__(self, network: RecordingNetwork) -> None:
        self._network = network

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._network.bodies.append(await request.aread())
        if self._network.blocked(request):
            raise httpx.ConnectError("cut off by the test", request=request)
        response = await self._network.route(request).handle_async_request(request)
        self._network.bodies.append(await response.aread())
        return response


def caller_of(request: httpx.Request) -> str | None:
    """The issuer of the request's self-issued token (read without checking: the test only routes)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme != "Bearer" or token.count(".") != 2:
        return None
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    issuer = claims.get("iss")
    return issuer if isinstance(issuer, str) else None


def to_node(request: httpx.Request, node: RunningNode, suffix: str) -> bool:
    """True for a request to ``node`` whose path ends with ``suffix``."""
    return str(request.url).startswith(node.node.base_url) and request.url.path.endswith(suffix)


async def tick_until(
    organiser: RunningNode, round_id: str, states: Sequence[str] = ("released", "failed"), timeout: float = 30
) -> dict[str, Any]:
    """Run the organiser's timer by hand until the round reaches one of ``states``."""
    runtime: BenchmarkRuntime = organiser.app.state.benchmarks

    async def probe() -> dict[str, Any]:
        await runtime.tick()
        return await round_state(organiser, round_id)

    return await eventually(probe, lambda r: r["state"] in states, timeout)


def in_future(seconds: float = 3600) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


async def organise(organiser: RunningNode, **overrides: Any) -> dict[str, Any]:
    """Create a round on ``organiser`` (two KPIs, minimum 5, deadline in an hour)."""
    body = {"title": "OEE 2026", "kpis": KPIS, "deadline": in_future(), "minParticipants": 5, **overrides}
    response = await organiser.api.post("/api/v1/benchmarks/rounds", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def join(node: RunningNode, url: str, values: dict[str, float]) -> dict[str, Any]:
    response = await node.api.post(
        "/api/v1/benchmarks/participations", json={"round_url": url, "values": values}
    )
    assert response.status_code == 201, response.text
    joined: dict[str, Any] = response.json()
    return joined


async def close(organiser: RunningNode, round_id: str) -> dict[str, Any]:
    response = await organiser.api.post(f"/api/v1/benchmarks/rounds/{round_id}/close")
    assert response.status_code == 200, response.text
    closed: dict[str, Any] = response.json()
    return closed


async def round_state(organiser: RunningNode, round_id: str) -> dict[str, Any]:
    view: dict[str, Any] = (await organiser.api.get(f"/api/v1/benchmarks/rounds/{round_id}")).json()
    return view


async def wait_round(
    organiser: RunningNode, round_id: str, states: Sequence[str] = ("released", "failed"), timeout: float = 30
) -> dict[str, Any]:
    return await eventually(lambda: round_state(organiser, round_id), lambda r: r["state"] in states, timeout)


async def participation(node: RunningNode, participation_id: str) -> dict[str, Any]:
    view: dict[str, Any] = (
        await node.api.get(f"/api/v1/benchmarks/participations/{participation_id}")
    ).json()
    return view


async def wait_participation(
    node: RunningNode, participation_id: str, states: Sequence[str], timeout: float = 30
) -> dict[str, Any]:
    return await eventually(
        lambda: participation(node, participation_id), lambda p: p["state"] in states, timeout
    )
