"""The transfer process state machine of DSP 2025-1, as pure functions.

::

    (none)    --TransferRequest(C)----------> REQUESTED
    REQUESTED --TransferStart(P)------------> STARTED
    STARTED   --TransferSuspension(P or C)--> SUSPENDED --TransferStart(P or C)--> STARTED
    STARTED   --TransferCompletion(P or C)--> COMPLETED
    REQUESTED, STARTED, SUSPENDED --TransferTermination(P or C)--> TERMINATED
"""

from __future__ import annotations

from enum import StrEnum

from allmende.negotiation.states import Role


class TransferState(StrEnum):
    """Transfer process states (the DSP names)."""

    REQUESTED = "REQUESTED"
    STARTED = "STARTED"
    SUSPENDED = "SUSPENDED"
    COMPLETED = "COMPLETED"
    TERMINATED = "TERMINATED"


class TransferMessage(StrEnum):
    """The transfer process messages."""

    REQUEST = "TransferRequestMessage"
    START = "TransferStartMessage"
    SUSPENSION = "TransferSuspensionMessage"
    COMPLETION = "TransferCompletionMessage"
    TERMINATION = "TransferTerminationMessage"


TERMINAL = frozenset({TransferState.COMPLETED, TransferState.TERMINATED})


class InvalidTransferTransition(ValueError):
    """A message that the transfer state machine does not allow in the current state."""


def next_transfer_state(
    current: TransferState | None, message: TransferMessage, sender: Role
) -> TransferState:
    """The state after ``message`` from ``sender`` arrives in ``current``; raises with a reason otherwise."""
    if message is TransferMessage.REQUEST:
        if sender is not Role.CONSUMER:
            raise InvalidTransferTransition("only the consumer requests a transfer")
        if current is not None:
            raise InvalidTransferTransition(f"the transfer exists already ({current.value})")
        return TransferState.REQUESTED
    if current is None:
        raise InvalidTransferTransition("there is no transfer process")
    if current in TERMINAL:
        raise InvalidTransferTransition(f"the transfer is already {current.value}")
    if message is TransferMessage.TERMINATION:
        return TransferState.TERMINATED
    if message is TransferMessage.START:
        if current is TransferState.REQUESTED and sender is Role.PROVIDER:
            return TransferState.STARTED
        if current is TransferState.SUSPENDED:
            return TransferState.STARTED
        raise InvalidTransferTransition(
            f"TransferStartMessage from the {sender.value} is not allowed in state {current.value}"
        )
    if current is not TransferState.STARTED:
        raise InvalidTransferTransition(f"{message.value} is not allowed in state {current.value}")
    if message is TransferMessage.SUSPENSION:
        return TransferState.SUSPENDED
    return TransferState.COMPLETED
