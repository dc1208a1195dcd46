"""What the federated catalog keeps of a dataset another node showed: plain fields for search and filters.

Pure functions over DSP catalog JSON. They accept the compact terms this node writes (``dct:title``,
``dcat:keyword``...) as well as full IRIs and plain terms, and values as strings, ``@value`` objects or
lists of either, because other connectors compact differently.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from allmende.catalog.dcat import FOAF, IANA_MEDIA_TYPES
from allmende.catalog.themes import DATA_THEME_BASE
from allmende.clock import parse_datetime
from allmende.policy.errors import PolicyError
from allmende.policy.jsonld import policy_from_json
from allmende.policy.model import Constraint, ConstraintNode, Duty, LogicalConstraint, Policy
from allmende.policy.templates import TEMPLATES

DCT = "http://purl.org/dc/terms/"
DCAT = "http://www.w3.org/ns/dcat#"
# Template parameters without a default get these stand-ins when the template's shape is computed;
# their values never matter for the shape (only purposes do, and no template takes a purpose parameter).
_STAND_INS = ("P1M", "2030-01-01T00:00:00Z", "did:web:example.org")


@dataclass(frozen=True)
class DatasetFields:
    """One dataset of a remote catalog, flattened for the federated catalog."""

    dataset_id: str
    title: str
    description: str
    keywords: tuple[str, ...]
    themes: tuple[str, ...]
    formats: tuple[str, ...]
    publisher: str
    templates: tuple[str, ...]
    offers: tuple[dict[str, Any], ...]
    modified: datetime | None
    raw: dict[str, Any]


def _values(node: Mapping[str, Any], *keys: str) -> list[Any]:
    for key in keys:
        if key in node:
            value = node[key]
            return list(value) if isinstance(value, list) else [value]
    return []


def _text(value: object) -> str:
    if isinstance(value, Mapping):
        value = value.get("@value", value.get("@id", ""))
    return value.strip() if isinstance(value, str) else ""


def _texts(node: Mapping[str, Any], *keys: str) -> list[str]:
    return [text for text in (_text(value) for value in _values(node, *keys)) if text]


def _first(node: Mapping[str, Any], *keys: str) -> str:
    texts = _texts(node, *keys)
    return texts[0] if texts else ""


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(value for value in values if value))


def _term(name: str, prefix: str, iri: str) -> tuple[str, str, str]:
    return (f"{prefix}:{name}", iri + name, name)


def publisher_name(node: Mapping[str, Any]) -> str:
    """The ``foaf:name`` of a node's ``dct:publisher``, if it names one."""
    for agent in _values(node, *_term("publisher", "dct", DCT)):
        if isinstance(agent, Mapping):
            name = _first(agent, FOAF + "name", "foaf:name", "name")
            if name:
                return name
    return ""


def _theme(value: object) -> str:
    iri = _text(value)
    return iri.removeprefix(DATA_THEME_BASE)


