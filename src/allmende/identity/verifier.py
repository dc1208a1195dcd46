"""Authentication of incoming protocol requests by their ``Authorization: Bearer <ID token>`` header."""

from __future__ import annotations

from datetime import datetime

from allmende.clock import utcnow
from allmende.identity.errors import ResolutionError, TokenError
from allmende.identity.jws import verify_signature
from allmende.identity.replay import ReplayGuard
from allmende.identity.resolver import DidResolver
from allmende.identity.tokens import TokenClaims, check_claims, read_token


async def verify_request_token(
    authorization_header: str | None,
    *,
    own_did: str,
    resolver: DidResolver,
    replay: ReplayGuard,
    now: datetime | None = None,
    max_ttl_seconds: int = 300,
    leeway_seconds: int = 30,
) -> TokenClaims:
    """Authenticate a caller: parse the Bearer token, resolve its key, verify it, refuse replays.

    Cheap checks (structure, kid/iss, audience ``own_did``, times, jti) run before the caller's DID is
    resolved, so junk tokens cause no outgoing request. Every failure raises TokenError whose
    ``reason`` the HTTP layer returns with status 401.
    """
    token = _bearer_token(authorization_header)
    moment = now or utcnow()
    unverified = read_token(token)
    # All claim checks, on the decoded token, before its key is fetched; they are pure, so the
    # verified token (same bytes, same moment) passes them exactly as it does here.
    claims = check_claims(
        unverified,
        expected_audience=own_did,
        now=moment,
        max_ttl_seconds=max_ttl_seconds,
        leeway_seconds=leeway_seconds,
    )
    try:
        public_key = await resolver.public_key(unverified.kid)
    except ResolutionError as error:
        raise TokenError(f"caller key not available: {error.reason}") from error
    verify_signature(unverified.decoded, public_key)
    if not replay.check_and_remember(claims.jti, claims.issuer, claims.expires_at):
        raise TokenError("token already used (jti replay)")
    return claims


def _bearer_token(authorization_header: str | None) -> str:
    if not authorization_header:
        raise TokenError("missing Authorization header")
    scheme, _, token = authorization_header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenError("Authorization header is not of the form 'Bearer <token>'")
    return token.strip()
