"""Self-issued ID tokens as in the Decentralized Claims Protocol: issuing and pure verification.

A token is a JWT signed with the caller's Ed25519 key: header ``alg: EdDSA``, ``typ: JWT``,
``kid: <caller DID>#<key id>``; claims ``iss = sub = caller DID``, ``aud = callee DID``, ``iat``, ``nbf``,
``exp`` (at most five minutes later) and a unique ``jti``. ``verify_token`` is a pure function (no I/O,
no clock); replay protection is the caller's job (``allmende.identity.replay``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from allmende.clock import utcnow
from allmende.identity.did_document import split_did_url
from allmende.identity.errors import DidError, TokenError
from allmende.identity.jws import DecodedJwt, decode_jwt, sign_jwt, verify_signature
from allmende.identity.keys import NodeKey

__all__ = [
    "KeyLookup",
    "TokenClaims",
    "TokenError",
    "check_claims",
    "issue_token",
    "read_token",
    "verify_token",
]

REGISTERED_CLAIMS = frozenset({"iss", "sub", "aud", "iat", "nbf", "exp", "jti"})
MAX_JTI_LENGTH = 256
KeyLookup = Callable[[str, str], Ed25519PublicKey]
"""Returns the public key for ``(kid, issuer)``; raises TokenError (or DidError) if there is none."""


@dataclass(frozen=True)
class TokenClaims:
    """The verified content of an ID token."""

    issuer: str
    subject: str
    audience: tuple[str, ...]
    issued_at: datetime
    expires_at: datetime
    jti: str
    kid: str
    claims: Mapping[str, Any]


def issue_token(
    key: NodeKey,
    issuer_did: str,
    audience_did: str,
    *,
    now: datetime | None = None,
    ttl_seconds: int = 300,
    extra_claims: Mapping[str, Any] | None = None,
) -> str:
    """Issue a self-signed ID token from ``issuer_did`` to ``audience_did``, valid ``ttl_seconds``.

    ``extra_claims`` (e.g. DCP's ``token``) may not override registered claims; raises ValueError.
    """
    if ttl_seconds <= 0:
        raise ValueError(f"ttl_seconds must be positive, got {ttl_seconds}")
    clash = REGISTERED_CLAIMS & set(extra_claims or {})
    if clash:
        raise ValueError(f"extra_claims must not override registered claims {sorted(clash)}")
    if now is not None and now.tzinfo is None:
        raise ValueError("now must be an aware datetime (use allmende.clock.utcnow)")
    issued_at = int((now or utcnow()).timestamp())
    claims = {
        **(extra_claims or {}),
        "iss": issuer_did,
        "sub": issuer_did,
        "aud": audience_did,
        "iat": issued_at,
        "nbf": issued_at,
        "exp": issued_at + ttl_seconds,
        "jti": f"urn:uuid:{uuid.uuid4()}",
    }
    return sign_jwt(claims, key, kid=f"{issuer_did}#{key.key_id}", header_extras={"typ": "JWT"})


@dataclass(frozen=True)
class UnverifiedToken:
    """A decoded token whose header, ``kid`` and ``iss`` are consistent, before any signature check."""

    decoded: DecodedJwt
    kid: str
    issuer: str


def read_token(token: str) -> UnverifiedToken:
    """Decode a token and check its structure: EdDSA, ``kid`` a DID URL whose DID is ``iss``, ``sub = iss``.

    Use it to find the key to fetch; nothing read here is trustworthy until ``verify_token`` succeeds.
    """
    decoded = decode_jwt(token)
    kid = decoded.header.get("kid")
    if not isinstance(kid, str):
        raise TokenError("token header has no 'kid'")
    try:
        kid_did, _ = split_did_url(kid)
    except DidError as error:
        raise TokenError(f"token 'kid' is not a DID URL: {error.reason}") from error
    issuer = decoded.claims.get("iss")
    if not isinstance(issuer, str):
        raise TokenError("token has no string 'iss' claim")
    if kid_did != issuer:
        raise TokenError(f"kid DID does not match iss: kid {kid!r}, iss {issuer!r}")
    if decoded.claims.get("sub") != issuer:
        raise TokenError("self-issued token must have sub equal to iss")
    return UnverifiedToken(decoded, kid, issuer)


def check_claims(
    unverified: UnverifiedToken,
    *,
    expected_audience: str,
    now: datetime,
    max_ttl_seconds: int = 300,
    leeway_seconds: int = 30,
) -> TokenClaims:
    """Check audience, times and jti of a read token (not its signature); raises TokenError."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime (use allmende.clock.utcnow)")
    claims = unverified.decoded.claims
    audience = _audience(claims.get("aud"))
    if expected_audience not in audience:
        raise TokenError(f"audience mismatch: expected {expected_audience}")
    expires, issued = _numeric_date(claims, "exp"), _numeric_date(claims, "iat")
    moment = now.timestamp()
    if moment >= expires + leeway_seconds:
        raise TokenError("token expired")
    if issued > moment + leeway_seconds:
        raise TokenError("token issued in the future (iat)")
    if "nbf" in claims and _numeric_date(claims, "nbf") > moment + leeway_seconds:
        raise TokenError("token not yet valid (nbf)")
    if expires <= issued:
        raise TokenError("token exp is not after iat")
    if expires - issued > max_ttl_seconds:
        raise TokenError(f"token lifetime {expires - issued:g}s exceeds the maximum of {max_ttl_seconds}s")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_LENGTH:
        raise TokenError(f"token has no 'jti' (a non-empty string of at most {MAX_JTI_LENGTH} characters)")
    return TokenClaims(
        issuer=unverified.issuer,
        subject=unverified.issuer,
        audience=audience,
        issued_at=datetime.fromtimestamp(issued, UTC),
        expires_at=datetime.fromtimestamp(expires, UTC),
        jti=jti,
        kid=unverified.kid,
        claims=dict(claims),
    )


def verify_token(
    token: str,
    *,
    expected_audience: str,
    key: Ed25519PublicKey | KeyLookup,
    now: datetime,
    max_ttl_seconds: int = 300,
    leeway_seconds: int = 30,
) -> TokenClaims:
    """Verify an ID token completely except for replay; pure. Raises TokenError with a specific reason.

    Order: structure and algorithm, kid/iss/sub consistency, signature (with ``key`` or
    ``key(kid, iss)``), then audience, exp/iat/nbf with ``leeway_seconds``, lifetime and jti.
    """
    unverified = read_token(token)
    public_key = key if isinstance(key, Ed25519PublicKey) else _lookup(key, unverified)
    verify_signature(unverified.decoded, public_key)
    return check_claims(
        unverified,
        expected_audience=expected_audience,
        now=now,
        max_ttl_seconds=max_ttl_seconds,
        leeway_seconds=leeway_seconds,
    )


def _lookup(key_lookup: KeyLookup, unverified: UnverifiedToken) -> Ed25519PublicKey:
    try:
        return key_lookup(unverified.kid, unverified.issuer)
    except DidError as error:
        raise TokenError(f"no usable key for kid {unverified.kid}: {error.reason}") from error


def _audience(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise TokenError("token 'aud' must be a string or a non-empty list of strings")


def _numeric_date(claims: Mapping[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenError(f"token has no numeric '{name}' claim")
    if not 0 <= value < 253402300800:  # before year 10000, so datetime conversion cannot fail
        raise TokenError(f"token '{name}' claim is out of range")
    return float(value)
