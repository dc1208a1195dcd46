"""The negotiation state machine as pure functions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allmende.negotiation.states import (
    TERMINAL,
    InvalidTransition,
    Message,
    Role,
    State,
    allowed_messages,
    next_state,
)

HAPPY_PATHS = [
    # CN:01-03: request, offer, accepted, agreement, verified, finalized
    [
        (Message.REQUEST, Role.CONSUMER, State.REQUESTED),
        (Message.OFFER, Role.PROVIDER, State.OFFERED),
        (Message.ACCEPTED, Role.CONSUMER, State.ACCEPTED),
        (Message.AGREEMENT, Role.PROVIDER, State.AGREED),
        (Message.VERIFICATION, Role.CONSUMER, State.VERIFIED),
        (Message.FINALIZED, Role.PROVIDER, State.FINALIZED),
    ],
    # CN:01-04: request, agreement, verified, finalized
    [
        (Message.REQUEST, Role.CONSUMER, State.REQUESTED),
        (Message.AGREEMENT, Role.PROVIDER, State.AGREED),
        (Message.VERIFICATION, Role.CONSUMER, State.VERIFIED),
        (Message.FINALIZED, Role.PROVIDER, State.FINALIZED),
    ],
    # provider-initiated offer, consumer counter-offer, provider agreement
    [
        (Message.OFFER, Role.PROVIDER, State.OFFERED),
        (Message.REQUEST, Role.CONSUMER, State.REQUESTED),
        (Message.AGREEMENT, Role.PROVIDER, State.AGREED),
    ],
]


@pytest.mark.parametrize("path", HAPPY_PATHS)
def test_happy_paths(path: list[tuple[Message, Role, State]]) -> None:
    state: State | None = None
    for message, sender, expected in path:
        state = next_state(state, message, sender)
        assert state is expected


@pytest.mark.parametrize(
    ("state", "message", "sender"),
    [
        (State.REQUESTED, Message.FINALIZED, Role.PROVIDER),  # CN_C:03-01
        (State.OFFERED, Message.AGREEMENT, Role.PROVIDER),  # CN_C:03-02
        (State.OFFERED, Message.FINALIZED, Role.PROVIDER),  # CN_C:03-03
        (State.ACCEPTED, Message.FINALIZED, Role.PROVIDER),  # CN_C:03-04
        (State.ACCEPTED, Message.OFFER, Role.PROVIDER),  # CN_C:03-05
        (State.AGREED, Message.FINALIZED, Role.PROVIDER),  # CN_C:03-06
        (State.OFFERED, Message.VERIFICATION, Role.CONSUMER),  # CN:03-02
        (State.ACCEPTED, Message.VERIFICATION, Role.CONSUMER),  # CN:03-03
        (State.REQUESTED, Message.REQUEST, Role.CONSUMER),  # CN:03-04, second counter-offer
        (State.REQUESTED, Message.AGREEMENT, Role.CONSUMER),  # wrong sender
    ],
)
def test_invalid_transitions_are_rejected(state: State, message: Message, sender: Role) -> None:
    with pytest.raises(InvalidTransition):
        next_state(state, message, sender)


def test_termination_after_finalized_is_invalid() -> None:  # CN:03-01
    with pytest.raises(InvalidTransition, match="already FINALIZED"):
        next_state(State.FINALIZED, Message.TERMINATION, Role.CONSUMER)


@given(st.sampled_from([s for s in State if s not in TERMINAL]), st.sampled_from(list(Role)))
def test_either_party_may_terminate_a_live_negotiation(state: State, sender: Role) -> None:
    assert next_state(state, Message.TERMINATION, sender) is State.TERMINATED


@given(st.sampled_from(sorted(TERMINAL)), st.sampled_from(list(Message)), st.sampled_from(list(Role)))
def test_nothing_leaves_a_terminal_state(state: State, message: Message, sender: Role) -> None:
    with pytest.raises(InvalidTransition):
        next_state(state, message, sender)


def test_allowed_messages_for_the_review_queue() -> None:
    assert allowed_messages(State.REQUESTED, Role.PROVIDER) == [
        Message.OFFER,
        Message.AGREEMENT,
        Message.TERMINATION,
    ]
    assert allowed_messages(State.OFFERED, Role.CONSUMER) == [
        Message.REQUEST,
        Message.ACCEPTED,
        Message.TERMINATION,
    ]
