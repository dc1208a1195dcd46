"""Negotiation throughput: two nodes as real processes on loopback, each on its own SQLite.

``python -m bench.negotiations [--seconds S] [--concurrency C] [--profile]`` — the provider
publishes one open-use offer; the consumer runs full negotiations (REQUESTED → AGREED → VERIFIED
→ FINALIZED), C in flight, each started with POST /api/v1/negotiations and detected as FINALIZED
by polling the list endpoint for changes (``updated_after``). Reports negotiations/s over the
measured window and p50/p99 latency (start request to FINALIZED seen). Baseline in the same run: C concurrent
authenticated GET /api/v1/node against the consumer. The consumer's API is called through a lean client
(``bench._lean_api``: requests written by hand on keep-alive connections) so that the client, which
shares the 2 cores with the two nodes, takes little of them. Also measures the remote-catalog fetch that
every POST /api/v1/negotiations does first. ``--profile`` records both servers with py-spy (active threads,
collapsed stacks in bench/results/negotiations-{provider,consumer}.txt; py-spy is not a dependency).
Target: ≥ 100 negotiations/s on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench._common import (
    RESULTS,
    free_port,
    load_average,
    machine,
    median,
    percentile,
    spawn,
    stop,
    wait_ready,
)
from bench._lean_api import LeanApiClient

TARGET_RATE = 100.0
OVERLAP = timedelta(seconds=0.25)
WARMUP_S = 2.0


@dataclass(frozen=True)
class NegotiationResult:
    rate: float
    p50_s: float
    p99_s: float
    finalized: int
    failed: int
    base_rate: float
    catalog_p50_s: float
    start_p50_s: float
    catalog_rate: float
    provider_cpu_ms: float
    consumer_cpu_ms: float
    base_cpu_ms: float
    client_cpu_ms: float
    """CPU of this benchmark process (the API client: starts and polling) per negotiation."""
    profiles: list[Path]

    @property
    def ratio(self) -> float:
        return self.rate / self.base_rate

    @property
    def cpu_bound_rate(self) -> float:
        """Negotiations/s the two servers' CPU time allows on 2 free cores (load from others excluded)."""
        return 2000.0 / (self.provider_cpu_ms + self.consumer_cpu_ms)

    @property
    def catalog_share(self) -> float:
        """Share of the negotiation capacity spent on the catalog fetch (rate / catalog-only rate)."""
        return self.rate / self.catalog_rate


