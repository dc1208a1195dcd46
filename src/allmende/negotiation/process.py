"""What both roles share: the node's negotiation environment, state changes and outgoing messages."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from allmende.audit import log as audit
from allmende.clock import utcnow
from allmende.messaging import outbox
from allmende.messaging.postbox import Postbox
from allmende.negotiation import messages, repository
from allmende.negotiation.records import NegotiationRecord
from allmende.negotiation.states import InvalidTransition, Message, Role, State, next_state
from allmende.protocol.problems import bad_request

AgreementSigner = Callable[[str, str, str], str]
"""(counterparty DID, agreement id, agreement digest) -> compact JWT signed with the node's key."""


@dataclass
class NegotiationEnv:
    """What the negotiation services need to know about their node."""

    own_did: str
    dsp_url: str  # where our provider endpoints live, e.g. https://node.example/dsp
    callback_url: str  # where our consumer callback endpoints live
    sign_agreement: AgreementSigner
    postbox: Postbox
    review_all_requests: bool = False
    require_agreement_signatures: bool = True


def new_pid() -> str:
    """A fresh process id."""
    return f"urn:uuid:{uuid.uuid4()}"


def pids(record: NegotiationRecord) -> dict[str, str | None]:
    """The record's pids as keyword arguments for errors."""
    return {"provider_pid": record.provider_pid, "consumer_pid": record.consumer_pid}


def open_process(
    session: Session,
    *,
    role: Role,
    state: State,
    counterparty_did: str,
    counterparty_address: str,
    offer: dict[str, Any],
    offer_id: str | None,
    dataset_id: str | None,
    counterparty_pid: str | None,
    actor: str,
    digest: str | None = None,
    review_note: str | None = None,
) -> NegotiationRecord:
    """Create a negotiation in ``state`` (our pid = its id) and audit its opening."""
    now = utcnow()
    pid = new_pid()
    record = NegotiationRecord(
        id=pid,
        role=role.value,
        provider_pid=pid if role is Role.PROVIDER else counterparty_pid,
        consumer_pid=pid if role is Role.CONSUMER else counterparty_pid,
        state=state.value,
        counterparty_did=counterparty_did,
        counterparty_address=counterparty_address.rstrip("/"),
        offer_id=offer_id,
        dataset_id=dataset_id,
        offer=offer,
        review_pending=review_note is not None,
        review_note=review_note,
        created_at=now,
        updated_at=now,
    )
    repository.add_negotiation(session, record)
    audit.append(
        session,
        actor=actor,
        event=f"negotiation.{state.value.lower()}",
        subject=record.id,
        detail={
            "role": role.value,
            "counterparty": counterparty_did,
            "offer": offer_id,
            "dataset": dataset_id,
            "providerPid": record.provider_pid,
            "consumerPid": record.consumer_pid,
        },
        message_digest=digest,
    )
    return record


def callback_of(body: Mapping[str, Any], **ids: str | None) -> str:
    """The ``callbackAddress`` of an initial message; 400 unless it is an http(s) URL."""
    callback = body.get("callbackAddress")
    if not isinstance(callback, str) or not callback.startswith(("http://", "https://")):
        raise bad_request("callbackAddress must be an http(s) URL", **ids)
    return callback


def apply(
    session: Session,
    record: NegotiationRecord,
    message: Message,
    sender: Role,
    *,
    actor: str,
    digest: str | None = None,
    detail: dict[str, Any] | None = None,
) -> State:
    """Move ``record`` by ``message``; 400 (and no change) when the state machine forbids it."""
    current = State(record.state)
    try:
        new_state = next_state(current, message, sender)
    except InvalidTransition as exc:
        raise bad_request(str(exc), **pids(record)) from None
    record.state = new_state.value
    record.updated_at = utcnow()
    audit.append(
        session,
        actor=actor,
        event=f"negotiation.{new_state.value.lower()}",
        subject=record.id,
        detail={
            "role": record.role,
            "message": message.value,
            "from": current.value,
            "providerPid": record.provider_pid,
            "consumerPid": record.consumer_pid,
            **(detail or {}),
        },
        message_digest=digest,
    )
    return new_state


def queue(
    session: Session,
    env: NegotiationEnv,
    record: NegotiationRecord,
    kind: Message,
    url: str,
    body: dict[str, Any],
    token_claims: dict[str, Any] | None = None,
) -> None:
    """Put a message to the counterparty in the outbox, in the caller's transaction."""
    env.postbox.send(
        session,
        process_id=record.id,
        audience_did=record.counterparty_did,
        kind=kind.value,
        url=url,
        body=body,
        token_claims=token_claims,
    )


def queue_termination(
    session: Session, env: NegotiationEnv, record: NegotiationRecord, url: str, reason: str
) -> None:
    """Drop what was still pending for the process and tell the counterparty it is terminated."""
    outbox.cancel_pending(session, record.id, "superseded by termination")
    record.termination_reason = reason
    record.review_pending = False
    body = messages.termination(
        provider_pid=record.provider_pid or "", consumer_pid=record.consumer_pid or "", reason=reason
    )
    queue(session, env, record, Message.TERMINATION, url, body)
