"""Data-plane access tokens: short-lived JWTs the provider signs, bound to one transfer and agreement."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from allmende.identity import IdentityError, NodeKey
from allmende.identity.jws import decode_jwt, sign_jwt, verify_signature

TOKEN_TYPE = "allmende-data+jwt"  # a provider's token for pulling data
PUSH_TOKEN_TYPE = "allmende-push+jwt"  # a consumer's token for pushing data to it


class AccessDenied(Exception):
    """Access to the data plane is refused: HTTP ``status`` (401/403/404/410) and the reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class AccessGrant:
    """What a verified access token allows: one transfer under one agreement, for one consumer."""

    provider_pid: str
    agreement_id: str
    consumer_did: str
    expires_at: datetime


def issue_access_token(
    key: NodeKey,
    *,
    issuer_did: str,
    consumer_did: str,
    provider_pid: str,
    agreement_id: str,
    now: datetime,
    ttl_seconds: int,
    token_type: str = TOKEN_TYPE,
) -> str:
    """Sign a token for pulling the data of ``provider_pid``."""
    issued = int(now.timestamp())
    claims = {
        "iss": issuer_did,
        "sub": provider_pid,
        "aud": consumer_did,
        "agreement": agreement_id,
        "iat": issued,
        "exp": issued + ttl_seconds,
        "jti": f"urn:uuid:{uuid.uuid4()}",
    }
    return sign_jwt(claims, key, kid=f"{issuer_did}#{key.key_id}", header_extras={"typ": token_type})


def read_access_token(
    token: str, *, keys: Sequence[NodeKey], own_did: str, now: datetime, token_type: str = TOKEN_TYPE
) -> AccessGrant:
    """Verify a token this node issued (any of its keys, so rotation keeps tokens valid); 401 otherwise."""
    try:
        decoded = decode_jwt(token)
    except IdentityError as exc:
        raise AccessDenied(401, f"malformed access token: {exc.reason}") from None
    if decoded.header.get("typ") != token_type:
        raise AccessDenied(401, f"not a {token_type} token")
    kid = str(decoded.header.get("kid", ""))
    did, _, fragment = kid.partition("#")
    key = next((k for k in keys if k.key_id == fragment), None)
    if did != own_did or key is None or decoded.claims.get("iss") != own_did:
        raise AccessDenied(401, "access token was not issued by this node")
    try:
        verify_signature(decoded, key.public_key)
    except IdentityError:
        raise AccessDenied(401, "access token signature is invalid") from None
    claims = decoded.claims
    try:
        expires = datetime.fromtimestamp(float(claims["exp"]), UTC)
        grant = AccessGrant(str(claims["sub"]), str(claims["agreement"]), str(claims["aud"]), expires)
    except (KeyError, TypeError, ValueError):
        raise AccessDenied(401, "access token lacks its claims") from None
    if expires <= now:
        raise AccessDenied(401, "access token expired")
    return grant
