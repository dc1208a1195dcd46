"""Organiser side: defining a round, taking joins, fixing the roster, collecting share-sums, releasing.

The organiser never holds a participant's figures or individual shares: it learns who joined, which
dealers each participant holds shares from, and share-sums over at least ``min_participants`` dealers,
from which only the totals can be reconstructed. Each step is one transaction; messages to
participants (roster, outcome) go through the outbox. :func:`advance` is safe to run again at any
time (restarts, the runtime's timer) and only does what the round's state calls for.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from allmende.audit import log as audit
from allmende.benchmarking import calls
from allmende.benchmarking.calls import PARTICIPATIONS_PATH, decode_vector
from allmende.benchmarking.errors import BenchmarkError
from allmende.benchmarking.field import ShareError, reconstruct
from allmende.benchmarking.kpis import Kpi, kpi_json, kpis_from_json, split_totals, vector_length
from allmende.benchmarking.records import BenchmarkRoundParticipantRecord, BenchmarkRoundRecord
from allmende.benchmarking.release import figures_json, release
from allmende.benchmarking.roster import MAX_PARTICIPANTS, Member, endpoint_is_of, sign_roster
from allmende.benchmarking.states import (
    RoundState,
    close_joining,
    is_final,
    move_round,
    plan_summing,
    sharing_done,
)
from allmende.clock import isoformat, parse_datetime, utcnow
from allmende.protocol.endpoint import in_read, in_transaction

if TYPE_CHECKING:
    from allmende.node import Node

log = logging.getLogger(__name__)
START_KIND = "benchmark:start"
OUTCOME_KIND = "benchmark:outcome"
DEFAULT_MIN_PARTICIPANTS = 5
DEFAULT_PHASE_SECONDS = 600.0


def create_round(session: Session, spec: Mapping[str, Any], actor: str) -> BenchmarkRoundRecord:
    """A new open round from ``spec`` (title, kpis, deadline, minParticipants, threshold, community,
    phaseSeconds, epsilon, description); BenchmarkError naming what is wrong."""
    now = utcnow()
    title = spec.get("title")
    if not isinstance(title, str) or not 1 <= len(title.strip()) <= 300:
        raise BenchmarkError("the title must be 1-300 characters")
    kpis = kpis_from_json(spec.get("kpis"))
    minimum = spec.get("minParticipants", DEFAULT_MIN_PARTICIPANTS)
    if not isinstance(minimum, int) or not 3 <= minimum <= MAX_PARTICIPANTS:
        raise BenchmarkError(f"minParticipants must be a whole number from 3 to {MAX_PARTICIPANTS}")
    threshold = spec.get("threshold")
    if threshold is not None and (not isinstance(threshold, int) or not 2 <= threshold <= MAX_PARTICIPANTS):
        raise BenchmarkError("threshold must be a whole number of at least 2 (or left out)")
    try:
        deadline = parse_datetime(str(spec.get("deadline")))
    except ValueError:
        raise BenchmarkError("the deadline must be a date and time (ISO 8601)") from None
    if deadline <= now:
        raise BenchmarkError("the deadline must lie in the future")
    phase = spec.get("phaseSeconds", DEFAULT_PHASE_SECONDS)
    if not isinstance(phase, int | float) or isinstance(phase, bool) or not 0.1 <= phase <= 7 * 86400:
        raise BenchmarkError("phaseSeconds must be between 0.1 and 604800")
    epsilon = spec.get("epsilon")
    if epsilon is not None and (not isinstance(epsilon, int | float) or not 0 < epsilon <= 100):
        raise BenchmarkError("epsilon must be a number above 0 and at most 100 (or left out)")
    community = spec.get("community")
    if community is not None and (not isinstance(community, str) or not community.startswith("did:")):
        raise BenchmarkError("community must be the DID of a community's directory (or left out)")
    description = spec.get("description", "")
    if not isinstance(description, str) or len(description) > 4000:
        raise BenchmarkError("the description must be a text of at most 4000 characters")
    record = BenchmarkRoundRecord(
        id=uuid.uuid4().hex,
        title=title.strip(),
        description=description,
        kpis=[kpi_json(kpi) for kpi in kpis],
        min_participants=minimum,
        requested_threshold=threshold,
        threshold=None,
        community=community,
        deadline=deadline,
        phase_seconds=float(phase),
        epsilon=None if epsilon is None else float(epsilon),
        state=RoundState.OPEN,
        created_at=now,
        updated_at=now,
    )
    session.add(record)
    audit.append(
        session,
        actor=actor,
        event="benchmark.round.created",
        subject=record.id,
        detail={"title": record.title, "kpis": [k.name for k in kpis]},
    )
    return record


def get_round(session: Session, round_id: str, *, lock: bool = False) -> BenchmarkRoundRecord:
    """The round; ``lock`` holds its row until commit (PostgreSQL), so steps of one round run one by one."""
    record = session.get(BenchmarkRoundRecord, round_id, with_for_update=lock or None)
    if record is None:
        raise BenchmarkError(f"no benchmark round {round_id}", status=404)
    return record


def list_rounds(session: Session) -> list[BenchmarkRoundRecord]:
    query = select(BenchmarkRoundRecord).order_by(BenchmarkRoundRecord.created_at.desc())
    return list(session.execute(query).scalars())


def participants_of(session: Session, round_id: str) -> list[BenchmarkRoundParticipantRecord]:
    query = (
        select(BenchmarkRoundParticipantRecord)
        .where(BenchmarkRoundParticipantRecord.round_id == round_id)
        .order_by(
            BenchmarkRoundParticipantRecord.position,
            BenchmarkRoundParticipantRecord.joined_at,
            BenchmarkRoundParticipantRecord.did,
        )
    )
    return list(session.execute(query).scalars())


def check_access(record: BenchmarkRoundRecord, communities: frozenset[str], problems: str = "") -> None:
    """403 unless the caller proved membership of the round's community (when it names one)."""
    if record.community is not None and record.community not in communities:
        raise BenchmarkError(
            f"this round is open to members of {record.community} only{problems}", status=403
        )


