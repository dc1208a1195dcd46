"""Compact JWS / JWT signed with Ed25519 (RFC 7515, RFC 7519, RFC 8037): the generic helpers that ID
tokens and, later, VC-JWT credentials share.

Only Ed25519 is supported, so the algorithm cannot be downgraded: ``alg`` must be ``"EdDSA"`` (RFC 8037,
what Eclipse EDC and DCP peers send) or ``"Ed25519"`` (its fully-specified successor, RFC 9864); ``none``,
HMAC and every other value are refused before any key is used. Implemented on ``cryptography`` directly
because joserfc flags ``EdDSA`` with a SecurityWarning.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from allmende.identity.errors import TokenError
from allmende.identity.key_encoding import b64url_decode, b64url_encode

ACCEPTED_ALGORITHMS = frozenset({"EdDSA", "Ed25519"})
SIGNING_ALGORITHM = "EdDSA"
MAX_TOKEN_LENGTH = 16_384


class Signer(Protocol):
    """Anything that signs bytes with an Ed25519 private key (``NodeKey`` does)."""

    def sign(self, data: bytes) -> bytes:
        """Return the Ed25519 signature of ``data``."""
        ...


@dataclass(frozen=True)
class DecodedJwt:
    """A JWT split into its decoded header and claims; says nothing about the signature's validity."""

    header: Mapping[str, Any]
    claims: Mapping[str, Any]
    signing_input: bytes
    signature: bytes


def sign_jwt(
    claims: Mapping[str, Any], signer: Signer, *, kid: str, header_extras: Mapping[str, Any] | None = None
) -> str:
    """Serialise ``claims`` as a compact JWS with header ``alg: EdDSA``, ``kid`` and ``header_extras``."""
    extras = dict(header_extras or {})
    if {"alg", "kid"} & extras.keys():
        raise ValueError("header_extras must not set 'alg' or 'kid'")
    header = {"alg": SIGNING_ALGORITHM, "kid": kid, **extras}
    signing_input = f"{_encode_json(header)}.{_encode_json(claims)}".encode("ascii")
    return f"{signing_input.decode('ascii')}.{b64url_encode(signer.sign(signing_input))}"


def decode_jwt(token: str, *, max_length: int = MAX_TOKEN_LENGTH) -> DecodedJwt:
    """Split and decode a compact JWT without verifying it; checks structure and the algorithm.

    Raises TokenError for anything that is not three base64url parts holding JSON objects, duplicate
    JSON members, a ``crit`` header, or an algorithm other than Ed25519. ``max_length`` may be raised for
    documents signed as JWTs (member lists, status lists); ID tokens keep the default.
    """
    if len(token) > max_length:
        raise TokenError(f"malformed token: longer than {max_length} characters")
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError("malformed token: expected three dot-separated parts (compact JWS)")
    header = _decode_json_part(parts[0], "header")
    claims = _decode_json_part(parts[1], "payload")
    try:
        signature = b64url_decode(parts[2])
    except ValueError as error:
        raise TokenError(f"malformed token: signature part is {error}") from error
    algorithm = header.get("alg")
    if algorithm not in ACCEPTED_ALGORITHMS:
        raise TokenError(f"unsupported token algorithm {algorithm!r}: only EdDSA (Ed25519) is accepted")
    if "crit" in header:
        raise TokenError("token header has 'crit' extensions, which are not supported")
    return DecodedJwt(header, claims, f"{parts[0]}.{parts[1]}".encode("ascii"), signature)


def verify_signature(decoded: DecodedJwt, public_key: Ed25519PublicKey) -> None:
    """Check the Ed25519 signature of a decoded JWT; raises TokenError("signature invalid")."""
    try:
        public_key.verify(decoded.signature, decoded.signing_input)
    except InvalidSignature as error:
        raise TokenError("signature invalid") from error


def verify_jwt(token: str, public_key: Ed25519PublicKey, *, max_length: int = MAX_TOKEN_LENGTH) -> DecodedJwt:
    """Decode a JWT and verify its signature; claim checks are up to the caller."""
    decoded = decode_jwt(token, max_length=max_length)
    verify_signature(decoded, public_key)
    return decoded


def _encode_json(value: Mapping[str, Any]) -> str:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return b64url_encode(text.encode("utf-8"))


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise ValueError(f"duplicate member {name!r}")
        result[name] = value
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def _decode_json_part(part: str, name: str) -> dict[str, Any]:
    try:
        text = b64url_decode(part).decode("utf-8")
        value = json.loads(text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant)
    except ValueError as error:  # covers base64, UTF-8 and JSON errors
        raise TokenError(f"malformed token: {name} is not base64url-encoded JSON ({error})") from error
    if not isinstance(value, dict):
        raise TokenError(f"malformed token: {name} is not a JSON object")
    return value