def _formats(dataset: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    for distribution in _values(dataset, "distribution", *_term("distribution", "dcat", DCAT)):
        if not isinstance(distribution, Mapping):
            continue
        for media in _values(distribution, *_term("mediaType", "dcat", DCAT)):
            found.append(_text(media).removeprefix(IANA_MEDIA_TYPES))
        found.extend(_texts(distribution, "format", *_term("format", "dct", DCT)))
    return found


def _moment(dataset: Mapping[str, Any]) -> datetime | None:
    for key in ("modified", "issued"):
        text = _first(dataset, *_term(key, "dct", DCT))
        if text:
            try:
                return parse_datetime(text)
            except ValueError:
                continue
    return None


def dataset_fields(dataset: Mapping[str, Any], catalog: Mapping[str, Any]) -> DatasetFields | None:
    """The searchable fields of ``dataset`` (from ``catalog``); None when it has no usable ``@id``."""
    dataset_id = _text(dataset.get("@id"))
    if not dataset_id:
        return None
    offers = tuple(
        dict(offer)
        for offer in _values(dataset, "hasPolicy", "odrl:hasPolicy")
        if isinstance(offer, Mapping) and isinstance(offer.get("@id"), str)
    )
    return DatasetFields(
        dataset_id=dataset_id,
        title=_first(dataset, *_term("title", "dct", DCT)) or dataset_id,
        description=_first(dataset, *_term("description", "dct", DCT)),
        keywords=_unique(_texts(dataset, *_term("keyword", "dcat", DCAT))),
        themes=_unique(_theme(value) for value in _values(dataset, *_term("theme", "dcat", DCAT))),
        formats=_unique(_formats(dataset)),
        publisher=publisher_name(dataset) or publisher_name(catalog),
        templates=_unique(template_of(offer) for offer in offers),
        offers=offers,
        modified=_moment(dataset),
        raw=dict(dataset),
    )


def _constraint_shape(node: ConstraintNode) -> Any:
    if isinstance(node, LogicalConstraint):
        return (node.operator, tuple(sorted(map(repr, map(_constraint_shape, node.constraints)))))
    assert isinstance(node, Constraint)
    # Purposes make the difference between templates; durations, dates and communities are parameters.
    value = node.right_operand if node.left_operand == "purpose" else node.data_type
    return (node.left_operand, node.operator, repr(value))


def _duty_shape(duty: Duty) -> Any:
    return (duty.action, _constraints_shape(duty.constraints), tuple(map(_duty_shape, duty.consequences)))


def _constraints_shape(nodes: Iterable[ConstraintNode]) -> tuple[str, ...]:
    return tuple(sorted(repr(_constraint_shape(node)) for node in nodes))


def policy_shape(policy: Policy) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A policy's rules without ids, parties and parameter values: what makes it one template's."""
    permissions = sorted(
        repr((p.action, _constraints_shape(p.constraints), tuple(map(_duty_shape, p.duties))))
        for p in policy.permissions
    )
    prohibitions = sorted(
        repr((p.action, _constraints_shape(p.constraints), tuple(map(_duty_shape, p.remedies))))
        for p in policy.prohibitions
    )
    return tuple(permissions), tuple(prohibitions)


def _template_shapes() -> dict[tuple[tuple[str, ...], tuple[str, ...]], str]:
    shapes: dict[tuple[tuple[str, ...], tuple[str, ...]], str] = {}
    for template in TEMPLATES.values():
        missing = [p.name for p in template.parameters if p.default is None]
        attempts: list[dict[str, str]] = [{}] + [
            {name: stand_in} for name in missing for stand_in in _STAND_INS
        ]
        for params in attempts:
            try:
                policy = template.build("did:web:example.org", "urn:uuid:0", **params)
            except (PolicyError, ValueError, KeyError):
                continue
            shapes.setdefault(policy_shape(policy), template.name)
    return shapes


_SHAPES: dict[tuple[tuple[str, ...], tuple[str, ...]], str] | None = None


_KNOWN: dict[str, str] = {}
_MAX_KNOWN = 10_000


def template_of(offer: Mapping[str, Any]) -> str:
    """The policy template an offer follows (by its rules), or "" when it follows none."""
    global _SHAPES
    if _SHAPES is None:
        _SHAPES = _template_shapes()
    # Offers of one template differ in ids and parties only: remember the answer per rest.
    rest = {key: value for key, value in offer.items() if key not in ("@id", "target", "assigner")}
    try:
        key = json.dumps(rest, sort_keys=True, default=str)
    except ValueError:
        key = ""
    known = _KNOWN.get(key) if key else None
    if known is not None:
        return known
    try:
        name = _SHAPES.get(policy_shape(policy_from_json({**offer, "@type": "Offer"})), "")
    except (PolicyError, ValueError, TypeError):
        name = ""
    if key and len(_KNOWN) < _MAX_KNOWN:
        _KNOWN[key] = name
    return name