def join(
    session: Session,
    round_id: str,
    caller_did: str,
    body: Mapping[str, Any],
    communities: frozenset[str],
    organiser_did: str,
    problems: str = "",
) -> BenchmarkRoundParticipantRecord:
    """Take a join (idempotent for the same caller): open round, before the deadline, own endpoint."""
    record = get_round(session, round_id, lock=True)
    check_access(record, communities, problems)
    if caller_did == organiser_did:
        raise BenchmarkError("the organiser does not take part in its own round")
    if record.state != RoundState.OPEN or record.deadline <= utcnow():
        raise BenchmarkError("joining this round has closed", status=409)
    endpoint, name = body.get("endpoint"), body.get("name", "")
    if not isinstance(endpoint, str) or not endpoint_is_of(caller_did, endpoint.rstrip("/")):
        raise BenchmarkError(f"endpoint must be the base URL of the caller {caller_did}")
    if not isinstance(name, str):
        raise BenchmarkError("name must be a text")
    now = utcnow()
    existing = session.get(BenchmarkRoundParticipantRecord, (round_id, caller_did))
    if existing is not None:
        existing.endpoint, existing.name, existing.updated_at = endpoint.rstrip("/"), name[:300], now
        return existing
    if len(participants_of(session, round_id)) >= MAX_PARTICIPANTS:
        raise BenchmarkError(f"the round is full ({MAX_PARTICIPANTS} participants)", status=409)
    participant = BenchmarkRoundParticipantRecord(
        round_id=round_id,
        did=caller_did,
        name=name[:300],
        endpoint=endpoint.rstrip("/"),
        complete=False,
        joined_at=now,
        updated_at=now,
    )
    session.add(participant)
    audit.append(session, actor=caller_did, event="benchmark.round.joined", subject=round_id)
    return participant


