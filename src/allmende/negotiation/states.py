"""The contract negotiation state machine of DSP 2025-1, as pure functions.

::

    (none) --ContractRequest(C)--> REQUESTED --ContractOffer(P)--> OFFERED
    (none) --ContractOffer(P)----> OFFERED   --ContractRequest(C)--> REQUESTED   (counter-offer)
    REQUESTED --ContractAgreement(P)--> AGREED
    OFFERED   --Event ACCEPTED(C)-----> ACCEPTED --ContractAgreement(P)--> AGREED
    AGREED    --AgreementVerification(C)--> VERIFIED --Event FINALIZED(P)--> FINALIZED
    any state but FINALIZED/TERMINATED --Termination(C or P)--> TERMINATED
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    """Negotiation states (the DSP names)."""

    REQUESTED = "REQUESTED"
    OFFERED = "OFFERED"
    ACCEPTED = "ACCEPTED"
    AGREED = "AGREED"
    VERIFIED = "VERIFIED"
    FINALIZED = "FINALIZED"
    TERMINATED = "TERMINATED"


class Role(StrEnum):
    """Which party sends a message (and which role a node plays in a negotiation)."""

    PROVIDER = "provider"
    CONSUMER = "consumer"


class Message(StrEnum):
    """The negotiation messages, with the event messages split by event type."""

    REQUEST = "ContractRequestMessage"
    OFFER = "ContractOfferMessage"
    ACCEPTED = "ContractNegotiationEventMessage:ACCEPTED"
    AGREEMENT = "ContractAgreementMessage"
    VERIFICATION = "ContractAgreementVerificationMessage"
    FINALIZED = "ContractNegotiationEventMessage:FINALIZED"
    TERMINATION = "ContractNegotiationTerminationMessage"


TERMINAL = frozenset({State.FINALIZED, State.TERMINATED})

SENDER: dict[Message, Role | None] = {
    Message.REQUEST: Role.CONSUMER,
    Message.OFFER: Role.PROVIDER,
    Message.ACCEPTED: Role.CONSUMER,
    Message.AGREEMENT: Role.PROVIDER,
    Message.VERIFICATION: Role.CONSUMER,
    Message.FINALIZED: Role.PROVIDER,
    Message.TERMINATION: None,  # either party
}

_TRANSITIONS: dict[tuple[State | None, Message], State] = {
    (None, Message.REQUEST): State.REQUESTED,
    (State.OFFERED, Message.REQUEST): State.REQUESTED,
    (None, Message.OFFER): State.OFFERED,
    (State.REQUESTED, Message.OFFER): State.OFFERED,
    (State.OFFERED, Message.ACCEPTED): State.ACCEPTED,
    (State.REQUESTED, Message.AGREEMENT): State.AGREED,
    (State.ACCEPTED, Message.AGREEMENT): State.AGREED,
    (State.AGREED, Message.VERIFICATION): State.VERIFIED,
    (State.VERIFIED, Message.FINALIZED): State.FINALIZED,
}


class InvalidTransition(ValueError):
    """A message that the state machine does not allow in the current state."""


def next_state(current: State | None, message: Message, sender: Role) -> State:
    """The state after ``message`` from ``sender`` arrives in ``current``.

    Raises InvalidTransition with a reason when the spec does not allow it.
    """
    expected_sender = SENDER[message]
    if expected_sender is not None and expected_sender is not sender:
        raise InvalidTransition(f"{message.value} may only be sent by the {expected_sender.value}")
    if message is Message.TERMINATION:
        if current is None:
            raise InvalidTransition("there is no negotiation to terminate")
        if current in TERMINAL:
            raise InvalidTransition(f"negotiation is already {current.value}; it cannot be terminated")
        return State.TERMINATED
    target = _TRANSITIONS.get((current, message))
    if target is None:
        where = "a new negotiation" if current is None else f"state {current.value}"
        raise InvalidTransition(f"{message.value} is not allowed in {where}")
    return target


def allowed_messages(current: State | None, sender: Role) -> list[Message]:
    """The messages ``sender`` may send in ``current`` (for the API and the UI)."""
    allowed: list[Message] = []
    for message in Message:
        try:
            next_state(current, message, sender)
        except InvalidTransition:
            continue
        allowed.append(message)
    return allowed
