"""Input records for the DCAT serialisation, filled by the catalog store (plain data, no behaviour)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class PublisherInfo:
    """The organisation that publishes a catalog or dataset (a DCAT-AP ``foaf:Agent``)."""

    did: str
    """The publisher's DID (``did:web:...``), used as the agent's IRI."""
    name: str
    """Display name (``foaf:name``)."""
    homepage: str | None = None
    """Public web site (``foaf:homepage``), if any."""


@dataclass(frozen=True, slots=True)
class OfferEntry:
    """One ODRL offer under which a dataset can be negotiated."""

    offer_id: str
    """``urn:uuid:...``; must differ from the dataset's id."""
    policy: dict[str, Any]
    """The serialised ODRL Offer in DSP compact form (``@id`` equal to ``offer_id``, ``@type`` Offer)."""


@dataclass(frozen=True, slots=True)
class DatasetEntry:
    """A dataset as offered in the catalog, with its DCAT-AP metadata and its offers."""

    dataset_id: str
    """``urn:uuid:...``."""
    title: str
    description: str
    keywords: tuple[str, ...]
    media_type: str | None
    """IANA media type of the data (e.g. ``text/csv``), if known."""
    byte_size: int | None
    """Size in bytes, if known."""
    issued: datetime
    """First publication, timezone-aware."""
    modified: datetime
    """Last change, timezone-aware."""
    offers: tuple[OfferEntry, ...]
    themes: tuple[str, ...] = ()
    """EU data themes, as codes (``"TECH"``) or IRIs of the data-theme authority table."""
    license_url: str | None = None
    """IRI of the licence document, if the data carries a licence besides the ODRL offers."""