def close(session: Session, node: Node, round_id: str, actor: str) -> BenchmarkRoundRecord:
    """End joining: fix and send the roster (sharing), or fail when too few joined."""
    record = get_round(session, round_id, lock=True)
    if record.state != RoundState.OPEN:
        raise BenchmarkError(f"the round is {record.state}, not open", status=409)
    participants = participants_of(session, round_id)
    closing = close_joining(len(participants), record.min_participants, record.requested_threshold)
    now = utcnow()
    if closing.threshold is None:
        _fail(session, node, record, closing.reason or "the round cannot start", participants, actor)
        return record
    for position, participant in enumerate(participants, start=1):
        participant.position = position
    kpis = _kpis(record)
    key = node.keys.active
    roster = sign_roster(
        key,
        organiser=node.did,
        key_id=key.key_id,
        round_id=record.id,
        threshold=closing.threshold,
        kpis=kpis,
        members=[Member(p.did, p.endpoint, p.position or 0) for p in participants],
        now=now,
    )
    for participant in participants:
        node.postbox.send(
            session,
            process_id=f"benchmark-{record.id}-{participant.position}",
            audience_did=participant.did,
            kind=START_KIND,
            url=f"{participant.endpoint}{PARTICIPATIONS_PATH}/{record.id}/start",
            body={"round": record.id, "roster": roster},
        )
    record.state = move_round(record.state, RoundState.SHARING)
    record.threshold = closing.threshold
    record.phase_deadline = now + timedelta(seconds=record.phase_seconds)
    record.updated_at = now
    audit.append(
        session,
        actor=actor,
        event="benchmark.round.sharing",
        subject=record.id,
        detail={"participants": len(participants), "threshold": closing.threshold},
    )
    return record


def cancel(session: Session, node: Node, round_id: str, actor: str) -> BenchmarkRoundRecord:
    """Stop a round that is not over; the participants are told."""
    record = get_round(session, round_id, lock=True)
    if is_final(record.state):
        raise BenchmarkError(f"the round is already {record.state}", status=409)
    _fail(session, node, record, "cancelled by the organiser", participants_of(session, round_id), actor)
    return record


def take_receipt(session: Session, round_id: str, caller_did: str, body: Mapping[str, Any]) -> bool:
    """Record which dealers a participant holds shares from; True when every participant is complete."""
    record = get_round(session, round_id, lock=True)
    participant = session.get(BenchmarkRoundParticipantRecord, (round_id, caller_did))
    if participant is None or participant.position is None:
        raise BenchmarkError(f"{caller_did} is not a participant of round {round_id}", status=403)
    if body.get("position") != participant.position:
        raise BenchmarkError(
            f"the receipt claims position {body.get('position')!r}; the caller is {participant.position}"
        )
    participants = participants_of(session, round_id)
    dealers = _positions(body.get("dealers"), len(participants))
    if record.state != RoundState.SHARING:
        return False  # late: the plan is made; nothing to change
    participant.receipt = dealers
    participant.complete = len(dealers) == len(participants)
    participant.updated_at = utcnow()
    return all(p.complete for p in participants)  # the caller's row is the same object, updated


async def advance(node: Node, round_id: str) -> str:
    """Do what the round's state and clock call for; returns the state afterwards."""
    record = await in_read(node, lambda s: get_round(s, round_id))
    now = utcnow()
    if record.state == RoundState.OPEN and record.deadline <= now:
        record = await in_transaction(node, lambda s: _close_if_open(s, node, round_id))
    if record.state == RoundState.SHARING:
        participants = await in_read(node, lambda s: participants_of(s, round_id))
        complete = sum(p.complete for p in participants)
        if not sharing_done(complete, len(participants), _passed(record.phase_deadline)):
            return str(record.state)
        receipts = await _gather_receipts(node, record, participants)
        record = await in_transaction(node, lambda s: _plan(s, node, round_id, receipts))
    if record.state == RoundState.SUMMING:
        participants = await in_read(node, lambda s: participants_of(s, round_id))
        sums = await _gather_sums(node, record, participants)
        record = await in_transaction(node, lambda s: _settle(s, node, round_id, sums))
    return str(record.state)


