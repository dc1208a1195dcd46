"""DSP 2025-1 catalog endpoints: the catalog per caller (paged by Link headers) and single datasets."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from allmende.catalog.dcat import build_catalog, build_dataset, data_service_id
from allmende.catalog.etag import etag_of, none_match
from allmende.catalog.model import PublisherInfo
from allmende.catalog.paging import PagingError, page_links, parse_paging
from allmende.network.presentation import verify_presented
from allmende.node import Node
from allmende.protocol.endpoint import authenticate, in_read, node_of, receive
from allmende.protocol.problems import ProtocolProblem

ERROR = "CatalogError"

router = APIRouter(prefix="/dsp/catalog", tags=["DSP catalog"])


def publisher_of(node: Node) -> PublisherInfo:
    """The node's organisation as DCAT publisher."""
    return PublisherInfo(did=node.did, name=node.name or node.did, homepage=node.base_url)


def catalog_id(node: Node) -> str:
    """The node's stable catalog id."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, node.dsp_url + '/catalog')}"


@router.post("/request")
async def catalog_request(request: Request) -> Response:
    """CatalogRequestMessage → the Catalog as this caller may see it; ``?offset=&limit=`` pages it.

    The ``ETag`` is the digest of this page as this caller sees it; a request whose ``If-None-Match``
    names it gets ``304 Not Modified`` (the crawler's incremental visits).
    """
    node, claims, _ = await receive(request, "CatalogRequestMessage", ERROR)
    try:
        offset, limit = parse_paging(request.query_params, default_limit=node.settings.catalog_page_size)
    except PagingError as exc:
        raise ProtocolProblem(400, [str(exc)], error_type=ERROR) from None
    communities = (await verify_presented(node, claims)).communities
    entries, has_more = await in_read(
        node,
        lambda s: node.catalog.page(
            s, claims.issuer, offset=offset, limit=limit, communities=communities, provider_did=node.did
        ),
    )
    catalog = build_catalog(
        entries,
        catalog_id=catalog_id(node),
        participant_id=node.did,
        publisher=publisher_of(node),
        endpoint_url=node.dsp_url,
        title=f"Catalog of {node.name or node.did}",
        description=f"Datasets offered by {node.name or node.did} over the Dataspace Protocol.",
    )
    total = offset + len(entries) + (1 if has_more else 0)
    headers = {}
    links = page_links(str(request.url.remove_query_params(["offset", "limit"])), offset, limit, total)
    if links:
        headers["Link"] = links
    response = JSONResponse(catalog, headers=headers)
    etag = etag_of(bytes(response.body))
    headers["ETag"] = etag
    if none_match(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    response.headers["ETag"] = etag
    return response


@router.get("/datasets/{dataset_id}")
async def dataset_request(dataset_id: str, request: Request) -> JSONResponse:
    """One dataset with the offers this caller may see; 404 CatalogError if none."""
    node = node_of(request)
    claims = await authenticate(request, ERROR)
    communities = (await verify_presented(node, claims)).communities
    entries, _ = await in_read(
        node,
        lambda s: node.catalog.page(
            s,
            claims.issuer,
            offset=0,
            limit=1,
            dataset_id=dataset_id,
            communities=communities,
            provider_did=node.did,
        ),
    )
    if not entries:
        raise ProtocolProblem(404, [f"no dataset {dataset_id}"], error_type=ERROR)
    dataset = build_dataset(
        entries[0],
        publisher=publisher_of(node),
        service_id=data_service_id(node.dsp_url),
        endpoint_url=node.dsp_url,
        include_context=True,
    )
    return JSONResponse(dataset)
