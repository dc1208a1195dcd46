"""Pure builders for the DSP 2025-1 catalog and dataset documents, carrying DCAT-AP 3.0.1 metadata.

The documents are DSP compact JSON (they validate against ``catalog-schema.json`` / ``dataset-schema.json``)
and their ``@context`` is exactly the DSP context, as the DSP context schema requires. DCAT-AP properties that
the DSP context has no terms for are written as compact IRIs with the prefixes the DSP context defines
(``dct:``, ``dcat:``, ``xsd:``) or as full IRIs (FOAF, SKOS), so any JSON-LD processor reads them correctly.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from allmende.catalog.model import DatasetEntry, OfferEntry, PublisherInfo
from allmende.catalog.themes import data_theme
from allmende.clock import isoformat
from allmende.protocol.contexts import DSP_CONTEXT
from allmende.protocol.schemas import validate_message

FOAF = "http://xmlns.com/foaf/0.1/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"
HTTP_PULL_FORMAT = "HttpData-PULL"
"""The DSP transfer format of every distribution: the consumer pulls the data over HTTP."""


class CatalogEntryError(ValueError):
    """Catalog input that cannot be published (bad identifier, naive timestamp, mismatched offer...)."""


def data_service_id(endpoint_url: str) -> str:
    """The stable ``urn:uuid`` of the DSP data service at ``endpoint_url`` (UUIDv5 of the URL)."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, endpoint_url)}"


def build_catalog(
    entries: Sequence[DatasetEntry],
    *,
    catalog_id: str,
    participant_id: str,
    publisher: PublisherInfo,
    endpoint_url: str,
    title: str,
    description: str,
    service_id: str | None = None,
) -> dict[str, Any]:
    """Build the DSP ``Catalog`` document (with ``@context``) listing ``entries`` as datasets.

    Raises CatalogEntryError for unusable input and SchemaViolation if the result breaks the DSP schema
    (for instance an offer policy that the policy engine serialised wrongly).
    """
    _require_urn_uuid(catalog_id, "catalog_id")
    _require_did(participant_id, "participant_id")
    service_id = service_id or data_service_id(endpoint_url)
    catalog: dict[str, Any] = {
        "@context": list(DSP_CONTEXT),
        "@id": catalog_id,
        "@type": "Catalog",
        "participantId": participant_id,
        "dct:title": _text(title, "catalog title"),
        "dct:description": _text(description, "catalog description"),
        "dct:publisher": _agent(publisher),
        "service": [_data_service(service_id, endpoint_url, publisher)],
    }
    if entries:
        catalog["dataset"] = [
            build_dataset(
                entry,
                publisher=publisher,
                service_id=service_id,
                endpoint_url=endpoint_url,
                include_context=False,
            )
            for entry in entries
        ]
    validate_message(catalog, "Catalog")
    return catalog


def build_dataset(
    entry: DatasetEntry,
    *,
    publisher: PublisherInfo,
    service_id: str,
    endpoint_url: str,
    include_context: bool,
) -> dict[str, Any]:
    """Build one DSP ``Dataset``: standalone (``include_context=True``, validated) or for a catalog."""
    _require_urn_uuid(entry.dataset_id, "dataset_id")
    if not entry.offers:
        raise CatalogEntryError(f"dataset {entry.dataset_id} has no offers; DSP requires at least one")
    dataset: dict[str, Any] = {"@context": list(DSP_CONTEXT)} if include_context else {}
    dataset |= {
        "@id": entry.dataset_id,
        "@type": "Dataset",
        "dct:title": _text(entry.title, "dataset title"),
        "dct:description": _text(entry.description, "dataset description"),
        "dct:issued": _date_time(entry.issued, "issued"),
        "dct:modified": _date_time(entry.modified, "modified"),
        "dct:publisher": _agent(publisher),
        "hasPolicy": [_offer_policy(offer, entry.dataset_id) for offer in entry.offers],
        "distribution": [_distribution(entry, service_id, endpoint_url, publisher)],
    }
    if entry.keywords:
        dataset["dcat:keyword"] = [_text(keyword, "keyword") for keyword in entry.keywords]
    if entry.themes:
        dataset["dcat:theme"] = [_theme(theme) for theme in entry.themes]
    if include_context:
        validate_message(dataset, "Dataset")
    return dataset


