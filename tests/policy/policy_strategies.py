"""Hypothesis strategies for generated policies (test helper)."""

from __future__ import annotations

from hypothesis import strategies as st

from allmende.policy import (
    Constraint,
    ConstraintNode,
    Duty,
    LogicalConstraint,
    Permission,
    Policy,
    Prohibition,
)

TEXT = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789:-", min_size=1, max_size=12)
VALUE = st.one_of(TEXT, st.integers(-(10**6), 10**6), st.booleans())
ATOMIC = st.builds(
    Constraint,
    left_operand=st.sampled_from(["purpose", "spatial", "count", "dateTime", "ex:custom"]),
    operator=st.sampled_from(["eq", "neq", "lt", "isAnyOf", "isNoneOf", "hasPart"]),
    right_operand=st.one_of(VALUE, st.lists(TEXT, min_size=1, max_size=3).map(tuple)),
    unit=st.none() | TEXT,
)
NODES: st.SearchStrategy[ConstraintNode] = st.recursive(
    ATOMIC,
    lambda children: st.builds(
        LogicalConstraint,
        operator=st.sampled_from(["and", "or", "xone", "andSequence"]),
        constraints=st.lists(children, min_size=1, max_size=3).map(tuple),
    ),
    max_leaves=6,
)
CONSTRAINTS = st.lists(NODES, max_size=3).map(tuple)
ACTIONS = st.sampled_from(["use", "read", "distribute", "sell", "delete", "ex:train"])
DUTIES = st.lists(st.builds(Duty, action=ACTIONS, constraints=CONSTRAINTS), max_size=2).map(tuple)
PERMISSIONS = st.lists(st.builds(Permission, action=ACTIONS, constraints=CONSTRAINTS, duties=DUTIES),
                       min_size=1, max_size=3).map(tuple)  # fmt: skip
PROHIBITIONS = st.lists(st.builds(Prohibition, action=ACTIONS, constraints=CONSTRAINTS), max_size=2).map(
    tuple
)
POLICIES = st.builds(
    Policy,
    uid=TEXT.map(lambda text: f"urn:{text}"),
    policy_type=st.just("Offer"),
    target=st.none() | TEXT.map(lambda text: f"urn:asset:{text}"),
    assigner=st.none() | TEXT.map(lambda text: f"did:web:{text}"),
    assignee=st.none(),
    permissions=PERMISSIONS,
    prohibitions=PROHIBITIONS,
)
