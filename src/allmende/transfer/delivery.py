"""What happens to a transfer once one of its messages was delivered or given up."""

from __future__ import annotations

from sqlalchemy.orm import Session

from allmende.messaging.sender import SentMessage
from allmende.negotiation.states import Role
from allmende.store.database import after_commit
from allmende.transfer.consumer import ConsumerTransfers
from allmende.transfer.messages import PUSH_FORMAT
from allmende.transfer.process import TransferEnv, move
from allmende.transfer.records import TransferRecord
from allmende.transfer.states import TERMINAL, TransferMessage, TransferState

TRANSFER_KINDS = tuple(message.value for message in TransferMessage)


class TransferDelivery:
    """The outbox's delivery handler for transfer messages."""

    def __init__(self, env: TransferEnv, consumer: ConsumerTransfers) -> None:
        self.env = env
        self.consumer = consumer

    def delivered(self, session: Session, message: SentMessage) -> None:
        if message.kind == TransferMessage.REQUEST.value:
            self.consumer.request_delivered(session, message.process_id, message.body)
        elif message.kind == TransferMessage.START.value:
            record = session.get(TransferRecord, message.process_id)
            if record is not None and record.role == Role.PROVIDER.value and record.format == PUSH_FORMAT:
                transfer_id = record.id
                after_commit(session, lambda: self.env.schedule_push(transfer_id))

    def given_up(self, session: Session, process_id: str, kind: str, reason: str) -> None:
        """The peer rejected a message or stayed unreachable: the transfer ends, with the reason."""
        record = session.get(TransferRecord, process_id)
        if record is None or TransferState(record.state) in TERMINAL:
            return
        move(
            session,
            record,
            TransferMessage.TERMINATION,
            Role(record.role),
            actor=self.env.own_did,
            detail={"reason": reason, "undelivered": kind},
        )
        record.termination_reason = reason
