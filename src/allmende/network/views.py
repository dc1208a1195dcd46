"""JSON views of the federated catalog for the management API and the CLI."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from allmende.clock import isoformat
from allmende.network.crawler import CrawlReport
from allmende.network.records import FederatedNodeRecord
from allmende.network.search import SearchHit, SearchResults


def hit_view(hit: SearchHit) -> dict[str, Any]:
    """One search hit; ``nodeDid`` / ``dspUrl`` and an offer id are what a negotiation starts from."""
    return {
        "nodeDid": hit.node_did,
        "nodeName": hit.node_name,
        "dspUrl": hit.dsp_url,
        "datasetId": hit.dataset_id,
        "title": hit.title,
        "description": hit.description,
        "keywords": hit.keywords,
        "themes": hit.themes,
        "formats": hit.formats,
        "publisher": hit.publisher,
        "sector": hit.sector,
        "region": hit.region,
        "templates": hit.templates,
        "offers": hit.offers,
        "score": round(hit.score, 6),
    }


def results_view(results: SearchResults, limit: int, offset: int) -> dict[str, Any]:
    """A page of search results with the total count."""
    return {
        "total": results.total,
        "limit": limit,
        "offset": offset,
        "hits": [hit_view(hit) for hit in results.hits],
    }


def report_view(report: CrawlReport) -> dict[str, Any]:
    """What a crawl did, in camelCase."""
    return {_camel(name): value for name, value in asdict(report).items()}


def node_view(record: FederatedNodeRecord) -> dict[str, Any]:
    """A crawled node and how its last visits went."""

    def when(value: Any) -> str | None:
        return isoformat(value) if value is not None else None

    return {
        "did": record.did,
        "name": record.name,
        "dspUrl": record.dsp_url,
        "directoryDid": record.directory_did,
        "sector": record.sector,
        "region": record.region,
        "sizeClass": record.size_class,
        "lastAttemptAt": when(record.last_attempt_at),
        "lastSuccessAt": when(record.last_success_at),
        "failures": record.failures,
        "nextAttemptAt": when(record.next_attempt_at),
        "lastError": record.last_error,
    }


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)
