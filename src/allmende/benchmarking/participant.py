"""Participant side: joining another node's round, dealing shares, holding peers' shares, answering sums.

The node's own values stay in ``benchmark_participations`` on this node. When the organiser's roster
arrives (from the organiser, or with the first share of a faster peer), the node splits its
contribution into Shamir shares, keeps its own and queues one message per peer in the outbox, all in
one transaction. Once it holds shares from everyone it reports that (only positions, no values) to
the organiser, which later asks it for one share-sum over the dealers whose contributions count.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from allmende.audit import log as audit
from allmende.benchmarking import calls
from allmende.benchmarking.calls import PARTICIPATIONS_PATH, decode_vector, encode_vector
from allmende.benchmarking.errors import BenchmarkError
from allmende.benchmarking.field import add_vectors, share_vector
from allmende.benchmarking.kpis import Kpi, check_values, contribution, kpis_from_json, vector_length
from allmende.benchmarking.records import BenchmarkParticipationRecord, BenchmarkShareRecord
from allmende.benchmarking.release import figures_from_json
from allmende.benchmarking.roster import Roster, kpis_digest, roster_size
from allmende.benchmarking.states import ParticipationState, check_dealers, move_participation
from allmende.clock import parse_datetime, utcnow
from allmende.protocol.endpoint import in_read, in_transaction

if TYPE_CHECKING:
    from allmende.node import Node

SHARE_KIND = "benchmark:share"
RECEIPT_KIND = "benchmark:receipt"


def kpis_of(record: BenchmarkParticipationRecord) -> tuple[Kpi, ...]:
    return kpis_from_json(record.definition.get("kpis"))


def find(
    session: Session, organiser_did: str, round_id: str, *, lock: bool = False
) -> BenchmarkParticipationRecord:
    """This node's participation in ``round_id`` of ``organiser_did``; 404 BenchmarkError if none.

    ``lock`` holds the row until commit (PostgreSQL), so concurrent shares are taken one by one and the
    one that completes the set is the one that reports it.
    """
    query = select(BenchmarkParticipationRecord).where(
        BenchmarkParticipationRecord.organiser_did == organiser_did,
        BenchmarkParticipationRecord.round_id == round_id,
    )
    if lock:
        query = query.with_for_update()
    record = session.execute(query).scalars().first()
    if record is None:
        raise BenchmarkError(f"this node takes no part in round {round_id} of {organiser_did}", status=404)
    return record


def list_participations(session: Session) -> list[BenchmarkParticipationRecord]:
    query = select(BenchmarkParticipationRecord).order_by(BenchmarkParticipationRecord.joined_at.desc())
    return list(session.execute(query).scalars())


async def fetch_round(node: Node, url: str) -> dict[str, Any]:
    """A round as its organiser shows it to this node (KPIs, bounds, minimum, deadline, state)."""
    base, organiser_did, round_id = calls.parse_round_url(url)
    if organiser_did == node.did:
        raise BenchmarkError("this node organises that round; it cannot take part in it")
    answer = await calls.call(node, "GET", calls.round_url(base, round_id), organiser_did)
    if answer.get("id") != round_id or answer.get("organiser") != organiser_did:
        raise BenchmarkError("the organiser answered with another round", status=502)
    return answer


async def join(
    node: Node, url: str, values: Mapping[str, object], actor: str
) -> BenchmarkParticipationRecord:
    """Join the round at ``url`` with this node's ``values`` (they stay on this node)."""
    base, organiser_did, round_id = calls.parse_round_url(url)

    def existing(session: Session) -> bool:
        try:
            find(session, organiser_did, round_id)
        except BenchmarkError:
            return False
        return True

    if await in_read(node, existing):
        raise BenchmarkError(f"this node already joined round {round_id}", status=409)
    definition = await fetch_round(node, url)
    try:
        kpis = kpis_from_json(definition.get("kpis"))
        deadline = parse_datetime(str(definition.get("deadline")))
        minimum = int(definition.get("minParticipants", 0))
    except (ValueError, TypeError) as error:
        raise BenchmarkError(f"the organiser published an unusable round: {error}", status=502) from None
    if definition.get("state") != "open" or deadline <= utcnow():
        raise BenchmarkError("joining this round has closed", status=409)
    checked = check_values(kpis, values)
    await calls.call(
        node,
        "POST",
        f"{calls.round_url(base, round_id)}/participants",
        organiser_did,
        {"endpoint": node.base_url, "name": node.name},
    )
    now = utcnow()
    record = BenchmarkParticipationRecord(
        id=f"urn:uuid:{uuid.uuid4()}",
        round_id=round_id,
        round_url=calls.round_url(base, round_id),
        organiser_did=organiser_did,
        organiser_url=base,
        title=str(definition.get("title", ""))[:300],
        definition={
            "kpis": definition["kpis"],
            "minParticipants": minimum,
            "deadline": definition.get("deadline"),
            "description": str(definition.get("description", ""))[:4000],
            "community": definition.get("community"),
        },
        own_values=checked,
        state=ParticipationState.JOINED,
        joined_at=now,
        updated_at=now,
    )

    def store(session: Session) -> BenchmarkParticipationRecord:
        session.add(record)
        audit.append(
            session,
            actor=actor,
            event="benchmark.joined",
            subject=record.id,
            detail={"round": record.round_url, "kpis": sorted(checked)},
        )
        return record

    return await in_transaction(node, store)


