"""The key facts of a policy at a glance: what may be done, for which purpose, until when, how often.

The plain-language text (``render``) says everything; these facts pick out what a reader of an agreement
asks first. Only conditions that are certain are summarised: constraints inside ``or``/``xone`` and
operands without a summary are flagged as ``other_conditions``, so the facts never claim more than the
policy says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from allmende.clock import parse_datetime
from allmende.policy.durations import parse_duration
from allmende.policy.model import (
    Constraint,
    ConstraintNode,
    Duty,
    LogicalConstraint,
    Permission,
    Policy,
    Prohibition,
)

_POSITIVE_SETS = ("eq", "isA", "isAnyOf", "isPartOf")


@dataclass(frozen=True)
class RuleFacts:
    """One rule in short: its action and the conditions every use must meet."""

    action: str
    purposes: tuple[str, ...] = ()
    not_before: datetime | None = None
    until: datetime | None = None
    max_uses: int | None = None
    other_conditions: bool = False


@dataclass(frozen=True)
class PolicyFacts:
    """What is permitted, what is prohibited and which duties come with it."""

    permissions: tuple[RuleFacts, ...]
    prohibitions: tuple[RuleFacts, ...]
    duties: tuple[RuleFacts, ...]

    @property
    def until(self) -> datetime | None:
        """The end of all permissions when every one of them ends; None if any has no end."""
        ends = [rule.until for rule in self.permissions]
        if not ends or any(end is None for end in ends):
            return None
        return max(end for end in ends if end is not None)


def _atoms(nodes: tuple[ConstraintNode, ...]) -> tuple[list[Constraint], bool]:
    """The constraints that must all hold (``and`` flattened), and whether others were left out."""
    atoms: list[Constraint] = []
    skipped = False
    for node in nodes:
        if isinstance(node, LogicalConstraint):
            if node.operator in ("and", "andSequence"):
                inner, inner_skipped = _atoms(node.constraints)
                atoms.extend(inner)
                skipped = skipped or inner_skipped
            else:
                skipped = True
        else:
            atoms.append(node)
    return atoms, skipped


def _values(constraint: Constraint) -> tuple[object, ...]:
    value = constraint.right_operand
    return value if isinstance(value, tuple) else (value,)


def _moment(constraint: Constraint, start: datetime | None) -> datetime | None:
    """The moment a dateTime or elapsedTime constraint names (elapsed time counts from ``start``)."""
    value = _values(constraint)[0] if len(_values(constraint)) == 1 else None
    if not isinstance(value, str):
        return None
    try:
        if constraint.left_operand == "dateTime":
            return parse_datetime(value)
        if constraint.left_operand == "elapsedTime" and start is not None:
            return parse_duration(value).end_after(start)
    except ValueError:
        return None
    return None


def _count(constraint: Constraint) -> int | None:
    values = _values(constraint)
    try:
        limit = int(str(values[0])) if len(values) == 1 and not isinstance(values[0], bool) else None
    except ValueError:
        return None
    if limit is None:
        return None
    return limit - 1 if constraint.operator == "lt" else limit


def rule_facts(rule: Permission | Prohibition | Duty, start: datetime | None) -> RuleFacts:
    """The facts of one rule; ``start`` (the agreement's time) anchors elapsed-time limits."""
    atoms, other = _atoms(rule.constraints)
    purposes: list[str] = []
    not_before: datetime | None = None
    until: datetime | None = None
    max_uses: int | None = None
    for atom in atoms:
        operand, operator = atom.left_operand, atom.operator
        moment = _moment(atom, start) if operand in ("dateTime", "elapsedTime") else None
        if operand == "purpose" and operator in _POSITIVE_SETS:
            purposes.extend(str(value) for value in _values(atom))
        elif moment is not None and operator in ("lt", "lteq"):
            until = moment if until is None else min(until, moment)
        elif moment is not None and operator in ("gt", "gteq"):
            not_before = moment if not_before is None else max(not_before, moment)
        elif operand == "count" and operator in ("lt", "lteq") and (limit := _count(atom)) is not None:
            max_uses = limit if max_uses is None else min(max_uses, limit)
        else:
            other = True
    return RuleFacts(rule.action, tuple(purposes), not_before, until, max_uses, other)


def policy_facts(policy: Policy, start: datetime | None = None) -> PolicyFacts:
    """The key facts of ``policy``; ``start`` defaults to the policy's own (agreement) timestamp."""
    start = start or policy.timestamp
    duties = [duty for permission in policy.permissions for duty in permission.duties]
    duties.extend(policy.obligations)
    return PolicyFacts(
        permissions=tuple(rule_facts(rule, start) for rule in policy.permissions),
        prohibitions=tuple(rule_facts(rule, start) for rule in policy.prohibitions),
        duties=tuple(rule_facts(rule, start) for rule in duties),
    )
