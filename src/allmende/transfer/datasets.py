"""What the data plane serves for an agreement's target: the one seam between transfers and the
things a node offers.

A :class:`DatasetLookup` turns a dataset id (an agreement's ``target``) into :class:`ServedData`: a
source to stream and what is known of it up front. The node chains the lookups of what it offers
(:class:`DatasetLookups`): its assets (:class:`AssetDatasets`) and its published knowledge items
(:class:`allmende.knowledge.item_offers.KnowledgeOffers`). Pull and push serve whatever comes back in
the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from allmende.catalog.records import AssetRecord
from allmende.sources import DocumentSource, Source, SourceConfigError, parse_source
from allmende.transfer.access import AccessDenied


@dataclass(frozen=True)
class ServedData:
    """A dataset as the data plane serves it: its source, media type and, where known, digest and size."""

    source: Source | DocumentSource
    media_type: str
    sha256: str | None = None
    byte_size: int | None = None


class DatasetLookup(Protocol):
    """Finds what to serve for a dataset this node offers (None: it does not offer it, or no longer)."""

    def served(self, session: Session, dataset_id: str) -> ServedData | None: ...


class AssetDatasets:
    """The node's assets: their stored source, media type, digest and size."""

    def served(self, session: Session, dataset_id: str) -> ServedData | None:
        """The asset ``dataset_id``; AccessDenied 410 when its stored source cannot be read."""
        asset = session.get(AssetRecord, dataset_id)
        if asset is None:
            return None
        try:
            source = parse_source(asset.source)
        except SourceConfigError as exc:
            raise AccessDenied(410, f"the data is unavailable: {exc}") from None
        return ServedData(
            source, asset.media_type or "application/octet-stream", asset.sha256, asset.byte_size
        )


class DatasetLookups:
    """Several lookups asked in turn; the first that knows the dataset answers."""

    def __init__(self, *lookups: DatasetLookup) -> None:
        self.lookups = lookups

    def served(self, session: Session, dataset_id: str) -> ServedData | None:
        """What the first lookup that knows ``dataset_id`` serves for it."""
        for lookup in self.lookups:
            found = lookup.served(session, dataset_id)
            if found is not None:
                return found
        return None
