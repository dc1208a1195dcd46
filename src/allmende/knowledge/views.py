"""JSON views of knowledge search and matchmaking results (pure)."""

from __future__ import annotations

from typing import Any

from allmende.knowledge.matchmaking import Match
from allmende.knowledge.search import SearchResult


def search_view(result: SearchResult) -> dict[str, Any]:
    """A search result as the API answers it."""
    return {
        "mode": result.mode,
        "notice": result.notice,
        "hits": [
            {
                "id": hit.item_id,
                "kind": hit.kind,
                "title": hit.title,
                "summary": hit.document.get("summary", ""),
                "node": {"did": hit.node_did, "name": hit.node_name},
                "score": round(hit.score, 6),
                "keywordRank": hit.keyword_rank,
                "semanticRank": hit.semantic_rank,
                "item": hit.document,
            }
            for hit in result.hits
        ],
    }


def match_view(match: Match) -> dict[str, Any]:
    """One matched item with its reasons (and eligibility verdict for programmes)."""
    view: dict[str, Any] = {
        "id": match.item_id,
        "kind": match.kind,
        "title": match.title,
        "node": {"did": match.node_did, "name": match.node_name},
        "score": round(match.score, 6),
        "why": match.why,
        "item": match.document,
    }
    if match.eligibility is not None:
        view["eligibility"] = match.eligibility.verdict
        if match.kind == "programme":
            view["verifiedOn"] = match.document.get("verified_on")
            view["verifiedSource"] = match.document.get("verified_source")
    return view


def matches_view(groups: dict[str, Any]) -> dict[str, Any]:
    """Every group of a matchmaking answer."""
    return {
        name: [match_view(m) for m in value] if isinstance(value, list) else value
        for name, value in groups.items()
    }
