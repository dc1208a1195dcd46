"""Another node's DCAT catalog, read for display: titles, keywords, sizes, publisher and offers.

Catalogs come from any DSP connector, so the reader accepts the usual spellings of a property (``dct:title``,
``title``, the full IRI), plain or ``@value`` literals and language-tagged lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from allmende.catalog.remote import RemoteCatalog
from allmende.web.routes.contract_terms import PolicyText, policy_text

DCT = "http://purl.org/dc/terms/"
DCAT = "http://www.w3.org/ns/dcat#"
FOAF = "http://xmlns.com/foaf/0.1/"
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"


@dataclass(frozen=True)
class OfferView:
    """One offer of a dataset with its policy in plain language."""

    id: str
    terms: PolicyText


@dataclass(frozen=True)
class DatasetView:
    """A dataset as the browse pages show it."""

    id: str
    title: str
    description: str
    keywords: tuple[str, ...]
    media_types: tuple[str, ...]
    byte_size: int | None
    publisher: str
    publisher_did: str
    offers: tuple[OfferView, ...]


def _keys(name: str) -> tuple[str, ...]:
    prefix, _, local = name.partition(":")
    full = {"dct": DCT, "dcat": DCAT, "foaf": FOAF}[prefix] + local
    return (name, local, full)


def _values(obj: Mapping[str, Any], name: str) -> list[Any]:
    for key in _keys(name):
        if key in obj and obj[key] is not None:
            value = obj[key]
            return value if isinstance(value, list) else [value]
    return []


def _literal(value: Any) -> str:
    if isinstance(value, Mapping):
        value = value.get("@value", value.get("@id", ""))
    return "" if value is None or isinstance(value, Mapping | list) else str(value)


def _text(obj: Mapping[str, Any], name: str, language: str) -> str:
    """The value in ``language`` if the literal is language-tagged, else the first one."""
    values = _values(obj, name)
    for value in values:
        if isinstance(value, Mapping) and str(value.get("@language", "")).lower().startswith(language):
            return _literal(value)
    return next((text for text in map(_literal, values) if text), "")


def _publisher(dataset: Mapping[str, Any], remote: RemoteCatalog, language: str) -> tuple[str, str]:
    for source in (dataset, remote.catalog):
        for agent in _values(source, "dct:publisher"):
            if isinstance(agent, Mapping):
                did = str(agent.get("@id") or remote.provider_did)
                return _text(agent, "foaf:name", language) or did, did
            if isinstance(agent, str) and agent:
                return agent, agent
    return remote.provider_did, remote.provider_did


def _size(distributions: list[Any]) -> int | None:
    for distribution in distributions:
        if isinstance(distribution, Mapping):
            for value in _values(distribution, "dcat:byteSize"):
                try:
                    return int(_literal(value))
                except ValueError:
                    continue
    return None


def _media_types(distributions: list[Any]) -> tuple[str, ...]:
    found: list[str] = []
    for distribution in distributions:
        if isinstance(distribution, Mapping):
            for value in _values(distribution, "dcat:mediaType"):
                media_type = _literal(value).removeprefix(IANA_MEDIA_TYPES)
                if media_type and media_type not in found:
                    found.append(media_type)
    return tuple(found)


def offers_of(dataset: Mapping[str, Any], language: str) -> tuple[OfferView, ...]:
    """The dataset's offers (``hasPolicy``) with their policies in plain ``language``."""
    policies = dataset.get("hasPolicy", dataset.get("odrl:hasPolicy", []))
    return tuple(
        OfferView(str(offer.get("@id", "")), policy_text(offer, language))
        for offer in (policies if isinstance(policies, list) else [policies])
        if isinstance(offer, Mapping)
    )


def dataset_view(dataset: Mapping[str, Any], remote: RemoteCatalog, language: str) -> DatasetView:
    """The display form of one dataset of ``remote``."""
    distributions = _values(dataset, "dcat:distribution")
    publisher, publisher_did = _publisher(dataset, remote, language)
    dataset_id = str(dataset.get("@id", ""))
    return DatasetView(
        id=dataset_id,
        title=_text(dataset, "dct:title", language) or dataset_id,
        description=_text(dataset, "dct:description", language),
        keywords=tuple(text for text in map(_literal, _values(dataset, "dcat:keyword")) if text),
        media_types=_media_types(distributions),
        byte_size=_size(distributions),
        publisher=publisher,
        publisher_did=publisher_did,
        offers=offers_of(dataset, language),
    )


def catalog_title(remote: RemoteCatalog, language: str) -> str:
    """The catalog's title, else its publisher's name, else the provider's DID."""
    return _text(remote.catalog, "dct:title", language) or _publisher({}, remote, language)[0]
