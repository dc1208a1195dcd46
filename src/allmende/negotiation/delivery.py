"""What happens to a negotiation once one of its messages was delivered or given up."""

from __future__ import annotations

from sqlalchemy.orm import Session

from allmende.messaging.sender import SentMessage
from allmende.negotiation import repository
from allmende.negotiation.consumer import ConsumerNegotiations
from allmende.negotiation.process import NegotiationEnv, apply
from allmende.negotiation.states import TERMINAL, Message, Role, State

NEGOTIATION_KINDS = (
    "ContractRequestMessage",
    "ContractOfferMessage",
    "ContractAgreementMessage",
    "ContractAgreementVerificationMessage",
    "ContractNegotiationEventMessage",
    "ContractNegotiationTerminationMessage",
)


class NegotiationDelivery:
    """The outbox's delivery handler for negotiation messages."""

    def __init__(self, env: NegotiationEnv, consumer: ConsumerNegotiations) -> None:
        self.env = env
        self.consumer = consumer

    def delivered(self, session: Session, message: SentMessage) -> None:
        """Learn the provider's pid from the answer to our initial request."""
        if message.kind == Message.REQUEST.value:
            self.consumer.request_delivered(session, message.process_id, message.body)

    def given_up(self, session: Session, process_id: str, kind: str, reason: str) -> None:
        """The peer rejected a message or stayed unreachable: end the process cleanly, with the reason."""
        record = repository.get(session, process_id)
        if record is None or State(record.state) in TERMINAL:
            return
        role = Role(record.role)
        apply(
            session,
            record,
            Message.TERMINATION,
            role,
            actor=self.env.own_did,
            detail={"reason": reason, "undelivered": kind},
        )
        record.termination_reason = reason
        record.review_pending = False
