"""The directory's member list as a signed document (a JWT), and its verification; pure.

Claims: ``iss`` (the directory's DID), ``iat``, ``community`` (= ``iss``), ``name`` (the community's display
name) and ``members``: ``[{did, name, dspUrl, baseUrl, sector, region, sizeClass, role, since}]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from allmende.identity.errors import TokenError
from allmende.identity.jws import Signer, decode_jwt, sign_jwt, verify_signature

MAX_MEMBER_LIST_LENGTH: Final = 50_000_000
JWT_TYPE: Final = "members+jwt"


@dataclass(frozen=True)
class MemberList:
    """A verified member list."""

    community: str
    name: str
    issued_at: datetime
    members: tuple[Mapping[str, Any], ...]


def sign_member_list(
    view: Mapping[str, Any], signer: Signer, *, issuer: str, key_id: str, now: datetime
) -> str:
    """The member list ``view`` (``community``, ``name``, ``members``) signed by the directory."""
    claims = {"iss": issuer, "iat": int(now.timestamp()), **view}
    return sign_jwt(claims, signer, kid=f"{issuer}#{key_id}", header_extras={"typ": JWT_TYPE})


def member_list_kid(token: str) -> str:
    """The ``kid`` of a member list JWT (to look up the directory's key); raises TokenError."""
    kid = decode_jwt(token, max_length=MAX_MEMBER_LIST_LENGTH).header.get("kid")
    if not isinstance(kid, str):
        raise TokenError("member list has no kid")
    return kid


def verify_member_list(token: str, public_key: Ed25519PublicKey, *, directory_did: str) -> MemberList:
    """Verify the member list of ``directory_did``; raises TokenError when it is not that directory's."""
    decoded = decode_jwt(token, max_length=MAX_MEMBER_LIST_LENGTH)
    kid = decoded.header.get("kid")
    if not isinstance(kid, str) or kid.split("#", 1)[0] != directory_did:
        raise TokenError(f"member list is not signed by {directory_did}")
    verify_signature(decoded, public_key)
    claims = decoded.claims
    if claims.get("iss") != directory_did or claims.get("community") != directory_did:
        raise TokenError(f"member list is not issued by {directory_did}")
    members = claims.get("members")
    issued = claims.get("iat")
    if not isinstance(members, list) or not all(isinstance(m, dict) for m in members):
        raise TokenError("member list has no 'members' list")
    if not isinstance(issued, int):
        raise TokenError("member list has no 'iat'")
    return MemberList(
        community=directory_did,
        name=str(claims.get("name", "")),
        issued_at=datetime.fromtimestamp(issued, UTC),
        members=tuple(members),
    )
