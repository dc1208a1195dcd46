"""Comparing what two policies say, regardless of identifiers, parties and ordering."""

from __future__ import annotations

from typing import Any

from allmende.policy.model import (
    Constraint,
    ConstraintNode,
    Duty,
    Permission,
    Policy,
    Prohibition,
)


def _value_key(value: object) -> Any:
    if isinstance(value, tuple):
        return sorted((_value_key(item) for item in value), key=repr)
    return str(value).lower() if isinstance(value, bool) else str(value)


def _constraint_key(node: ConstraintNode) -> Any:
    if isinstance(node, Constraint):
        return ["c", node.left_operand, node.operator, _value_key(node.right_operand), node.unit]
    children = [_constraint_key(child) for child in node.constraints]
    if node.operator != "andSequence":
        children.sort(key=repr)
    return ["l", node.operator, children]


def _rule_key(rule: Permission | Prohibition | Duty) -> Any:
    nested = [
        *getattr(rule, "duties", ()),
        *getattr(rule, "remedies", ()),
        *getattr(rule, "consequences", ()),
    ]
    constraints = sorted((_constraint_key(node) for node in rule.constraints), key=repr)
    return [rule.action, rule.target, constraints, sorted((_rule_key(duty) for duty in nested), key=repr)]


def terms_key(policy: Policy, *, with_target: bool = True) -> Any:
    """A JSON-serialisable canonical form of the policy's rules (no uids, parties or ordering)."""
    return [
        policy.target if with_target else None,
        sorted((_rule_key(rule) for rule in policy.permissions), key=repr),
        sorted((_rule_key(rule) for rule in policy.prohibitions), key=repr),
        sorted((_rule_key(rule) for rule in policy.obligations), key=repr),
    ]


def same_terms(a: Policy, b: Policy) -> bool:
    """True when ``a`` and ``b`` state the same rules.

    Ignored: uids, policy type, assigner and assignee (at every level), timestamps, profiles, the order of
    rules and of constraints (except inside ``andSequence``), the order of list right operands and their
    datatype annotations (``10`` equals ``"10"``). The policy targets are compared only when both name one,
    since a catalog offer leaves the target to the dataset that holds it.
    """
    with_target = a.target is not None and b.target is not None
    return bool(terms_key(a, with_target=with_target) == terms_key(b, with_target=with_target))
