"""Catalog service: registering assets and offers, and the catalog as each caller may see it."""

from __future__ import annotations

import hashlib
import mimetypes
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from allmende.audit import log as audit
from allmende.catalog.model import DatasetEntry, OfferEntry
from allmende.catalog.records import AssetRecord, OfferRecord
from allmende.clock import utcnow
from allmende.negotiation.provider import PublishedOffer
from allmende.policy.errors import PolicyError
from allmende.policy.evaluate import EvaluationContext, evaluate
from allmende.policy.jsonld import policy_from_json, policy_to_json
from allmende.sources import (
    FileSource,
    FolderSource,
    HttpApiSource,
    SecretStore,
    Source,
    SourceConfigError,
    SqlQuerySource,
    describe,
    parse_source,
    source_to_dict,
)


class CatalogError(ValueError):
    """Invalid input for an asset or offer (the message says what)."""


@dataclass(frozen=True)
class NewAsset:
    """What the owner says about something to share: where it comes from, and its metadata."""

    source: Source
    title: str
    description: str
    keywords: tuple[str, ...] = ()
    media_type: str | None = None


def source_for_path(path: Path, folder_mode: str = "tar", *, node_dir: Path | None = None) -> Source:
    """A file or a folder on the node's machine as a source (``folder_mode``: "tar" or "files").

    ``node_dir``, the node's data folder, can never be offered, nor a folder that holds it: that
    would hand the node's keys, secrets and database to whoever gets an agreement.
    """
    resolved = path.expanduser().resolve()
    if node_dir is not None:
        own = node_dir.expanduser().resolve()
        if resolved.is_relative_to(own) or own.is_relative_to(resolved):
            raise CatalogError(f"{path} is or holds the node's own data folder; it cannot be offered")
    if resolved.is_dir():
        try:
            return parse_source({"kind": "folder", "path": str(resolved), "mode": folder_mode})
        except SourceConfigError as exc:
            raise CatalogError(str(exc)) from None
    return FileSource(resolved)


@dataclass(frozen=True)
class _SourceFacts:
    source: Source
    media_type: str
    byte_size: int | None
    sha256: str | None


def _facts(asset: NewAsset, secrets: SecretStore | None) -> _SourceFacts:
    """Check the source can be served and learn what can be known about it up front."""
    source = asset.source
    if isinstance(source, FileSource):
        path = source.path.expanduser().resolve()
        if not path.is_file():
            raise CatalogError(f"{source.path} is not a readable file")
        size, sha256 = _file_facts(path)
        media = asset.media_type or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return _SourceFacts(FileSource(path), media, size, sha256)
    if isinstance(source, FolderSource):
        if not source.path.is_dir():
            raise CatalogError(f"{source.path} is not a readable folder")
        media = "application/x-tar" if source.mode == "tar" else "application/json"
        return _SourceFacts(source, asset.media_type or media, None, None)
    refs = [source.auth_secret] if isinstance(source, HttpApiSource) else [source.database_url_secret]
    known = set(secrets.names()) if secrets is not None else set()
    for ref in refs:
        if ref is not None and ref.name not in known:
            raise CatalogError(f"no secret named {ref.name!r} in the secret store (`allmende secret put`)")
    if isinstance(source, SqlQuerySource):
        media = "text/csv" if source.format == "csv" else "application/vnd.apache.parquet"
        return _SourceFacts(source, asset.media_type or media, None, None)
    return _SourceFacts(source, asset.media_type or "application/octet-stream", None, None)


def new_id() -> str:
    """A fresh ``urn:uuid`` identifier."""
    return f"urn:uuid:{uuid.uuid4()}"