def _close_if_open(session: Session, node: Node, round_id: str) -> BenchmarkRoundRecord:
    record = get_round(session, round_id, lock=True)
    if record.state == RoundState.OPEN:
        return close(session, node, round_id, node.did)
    return record


async def _gather_receipts(
    node: Node, record: BenchmarkRoundRecord, participants: list[BenchmarkRoundParticipantRecord]
) -> dict[int, list[int]]:
    """The receipts known, plus those asked now from participants that did not report completion."""
    receipts = {p.position: list(p.receipt or []) for p in participants if p.position is not None}

    async def ask(participant: BenchmarkRoundParticipantRecord) -> None:
        url = f"{participant.endpoint}{PARTICIPATIONS_PATH}/{record.id}/receipt"
        try:
            answer = await calls.call(node, "GET", url, participant.did)
            receipts[participant.position or 0] = _positions(answer.get("dealers"), len(participants))
        except BenchmarkError as error:
            log.info("round %s: no receipt from %s: %s", record.id, participant.did, error.message)

    await asyncio.gather(*(ask(p) for p in participants if not p.complete and p.position is not None))
    return receipts


def _plan(
    session: Session, node: Node, round_id: str, receipts: dict[int, list[int]]
) -> BenchmarkRoundRecord:
    record = get_round(session, round_id, lock=True)
    if record.state != RoundState.SHARING:
        return record
    participants = participants_of(session, round_id)
    for participant in participants:
        if participant.position in receipts:
            participant.receipt = receipts[participant.position]
    plan = plan_summing(
        {p: frozenset(held) for p, held in receipts.items()}, record.threshold or 0, record.min_participants
    )
    if plan.failed:
        _fail(session, node, record, plan.reason or "", participants, node.did)
        return record
    now = utcnow()
    record.state = move_round(record.state, RoundState.SUMMING)
    record.dealers, record.summers = list(plan.dealers), list(plan.summers)
    record.phase_deadline = now + timedelta(seconds=record.phase_seconds)
    record.updated_at = now
    audit.append(
        session,
        actor=node.did,
        event="benchmark.round.summing",
        subject=record.id,
        detail={"dealers": len(plan.dealers), "summers": len(plan.summers)},
    )
    return record


async def _gather_sums(
    node: Node, record: BenchmarkRoundRecord, participants: list[BenchmarkRoundParticipantRecord]
) -> dict[int, list[int]]:
    """Share-sums over the plan's dealers from the summers that have not given one yet."""
    length = vector_length(_kpis(record))
    summers = set(record.summers or [])
    found: dict[int, list[int]] = {}

    async def ask(participant: BenchmarkRoundParticipantRecord) -> None:
        position = participant.position or 0
        url = f"{participant.endpoint}{PARTICIPATIONS_PATH}/{record.id}/sum"
        try:
            answer = await calls.call(
                node, "POST", url, participant.did, {"round": record.id, "dealers": record.dealers}
            )
            if answer.get("position") != position or answer.get("dealers") != record.dealers:
                raise BenchmarkError("the share-sum is for another position or dealer set")
            found[position] = decode_vector(answer.get("sum"), length, "the share-sum")
        except BenchmarkError as error:
            log.info("round %s: no share-sum from %s: %s", record.id, participant.did, error.message)

    await asyncio.gather(*(ask(p) for p in participants if p.position in summers and p.share_sum is None))
    return found


