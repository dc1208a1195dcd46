"""Nodes for the network benchmark: the offers they publish, and light simulated nodes for large N.

A simulated node has its own DID and serves ``POST /dsp/catalog/request`` through the node's real
catalog code path minus the database: the caller's token is verified (``verify_request_token``), the
page is cut with ``parse_paging``/``page_links``, the document is built by ``build_catalog`` (DSP schema
validation included) and answered with the ETag / 304 logic of ``allmende.catalog.etag``. Its 100
datasets are generated from its number on each request (deterministic, so ETags are stable), so a
thousand of them cost no memory between requests.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

_VOCABULARY = (
    "spindle vibration milling lathe coolant temperature pressure hydraulic pump motor bearing gearbox "
    "welding robot conveyor packaging injection moulding plastic steel aluminium casting forging press "
    "energy consumption compressed air quality inspection camera defect scrap yield shift schedule "
    "maintenance downtime spare parts supplier logistics pallet warehouse order demand forecast "
    "Maschinendaten Wartung Sensordaten Stromverbrauch Qualitätsprüfung Fräsmaschine Drehmaschine "
    "Kühlmittel Schwingung Lager Getriebe Schweißroboter Förderband Spritzguss Ausschuss Lieferkette "
    "Lagerbestand Bestellung Prognose Instandhaltung Stillstand Ersatzteile Energie Druckluft Öl Späne"
)
WORDS = tuple(_VOCABULARY.split())
TEMPLATES = ("open-use", "open-use", "open-use", "research-only", "evaluation-only", "time-limited")
THEMES = ("TECH", "ENER", "ECON", "TRAN", "ENVI")
SECTORS = ("mechanical engineering", "plastics", "metalworking", "logistics", "food")
REGIONS = ("Saxony", "Bavaria", "Thuringia", "Baden-Württemberg", "North Rhine-Westphalia")
ISSUED = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Offer:
    """One generated dataset of node ``node``: its texts and its policy template."""

    node: int
    number: int
    title: str
    description: str
    keywords: tuple[str, ...]
    theme: str
    template: str


def offer(node: int, number: int) -> Offer:
    """The ``number``-th dataset of node ``node`` (the same on every call)."""
    rng = random.Random(node * 100_003 + number)
    words = rng.sample(WORDS, 12)
    return Offer(
        node,
        number,
        " ".join(words[:3]).capitalize() + f" {node}-{number}",
        f"{' '.join(words[3:10])}. Recorded by node {node}, series {number}.",
        tuple(words[10:12]),
        THEMES[rng.randrange(len(THEMES))],
        TEMPLATES[rng.randrange(len(TEMPLATES))],
    )


def sector(node: int) -> str:
    return SECTORS[node % len(SECTORS)]


def region(node: int) -> str:
    return REGIONS[(node // len(SECTORS)) % len(REGIONS)]


@lru_cache(maxsize=8)
def _policy(template: str, did: str) -> dict[str, Any]:
    from allmende.policy.jsonld import policy_to_json
    from allmende.policy.templates import TEMPLATES as BUILT

    policy = policy_to_json(BUILT[template].build(did, "urn:uuid:0"))
    policy.pop("target", None)
    policy.pop("@id", None)
    return policy


def _entries(node: int, did: str, offers: int) -> list[Any]:
    from allmende.catalog.model import DatasetEntry, OfferEntry

    entries = []
    for number in range(offers):
        item = offer(node, number)
        dataset_id = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'sim/{node}/{number}')}"
        offer_id = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'sim/{node}/{number}/offer')}"
        policy = {"@id": offer_id, **_policy(item.template, did)}
        entries.append(
            DatasetEntry(
                dataset_id,
                item.title,
                item.description,
                item.keywords,
                "text/csv",
                1000 + number,
                ISSUED,
                ISSUED,
                (OfferEntry(offer_id, policy),),
                themes=(item.theme,),
            )
        )
    return entries


def simulated_app(first_port: int, count: int, offers: int, crawler: tuple[str, Any]) -> Starlette:
    """One ASGI app answering for ``count`` simulated nodes at 127.0.0.1:first_port... (by port).

    ``crawler`` is (DID, public key) of the only caller, pinned so that no DID document is fetched.
    """
    import httpx

    from allmende.catalog.dcat import build_catalog
    from allmende.catalog.etag import etag_of, none_match
    from allmende.catalog.model import PublisherInfo
    from allmende.catalog.paging import page_links, parse_paging
    from allmende.identity import (
        DidResolver,
        InMemoryReplayGuard,
        TokenError,
        did_from_url,
        verify_request_token,
    )

    resolver = DidResolver(httpx.AsyncClient(), pinned={crawler[0]: crawler[1]})
    replay = InMemoryReplayGuard()

    async def catalog(request: Request) -> Response:
        port = request.url.port or 80
        node = port - first_port
        if not 0 <= node < count:
            return Response(status_code=404)
        base = f"http://127.0.0.1:{port}"
        did = did_from_url(base)
        try:
            await verify_request_token(
                request.headers.get("authorization"), own_did=did, resolver=resolver, replay=replay
            )
        except TokenError as exc:
            return JSONResponse({"error": exc.reason}, status_code=401)
        offset, limit = parse_paging(request.query_params, default_limit=100)
        everything = _entries(node, did, offers)
        page = everything[offset : offset + limit]
        publisher = PublisherInfo(did=did, name=f"Node {node}", homepage=base)
        document = build_catalog(
            page,
            catalog_id=f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, base + '/dsp/catalog')}",
            participant_id=did,
            publisher=publisher,
            endpoint_url=base + "/dsp",
            title=f"Catalog of Node {node}",
            description=f"Datasets offered by Node {node}.",
        )
        headers = {}
        links = page_links(str(request.url.remove_query_params(["offset", "limit"])), offset, limit, offers)
        if links:
            headers["Link"] = links
        response = JSONResponse(document, headers=headers)
        headers["ETag"] = etag_of(bytes(response.body))
        if none_match(request.headers.get("if-none-match"), headers["ETag"]):
            return Response(status_code=304, headers=headers)
        response.headers["ETag"] = headers["ETag"]
        return response

    return Starlette(routes=[Route("/dsp/catalog/request", catalog, methods=["POST"])])
