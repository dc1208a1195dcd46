"""A parsed, read-only view of a DID document and the Ed25519 keys it publishes."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from allmende.identity.errors import DidError, UnknownVerificationMethodError
from allmende.identity.key_encoding import public_key_from_jwk, public_key_from_multibase

DID_SYNTAX = re.compile(
    r"did:[a-z0-9]+:(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2}|:)*(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})"
)
JWK_METHOD_TYPES = frozenset({"JsonWebKey2020", "JsonWebKey"})
MULTIBASE_METHOD_TYPES = frozenset({"Multikey", "Ed25519VerificationKey2020"})


def split_did_url(did_url: str) -> tuple[str, str]:
    """Split ``did:...#fragment`` into the DID and the fragment; raises DidError if not of that form."""
    did, separator, fragment = did_url.partition("#")
    if not separator or not fragment or not DID_SYNTAX.fullmatch(did):
        raise DidError(f"not a DID URL of the form 'did:<method>:<id>#<fragment>': {did_url!r}")
    return did, fragment


@dataclass(frozen=True)
class DidDocument:
    """A DID document: its ``id``, its verification methods by absolute id, and the raw JSON."""

    id: str
    methods: Mapping[str, Mapping[str, Any]]
    raw: Mapping[str, Any] = field(repr=False)
    # Keys already decoded from this (read-only) document, by absolute method id: each incoming
    # message asks for its caller's key, and the resolver keeps the document while it is fresh.
    _keys: dict[str, Ed25519PublicKey] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def parse(cls, data: object) -> DidDocument:
        """Check the shape of a decoded DID document; raises DidError naming what is wrong."""
        if not isinstance(data, dict):
            raise DidError(f"a DID document must be a JSON object, got {type(data).__name__}")
        did = data.get("id")
        if not isinstance(did, str) or not DID_SYNTAX.fullmatch(did):
            raise DidError(f"DID document 'id' is not a DID: {did!r}")
        entries = data.get("verificationMethod", [])
        if not isinstance(entries, list):
            raise DidError("DID document 'verificationMethod' must be a list")
        methods: dict[str, Mapping[str, Any]] = {}
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
                raise DidError(f"verification method without a string 'id': {entry!r}")
            if not isinstance(entry.get("type"), str):
                raise DidError(f"verification method {entry['id']} has no string 'type'")
            method_id = _absolute(did, entry["id"])
            if method_id in methods:
                raise DidError(f"DID document lists verification method {method_id} twice")
            methods[method_id] = copy.deepcopy(entry)
        return cls(id=did, methods=methods, raw=copy.deepcopy(data))

    def method_ids(self) -> list[str]:
        """Absolute ids (``did#fragment``) of all verification methods, in document order."""
        return list(self.methods)

    def verification_key(self, kid: str) -> Ed25519PublicKey:
        """Return the Ed25519 key of the verification method ``kid`` (absolute or ``#fragment``).

        Accepts JsonWebKey2020 / JsonWebKey (publicKeyJwk, OKP Ed25519) and Multikey /
        Ed25519VerificationKey2020 (publicKeyMultibase, z-base58btc, 0xed01). Raises
        UnknownVerificationMethodError if absent, DidError for other key types or bad encodings.
        """
        method_id = _absolute(self.id, kid)
        known = self._keys.get(method_id)
        if known is not None:
            return known
        key = self._decode_key(method_id)
        self._keys[method_id] = key
        return key

    def _decode_key(self, method_id: str) -> Ed25519PublicKey:
        method = self.methods.get(method_id)
        if method is None:
            raise UnknownVerificationMethodError(
                f"DID document {self.id} has no verification method {method_id}"
            )
        method_type = method["type"]
        if method_type in JWK_METHOD_TYPES:
            jwk = method.get("publicKeyJwk")
            if not isinstance(jwk, dict):
                raise DidError(f"verification method {method_id} ({method_type}) lacks a publicKeyJwk object")
            return public_key_from_jwk(jwk)
        if method_type in MULTIBASE_METHOD_TYPES:
            multibase = method.get("publicKeyMultibase")
            if not isinstance(multibase, str):
                raise DidError(f"verification method {method_id} ({method_type}) lacks publicKeyMultibase")
            return public_key_from_multibase(multibase)
        raise DidError(
            f"verification method {method_id} has unsupported type {method_type!r}; "
            f"expected one of {sorted(JWK_METHOD_TYPES | MULTIBASE_METHOD_TYPES)}"
        )

    def services(self, service_type: str | None = None) -> list[Mapping[str, Any]]:
        """The document's ``service`` entries, optionally only those of one ``type``."""
        entries = self.raw.get("service", [])
        if not isinstance(entries, list):
            return []
        return [
            entry
            for entry in entries
            if isinstance(entry, dict) and (service_type is None or entry.get("type") == service_type)
        ]


def _absolute(did: str, method_id: str) -> str:
    if method_id.startswith("#"):
        return did + method_id
    return method_id