def _settle(session: Session, node: Node, round_id: str, sums: dict[int, list[int]]) -> BenchmarkRoundRecord:
    """Store new share-sums; reconstruct and release once ``threshold`` are in, fail after the window."""
    record = get_round(session, round_id, lock=True)
    if record.state != RoundState.SUMMING:
        return record
    participants = participants_of(session, round_id)
    now = utcnow()
    for participant in participants:
        if participant.position in sums and participant.share_sum is None:
            participant.share_sum = [str(v) for v in sums[participant.position]]
            participant.updated_at = now
    points = {
        p.position: [int(v) for v in p.share_sum]
        for p in participants
        if p.position is not None and p.share_sum is not None
    }
    threshold = record.threshold or 0
    if len(points) < threshold:
        if _passed(record.phase_deadline):
            _fail(
                session,
                node,
                record,
                f"only {len(points)} of the {threshold} share-sums needed arrived in time",
                participants,
                node.did,
            )
        return record
    kpis = _kpis(record)
    dealers = record.dealers or []
    try:
        totals = split_totals(kpis, reconstruct(points, threshold), len(dealers))
    except (ShareError, BenchmarkError) as error:
        _fail(session, node, record, f"the totals cannot be reconstructed: {error}", participants, node.did)
        return record
    figures = release(totals, record.min_participants, epsilon=record.epsilon)
    record.result = [figures_json(f) for f in figures]
    record.state = move_round(record.state, RoundState.RELEASED)
    record.updated_at = now
    audit.append(
        session,
        actor=node.did,
        event="benchmark.round.released",
        subject=record.id,
        detail={"contributors": len(dealers), "shareSums": len(points)},
    )
    _tell(
        session,
        node,
        record,
        [p for p in participants if p.position in dealers],
        {"round": record.id, "state": "released", "result": record.result},
    )
    return record


def _fail(
    session: Session,
    node: Node,
    record: BenchmarkRoundRecord,
    reason: str,
    participants: list[BenchmarkRoundParticipantRecord],
    actor: str,
) -> None:
    record.state = move_round(record.state, RoundState.FAILED)
    record.reason = reason
    record.updated_at = utcnow()
    audit.append(
        session, actor=actor, event="benchmark.round.failed", subject=record.id, detail={"reason": reason}
    )
    _tell(session, node, record, participants, {"round": record.id, "state": "failed", "reason": reason})


def _tell(
    session: Session,
    node: Node,
    record: BenchmarkRoundRecord,
    participants: list[BenchmarkRoundParticipantRecord],
    body: dict[str, Any],
) -> None:
    for participant in participants:
        node.postbox.send(
            session,
            process_id=f"benchmark-{record.id}-{participant.position or participant.did[-20:]}",
            audience_did=participant.did,
            kind=OUTCOME_KIND,
            url=f"{participant.endpoint}{PARTICIPATIONS_PATH}/{record.id}/outcome",
            body=body,
        )


def _kpis(record: BenchmarkRoundRecord) -> tuple[Kpi, ...]:
    return kpis_from_json(record.kpis)


def _positions(value: object, participants: int) -> list[int]:
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= participants for v in value
    ):
        raise BenchmarkError(f"dealers must be a list of positions from 1 to {participants}")
    return sorted(set(value))


def _passed(moment: datetime | None) -> bool:
    return moment is not None and moment <= utcnow()


def public_view(
    record: BenchmarkRoundRecord, base_url: str, organiser_did: str, joined: int
) -> dict[str, Any]:
    """A round as members see it before joining (no participant list)."""
    return {
        "id": record.id,
        "url": calls.round_url(base_url, record.id),
        "organiser": organiser_did,
        "title": record.title,
        "description": record.description,
        "kpis": record.kpis,
        "minParticipants": record.min_participants,
        "threshold": record.threshold or record.requested_threshold,
        "community": record.community,
        "deadline": isoformat(record.deadline),
        "state": record.state,
        "participants": joined,
        "differentialPrivacy": record.epsilon is not None,
    }