def _distribution(
    entry: DatasetEntry, service_id: str, endpoint_url: str, publisher: PublisherInfo
) -> dict[str, Any]:
    distribution: dict[str, Any] = {
        "@type": "Distribution",
        "format": HTTP_PULL_FORMAT,
        "accessService": _data_service(service_id, endpoint_url, publisher),
        "dcat:accessURL": {"@id": _require_http_url(endpoint_url, "endpoint_url")},
    }
    if entry.media_type is not None:
        distribution["dcat:mediaType"] = {
            "@id": IANA_MEDIA_TYPES + _media_type(entry.media_type),
            "@type": "dct:MediaType",
        }
    if entry.byte_size is not None:
        if isinstance(entry.byte_size, bool) or entry.byte_size < 0:
            raise CatalogEntryError(f"byte_size must be a non-negative integer, got {entry.byte_size!r}")
        distribution["dcat:byteSize"] = {"@value": str(entry.byte_size), "@type": "xsd:nonNegativeInteger"}
    if entry.license_url is not None:
        distribution["dct:license"] = {
            "@id": _require_http_url(entry.license_url, "license_url"),
            "@type": "dct:LicenseDocument",
        }
    return distribution


def _data_service(service_id: str, endpoint_url: str, publisher: PublisherInfo) -> dict[str, Any]:
    return {
        "@id": service_id,
        "@type": "DataService",
        "endpointURL": _require_http_url(endpoint_url, "endpoint_url"),
        "dct:title": f"Dataspace Protocol endpoint of {publisher.name}",
        "dct:publisher": _agent(publisher),
    }


def _agent(publisher: PublisherInfo) -> dict[str, Any]:
    _require_did(publisher.did, "publisher.did")
    agent: dict[str, Any] = {
        "@id": publisher.did,
        "@type": FOAF + "Agent",
        FOAF + "name": _text(publisher.name, "publisher name"),
    }
    if publisher.homepage is not None:
        agent[FOAF + "homepage"] = {
            "@id": _require_http_url(publisher.homepage, "publisher.homepage"),
            "@type": FOAF + "Document",
        }
    return agent


def _offer_policy(offer: OfferEntry, dataset_id: str) -> dict[str, Any]:
    _require_urn_uuid(offer.offer_id, "offer_id")
    if offer.offer_id == dataset_id:
        raise CatalogEntryError(f"offer {offer.offer_id} has its dataset's id; an offer needs its own id")
    policy_id, policy_type = offer.policy.get("@id"), offer.policy.get("@type")
    if policy_id != offer.offer_id or policy_type != "Offer":
        raise CatalogEntryError(
            f"offer {offer.offer_id}: policy must have @id {offer.offer_id!r} and @type 'Offer', "
            f"got @id {policy_id!r} and @type {policy_type!r}"
        )
    return dict(offer.policy)


def _theme(theme: str) -> dict[str, Any]:
    iri, label = data_theme(theme)
    return {"@id": iri, "@type": SKOS + "Concept", SKOS + "prefLabel": {"@value": label, "@language": "en"}}


def _date_time(moment: datetime, field: str) -> dict[str, str]:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CatalogEntryError(f"{field} must be a timezone-aware datetime, got naive {moment.isoformat()}")
    return {"@value": isoformat(moment), "@type": "xsd:dateTime"}


def _text(value: str, field: str) -> str:
    if not value.strip():
        raise CatalogEntryError(f"{field} must not be empty")
    return value


def _media_type(media_type: str) -> str:
    kind, _, subtype = media_type.partition("/")
    if not kind or not subtype or any(char in media_type for char in " ;,"):
        raise CatalogEntryError(f"media_type must be a bare IANA type like 'text/csv', got {media_type!r}")
    return media_type.lower()


def _require_urn_uuid(value: str, field: str) -> None:
    try:
        uuid.UUID(value.removeprefix("urn:uuid:"))
    except ValueError:
        raise CatalogEntryError(f"{field} must be a urn:uuid IRI, got {value!r}") from None
    if not value.startswith("urn:uuid:"):
        raise CatalogEntryError(f"{field} must be a urn:uuid IRI, got {value!r}")


def _require_did(value: str, field: str) -> None:
    method, _, specific = value.removeprefix("did:").partition(":")
    if not value.startswith("did:") or not method or not specific:
        raise CatalogEntryError(f"{field} must be a DID (did:<method>:<id>), got {value!r}")


def _require_http_url(value: str, field: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CatalogEntryError(f"{field} must be an absolute http(s) URL, got {value!r}")
    return value
