"""Membership credentials: W3C VC Data Model 2.0 credentials secured as VC-JWT (VC-JOSE-COSE), pure.

A directory issues one to each admitted member: header ``alg: EdDSA``, ``typ: vc+jwt``,
``kid: <directory DID>#<key id>``; the payload is the credential itself (issuer = the directory's DID,
``credentialSubject.memberOf.id`` = the community, which is the directory's DID too) plus the JWT claims
``iss``/``sub``/``nbf``/``exp``/``jti`` mirroring it. Verification is split so that it stays pure: ``read``
checks structure and issuer without a key, ``verify`` checks signature, holder and validity period with
the issuer's key, ``check_status`` checks the revocation bit in the issuer's status list.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from allmende.clock import isoformat, parse_datetime
from allmende.identity.did_document import split_did_url
from allmende.identity.errors import DidError, TokenError
from allmende.identity.jws import DecodedJwt, Signer, decode_jwt, sign_jwt, verify_signature
from allmende.network.status_list import VC_CONTEXT, StatusList, StatusListError

CREDENTIAL_TYPE: Final = "MembershipCredential"
JWT_TYPE: Final = "vc+jwt"
REASON_CODES: Final = frozenset(
    {
        "wrong_issuer",
        "expired",
        "not_yet_valid",
        "revoked",
        "tampered",
        "not_holder",
        "malformed",
        "unverifiable",
    }
)
LEEWAY_SECONDS: Final = 30


class CredentialError(ValueError):
    """A credential that grants nothing: ``code`` is one of REASON_CODES, ``text`` says why in words."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


@dataclass(frozen=True)
class Membership:
    """What a verified membership credential says."""

    community: str
    name: str
    holder: str
    valid_until: datetime
    credential_id: str
    status_url: str
    status_index: int


@dataclass(frozen=True)
class UnverifiedCredential:
    """A decoded membership credential whose structure is sound; signature and dates not yet checked."""

    decoded: DecodedJwt
    kid: str
    issuer: str
    membership: Membership
    valid_from: datetime


@dataclass(frozen=True)
class PresentedMemberships:
    """The outcome of checking the credentials a requester presented: the communities they prove, and
    why the others were not accepted (``"membership credential revoked by did:web:..."``)."""

    communities: frozenset[str] = frozenset()
    problems: tuple[str, ...] = ()


NO_MEMBERSHIPS: Final = PresentedMemberships()


def issue_membership(
    signer: Signer,
    *,
    issuer: str,
    key_id: str,
    holder: str,
    community_name: str,
    valid_from: datetime,
    valid_until: datetime,
    status_url: str,
    status_index: int,
    role: str = "member",
    credential_id: str | None = None,
) -> str:
    """A membership credential for ``holder`` in the community of directory ``issuer``, as a VC-JWT."""
    if valid_until <= valid_from:
        raise ValueError("validUntil must be after validFrom")
    cid = credential_id or f"urn:uuid:{uuid.uuid4()}"
    credential = {
        "@context": [VC_CONTEXT],
        "id": cid,
        "type": ["VerifiableCredential", CREDENTIAL_TYPE],
        "issuer": issuer,
        "validFrom": isoformat(valid_from),
        "validUntil": isoformat(valid_until),
        "credentialSubject": {
            "id": holder,
            "memberOf": {"id": issuer, "name": community_name},
            "role": role,
        },
        "credentialStatus": {
            "id": f"{status_url}#{status_index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(status_index),
            "statusListCredential": status_url,
        },
    }
    claims = {
        **credential,
        "iss": issuer,
        "sub": holder,
        "nbf": int(valid_from.timestamp()),
        "exp": int(valid_until.timestamp()),
        "jti": cid,
    }
    return sign_jwt(claims, signer, kid=f"{issuer}#{key_id}", header_extras={"typ": JWT_TYPE})