def _cpu_s(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


def _ok(response: httpx.Response) -> None:
    if response.status_code >= 400:
        raise RuntimeError(f"the consumer answered {response.status_code}: {response.text[:300]}")


async def _hammer(
    client: LeanApiClient, method: str, url: str, body: Any, seconds: float, concurrency: int
) -> tuple[float, list[float]]:
    """Requests/s of ``concurrency`` loops doing one request each for ``seconds``."""
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    async def loop() -> None:
        while time.monotonic() < deadline:
            t = time.monotonic()
            _ok(await client.request(method, url, json=body))
            latencies.append(time.monotonic() - t)

    started = time.monotonic()
    await asyncio.gather(*(loop() for _ in range(concurrency)))
    return len(latencies) / (time.monotonic() - started), latencies


async def _negotiate(
    consumer: LeanApiClient, provider_url: str, offer_id: str, seconds: float, concurrency: int
) -> tuple[float, list[float], int, int]:
    """Run negotiations for ``seconds``; (rate in the window after warm-up, latencies, done, failed)."""
    pending: dict[str, asyncio.Future[str]] = {}
    finished: list[tuple[float, float]] = []  # (time finalized, latency)
    failed = 0
    start = time.monotonic()
    stop_at = start + seconds
    polling = True

    async def poller() -> None:
        # Only what changed since the last look, with an overlap for a change whose transaction was
        # still open at the last look (same machine, same clock; transactions take milliseconds here,
        # and a missed change would show as a failure after the 60 s timeout).
        since = datetime.now(UTC) - OVERLAP
        while polling or pending:
            await asyncio.sleep(0.05)
            if not pending:
                continue
            now = datetime.now(UTC)
            response = await consumer.get(
                "/api/v1/negotiations",
                params={"role": "consumer", "limit": 1000, "updated_after": since.isoformat()},
            )
            since = now - OVERLAP
            seen = {n["id"]: n["state"] for n in response.json()}
            for negotiation_id, future in list(pending.items()):
                state = seen.get(negotiation_id)
                if state in ("FINALIZED", "TERMINATED") and not future.done():
                    future.set_result(state)
                    del pending[negotiation_id]

    async def worker() -> None:
        nonlocal failed
        loop = asyncio.get_running_loop()
        while time.monotonic() < stop_at:
            t = time.monotonic()
            response = await consumer.post(
                "/api/v1/negotiations", json={"address": provider_url, "offer_id": offer_id}
            )
            if response.status_code != 201:
                failed += 1
                continue
            future: asyncio.Future[str] = loop.create_future()
            pending[response.json()["id"]] = future
            try:
                state = await asyncio.wait_for(future, timeout=60)
            except TimeoutError:
                failed += 1
                continue
            if state != "FINALIZED":
                failed += 1
                continue
            now = time.monotonic()
            finished.append((now, now - t))

    poll_task = asyncio.create_task(poller())
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    polling = False
    await poll_task
    window = [(t, lat) for t, lat in finished if start + WARMUP_S <= t <= stop_at]
    rate = len(window) / (stop_at - start - WARMUP_S)
    return rate, [lat for _, lat in window], len(finished), failed


def _start_spies(
    procs: list[subprocess.Popen[bytes]], seconds: float
) -> tuple[list[subprocess.Popen[bytes]], list[Path]]:
    """py-spy recording each server for the measured window (nothing when py-spy is not installed)."""
    beside = Path(sys.executable).with_name("py-spy")
    exe = str(beside) if beside.exists() else shutil.which("py-spy")
    if exe is None:
        print("py-spy not found: no profile")
        return [], []
    RESULTS.mkdir(parents=True, exist_ok=True)
    spies, paths = [], []
    for proc, name in zip(procs, ("provider", "consumer"), strict=True):
        path = RESULTS / f"negotiations-{name}.txt"
        command = [
            exe, "record", "--pid", str(proc.pid), "-o", str(path), "--format", "raw",
            "--duration", str(int(seconds)), "--rate", "200", "--nonblocking", "--gil",
        ]  # fmt: skip
        spies.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        paths.append(path)
    return spies, paths


async def _run(seconds: float, concurrency: int, profile: bool) -> NegotiationResult:
    from allmende.setup_node import init_node

    with tempfile.TemporaryDirectory(prefix="allmende-bench-") as tmp_name:
        tmp = Path(tmp_name)
        p_port, c_port = free_port(), free_port()
        provider_url, consumer_url = f"http://127.0.0.1:{p_port}", f"http://127.0.0.1:{c_port}"
        p_node = init_node(tmp / "provider", name="Provider", public_url=provider_url, port=p_port)
        c_node = init_node(tmp / "consumer", name="Consumer", public_url=consumer_url, port=c_port)
        pycache = tmp / "pycache"
        procs = [
            spawn(["-m", "bench._serve", str(tmp / "provider")], log=tmp / "provider.log", pycache=pycache),
            spawn(["-m", "bench._serve", str(tmp / "consumer")], log=tmp / "consumer.log", pycache=pycache),
        ]
        spies: list[subprocess.Popen[bytes]] = []
        profiles: list[Path] = []
        try:
            # Generous: the first start compiles every module into the fresh bytecode cache, which
            # takes well over 30 s on a loaded 2-core machine (both servers compile at once).
            wait_ready(p_port, procs[0], timeout=180)
            wait_ready(c_port, procs[1], timeout=180)
            data = tmp / "measurements.csv"
            data.write_text("t,value\n0,1\n", encoding="utf-8")
            # The consumer's API is called through a lean client (no httpx client layer): this process
            # shares the 2 cores with the two nodes, and the client is not what is measured.
            consumer = LeanApiClient(consumer_url, c_node.admin_key)
            async with httpx.AsyncClient(
                base_url=provider_url, headers={"Authorization": f"Bearer {p_node.admin_key}"}, timeout=60
            ) as provider:
                created = await provider.post(
                    "/api/v1/assets",
                    json={
                        "path": str(data),
                        "title": "Measurements",
                        "description": "Benchmark data",
                        "keywords": ["bench"],
                        "template": "open-use",
                    },
                )
                created.raise_for_status()
                offer_id = created.json()["offer"]["id"]

                watched = [psutil.Process(proc.pid) for proc in procs]
                cpu0 = _cpu_s(watched[1])
                base_rate, base_lat = await _hammer(consumer, "GET", "/api/v1/node", None, 5.0, concurrency)
                base_cpu_ms = (_cpu_s(watched[1]) - cpu0) * 1000 / len(base_lat)

                # The remote-catalog fetch alone: serial latency, then throughput at the same concurrency.
                catalog_body = {"address": provider_url}
                serial: list[float] = []
                for _ in range(30):
                    t = time.monotonic()
                    _ok(await consumer.post("/api/v1/remote-catalogs", json=catalog_body))
                    serial.append(time.monotonic() - t)
                catalog_rate, _ = await _hammer(
                    consumer, "POST", "/api/v1/remote-catalogs", catalog_body, 5.0, concurrency
                )
                # Serial start latency (includes the catalog fetch), one negotiation at a time.
                starts: list[float] = []
                for _ in range(20):
                    t = time.monotonic()
                    r = await consumer.post(
                        "/api/v1/negotiations", json={"address": provider_url, "offer_id": offer_id}
                    )
                    _ok(r)
                    starts.append(time.monotonic() - t)
                await asyncio.sleep(1.0)  # let those 20 finish before the measured run

                if profile:
                    spies, profiles = _start_spies(procs, seconds)
                cpu_start = [_cpu_s(w) for w in watched]
                client_start = time.process_time()
                rate, latencies, done, failed = await _negotiate(
                    consumer, provider_url, offer_id, seconds, concurrency
                )
                cpu_ms = [
                    (_cpu_s(w) - c) * 1000 / max(done, 1) for w, c in zip(watched, cpu_start, strict=True)
                ]
                client_cpu_ms = (time.process_time() - client_start) * 1000 / max(done, 1)
                for spy in spies:
                    spy.wait(timeout=60)
            await consumer.aclose()
        finally:
            for proc in procs:
                stop(proc)
    return NegotiationResult(
        rate=rate,
        p50_s=percentile(latencies, 50),
        p99_s=percentile(latencies, 99),
        finalized=done,
        failed=failed,
        base_rate=base_rate,
        catalog_p50_s=median(serial),
        start_p50_s=median(starts),
        catalog_rate=catalog_rate,
        provider_cpu_ms=cpu_ms[0],
        consumer_cpu_ms=cpu_ms[1],
        base_cpu_ms=base_cpu_ms,
        client_cpu_ms=client_cpu_ms,
        profiles=[path for path in profiles if path.exists()],
    )


def measure(seconds: float = 20.0, concurrency: int = 32, profile: bool = False) -> NegotiationResult:
    return asyncio.run(_run(seconds, concurrency, profile))


def report(result: NegotiationResult) -> list[tuple[str, str, str, str]]:
    rows = [
        (
            "negotiations/s (32 in flight)",
            f"{result.rate:.1f}/s",
            f"{result.ratio:.3f}x GET /api/v1/node ({result.base_rate:.0f}/s)",
            f">= {TARGET_RATE:.0f}/s",
        ),
        (
            "negotiation latency p50 / p99",
            f"{result.p50_s * 1000:.0f} / {result.p99_s * 1000:.0f} ms",
            f"{result.finalized} finalized, {result.failed} failed",
            "",
        ),
        (
            "remote catalog fetch (part of every start)",
            f"{result.catalog_p50_s * 1000:.1f} ms p50 alone",
            f"{result.catalog_p50_s / result.start_p50_s:.0%} of a serial start "
            f"({result.start_p50_s * 1000:.1f} ms); {result.catalog_rate:.0f} fetches/s at 32 "
            f"-> ~{result.catalog_share:.0%} of capacity",
            "",
        ),
        (
            "server CPU per negotiation",
            f"{result.provider_cpu_ms:.1f} ms provider + {result.consumer_cpu_ms:.1f} ms consumer",
            f"{(result.provider_cpu_ms + result.consumer_cpu_ms) / result.base_cpu_ms:.0f}x one GET "
            f"/api/v1/node ({result.base_cpu_ms:.1f} ms); 2-core ceiling ~{result.cpu_bound_rate:.0f}/s; "
            f"the benchmark client itself {result.client_cpu_ms:.1f} ms on the same cores",
            "",
        ),
    ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.negotiations")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--profile", action="store_true", help="record both servers with py-spy")
    args = parser.parse_args()
    print(f"machine: {machine()}; load {load_average()}")
    result = measure(args.seconds, args.concurrency, args.profile)
    for name, figure, ratio, target in report(result):
        print(f"{name}: {figure}  ({ratio}{'; target ' + target if target else ''})")
    for path in result.profiles:
        print(f"profile (py-spy, collapsed stacks): {path}")


if __name__ == "__main__":
    main()
