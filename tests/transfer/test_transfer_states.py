"""The transfer state machine (TP / TP_C paths) as pure functions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allmende.negotiation.states import Role
from allmende.transfer.states import (
    TERMINAL,
    InvalidTransferTransition,
    TransferMessage,
    TransferState,
    next_transfer_state,
)

C, P = Role.CONSUMER, Role.PROVIDER
M = TransferMessage
S = TransferState

VALID = [
    # TP:01-04 / TP_C:01-04
    [
        (M.REQUEST, C, S.REQUESTED),
        (M.START, P, S.STARTED),
        (M.SUSPENSION, P, S.SUSPENDED),
        (M.START, P, S.STARTED),
        (M.COMPLETION, P, S.COMPLETED),
    ],
    # TP:02-04 / TP_C:02-04: the consumer suspends and resumes
    [
        (M.REQUEST, C, S.REQUESTED),
        (M.START, P, S.STARTED),
        (M.SUSPENSION, C, S.SUSPENDED),
        (M.START, C, S.STARTED),
        (M.COMPLETION, C, S.COMPLETED),
    ],
    # TP:01-05: terminated right after the request
    [(M.REQUEST, C, S.REQUESTED), (M.TERMINATION, P, S.TERMINATED)],
    # TP:02-03
    [
        (M.REQUEST, C, S.REQUESTED),
        (M.START, P, S.STARTED),
        (M.SUSPENSION, C, S.SUSPENDED),
        (M.TERMINATION, C, S.TERMINATED),
    ],
]


@pytest.mark.parametrize("path", VALID)
def test_valid_paths(path: list[tuple[TransferMessage, Role, TransferState]]) -> None:
    state: TransferState | None = None
    for message, sender, expected in path:
        state = next_transfer_state(state, message, sender)
        assert state is expected


@pytest.mark.parametrize(
    ("state", "message", "sender"),
    [
        (S.REQUESTED, M.COMPLETION, C),  # TP:03-01
        (S.REQUESTED, M.SUSPENSION, C),  # TP:03-02
        (S.SUSPENDED, M.COMPLETION, C),  # TP:03-03
        (S.REQUESTED, M.COMPLETION, P),  # TP_C:03-01
        (S.REQUESTED, M.SUSPENSION, P),  # TP_C:03-02
        (S.SUSPENDED, M.COMPLETION, P),  # TP_C:03-03
        (S.REQUESTED, M.START, C),  # only the provider starts a requested transfer
        (S.STARTED, M.START, P),  # already started
        (S.STARTED, M.REQUEST, C),
    ],
)
def test_invalid_transitions(state: TransferState, message: TransferMessage, sender: Role) -> None:
    with pytest.raises(InvalidTransferTransition):
        next_transfer_state(state, message, sender)


@given(st.sampled_from(sorted(TERMINAL)), st.sampled_from(list(M)), st.sampled_from(list(Role)))
def test_nothing_leaves_a_terminal_state(
    state: TransferState, message: TransferMessage, sender: Role
) -> None:
    # TP:03-04..06, TP_C:03-04..06: started, suspended or completed after termination
    with pytest.raises(InvalidTransferTransition):
        next_transfer_state(state, message, sender)


def test_only_the_consumer_requests() -> None:
    with pytest.raises(InvalidTransferTransition, match="only the consumer"):
        next_transfer_state(None, M.REQUEST, P)
    with pytest.raises(InvalidTransferTransition, match="no transfer process"):
        next_transfer_state(None, M.START, P)