def read_membership(token: object) -> UnverifiedCredential:
    """Decode a membership VC-JWT and check its structure and issuer; raises CredentialError."""
    if not isinstance(token, str):
        raise CredentialError("malformed", "membership credential is not a JWT string")
    try:
        decoded = decode_jwt(token)
    except TokenError as error:
        raise CredentialError("malformed", f"membership credential is malformed: {error.reason}") from error
    if decoded.header.get("typ") != JWT_TYPE:
        raise CredentialError("malformed", f"membership credential header typ is not {JWT_TYPE!r}")
    claims = decoded.claims
    issuer = _text(claims, "issuer")
    kid = decoded.header.get("kid")
    try:
        kid_did, _ = split_did_url(kid) if isinstance(kid, str) else ("", "")
    except DidError as error:
        raise CredentialError("malformed", f"membership credential kid is not a DID URL: {error}") from error
    types = claims.get("type")
    if not isinstance(types, list) or CREDENTIAL_TYPE not in types or "VerifiableCredential" not in types:
        raise CredentialError("malformed", "not a MembershipCredential")
    context = claims.get("@context")
    if not isinstance(context, list) or not context or context[0] != VC_CONTEXT:
        raise CredentialError("malformed", "membership credential lacks the VC 2.0 @context")
    subject = claims.get("credentialSubject")
    member_of = subject.get("memberOf") if isinstance(subject, Mapping) else None
    if not isinstance(subject, Mapping) or not isinstance(member_of, Mapping):
        raise CredentialError("malformed", "membership credential has no credentialSubject.memberOf")
    community = _text(member_of, "id")
    if kid_did != issuer or claims.get("iss") != issuer or community != issuer:
        raise CredentialError(
            "wrong_issuer",
            f"membership credential for {community} was not issued by that community's directory "
            f"(issuer {issuer}, signed by {kid_did or 'nobody'})",
        )
    status = claims.get("credentialStatus")
    if not isinstance(status, Mapping) or status.get("statusPurpose") != "revocation":
        raise CredentialError("malformed", "membership credential has no revocation credentialStatus")
    try:
        index = int(_text(status, "statusListIndex"))
        membership = Membership(
            community=community,
            name=str(member_of.get("name", "")),
            holder=_text(subject, "id"),
            valid_until=parse_datetime(_text(claims, "validUntil")),
            credential_id=_text(claims, "id"),
            status_url=_text(status, "statusListCredential"),
            status_index=index,
        )
        valid_from = parse_datetime(_text(claims, "validFrom"))
    except ValueError as error:
        raise CredentialError("malformed", f"membership credential is malformed: {error}") from error
    if index < 0:
        raise CredentialError("malformed", "membership credential has a negative statusListIndex")
    return UnverifiedCredential(decoded, str(kid), issuer, membership, valid_from)


def verify_membership(
    credential: UnverifiedCredential, public_key: Ed25519PublicKey, *, holder: str, now: datetime
) -> Membership:
    """Check signature, holder and validity period; raises CredentialError (tampered, not_holder...)."""
    try:
        verify_signature(credential.decoded, public_key)
    except TokenError as error:
        raise CredentialError(
            "tampered", f"membership credential of {credential.issuer} has an invalid signature"
        ) from error
    membership = credential.membership
    if membership.holder != holder or credential.decoded.claims.get("sub") != holder:
        raise CredentialError(
            "not_holder", f"membership credential of {credential.issuer} was issued to {membership.holder}"
        )
    moment = now.astimezone(UTC).timestamp()
    if moment + LEEWAY_SECONDS < credential.valid_from.timestamp():
        raise CredentialError(
            "not_yet_valid", f"membership credential of {credential.issuer} is not valid yet"
        )
    if moment - LEEWAY_SECONDS >= membership.valid_until.timestamp():
        raise CredentialError(
            "expired",
            f"membership credential of {credential.issuer} expired on {isoformat(membership.valid_until)}",
        )
    return membership


def check_status(membership: Membership, status: StatusList) -> None:
    """Raise CredentialError("revoked") when the membership's bit is set in ``status``."""
    try:
        revoked = status.get(membership.status_index)
    except StatusListError as error:
        raise CredentialError("malformed", f"membership credential status: {error}") from error
    if revoked:
        raise CredentialError("revoked", f"membership credential revoked by {membership.community}")


def _text(container: Mapping[str, Any], name: str) -> str:
    value = container.get(name)
    if not isinstance(value, str) or not value:
        raise CredentialError("malformed", f"membership credential has no {name!r}")
    return value
