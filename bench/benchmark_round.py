"""Private peer benchmark rounds: time from closing a round to the released figures.

``python -m bench.benchmark_round [--participants 20] [--real 5]`` — (1) ``--participants`` member nodes
and an organiser in this process on the in-process network (``allmende.loopback``): real ``Node``
objects, each with its own SQLite, keys and app; every share, receipt, share-sum and outcome is a
signed HTTP message through the outbox or a signed call; (2) ``--real`` member nodes and an organiser
as real server processes on loopback (``bench._serve``). Each member gives three KPIs. Measured: close
→ released at the organiser, and close → every participant holds the result. Baselines in the same
run: the same secure aggregation as pure math without network or database (sharing, share-sums,
reconstruction, release) and the plain computation of the figures from the values.
Target: <= 5 s to the result for 20 participants in one process.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench._common import free_port, load_average, machine, spawn, stop, wait_ready

TARGET_S = 5.0
KPIS = [
    {"name": "oee", "unit": "%", "lower": 0, "upper": 100, "buckets": 10},
    {"name": "energy", "unit": "kWh/part", "lower": 0, "upper": 5, "buckets": 10},
    {"name": "digital_orders", "unit": "%", "lower": 0, "upper": 100, "buckets": 10},
]
QUIET = {"crawl_interval_seconds": 0, "membership_poll_seconds": 0}


@dataclass(frozen=True)
class RoundTiming:
    participants: int
    released_s: float
    everyone_s: float
    state: str
    cpu_s: float  # CPU time of this process from close to release (in-process round: all nodes)


@dataclass(frozen=True)
class RoundResult:
    in_process: RoundTiming
    real: RoundTiming | None
    pure_math_ms: float
    plain_ms: float


def _values(rng: random.Random) -> dict[str, float]:
    return {
        "oee": round(rng.uniform(40, 95), 4),
        "energy": round(rng.uniform(0.2, 4.5), 4),
        "digital_orders": round(rng.uniform(0, 100), 4),
    }


def _round_body() -> dict[str, Any]:
    deadline = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    return {
        "title": "OEE bench",
        "kpis": KPIS,
        "deadline": deadline,
        "minParticipants": 5,
        "phaseSeconds": 60,
    }


def pure_math_ms(values: list[dict[str, float]], repeats: int = 5) -> float:
    """The same aggregation without network or database: best of ``repeats``, in ms."""
    from allmende.benchmarking.field import add_vectors, reconstruct, share_vector
    from allmende.benchmarking.kpis import contribution, kpis_from_json, split_totals
    from allmende.benchmarking.release import release
    from allmende.benchmarking.states import threshold_for

    kpis = kpis_from_json(KPIS)
    n = len(values)
    positions = list(range(1, n + 1))
    threshold = threshold_for(n, None)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        dealt = [share_vector(contribution(kpis, v), positions, threshold) for v in values]
        sums = {p: add_vectors([d[p] for d in dealt]) for p in positions}
        totals = split_totals(kpis, reconstruct(sums, threshold), n)
        release(totals, 5)
        best = min(best, time.perf_counter() - started)
    return best * 1000


def plain_ms(values: list[dict[str, float]], repeats: int = 5) -> float:
    """Count, mean and histogram straight from the values: best of ``repeats``, in ms."""
    from allmende.benchmarking.kpis import kpis_from_json

    kpis = kpis_from_json(KPIS)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for kpi in kpis:
            given = [v[kpi.name] for v in values]
            histogram = [0] * kpi.buckets
            for value in given:
                histogram[kpi.bucket_of(value)] += 1
            _ = (len(given), sum(given) / len(given), histogram)
        best = min(best, time.perf_counter() - started)
    return best * 1000


async def _wait(probe: Any, done: Any, timeout: float = 120.0, every: float = 0.005) -> Any:
    deadline = time.perf_counter() + timeout
    while not done(value := await probe()):
        if time.perf_counter() > deadline:
            raise TimeoutError(f"not done within {timeout} s: {value!r}")
        await asyncio.sleep(every)
    return value


async def _run_round(
    organiser: httpx.AsyncClient, members: list[httpx.AsyncClient], values: list[dict[str, float]]
) -> RoundTiming:
    created = (await organiser.post("/api/v1/benchmarks/rounds", json=_round_body())).json()
    joined = await asyncio.gather(
        *(
            m.post("/api/v1/benchmarks/participations", json={"round_url": created["url"], "values": v})
            for m, v in zip(members, values, strict=True)
        )
    )
    ids = [j.json()["id"] for j in joined]
    started, cpu = time.perf_counter(), time.process_time()
    closed = await organiser.post(f"/api/v1/benchmarks/rounds/{created['id']}/close")
    assert closed.json()["state"] == "sharing", closed.text
    final = await _wait(
        lambda: organiser.get(f"/api/v1/benchmarks/rounds/{created['id']}"),
        lambda r: r.json()["state"] in ("released", "failed"),
    )
    released, cpu_s = time.perf_counter() - started, time.process_time() - cpu

    async def everyone() -> list[str]:
        answers = await asyncio.gather(
            *(m.get(f"/api/v1/benchmarks/participations/{i}") for m, i in zip(members, ids, strict=True))
        )
        return [a.json()["state"] for a in answers]

    await _wait(everyone, lambda states: all(s in ("released", "failed") for s in states), every=0.02)
    return RoundTiming(len(members), released, time.perf_counter() - started, final.json()["state"], cpu_s)


async def in_process(participants: int, values: list[dict[str, float]]) -> RoundTiming:
    from allmende.app import create_app
    from allmende.loopback import InProcessNetwork
    from allmende.node import Node
    from allmende.settings import load_settings
    from allmende.setup_node import init_node

    network = InProcessNetwork()
    nodes: list[Node] = []
    clients: list[httpx.AsyncClient] = []
    with tempfile.TemporaryDirectory(prefix="allmende-bench-round-") as tmp:
        try:
            for i in range(participants + 1):
                url = f"http://127.0.0.1:{21000 + i}"
                created = init_node(Path(tmp) / f"n{i}", name=f"Node {i}", public_url=url)
                loaded = load_settings(created.data_dir, environ={})
                settings = type(loaded)(data_dir=created.data_dir, values={**loaded.values, **QUIET})
                node = Node(settings, transport=network.transport())
                app = create_app(node, manage_lifecycle=False)
                network.add(url, app)
                await node.start()
                app.state.benchmarks.start()
                nodes.append(node)
                clients.append(
                    httpx.AsyncClient(
                        transport=httpx.ASGITransport(app=app),
                        base_url=url,
                        headers={"Authorization": f"Bearer {created.admin_key}"},
                        timeout=60,
                    )
                )
            return await _run_round(clients[0], clients[1:], values)
        finally:
            for client in clients:
                await client.aclose()
            for node in nodes:
                await node.stop()


async def real_processes(participants: int, values: list[dict[str, float]]) -> RoundTiming:
    from allmende.setup_node import init_node

    with tempfile.TemporaryDirectory(prefix="allmende-bench-round-real-") as tmp_name:
        tmp = Path(tmp_name)
        procs = []
        clients: list[httpx.AsyncClient] = []
        try:
            ports = []
            for i in range(participants + 1):
                port = free_port()
                url = f"http://127.0.0.1:{port}"
                created = init_node(tmp / f"n{i}", name=f"Node {i}", public_url=url, port=port)
                procs.append(
                    spawn(
                        ["-m", "bench._serve", str(created.data_dir)],
                        log=tmp / f"n{i}.log",
                        pycache=tmp / "pyc",
                    )
                )
                ports.append(port)
                clients.append(
                    httpx.AsyncClient(
                        base_url=url, timeout=60, headers={"Authorization": f"Bearer {created.admin_key}"}
                    )
                )
                if i == 0:  # the first one compiles the bytecode the others then load
                    wait_ready(port, procs[0], timeout=120)
            for port, proc in zip(ports, procs, strict=True):
                wait_ready(port, proc, timeout=120)
            return await _run_round(clients[0], clients[1:], values)
        finally:
            for client in clients:
                await client.aclose()
            for proc in procs:
                stop(proc)


def measure(participants: int = 20, real: int = 5) -> RoundResult:
    rng = random.Random(7)
    values = [_values(rng) for _ in range(max(participants, real))]
    timing = asyncio.run(in_process(participants, values[:participants]))
    real_timing = asyncio.run(real_processes(real, values[:real])) if real else None
    return RoundResult(
        timing, real_timing, pure_math_ms(values[:participants]), plain_ms(values[:participants])
    )


def report(result: RoundResult) -> list[tuple[str, str, str, str]]:
    one = result.in_process
    rows = [
        (
            f"benchmark round, {one.participants} participants in one process",
            f"{one.released_s:.2f} s to release ({one.cpu_s:.2f} s CPU), {one.everyone_s:.2f} s until all "
            f"hold it ({one.state})",
            f"{one.released_s * 1000 / result.pure_math_ms:.0f}x the same math without network "
            f"({result.pure_math_ms:.1f} ms; plain figures {result.plain_ms:.3f} ms)",
            f"<= {TARGET_S:.0f} s",
        )
    ]
    if result.real is not None:
        real = result.real
        rows.append(
            (
                f"benchmark round, {real.participants} participants + organiser as real processes",
                f"{real.released_s:.2f} s to release, {real.everyone_s:.2f} s until all hold it "
                f"({real.state})",
                f"{real.released_s / one.released_s:.2f}x the in-process round above",
                "",
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.benchmark_round")
    parser.add_argument("--participants", type=int, default=20)
    parser.add_argument("--real", type=int, default=5, help="participants as real processes (0: skip)")
    args = parser.parse_args()
    print(f"machine: {machine()}; load {load_average()}")
    result = measure(args.participants, args.real)
    for name, figure, ratio, target in report(result):
        print(f"{name}: {figure}  ({ratio}{'; target ' + target if target else ''})")
    print(f"load at the end: {load_average()}")


if __name__ == "__main__":
    main()
