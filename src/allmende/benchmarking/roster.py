"""The roster: the participant list the organiser fixes when joining closes, signed by it (pure).

A JWT (``typ: benchmark-roster+jwt``) with ``iss`` (the organiser's DID), ``round``, ``threshold``,
``kpis`` (the SHA-256 of the round's KPIs, so nobody shares under changed bounds) and ``participants``:
``[{did, endpoint, position}]``. The organiser sends it to every participant; each participant sends it
along with every share, so a peer that has not yet heard from the organiser can start at once, and a
peer that holds a different roster refuses the share (the organiser told participants different lists).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from allmende.benchmarking.errors import BenchmarkError
from allmende.benchmarking.kpis import Kpi, kpi_json
from allmende.canonical import json_digest
from allmende.identity.did import did_from_url
from allmende.identity.errors import DidError, TokenError
from allmende.identity.jws import Signer, decode_jwt, sign_jwt, verify_signature

JWT_TYPE: Final = "benchmark-roster+jwt"
MAX_ROSTER_LENGTH: Final = 2_000_000
MAX_PARTICIPANTS: Final = 1000


@dataclass(frozen=True)
class Member:
    """One participant as the roster lists it."""

    did: str
    endpoint: str
    position: int


@dataclass(frozen=True)
class Roster:
    """A verified roster."""

    organiser: str
    round_id: str
    threshold: int
    kpis_digest: str
    members: tuple[Member, ...]

    def position_of(self, did: str) -> int | None:
        return next((m.position for m in self.members if m.did == did), None)

    def member_at(self, position: int) -> Member | None:
        return next((m for m in self.members if m.position == position), None)

    @property
    def positions(self) -> list[int]:
        return [m.position for m in self.members]


def kpis_digest(kpis: Sequence[Kpi]) -> str:
    """The digest that ties a roster to the KPIs the participants joined under."""
    return json_digest([kpi_json(kpi) for kpi in kpis])


def sign_roster(
    signer: Signer,
    *,
    organiser: str,
    key_id: str,
    round_id: str,
    threshold: int,
    kpis: Sequence[Kpi],
    members: Sequence[Member],
    now: datetime,
) -> str:
    """The roster signed with the organiser's key."""
    claims: dict[str, Any] = {
        "iss": organiser,
        "iat": int(now.timestamp()),
        "round": round_id,
        "threshold": threshold,
        "kpis": kpis_digest(kpis),
        "participants": [{"did": m.did, "endpoint": m.endpoint, "position": m.position} for m in members],
    }
    return sign_jwt(claims, signer, kid=f"{organiser}#{key_id}", header_extras={"typ": JWT_TYPE})


def roster_kid(token: object) -> str:
    """The ``kid`` of a roster (to look up the organiser's key); BenchmarkError when it is no roster."""
    if not isinstance(token, str):
        raise BenchmarkError("the roster must be a signed JWT")
    try:
        kid = decode_jwt(token, max_length=MAX_ROSTER_LENGTH).header.get("kid")
    except TokenError as error:
        raise BenchmarkError(f"the roster is not a valid JWT: {error.reason}") from None
    if not isinstance(kid, str):
        raise BenchmarkError("the roster has no kid")
    return kid


def verify_roster(token: str, public_key: Ed25519PublicKey, *, organiser: str, round_id: str) -> Roster:
    """Check signature, issuer, round and the participant list; BenchmarkError with the reason."""
    try:
        decoded = decode_jwt(token, max_length=MAX_ROSTER_LENGTH)
        verify_signature(decoded, public_key)
    except TokenError as error:
        raise BenchmarkError(f"the roster does not check out: {error.reason}") from None
    return _roster(decoded.header, decoded.claims, organiser, round_id)


@functools.lru_cache(maxsize=256)
def known_roster(token: str, *, organiser: str, round_id: str) -> Roster:
    """A roster this node verified and stored before, read again without checking the signature.

    Kept for reuse: every share of a round arrives with the same roster.
    """
    decoded = decode_jwt(token, max_length=MAX_ROSTER_LENGTH)
    return _roster(decoded.header, decoded.claims, organiser, round_id)


def _roster(header: Mapping[str, Any], claims: Mapping[str, Any], organiser: str, round_id: str) -> Roster:
    kid = header.get("kid")
    if header.get("typ") != JWT_TYPE or not isinstance(kid, str):
        raise BenchmarkError("the roster is not a benchmark roster")
    if kid.split("#", 1)[0] != organiser or claims.get("iss") != organiser:
        raise BenchmarkError(f"the roster is not signed by the round's organiser {organiser}")
    if claims.get("round") != round_id:
        raise BenchmarkError("the roster belongs to another round")
    threshold, digest, listed = claims.get("threshold"), claims.get("kpis"), claims.get("participants")
    if not isinstance(listed, list) or not 2 <= len(listed) <= MAX_PARTICIPANTS:
        raise BenchmarkError("the roster has no usable participant list")
    members = tuple(_member(item) for item in listed)
    if sorted(m.position for m in members) != list(range(1, len(members) + 1)):
        raise BenchmarkError("the roster's positions are not 1..n")
    if len({m.did for m in members}) != len(members):
        raise BenchmarkError("the roster lists a participant twice")
    if not isinstance(threshold, int) or not len(members) // 2 + 1 <= threshold <= len(members):
        raise BenchmarkError("the roster's threshold is not a majority of its participants")
    if not isinstance(digest, str):
        raise BenchmarkError("the roster does not name the round's KPIs")
    return Roster(organiser, round_id, threshold, digest, members)


def roster_size(token: str) -> int:
    """The number of participants of a roster this node verified before (read without checking again)."""
    participants = decode_jwt(token, max_length=MAX_ROSTER_LENGTH).claims.get("participants")
    return len(participants) if isinstance(participants, list) else 0


def endpoint_is_of(did: str, endpoint: str) -> bool:
    """True when ``endpoint`` is the base URL of ``did`` (so shares cannot be redirected elsewhere)."""
    try:
        return did_from_url(endpoint) == did
    except DidError:
        return False


def _member(item: object) -> Member:
    if not isinstance(item, dict):
        raise BenchmarkError("a roster entry is not an object")
    did, endpoint, position = item.get("did"), item.get("endpoint"), item.get("position")
    if not isinstance(did, str) or not isinstance(endpoint, str) or not isinstance(position, int):
        raise BenchmarkError("a roster entry needs did, endpoint and position")
    if not endpoint_is_of(did, endpoint):
        raise BenchmarkError(f"the roster's endpoint {endpoint} is not the address of {did}")
    return Member(did, endpoint.rstrip("/"), position)
