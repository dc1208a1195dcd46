"""Presenting membership credentials in ID tokens, and checking the ones a requester presents.

The node puts its admitted, unexpired credentials into every self-issued ID token as the claim ``vc``
(a list of VC-JWTs). A provider checks them with ``verify_presented``: the issuer's key from its DID
document, signature, holder (= the token's issuer), validity period and the issuer's revocation list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from allmende.clock import utcnow
from allmende.identity.errors import ResolutionError
from allmende.identity.tokens import TokenClaims
from allmende.network.credentials import (
    NO_MEMBERSHIPS,
    CredentialError,
    Membership,
    PresentedMemberships,
    check_status,
    read_membership,
    verify_membership,
)

if TYPE_CHECKING:
    from allmende.node import Node

CLAIM: Final = "vc"
MAX_PRESENTED: Final = 8


async def verify_presented(node: Node, claims: TokenClaims) -> PresentedMemberships:
    """The communities the caller's presented credentials prove, and why the others prove nothing."""
    presented = claims.claims.get(CLAIM)
    if presented is None:
        return NO_MEMBERSHIPS
    if not isinstance(presented, list):
        return PresentedMemberships(problems=("the 'vc' claim is not a list of membership credentials",))
    communities: set[str] = set()
    problems: list[str] = []
    for token in presented[:MAX_PRESENTED]:
        try:
            membership = await verify_credential(node, token, holder=claims.issuer)
        except CredentialError as error:
            problems.append(error.text)
        else:
            communities.add(membership.community)
    return PresentedMemberships(frozenset(communities), tuple(problems))


async def verify_credential(node: Node, token: object, *, holder: str) -> Membership:
    """Check one membership credential completely; raises CredentialError with the reason."""
    credential = read_membership(token)
    try:
        public_key = await node.resolver.public_key(credential.kid)
    except ResolutionError as error:
        raise CredentialError(
            "unverifiable", f"issuer of a membership credential cannot be resolved: {error.reason}"
        ) from error
    membership = verify_membership(credential, public_key, holder=holder, now=utcnow())
    check_status(membership, await node.status_lists.get(membership.status_url, credential.issuer))
    return membership


def refusal_note(presented: PresentedMemberships) -> str:
    """The problems of the presented credentials, to append to a refusal ("" when there are none)."""
    return f" ({'; '.join(presented.problems)})" if presented.problems else ""
