"""What both roles of a transfer share: opening a process, moving it, sending its messages."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from allmende.audit import log as audit
from allmende.clock import utcnow
from allmende.messaging import outbox
from allmende.messaging.postbox import Postbox
from allmende.negotiation.states import Role
from allmende.protocol.problems import ProtocolProblem
from allmende.transfer import messages
from allmende.transfer.records import TransferRecord
from allmende.transfer.states import (
    InvalidTransferTransition,
    TransferMessage,
    TransferState,
    next_transfer_state,
)

ERROR = "TransferError"


@dataclass
class TransferEnv:
    """What the transfer services need to know about their node."""

    own_did: str
    base_url: str  # the node's public URL; the data plane is under it
    callback_url: str
    postbox: Postbox
    access_token_seconds: int = 3600
    schedule_push: Callable[[str], None] = lambda _transfer_id: None
    issue_push_token: Callable[[TransferRecord], str] | None = None


def problem(
    status: int, reason: str, record: TransferRecord | None = None, **ids: str | None
) -> ProtocolProblem:
    """A TransferError answer; nothing is changed."""
    if record is not None:
        ids = {"provider_pid": record.provider_pid, "consumer_pid": record.consumer_pid}
    return ProtocolProblem(status, [reason], error_type=ERROR, **ids)  # type: ignore[arg-type]


def by_own_pid(session: Session, role: Role, pid: str, caller_did: str) -> TransferRecord:
    """The process ``pid`` (our pid in ``role``) if ``caller_did`` is its counterparty; else 404."""
    column = TransferRecord.provider_pid if role is Role.PROVIDER else TransferRecord.consumer_pid
    record = session.execute(
        select(TransferRecord).where(TransferRecord.role == role.value, column == pid)
    ).scalar_one_or_none()
    if record is None or record.counterparty_did != caller_did:
        if role is Role.PROVIDER:
            raise problem(404, f"no transfer process {pid}", provider_pid=pid)
        raise problem(404, f"no transfer process {pid}", consumer_pid=pid)
    return record


def open_transfer(
    session: Session,
    *,
    role: Role,
    counterparty_did: str,
    counterparty_address: str,
    agreement_id: str,
    format: str,
    counterparty_pid: str | None,
    actor: str,
    digest: str | None = None,
) -> TransferRecord:
    """Create a transfer in REQUESTED (our pid = its id) and audit it."""
    now = utcnow()
    pid = f"urn:uuid:{uuid.uuid4()}"
    record = TransferRecord(
        id=pid,
        role=role.value,
        provider_pid=pid if role is Role.PROVIDER else counterparty_pid,
        consumer_pid=pid if role is Role.CONSUMER else counterparty_pid,
        state=TransferState.REQUESTED.value,
        counterparty_did=counterparty_did,
        counterparty_address=counterparty_address.rstrip("/"),
        agreement_id=agreement_id,
        format=format,
        bytes_served=0,
        created_at=now,
        updated_at=now,
    )
    session.add(record)
    session.flush()
    audit.append(
        session,
        actor=actor,
        event="transfer.requested",
        subject=pid,
        message_digest=digest,
        detail={
            "role": role.value,
            "agreement": agreement_id,
            "format": format,
            "counterparty": counterparty_did,
            "providerPid": record.provider_pid,
            "consumerPid": record.consumer_pid,
        },
    )
    return record


def move(
    session: Session,
    record: TransferRecord,
    message: TransferMessage,
    sender: Role,
    *,
    actor: str,
    digest: str | None = None,
    detail: dict[str, Any] | None = None,
) -> TransferState:
    """Apply ``message``; 400 TransferError (and no change) when the state machine forbids it."""
    current = TransferState(record.state)
    try:
        new_state = next_transfer_state(current, message, sender)
    except InvalidTransferTransition as exc:
        raise problem(400, str(exc), record) from None
    record.state = new_state.value
    record.updated_at = utcnow()
    audit.append(
        session,
        actor=actor,
        event=f"transfer.{new_state.value.lower()}",
        subject=record.id,
        message_digest=digest,
        detail={
            "role": record.role,
            "message": message.value,
            "from": current.value,
            "agreement": record.agreement_id,
            **(detail or {}),
        },
    )
    return new_state


def send(
    session: Session,
    env: TransferEnv,
    record: TransferRecord,
    kind: TransferMessage,
    leaf: str,
    body: dict[str, Any],
) -> None:
    """Queue a message to the counterparty's endpoint ``<address>/transfers/<their pid>/<leaf>``."""
    their_pid = record.consumer_pid if record.role == Role.PROVIDER.value else record.provider_pid
    if not their_pid:
        raise problem(409, "the counterparty has not answered yet; try again shortly", record)
    env.postbox.send(
        session,
        process_id=record.id,
        audience_did=record.counterparty_did,
        kind=kind.value,
        url=f"{record.counterparty_address}/transfers/{their_pid}/{leaf}",
        body=body,
    )


def end(
    session: Session, env: TransferEnv, record: TransferRecord, sender: Role, reason: str, actor: str
) -> None:
    """Terminate the transfer from our side and tell the counterparty."""
    move(session, record, TransferMessage.TERMINATION, sender, actor=actor, detail={"reason": reason})
    outbox.cancel_pending(session, record.id, "superseded by termination")
    record.termination_reason = reason
    send(
        session,
        env,
        record,
        TransferMessage.TERMINATION,
        "termination",
        messages.transfer_termination(
            provider_pid=record.provider_pid or "", consumer_pid=record.consumer_pid or "", reason=reason
        ),
    )


def state_body(record: TransferRecord) -> dict[str, Any]:
    """The TransferProcess answer for ``record``."""
    return messages.transfer_process(
        provider_pid=record.provider_pid, consumer_pid=record.consumer_pid, state=record.state
    )
