"""The ``compute`` action's job conditions: what is checked per job rather than per agreement.

A compute permission carries conditions on each job: ``algorithm`` (the sha-256 digest of the job's
code bundle, ``isAnyOf`` an allow-list), ``count`` (how many jobs the consumer may run), and conditions
on each result before it leaves: ``groupSize`` (the smallest group of an aggregate result, ``gteq`` k),
``outputSize`` (bytes, ``lteq``) and ``epsilon`` (the differential-privacy budget spent by the consumer
including this job, ``lteq``). At negotiation none of these is known yet, so they are left out of the
negotiation's evaluation (:func:`negotiation_policy`); the job service supplies them as facts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

from allmende.policy.model import Constraint, ConstraintNode, LogicalConstraint, Permission, Policy

JOB_OPERANDS: Final = frozenset({"algorithm", "count", "groupSize", "outputSize", "epsilon"})
RESULT_OPERANDS: Final = frozenset({"groupSize", "outputSize", "epsilon"})


@dataclass(frozen=True)
class ComputeTerms:
    """The job conditions of a compute permission, read for display and for the job service's limits."""

    algorithms: tuple[str, ...] | None  # None: any algorithm (then the owner reviews every job)
    max_jobs: int | None
    min_group_size: int | None
    max_output_bytes: int | None
    epsilon_budget: float | None


def offered_action(policy: Policy) -> str:
    """``compute`` when the policy permits computing on the data but not using it; else ``use``."""
    actions = {permission.action for permission in policy.permissions}
    return "compute" if actions and actions <= {"compute"} else "use"


def _without_job_conditions(nodes: tuple[ConstraintNode, ...]) -> tuple[ConstraintNode, ...]:
    kept: list[ConstraintNode] = []
    for node in nodes:
        if isinstance(node, Constraint):
            if node.left_operand not in JOB_OPERANDS:
                kept.append(node)
        elif isinstance(node, LogicalConstraint):
            inner = _without_job_conditions(node.constraints)
            if len(inner) == len(node.constraints):
                kept.append(node)
            elif inner:
                kept.append(replace(node, constraints=inner))
    return tuple(kept)


def negotiation_policy(policy: Policy) -> Policy:
    """``policy`` with the job conditions of its compute permissions left out (decided per job)."""
    permissions = tuple(
        replace(permission, constraints=_without_job_conditions(permission.constraints))
        if permission.action == "compute"
        else permission
        for permission in policy.permissions
    )
    return replace(policy, permissions=permissions)


def _number(constraint: Constraint) -> float | None:
    value = constraint.right_operand
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def compute_terms(policy: Policy) -> ComputeTerms | None:
    """The job conditions of the first compute permission (top-level constraints), or None."""
    permission = next((p for p in policy.permissions if p.action == "compute"), None)
    if permission is None:
        return None
    return _terms(permission)


def _terms(permission: Permission) -> ComputeTerms:
    algorithms: tuple[str, ...] | None = None
    max_jobs = min_group = max_output = None
    budget: float | None = None
    for node in permission.constraints:
        if not isinstance(node, Constraint):
            continue
        operand, operator, number = node.left_operand, node.operator, _number(node)
        if operand == "algorithm" and operator in ("eq", "isAnyOf"):
            value = node.right_operand
            listed = value if isinstance(value, list | tuple) else [value]
            algorithms = tuple(str(item) for item in listed)
        elif operand == "count" and number is not None and operator in ("lt", "lteq"):
            max_jobs = int(number) - (1 if operator == "lt" else 0)
        elif operand == "groupSize" and number is not None and operator in ("gt", "gteq"):
            min_group = int(number) + (1 if operator == "gt" else 0)
        elif operand == "outputSize" and number is not None and operator in ("lt", "lteq"):
            max_output = int(number) - (1 if operator == "lt" else 0)
        elif operand == "epsilon" and number is not None and operator in ("lt", "lteq"):
            budget = number
    return ComputeTerms(algorithms, max_jobs, min_group, max_output, budget)
