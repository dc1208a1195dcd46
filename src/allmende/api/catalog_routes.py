"""Management API: assets, offers, policies and other nodes' catalogs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from allmende.api.auth import ApiCaller, admin, reader
from allmende.api.errors import ApiProblem
from allmende.api.views import asset_view, offer_view
from allmende.catalog.policy_source import policy_from_argument
from allmende.catalog.records import AssetRecord, OfferRecord
from allmende.catalog.remote import RemoteCatalogError, fetch_catalog
from allmende.catalog.service import CatalogError, NewAsset, add_asset, set_published, source_for_path
from allmende.policy.errors import PolicyError
from allmende.policy.jsonld import policy_from_json
from allmende.policy.render import render_policy
from allmende.policy.templates import TEMPLATES
from allmende.protocol.endpoint import in_read, in_transaction, node_of
from allmende.sources import SourceConfigError, parse_source

router = APIRouter()
Reader = Annotated[ApiCaller, Depends(reader)]
Admin = Annotated[ApiCaller, Depends(admin)]


class AssetIn(BaseModel):
    """A file on the node's machine to publish, with its metadata and policy."""

    path: str | None = Field(
        default=None, description="Absolute path of a file or folder on the node's machine"
    )
    folder_mode: Literal["tar", "files"] = Field(default="tar", description="How a folder is served")
    source: dict[str, Any] | None = Field(
        default=None,
        description='Instead of path: {"kind": "http_api" | "sql_query", ...} (see docs/api.md); '
        'credentials as "secret:NAME" references',
    )
    title: str = Field(min_length=1, max_length=500)
    description: str = Field(min_length=1)
    keywords: list[str] = []
    media_type: str | None = None
    template: str | None = Field(default=None, description="Policy template name (default open-use)")
    access_policy: dict[str, Any] | None = Field(
        default=None,
        description="ODRL policy deciding who sees the offer in the catalog (default: everyone), e.g. the "
        "members-only policy so that only members of a community see it",
    )
    policy: dict[str, Any] | None = Field(default=None, description="An ODRL offer instead of a template")
    template_params: dict[str, str] = {}
    review_required: bool = False


@router.get("/assets", tags=["assets"])
async def list_assets(request: Request, _: Reader) -> list[dict[str, Any]]:
    node = node_of(request)
    return await in_read(node, lambda s: [asset_view(a) for a in s.execute(select(AssetRecord)).scalars()])


@router.post("/assets", status_code=201, tags=["assets"])
async def create_asset(body: AssetIn, request: Request, caller: Admin) -> dict[str, Any]:
    """Register a file and publish an offer for it."""
    node = node_of(request)
    if body.policy is not None and body.template is not None:
        raise ApiProblem(400, "give either template or policy, not both")
    if (body.path is None) == (body.source is None):
        raise ApiProblem(400, "give either path or source")
    try:
        source = (
            source_for_path(Path(body.path), body.folder_mode, node_dir=node.settings.data_dir)
            if body.path is not None
            else parse_source(body.source or {})
        )
    except (SourceConfigError, CatalogError) as exc:
        raise ApiProblem(400, str(exc)) from None

    def work(session: Any) -> dict[str, Any]:
        if body.policy is not None:
            policy, template = body.policy, None
        else:
            policy, template = policy_from_argument(
                body.template, assigner=node.did, params=body.template_params
            )
        asset, offer = add_asset(
            session,
            NewAsset(source, body.title, body.description, tuple(body.keywords), body.media_type),
            policy,
            actor=caller.actor,
            template=template,
            review_required=body.review_required,
            access_policy=body.access_policy,
            secrets=node.secrets,
        )
        return {"asset": asset_view(asset), "offer": offer_view(offer)}

    try:
        return await in_transaction(node, work)
    except CatalogError as exc:
        raise ApiProblem(400, str(exc)) from None


@router.get("/offers", tags=["offers"])
async def list_offers(request: Request, _: Reader) -> list[dict[str, Any]]:
    node = node_of(request)
    return await in_read(node, lambda s: [offer_view(o) for o in s.execute(select(OfferRecord)).scalars()])


@router.post("/offers/{offer_id}/publish", tags=["offers"])
async def publish_offer(offer_id: str, request: Request, caller: Admin) -> dict[str, Any]:
    return await _set_published(request, offer_id, True, caller)


@router.post("/offers/{offer_id}/unpublish", tags=["offers"])
async def unpublish_offer(offer_id: str, request: Request, caller: Admin) -> dict[str, Any]:
    return await _set_published(request, offer_id, False, caller)


async def _set_published(
    request: Request, offer_id: str, published: bool, caller: ApiCaller
) -> dict[str, Any]:
    node = node_of(request)
    try:
        return await in_transaction(
            node, lambda s: offer_view(set_published(s, offer_id, published, actor=caller.actor))
        )
    except CatalogError as exc:
        raise ApiProblem(404, str(exc)) from None


@router.get("/policies/templates", tags=["policies"])
async def policy_templates(_: Reader, lang: Literal["en", "de"] = "en") -> list[dict[str, Any]]:
    """The policy templates with their plain-language summaries."""
    return [
        {
            "name": t.name,
            "title": t.title_de if lang == "de" else t.title_en,
            "summary": t.summary_de if lang == "de" else t.summary_en,
            "parameters": [
                {
                    "name": p.name,
                    "default": p.default,
                    "description": p.description_de if lang == "de" else p.description_en,
                }
                for p in t.parameters
            ],
        }
        for t in TEMPLATES.values()
    ]


class RenderIn(BaseModel):
    policy: dict[str, Any]
    lang: Literal["en", "de"] = "en"


@router.post("/policies/render", tags=["policies"])
async def render(body: RenderIn, _: Reader) -> dict[str, str]:
    """Any ODRL policy in plain German or English."""
    try:
        return {"text": render_policy(policy_from_json(body.policy), body.lang)}
    except PolicyError as exc:
        raise ApiProblem(400, f"invalid policy: {exc}") from None


class RemoteCatalogIn(BaseModel):
    address: str = Field(description="The other node's public URL or did:web")


@router.post("/remote-catalogs", tags=["remote catalogs"])
async def remote_catalog(body: RemoteCatalogIn, request: Request, _: Reader) -> dict[str, Any]:
    """Fetch another node's catalog as it shows it to this node."""
    node = node_of(request)
    try:
        remote = await fetch_catalog(node, body.address)
    except RemoteCatalogError as exc:
        raise ApiProblem(502, str(exc)) from None
    return {"providerDid": remote.provider_did, "dspUrl": remote.dsp_url, "catalog": remote.catalog}