def _file_facts(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def check_offer_policy(policy: Mapping[str, Any]) -> dict[str, Any]:
    """Validate an ODRL offer policy and return it in DSP catalog form (no target, fresh @id if none)."""
    candidate = {key: value for key, value in policy.items() if key not in ("target", "@context")}
    candidate["@type"] = "Offer"
    candidate.setdefault("@id", new_id())
    try:
        parsed = policy_from_json(candidate)
    except PolicyError as exc:
        raise CatalogError(f"invalid policy: {exc}") from None
    if not parsed.permissions and not parsed.prohibitions:
        raise CatalogError("invalid policy: an offer needs at least one permission or prohibition")
    result = policy_to_json(parsed)
    result.pop("target", None)
    return result


def add_asset(
    session: Session,
    asset: NewAsset,
    policy: Mapping[str, Any],
    *,
    actor: str,
    template: str | None = None,
    review_required: bool = False,
    access_policy: Mapping[str, Any] | None = None,
    secrets: SecretStore | None = None,
) -> tuple[AssetRecord, OfferRecord]:
    """Register an asset and publish one offer for it, in the caller's transaction.

    ``secrets`` is the node's secret store; sources that name a secret need it to exist there.
    """
    if not asset.title.strip():
        raise CatalogError("title must not be empty")
    if not asset.description.strip():
        raise CatalogError("description must not be empty")
    offer_policy = check_offer_policy(policy)
    checked_access = check_offer_policy(access_policy) if access_policy is not None else None
    if session.get(OfferRecord, str(offer_policy["@id"])) is not None:
        raise CatalogError(
            f"an offer with the id {offer_policy['@id']} exists already; give the policy a new @id"
        )
    facts = _facts(asset, secrets)
    now = utcnow()
    record = AssetRecord(
        id=new_id(),
        title=asset.title.strip(),
        description=asset.description.strip(),
        keywords=sorted({k.strip() for k in asset.keywords if k.strip()}),
        media_type=facts.media_type,
        byte_size=facts.byte_size,
        sha256=facts.sha256,
        source=source_to_dict(facts.source),
        created_at=now,
        modified_at=now,
    )
    session.add(record)
    offer = OfferRecord(
        id=str(offer_policy["@id"]),
        asset_id=record.id,
        policy=offer_policy,
        access_policy=checked_access,
        template=template,
        review_required=review_required,
        published=True,
        created_at=now,
    )
    session.add(offer)
    session.flush()
    audit.append(
        session,
        actor=actor,
        event="asset.published",
        subject=record.id,
        detail={
            "title": record.title,
            "offer": offer.id,
            "template": template,
            "sha256": facts.sha256,
            "source": describe(facts.source),
        },
    )
    return record, offer


def set_published(session: Session, offer_id: str, published: bool, *, actor: str) -> OfferRecord:
    """Publish or withdraw an offer."""
    offer = session.get(OfferRecord, offer_id)
    if offer is None:
        raise CatalogError(f"no offer {offer_id}")
    offer.published = published
    audit.append(
        session, actor=actor, event="offer.published" if published else "offer.withdrawn", subject=offer_id
    )
    return offer


class CatalogView:
    """The catalog filtered per caller by the offers' access policies."""

    def may_see(self, offer: OfferRecord, caller_did: str, communities: frozenset[str] = frozenset()) -> bool:
        """Whether ``caller_did`` may see ``offer`` (no access policy: every verified participant).

        ``communities`` are the memberships the caller proved with credentials (``memberOf``).
        """
        if offer.access_policy is None:
            return True
        try:
            decision = evaluate(
                policy_from_json(offer.access_policy),
                EvaluationContext(
                    now=utcnow(), assignee=caller_did, action="use", party_collections=communities
                ),
            )
        except PolicyError:
            return False
        return decision.allowed

    def visible_offer(
        self, session: Session, offer_id: str, caller_did: str, communities: frozenset[str] = frozenset()
    ) -> PublishedOffer | None:
        """The published offer ``offer_id`` if ``caller_did`` may see it (the negotiation's look-up)."""
        offer = session.get(OfferRecord, offer_id)
        if offer is None or not offer.published or not self.may_see(offer, caller_did, communities):
            return None
        return PublishedOffer(offer.id, offer.asset_id, offer.policy, offer.review_required)

    def page(
        self,
        session: Session,
        caller_did: str,
        *,
        offset: int,
        limit: int,
        dataset_id: str | None = None,
        communities: frozenset[str] = frozenset(),
        provider_did: str | None = None,
    ) -> tuple[list[DatasetEntry], bool]:
        """Datasets ``offset``..``offset+limit`` the caller may see, and whether more follow.

        Two queries per page, whatever its size: the assets with published offers, then their offers.
        With ``provider_did`` (the node's DID, the offers' assigner), the node's published knowledge
        items follow the assets as open datasets (everyone sees them).
        """
        visible: list[tuple[AssetRecord, list[OfferRecord]]] = []
        skipped = 0
        batch = limit + 1
        cursor = 0
        while len(visible) <= limit:
            assets = self._assets_with_offers(session, cursor, batch, dataset_id)
            if not assets:
                break
            cursor += len(assets)
            offers = self._offers_of(session, [a.id for a in assets])
            for asset in assets:
                shown = [o for o in offers.get(asset.id, []) if self.may_see(o, caller_did, communities)]
                if not shown:
                    continue
                if skipped < offset:
                    skipped += 1
                    continue
                visible.append((asset, shown))
                if len(visible) > limit:
                    break
            if len(assets) < batch:
                break
        has_more = len(visible) > limit
        entries = [to_entry(asset, offers) for asset, offers in visible[:limit]]
        if provider_did is not None and not has_more:
            # The assets ran out on this page: ``skipped`` is how many visible ones came before it.
            from allmende.knowledge.catalog_entries import catalog_page  # knowledge builds on catalog

            items, has_more = catalog_page(
                session, provider_did, offset=offset - skipped, limit=limit - len(entries), item_id=dataset_id
            )
            entries.extend(items)
        return entries, has_more

    @staticmethod
    def _assets_with_offers(
        session: Session, cursor: int, batch: int, dataset_id: str | None
    ) -> Sequence[AssetRecord]:
        query = (
            select(AssetRecord)
            .where(
                select(OfferRecord.id)
                .where(OfferRecord.asset_id == AssetRecord.id, OfferRecord.published.is_(True))
                .exists()
            )
            .order_by(AssetRecord.created_at, AssetRecord.id)
        )
        if dataset_id is not None:
            query = query.where(AssetRecord.id == dataset_id)
        return session.execute(query.offset(cursor).limit(batch)).scalars().all()

    @staticmethod
    def _offers_of(session: Session, asset_ids: list[str]) -> dict[str, list[OfferRecord]]:
        grouped: dict[str, list[OfferRecord]] = {}
        rows = session.execute(
            select(OfferRecord)
            .where(OfferRecord.asset_id.in_(asset_ids), OfferRecord.published.is_(True))
            .order_by(OfferRecord.created_at, OfferRecord.id)
        ).scalars()
        for offer in rows:
            grouped.setdefault(offer.asset_id, []).append(offer)
        return grouped


def to_entry(asset: AssetRecord, offers: Sequence[OfferRecord]) -> DatasetEntry:
    """The DCAT input record of an asset and its visible offers."""
    return DatasetEntry(
        dataset_id=asset.id,
        title=asset.title,
        description=asset.description,
        keywords=tuple(asset.keywords),
        media_type=asset.media_type,
        byte_size=asset.byte_size,
        issued=asset.created_at,
        modified=asset.modified_at,
        offers=tuple(OfferEntry(offer_id=o.id, policy=o.policy) for o in offers),
    )
