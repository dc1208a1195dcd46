"""Where a negotiation's CPU goes: two nodes in one process (InProcessNetwork), under cProfile.

``python -m bench.profile_negotiation [N]`` — runs N negotiations (8 in flight) between two in-process
nodes on SQLite and prints the top functions by cumulative and by own time. Not part of ``make bench``
(a diagnosis tool, not a figure); writes bench/results/negotiation.prof for snakeviz/pstats.

The work the nodes hand to worker threads (``anyio.to_thread.run_sync``: every transaction) runs
inline on the event loop here: cProfile only sees the thread that enabled it, and with several
threads its times would include waits for the GIL. So the profile covers the transactions and
measures CPU (inflated by cProfile's own overhead, ~3x; compare shares, not milliseconds). The HTTP
between the nodes goes through httpx's ASGI transport, not uvicorn and the lean peer client.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
import httpx

from bench._common import RESULTS

T = TypeVar("T")


async def _run(count: int, profiler: cProfile.Profile) -> float:
    from allmende.app import create_app
    from allmende.loopback import InProcessNetwork
    from allmende.node import Node
    from allmende.settings import load_settings
    from allmende.setup_node import init_node

    network = InProcessNetwork()
    with tempfile.TemporaryDirectory(prefix="allmende-prof-") as tmp_name:
        tmp = Path(tmp_name)
        nodes, clients = [], []
        for name, port in (("Provider", 8401), ("Consumer", 8402)):
            created = init_node(tmp / name, name=name, public_url=f"http://127.0.0.1:{port}", port=port)
            node = Node(load_settings(tmp / name), transport=network.transport())
            await node.start()
            app = create_app(node, manage_lifecycle=False)
            network.add(node.base_url, app)
            nodes.append(node)
            clients.append(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app),
                    base_url=node.base_url,
                    headers={"Authorization": f"Bearer {created.admin_key}"},
                )
            )
        provider, consumer = clients
        data = tmp / "data.csv"
        data.write_text("t,v\n0,1\n", encoding="utf-8")
        offer = await provider.post(
            "/api/v1/assets",
            json={"path": str(data), "title": "T", "description": "D", "template": "open-use"},
        )
        offer_id = offer.json()["offer"]["id"]
        body = {"address": nodes[0].base_url, "offer_id": offer_id}

        async def one() -> None:
            started = await consumer.post("/api/v1/negotiations", json=body)
            negotiation_id = started.json()["id"]
            while True:
                await asyncio.sleep(0.05)
                state = (await consumer.get(f"/api/v1/negotiations/{negotiation_id}")).json()["state"]
                if state in ("FINALIZED", "TERMINATED"):
                    return

        await one()  # warm caches (DID documents, schemas)
        semaphore = asyncio.Semaphore(8)

        async def limited() -> None:
            async with semaphore:
                await one()

        profiler.enable()
        t = time.monotonic()
        await asyncio.gather(*(limited() for _ in range(count)))
        elapsed = time.monotonic() - t
        profiler.disable()
        for client in clients:
            await client.aclose()
        for node in nodes:
            await node.stop()
    return elapsed


async def _inline(func: Callable[..., T], *args: Any, **_options: Any) -> T:
    """``anyio.to_thread.run_sync`` without the thread (see the module docstring)."""
    return func(*args)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    profiler = cProfile.Profile()
    anyio.to_thread.run_sync = _inline  # type: ignore[assignment]
    elapsed = asyncio.run(_run(count, profiler))
    print(f"{count} negotiations in {elapsed:.1f} s (profiled; both nodes in one process, one thread)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(RESULTS / "negotiation.prof")
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
