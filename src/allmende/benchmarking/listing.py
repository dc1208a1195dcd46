"""Open rounds an organiser offers, and asking an organiser for them.

A member learns of a round either by its address (sent by the organiser) or by asking the
organiser's node which rounds are open to it: ``GET /benchmarks/rounds`` answers the rounds still
taking participants whose community (if any) the caller proved membership of, so a restricted round
stays invisible to outsiders, as restricted offers do in the catalog.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from allmende.benchmarking import calls
from allmende.benchmarking.errors import BenchmarkError
from allmende.benchmarking.organiser import public_view
from allmende.benchmarking.records import BenchmarkRoundParticipantRecord, BenchmarkRoundRecord
from allmende.benchmarking.states import RoundState
from allmende.clock import utcnow
from allmende.identity.did import did_from_url
from allmende.identity.errors import DidError

if TYPE_CHECKING:
    from allmende.node import Node

MAX_LISTED = 200
"""At most this many open rounds in one answer (the nearest deadlines first)."""


def open_rounds(
    session: Session, communities: frozenset[str], caller_did: str, base_url: str, organiser_did: str
) -> list[dict[str, Any]]:
    """The rounds still taking participants that the caller may join, nearest deadline first, each as
    :func:`~allmende.benchmarking.organiser.public_view` plus whether the caller has joined."""
    rounds = session.execute(
        select(BenchmarkRoundRecord)
        .where(BenchmarkRoundRecord.state == RoundState.OPEN.value)
        .where(BenchmarkRoundRecord.deadline > utcnow())
        .order_by(BenchmarkRoundRecord.deadline, BenchmarkRoundRecord.id)
    ).scalars()
    visible = [r for r in rounds if r.community is None or r.community in communities][:MAX_LISTED]
    if not visible:
        return []
    ids = [r.id for r in visible]
    participants = BenchmarkRoundParticipantRecord
    counted = select(participants.round_id, func.count()).where(participants.round_id.in_(ids))
    counts = {str(row[0]): int(row[1]) for row in session.execute(counted.group_by(participants.round_id))}
    mine = select(participants.round_id).where(participants.round_id.in_(ids), participants.did == caller_did)
    joined = set(session.execute(mine).scalars())
    views = []
    for record in visible:
        view = public_view(record, base_url, organiser_did, counts.get(record.id, 0))
        view["joined"] = record.id in joined
        views.append(view)
    return views


def organiser_address(address: str) -> tuple[str, str]:
    """(base URL, DID) of an organiser's node from its public address; BenchmarkError if unusable."""
    base = address.strip().rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise BenchmarkError(f"{address!r} is not a node address (http(s)://host[:port])")
    try:
        return base, did_from_url(base)
    except DidError as error:
        raise BenchmarkError(f"{address!r} is not a usable node address: {error.reason}") from None


async def fetch_open_rounds(node: Node, address: str) -> list[dict[str, Any]]:
    """The rounds the organiser at ``address`` lists as open to this node (checked for shape)."""
    base, organiser_did = organiser_address(address)
    if organiser_did == node.did:
        raise BenchmarkError("that is this node's own address; its rounds are under 'Rounds I organise'")
    answer = await calls.call(node, "GET", f"{base}{calls.ROUNDS_PATH}", organiser_did)
    rounds = answer.get("rounds")
    if answer.get("organiser") != organiser_did or not isinstance(rounds, list):
        raise BenchmarkError(f"{base} answered no list of rounds", status=502)
    listed = []
    for entry in rounds[:MAX_LISTED]:
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            raise BenchmarkError(f"{base} listed a round without an address", status=502)
        try:
            _, entry_did, _ = calls.parse_round_url(entry["url"])
        except BenchmarkError:
            raise BenchmarkError(f"{base} listed a round with a malformed address", status=502) from None
        if entry_did != organiser_did:
            raise BenchmarkError(f"{base} listed a round of another node", status=502)
        listed.append(entry)
    return listed
