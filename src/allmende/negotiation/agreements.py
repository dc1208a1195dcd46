"""Agreements: built from the offer on the table, identified by the digest both parties sign."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from allmende.canonical import json_digest
from allmende.clock import isoformat

RULE_KEYS = ("permission", "prohibition", "obligation", "profile")


def build_agreement(
    offer: Mapping[str, Any],
    *,
    agreement_id: str,
    target: str,
    assigner: str,
    assignee: str,
    timestamp: datetime,
) -> dict[str, Any]:
    """The ODRL Agreement (DSP compact form) granting ``assignee`` the rules of ``offer``."""
    agreement: dict[str, Any] = {
        "@id": agreement_id,
        "@type": "Agreement",
        "target": target,
        "assigner": assigner,
        "assignee": assignee,
        "timestamp": isoformat(timestamp.replace(microsecond=0)),
    }
    for key in RULE_KEYS:
        if key in offer:
            agreement[key] = offer[key]
    return agreement


def agreement_digest(agreement: Mapping[str, Any]) -> str:
    """sha-256 of the agreement's canonical JSON, as ``sha-256=:BASE64:``; what both sides sign."""
    return json_digest(dict(agreement))


def agreement_matches_request(
    agreement: Mapping[str, Any], requested: Mapping[str, Any], *, consumer_did: str, provider_did: str
) -> list[str]:
    """Why an agreement received by the consumer does not match what it asked for (empty: it does)."""
    problems: list[str] = []
    if agreement.get("assignee") != consumer_did:
        problems.append(
            f"agreement assignee is {agreement.get('assignee')!r}, not this node ({consumer_did})"
        )
    if agreement.get("assigner") != provider_did:
        problems.append(
            f"agreement assigner is {agreement.get('assigner')!r}, not the provider ({provider_did})"
        )
    if requested.get("target") and agreement.get("target") != requested.get("target"):
        problems.append(f"agreement target {agreement.get('target')!r} is not the requested dataset")
    return problems


def declared_purposes(policy: Mapping[str, Any]) -> set[str]:
    """Purposes a requester commits to by asking for ``policy`` (``purpose eq X`` / ``isAnyOf [...]``)."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, Mapping):
            operand = str(node.get("leftOperand", "")).rsplit("/", 1)[-1].removeprefix("odrl:")
            if operand == "purpose" and node.get("operator") in ("eq", "isA", "isAnyOf", "isPartOf"):
                right = node.get("rightOperand")
                values = right if isinstance(right, list) else [right]
                found.update(
                    str(v.get("@id", v.get("@value")) if isinstance(v, Mapping) else v) for v in values
                )
            for key in ("permission", "constraint", "and", "or", "xone", "andSequence"):
                if key in node:
                    walk(node[key])

    walk(policy)
    return found