def deal(
    session: Session, node: Node, record: BenchmarkParticipationRecord, token: str, roster: Roster
) -> None:
    """Split this node's contribution into shares for the roster and queue them (idempotent)."""
    if record.roster is not None:
        if record.roster != token:
            raise BenchmarkError("this node already shared under another participant list", status=409)
        return
    if record.state != ParticipationState.JOINED:
        raise BenchmarkError(f"this participation is {record.state}; it shares no more", status=409)
    kpis = kpis_of(record)
    if roster.kpis_digest != kpis_digest(kpis):
        raise BenchmarkError("the roster's KPIs differ from the ones this node joined under", status=409)
    own = roster.position_of(node.did)
    if own is None:
        raise BenchmarkError("this node is not on the round's roster", status=409)
    minimum = int(record.definition.get("minParticipants", 0))
    if len(roster.members) < minimum:
        raise BenchmarkError(f"the roster lists fewer than the round's {minimum} participants", status=409)
    shares = share_vector(contribution(kpis, record.own_values), roster.positions, roster.threshold)
    now = utcnow()
    session.add(
        BenchmarkShareRecord(
            participation_id=record.id,
            dealer_position=own,
            dealer_did=node.did,
            shares=encode_vector(shares[own]),
            received_at=now,
        )
    )
    for member in roster.members:
        if member.did == node.did:
            continue
        node.postbox.send(
            session,
            process_id=f"benchmark-{record.id}-{member.position}",
            audience_did=member.did,
            kind=SHARE_KIND,
            url=f"{member.endpoint}{PARTICIPATIONS_PATH}/{record.round_id}/shares",
            body={
                "round": record.round_id,
                "organiser": record.organiser_did,
                "roster": token,
                "from": own,
                "to": member.position,
                "shares": encode_vector(shares[member.position]),
            },
        )
    record.state = move_participation(record.state, ParticipationState.SHARING)
    record.roster, record.position, record.threshold = token, own, roster.threshold
    record.updated_at = now
    audit.append(
        session,
        actor=node.did,
        event="benchmark.shared",
        subject=record.id,
        detail={
            "round": record.round_url,
            "participants": len(roster.members),
            "threshold": roster.threshold,
        },
    )
    session.flush()
    _report_if_complete(session, node, record, roster)


def receive_share(
    session: Session,
    node: Node,
    record: BenchmarkParticipationRecord,
    token: str,
    roster: Roster,
    sender_did: str,
    body: Mapping[str, Any],
) -> None:
    """Keep a peer's share after checking round, roster, sender, addressee, length and field range."""
    if record.state in (ParticipationState.RELEASED, ParticipationState.FAILED):
        raise BenchmarkError(f"the round is over here ({record.state})", status=409)
    if record.roster is not None and record.roster != token:
        raise BenchmarkError(
            "the share was dealt under another participant list than this node's", status=409
        )
    dealer = roster.position_of(sender_did)
    if dealer is None:
        raise BenchmarkError(f"{sender_did} is not a participant of this round", status=403)
    if body.get("from") != dealer:
        raise BenchmarkError(f"the share claims position {body.get('from')!r}; its sender is {dealer}")
    own = roster.position_of(node.did)
    if body.get("to") != own:
        raise BenchmarkError(f"the share is addressed to position {body.get('to')!r}; this node is {own}")
    kpis = kpis_of(record)
    shares = decode_vector(body.get("shares"), vector_length(kpis), "the share")
    if record.roster is None:
        deal(session, node, record, token, roster)  # a peer was faster than the organiser's message
    held = session.get(BenchmarkShareRecord, (record.id, dealer))
    if held is not None:
        if held.shares != encode_vector(shares):
            raise BenchmarkError(f"a different share from position {dealer} is already held", status=409)
        return
    session.add(
        BenchmarkShareRecord(
            participation_id=record.id,
            dealer_position=dealer,
            dealer_did=sender_did,
            shares=encode_vector(shares),
            received_at=utcnow(),
        )
    )
    session.flush()
    _report_if_complete(session, node, record, roster)


