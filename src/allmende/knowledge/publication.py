"""The node's published knowledge items, open to anyone (no token, no negotiation): the list at
``GET /knowledge/items`` (a JSON-LD ``@graph``, with ``ETag``; ``If-None-Match`` gets ``304``) and each
item at ``GET /knowledge/items/{id}``. Other nodes' knowledge crawlers read the list. Each item is also
a dataset of the node's DSP catalog that can be negotiated and transferred
(:mod:`allmende.knowledge.item_offers`); this open URL stays the simple way to read it."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from allmende.catalog.etag import etag_of, none_match
from allmende.knowledge.documents import MEDIA_TYPE, document_body, published_document
from allmende.knowledge.jsonld import CONTEXT
from allmende.knowledge.records import KnowledgeIndexRecord
from allmende.protocol.endpoint import in_read, node_of

PATH = "/knowledge/items"
router = APIRouter(tags=["knowledge (published)"])


def published_documents(session: Any, node_did: str) -> list[dict[str, Any]]:
    """The JSON-LD documents of the node's published items, oldest first (without their @context)."""
    rows = session.execute(
        select(KnowledgeIndexRecord.document)
        .where(KnowledgeIndexRecord.node_did == node_did)
        .order_by(KnowledgeIndexRecord.id)
    ).scalars()
    return [{k: v for k, v in document.items() if k != "@context"} for document in rows]


@router.get(PATH)
async def published_items(request: Request) -> Response:
    """Every published knowledge item of this node as one JSON-LD document."""
    node = node_of(request)
    documents = await in_read(node, lambda s: published_documents(s, node.did))
    body = json.dumps(
        {"@context": CONTEXT, "@id": node.base_url + PATH, "publisher": node.did, "@graph": documents},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    etag = etag_of(body)
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if none_match(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=MEDIA_TYPE, headers=headers)


@router.get(PATH + "/{item_id}")
async def published_item(item_id: str, request: Request) -> Response:
    """One published item (JSON-LD); 404 when this node does not publish it.

    A DSP transfer of the item's offer serves the same bytes (:mod:`allmende.knowledge.item_offers`).
    """
    node = node_of(request)
    document = await in_read(node, lambda s: published_document(s, node.did, item_id))
    if document is None:
        return JSONResponse({"error": f"no published knowledge item {item_id}"}, status_code=404)
    return Response(document_body(document), media_type=MEDIA_TYPE)
