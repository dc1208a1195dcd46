"""Catalog latency: POST /dsp/catalog/request (first page, 100 datasets) on a provider with many offers.

``python -m bench.catalog`` — for 100 (baseline), 1,000 and 10,000 published offers: median and p95 of
30 authenticated catalog requests (fresh self-issued token each, made outside the timing) against the
provider served by uvicorn on 127.0.0.1 in this process, and the number of SQL statements each request
runs (a ``before_cursor_execute`` event on the node's engine) — it must not grow with the catalog.
Target: ≤ 100 ms at 10,000 offers.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import event

from bench._common import free_port, load_average, machine, median, percentile

SIZES = (100, 1_000, 10_000)
REQUESTS = 30
TARGET_MS = 100.0


@dataclass(frozen=True)
class CatalogPoint:
    offers: int
    median_ms: float
    p95_ms: float
    statements: tuple[int, int]  # min, max SQL statements per request
    datasets: int
    insert_s: float


def _populate(data_dir: Path, did: str, count: int, file: Path) -> float:
    from allmende.catalog.policy_source import policy_from_argument
    from allmende.catalog.service import NewAsset, add_asset
    from allmende.settings import load_settings
    from allmende.sources import FileSource
    from allmende.store.database import Database

    database = Database(load_settings(data_dir).effective_database_url)
    started = time.monotonic()
    try:
        policy, template = policy_from_argument("open-use", assigner=did, params={})
        policy = {k: v for k, v in policy.items() if k != "@id"}  # each offer gets a fresh @id
        with database.transaction() as session:
            for i in range(count):
                add_asset(
                    session,
                    NewAsset(
                        FileSource(file),
                        f"Dataset {i}",
                        f"Benchmark dataset number {i}",
                        ("bench", f"k{i % 50}"),
                    ),
                    policy,
                    actor="bench",
                    template=template,
                )
    finally:
        database.dispose()
    return time.monotonic() - started


def _serve_in_thread(app: Any, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("catalog server did not start")
        time.sleep(0.01)
    return server, thread


def measure_one(count: int, tmp: Path) -> CatalogPoint:
    from allmende.app import create_app
    from allmende.identity import issue_token
    from allmende.identity.keys import KeyStore
    from allmende.node import KEYS_FOLDER, Node
    from allmende.protocol.schemas import DSP_CONTEXT
    from allmende.settings import load_settings
    from allmende.setup_node import init_node

    port = free_port()
    provider_dir, caller_dir = tmp / f"provider-{count}", tmp / f"caller-{count}"
    provider = init_node(provider_dir, name="Catalog", public_url=f"http://127.0.0.1:{port}", port=port)
    caller = init_node(caller_dir, name="Caller", public_url="http://127.0.0.1:1", port=1)
    caller_key = KeyStore.load(caller_dir / KEYS_FOLDER).active
    file = tmp / "small.csv"
    file.write_text("t,v\n0,1\n", encoding="utf-8")
    insert_s = _populate(provider_dir, provider.did, count, file)

    settings = load_settings(provider_dir)
    pinned = [{"did": caller.did, "jwk": caller_key.public_jwk()}]  # no DID resolution in the timing
    settings = type(settings)(
        data_dir=provider_dir, values={**settings.values, "trusted_participants": pinned}
    )
    node = Node(settings)
    statements = 0

    def count_statement(*_args: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(node.db.engine, "before_cursor_execute", count_statement)
    server, thread = _serve_in_thread(create_app(node), port)
    times: list[float] = []
    counts: list[int] = []
    datasets = 0
    body = {"@context": DSP_CONTEXT, "@type": "CatalogRequestMessage", "filter": []}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            for i in range(REQUESTS + 3):
                token = issue_token(caller_key, caller.did, provider.did, ttl_seconds=120)
                statements = 0
                t = time.perf_counter()
                response = client.post(
                    "/dsp/catalog/request", json=body, headers={"Authorization": f"Bearer {token}"}
                )
                elapsed = time.perf_counter() - t
                response.raise_for_status()
                if i >= 3:  # the first three warm caches and connections
                    times.append(elapsed)
                    counts.append(statements)
                    datasets = len(response.json().get("dataset", []))
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        event.remove(node.db.engine, "before_cursor_execute", count_statement)
    return CatalogPoint(
        count,
        median(times) * 1000,
        percentile(times, 95) * 1000,
        (min(counts), max(counts)),
        datasets,
        insert_s,
    )


def measure(sizes: tuple[int, ...] = SIZES) -> list[CatalogPoint]:
    with tempfile.TemporaryDirectory(prefix="allmende-bench-") as tmp:
        return [measure_one(count, Path(tmp)) for count in sizes]


def report(points: list[CatalogPoint]) -> list[tuple[str, str, str, str]]:
    base = points[0]
    rows = []
    for point in points:
        rows.append(
            (
                f"catalog page of 100, {point.offers} offers",
                f"{point.median_ms:.1f} ms p50 / {point.p95_ms:.1f} ms p95",
                f"{point.median_ms / base.median_ms:.2f}x {base.offers} offers; "
                f"SQL/request {point.statements[0]}-{point.statements[1]}; {point.datasets} datasets",
                f"<= {TARGET_MS:.0f} ms" if point.offers == max(p.offers for p in points) else "",
            )
        )
    return rows


def main() -> None:
    print(f"machine: {machine()}; load {load_average()}")
    points = measure()
    for name, figure, ratio, target in report(points):
        print(f"{name}: {figure}  ({ratio}{'; target ' + target if target else ''})")
    for point in points:
        print(f"  (setup: {point.offers} offers inserted in {point.insert_s:.1f} s)")


if __name__ == "__main__":
    main()
