"""Network-scale simulation: N nodes with 100 offers each, one directory, one crawling node.

``python -m bench.network [--nodes 10,100,1000] [--real-up-to 100]`` — every node lives in this process
on the in-process network (``allmende.loopback``). Up to ``--real-up-to`` nodes are real ``Node`` objects
(own data folder, SQLite, keys, the full app; offers published with ``add_asset``); above that they are
simulated (``bench._network_sim``: own DID, real token check, paging, DCAT builder and ETag code, no
database). The directory and the crawler are always real nodes: the crawler is an admitted member of
the directory, whose signed member list names all N nodes. Measured: the full crawl, an incremental
crawl (nothing changed: every node answers 304), search p50/p95 over a mix of 200 queries on all
offers against the same queries as a ``LIKE`` scan without the index (the baseline), and the RSS of
the process (which also holds the N nodes). Goals: search p95 <= 50 ms at 100,000 offers; a full
crawl of 100 nodes <= 10 s.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from bench import _network_sim as sim
from bench._common import load_average, machine, median, percentile

SIZES = (10, 100, 1000)
OFFERS = 100
QUERIES = 200
DIRECTORY_PORT, CRAWLER_PORT, FIRST_PORT = 19000, 19001, 20000


@dataclass(frozen=True)
class NetworkPoint:
    nodes: int
    mode: str
    setup_s: float
    full_s: float
    incremental_s: float
    datasets: int
    unchanged: int
    search_p50_ms: float
    search_p95_ms: float
    like_p50_ms: float
    like_p95_ms: float
    rss_mb: float
    rss_growth_mb: float


def _mb(value: float) -> float:
    return value / 1024 / 1024


def _real_node(tmp: Path, folder: str, port: int, network: Any, **values: Any) -> Any:
    from allmende.app import create_app
    from allmende.node import Node
    from allmende.settings import load_settings
    from allmende.setup_node import init_node

    data_dir = tmp / folder
    name = str(values.get("name", folder.title()))
    init_node(data_dir, name=name, public_url=f"http://127.0.0.1:{port}", port=port)
    settings = load_settings(data_dir, environ={})
    quiet = {"crawl_interval_seconds": 0, "membership_poll_seconds": 0}
    settings = type(settings)(data_dir=data_dir, values={**settings.values, **quiet, **values})
    node = Node(settings, transport=network.transport())
    network.add(node.base_url, create_app(node, manage_lifecycle=False))
    return node


def _publish(node: Any, number: int, file: Path) -> None:
    from allmende.catalog.policy_source import policy_from_argument
    from allmende.catalog.service import NewAsset, add_asset
    from allmende.sources import FileSource

    with node.db.transaction() as session:
        for i in range(OFFERS):
            item = sim.offer(number, i)
            policy, template = policy_from_argument(item.template, assigner=node.did, params={})
            policy = {k: v for k, v in policy.items() if k != "@id"}
            asset = NewAsset(FileSource(file), item.title, item.description, item.keywords, "text/csv")
            add_asset(session, asset, policy, actor="bench", template=template)


def _admit_all(directory: Any, crawler: Any, nodes: int) -> None:
    from allmende.clock import utcnow
    from allmende.identity import did_from_url
    from allmende.network.records import DirectoryEntryRecord, MembershipRecord

    now = utcnow()
    with directory.db.transaction() as session:
        for number in range(nodes):
            base = f"http://127.0.0.1:{FIRST_PORT + number}"
            session.add(
                DirectoryEntryRecord(
                    id=f"app-{number}",
                    applicant_did=did_from_url(base),
                    name=f"Node {number}",
                    dsp_url=base + "/dsp",
                    base_url=base,
                    sector=sim.sector(number),
                    region=sim.region(number),
                    size_class="small",
                    message="",
                    state="admitted",
                    role="member",
                    received_at=now,
                )
            )
    with crawler.db.transaction() as session:
        session.add(
            MembershipRecord(
                id="membership-1",
                directory_url=directory.base_url,
                directory_did=directory.did,
                community=directory.did,
                community_name="Bench",
                application_id="app-crawler",
                state="admitted",
                applied_at=now,
                updated_at=now,
            )
        )


def _queries() -> list[dict[str, Any]]:
    rng = random.Random(7)
    mix: list[dict[str, Any]] = []
    for i in range(QUERIES):
        word, other = rng.sample(sim.WORDS, 2)
        kind = i % 8
        if kind in (0, 1):
            mix.append({"text": word.lower()})
        elif kind == 2:
            mix.append({"text": word[:4].lower()})  # a prefix, as typed
        elif kind == 3:
            mix.append({"text": f"{word} {other}"})
        elif kind == 4:
            mix.append({"text": f"{word} OR {other}"})
        elif kind == 5:
            mix.append({"text": word, "sector": rng.choice(sim.SECTORS)})
        elif kind == 6:
            mix.append({"template": rng.choice(sim.TEMPLATES[3:]), "region": rng.choice(sim.REGIONS)})
        else:
            mix.append({"text": f'"{word} {other}"', "theme": rng.choice(sim.THEMES)})
    return mix


def _like_scan(session: Any, text: str) -> int:
    """Baseline: every word as a substring of title, description or keywords, no index; count and a page."""
    from sqlalchemy import and_, func, or_, select

    from allmende.network.records import FederatedDatasetRecord as D

    words = [w.strip('"').lower() for w in text.split() if w not in ("OR",) and w.strip('"')]
    condition = and_(
        *(
            or_(
                func.lower(D.title).like(f"%{w}%"),
                func.lower(D.description).like(f"%{w}%"),
                func.lower(D.keywords).like(f"%{w}%"),
            )
            for w in words
        )
    )
    total = session.execute(select(func.count()).select_from(D).where(condition)).scalar_one()
    session.execute(select(D.id, D.title).where(condition).limit(20)).all()
    return int(total)


def _search_times(db: Any) -> tuple[list[float], list[float]]:
    from allmende.network.search import SearchQuery, search

    indexed: list[float] = []
    scanned: list[float] = []
    with db.read() as session:
        for query in _queries():
            started = time.perf_counter()
            search(session, SearchQuery(**query))
            indexed.append(time.perf_counter() - started)
            if "text" in query:
                started = time.perf_counter()
                _like_scan(session, query["text"])
                scanned.append(time.perf_counter() - started)
    return indexed, scanned


async def _run(nodes: int, real: bool, tmp: Path) -> NetworkPoint:
    from allmende.loopback import InProcessNetwork
    from allmende.network.crawler import crawl

    network = InProcessNetwork()
    started = time.monotonic()
    directory = _real_node(tmp, "directory", DIRECTORY_PORT, network, directory_enabled=True)
    crawler = _real_node(tmp, "crawler", CRAWLER_PORT, network, crawl_concurrency=16)
    providers: list[Any] = []
    if real:
        file = tmp / "data.csv"
        file.write_text("t,v\n0,1\n", encoding="utf-8")
        for number in range(nodes):
            provider = _real_node(tmp, f"node-{number}", FIRST_PORT + number, network, name=f"Node {number}")
            _publish(provider, number, file)
            providers.append(provider)
    else:
        app = sim.simulated_app(FIRST_PORT, nodes, OFFERS, (crawler.did, crawler.keys.active.public_key))
        for number in range(nodes):
            network.add(f"http://127.0.0.1:{FIRST_PORT + number}", app)
    _admit_all(directory, crawler, nodes)
    setup_s = time.monotonic() - started
    process = psutil.Process()
    before = process.memory_info().rss
    try:
        full = await crawl(crawler, full=True)
        incremental = await crawl(crawler)
        rss = process.memory_info().rss
        indexed, scanned = await asyncio.to_thread(_search_times, crawler.db)
    finally:
        for node in [directory, crawler, *providers]:
            await node.stop()
    if full.nodes_failed or incremental.nodes_failed:
        raise RuntimeError(f"crawl failures: {full} / {incremental}")
    return NetworkPoint(
        nodes,
        "real nodes" if real else "simulated nodes",
        setup_s,
        full.seconds,
        incremental.seconds,
        full.datasets,
        incremental.nodes_unchanged,
        median(indexed) * 1000,
        percentile(indexed, 95) * 1000,
        median(scanned) * 1000,
        percentile(scanned, 95) * 1000,
        _mb(rss),
        _mb(rss - before),
    )


def measure(sizes: tuple[int, ...] = SIZES, real_up_to: int = 100) -> list[NetworkPoint]:
    points = []
    for nodes in sizes:
        with tempfile.TemporaryDirectory(prefix=f"allmende-network-{uuid.uuid4().hex[:6]}-") as tmp:
            points.append(asyncio.run(_run(nodes, nodes <= real_up_to, Path(tmp))))
    return points


def report(points: list[NetworkPoint]) -> list[tuple[str, str, str, str]]:
    rows = []
    for p in points:
        rows.append(
            (
                f"network crawl, {p.nodes} {p.mode} x {OFFERS} offers",
                f"full {p.full_s:.1f} s / incremental {p.incremental_s:.2f} s",
                f"{p.datasets} datasets; incremental {p.incremental_s / p.full_s:.2f}x full, "
                f"{p.unchanged} nodes 304",
                "<= 10 s full at 100 nodes" if p.nodes == 100 else "",
            )
        )
        rows.append(
            (
                f"network search, {p.datasets} offers",
                f"{p.search_p50_ms:.1f} ms p50 / {p.search_p95_ms:.1f} ms p95",
                f"LIKE scan {p.like_p50_ms:.1f} / {p.like_p95_ms:.1f} ms "
                f"({p.like_p95_ms / max(p.search_p95_ms, 1e-9):.1f}x p95)",
                "<= 50 ms p95 at 100,000" if p.datasets >= 100_000 else "",
            )
        )
        rows.append(
            (
                f"network RSS, {p.nodes} nodes in one process",
                f"{p.rss_mb:.0f} MB",
                f"+{p.rss_growth_mb:.0f} MB during the crawls; setup {p.setup_s:.0f} s",
                "",
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", default=",".join(map(str, SIZES)), help="comma-separated node counts")
    parser.add_argument("--real-up-to", type=int, default=100, help="real Node objects up to this count")
    args = parser.parse_args()
    sizes = tuple(int(n) for n in args.nodes.split(","))
    print(f"machine: {machine()}; load {load_average()}")
    for size in sizes:  # each size printed as soon as it is measured
        for name, figure, ratio, target in report(measure((size,), args.real_up_to)):
            print(f"{name}: {figure}  ({ratio}{'; target ' + target if target else ''})", flush=True)
    print(f"load average at the end: {load_average()}")


if __name__ == "__main__":
    main()