def held_positions(session: Session, record: BenchmarkParticipationRecord) -> list[int]:
    query = select(BenchmarkShareRecord.dealer_position).where(
        BenchmarkShareRecord.participation_id == record.id
    )
    return sorted(session.execute(query).scalars())


def receipt(session: Session, record: BenchmarkParticipationRecord) -> dict[str, Any]:
    """Which dealers this node holds shares from (asked by the organiser when sharing times out)."""
    if record.position is None:
        return {"round": record.round_id, "position": None, "dealers": [], "complete": False}
    held = held_positions(session, record)
    peers = _roster_size(record)
    return {
        "round": record.round_id,
        "position": record.position,
        "dealers": held,
        "complete": len(held) == peers,
    }


def share_sum(
    session: Session, node: Node, record: BenchmarkParticipationRecord, dealers: object
) -> dict[str, Any]:
    """This node's share of the totals over ``dealers`` (one dealer set per round, at least the minimum)."""
    if record.state not in (ParticipationState.SHARING, ParticipationState.SUMMED) or record.roster is None:
        raise BenchmarkError(f"this participation is {record.state}; it has no share-sum to give", status=409)
    if not isinstance(dealers, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) for d in dealers
    ):
        raise BenchmarkError("dealers must be a list of positions")
    held = held_positions(session, record)
    reason = check_dealers(
        dealers,
        list(range(1, _roster_size(record) + 1)),
        held,
        int(record.definition.get("minParticipants", 0)),
        record.answered_dealers,
    )
    if reason is not None:
        raise BenchmarkError(reason, status=409)
    rows = session.execute(
        select(BenchmarkShareRecord).where(
            BenchmarkShareRecord.participation_id == record.id,
            BenchmarkShareRecord.dealer_position.in_(dealers),
        )
    ).scalars()
    total = add_vectors([[int(v) for v in row.shares] for row in rows])
    if record.answered_dealers is None:
        record.answered_dealers = sorted(dealers)
        record.state = move_participation(record.state, ParticipationState.SUMMED)
        record.updated_at = utcnow()
        audit.append(
            session,
            actor=node.did,
            event="benchmark.summed",
            subject=record.id,
            detail={"round": record.round_url, "dealers": len(dealers)},
        )
    return {
        "round": record.round_id,
        "position": record.position,
        "dealers": sorted(dealers),
        "sum": encode_vector(total),
    }


def take_outcome(
    session: Session, node: Node, record: BenchmarkParticipationRecord, body: Mapping[str, Any]
) -> None:
    """The organiser's word on the round: the released figures, or why it failed (idempotent)."""
    state = body.get("state")
    if record.state in (ParticipationState.RELEASED, ParticipationState.FAILED):
        return
    if state == "released":
        figures_from_json(kpis_of(record), body.get("result"))  # refuses a malformed result
        result = body.get("result")
        assert isinstance(result, list)
        record.result = result
        record.state = move_participation(record.state, ParticipationState.RELEASED)
    elif state == "failed":
        record.reason = str(body.get("reason") or "the organiser gave no reason")[:2000]
        record.state = move_participation(record.state, ParticipationState.FAILED)
    else:
        raise BenchmarkError("the outcome must be 'released' or 'failed'")
    record.updated_at = utcnow()
    audit.append(
        session,
        actor=record.organiser_did,
        event=f"benchmark.{record.state}",
        subject=record.id,
        detail={"round": record.round_url, "reason": record.reason},
    )


def _roster_size(record: BenchmarkParticipationRecord) -> int:
    return 0 if record.roster is None else roster_size(record.roster)


def _report_if_complete(
    session: Session, node: Node, record: BenchmarkParticipationRecord, roster: Roster
) -> None:
    held = held_positions(session, record)
    if len(held) != len(roster.members):
        return
    node.postbox.send(
        session,
        process_id=f"benchmark-{record.id}-receipt",
        audience_did=record.organiser_did,
        kind=RECEIPT_KIND,
        url=f"{record.round_url}/receipts",
        body={"round": record.round_id, "position": record.position, "dealers": held, "complete": True},
    )
