"""ODRL 2.2 evaluation: is the requested action allowed, and which duties come with it?

A rule applies to a request when its action includes the requested action (see ``vocabulary``), its
assignee (or the policy's) is the requesting party or a collection the party belongs to, and its target
(or the policy's) is the requested asset or a collection containing it (not checked when the request
names no target). The action is allowed when some applicable permission has all its constraints
satisfied and none of its duties is known to be violated, and no applicable prohibition is in force —
the prohibition wins. Constraints use three-valued logic: a constraint that cannot be decided (unknown
left operand, missing value, values that cannot be compared) never satisfies a permission, and it does
not lift a prohibition either, so doubt always leads to "deny".
"""

from __future__ import annotations

from dataclasses import dataclass

from allmende.policy.model import ConstraintNode, Duty, LogicalConstraint, Permission, Policy, Prohibition
from allmende.policy.operands import EvaluationContext, LeftOperandRegistry, default_registry
from allmende.policy.operators import Truth, compare
from allmende.policy.vocabulary import action_includes

__all__ = ["Decision", "EvaluationContext", "constraints_truth", "evaluate"]


@dataclass(frozen=True)
class Decision:
    """The verdict on one request.

    ``reasons`` explain it in plain English. ``duties`` are the duties the consumer takes on with the
    granting permission(s) plus the policy's obligations (empty when denied). ``permitted_by`` and
    ``prohibited_by`` are the rules found active.
    """

    allowed: bool
    reasons: tuple[str, ...]
    duties: tuple[Duty, ...]
    permitted_by: tuple[Permission, ...] = ()
    prohibited_by: tuple[Prohibition, ...] = ()


def _combine(operator: str, truths: list[Truth]) -> Truth:
    if operator in ("and", "andSequence"):
        if Truth.NOT_SATISFIED in truths:
            return Truth.NOT_SATISFIED
        return Truth.UNKNOWN if Truth.UNKNOWN in truths else Truth.SATISFIED
    if operator == "or":
        if Truth.SATISFIED in truths:
            return Truth.SATISFIED
        return Truth.UNKNOWN if Truth.UNKNOWN in truths else Truth.NOT_SATISFIED
    satisfied = truths.count(Truth.SATISFIED)
    if satisfied > 1:
        return Truth.NOT_SATISFIED
    if Truth.UNKNOWN in truths:
        return Truth.UNKNOWN
    return Truth.SATISFIED if satisfied == 1 else Truth.NOT_SATISFIED


_TRUTH_TEXT = {Truth.SATISFIED: "met", Truth.NOT_SATISFIED: "not met", Truth.UNKNOWN: "cannot be decided"}
_CHOICE_TEXT = {
    "and": "all of",
    "andSequence": "all, in order, of",
    "or": "at least one of",
    "xone": "exactly one of",
}


def _node_truth(
    node: ConstraintNode, ctx: EvaluationContext, registry: LeftOperandRegistry
) -> tuple[Truth, list[str]]:
    if not isinstance(node, LogicalConstraint):
        outcome = compare(node, registry.resolve(node.left_operand, ctx))
        return outcome.truth, [outcome.reason]
    truths: list[Truth] = []
    reasons: list[str] = []
    for child in node.constraints:
        truth, child_reasons = _node_truth(child, ctx, registry)
        truths.append(truth)
        reasons.extend(child_reasons)
        if node.operator == "andSequence" and truth is not Truth.SATISFIED:
            break  # later steps of a sequence are not reached
    combined = _combine(node.operator, truths)
    summary = f"{_CHOICE_TEXT[node.operator]} {len(node.constraints)} constraints: {_TRUTH_TEXT[combined]}"
    return combined, [summary, *(f"  {reason}" for reason in reasons)]


def constraints_truth(
    constraints: tuple[ConstraintNode, ...],
    ctx: EvaluationContext,
    registry: LeftOperandRegistry | None = None,
) -> tuple[Truth, tuple[str, ...]]:
    """The conjunction of ``constraints`` under ``ctx`` (satisfied when empty) with its reasons."""
    registry = registry or default_registry()
    truths: list[Truth] = []
    reasons: list[str] = []
    for node in constraints:
        truth, node_reasons = _node_truth(node, ctx, registry)
        truths.append(truth)
        reasons.extend(node_reasons)
    return _combine("and", truths), tuple(reasons)


def _applicability(policy: Policy, rule: Permission | Prohibition, ctx: EvaluationContext) -> str | None:
    """None when the rule applies to the request, else why not."""
    kind = "permission" if isinstance(rule, Permission) else "prohibition"
    if not action_includes(rule.action, ctx.action):
        return f"{kind} on '{rule.action}' does not cover action '{ctx.action}'"
    assignee = policy.assignee_of(rule)
    if assignee is not None and assignee != ctx.assignee and assignee not in ctx.party_collections:
        return f"{kind} on '{rule.action}' is for '{assignee}', not for {ctx.assignee!r}"
    target = policy.target_of(rule)
    if target is not None and ctx.target not in (None, target) and target not in ctx.target_collections:
        return f"{kind} on '{rule.action}' is about '{target}', not '{ctx.target}'"
    return None


def _violated(duty: Duty, ctx: EvaluationContext) -> bool:
    return duty.action in ctx.violated_duties or (duty.uid is not None and duty.uid in ctx.violated_duties)


def evaluate(policy: Policy, ctx: EvaluationContext, registry: LeftOperandRegistry | None = None) -> Decision:
    """Decide whether ``ctx.action`` is allowed under ``policy``; never raises for unknown operands."""
    registry = registry or default_registry()
    granted: list[Permission] = []
    refused: list[str] = []
    for permission in policy.permissions:
        not_applicable = _applicability(policy, permission, ctx)
        if not_applicable is not None:
            refused.append(not_applicable)
            continue
        truth, reasons = constraints_truth(permission.constraints, ctx, registry)
        broken = [duty for duty in permission.duties if _violated(duty, ctx)]
        if truth is Truth.SATISFIED and not broken:
            granted.append(permission)
            continue
        refused.extend(f"permission on '{permission.action}': {reason}" for reason in reasons
                       if truth is not Truth.SATISFIED)  # fmt: skip
        refused.extend(f"permission on '{permission.action}': duty '{duty.action}' was violated"
                       for duty in broken)  # fmt: skip
    forbidding: list[Prohibition] = []
    forbid_reasons: list[str] = []
    for prohibition in policy.prohibitions:
        if _applicability(policy, prohibition, ctx) is not None:
            continue
        truth, reasons = constraints_truth(prohibition.constraints, ctx, registry)
        if truth is Truth.NOT_SATISFIED:
            continue
        forbidding.append(prohibition)
        doubt = " (its conditions cannot be decided, so it is treated as in force)"
        doubt = doubt if truth is Truth.UNKNOWN else ""
        forbid_reasons.append(f"prohibited: '{prohibition.action}' covers '{ctx.action}'{doubt}")
        forbid_reasons.extend(f"prohibition on '{prohibition.action}': {reason}" for reason in reasons)
    allowed = bool(granted) and not forbidding
    reasons_out: list[str] = list(forbid_reasons)
    if granted:
        for permission in granted:
            reasons_out.append(f"permitted by the permission on '{permission.action}'")
            met = constraints_truth(permission.constraints, ctx, registry)[1]
            reasons_out.extend(f"  {reason}" for reason in met)
    else:
        if not policy.permissions:
            reasons_out.append("the policy grants no permission")
        reasons_out.extend(refused)
    duties: tuple[Duty, ...] = ()
    if allowed:
        obligations = tuple(duty for duty in policy.obligations
                            if policy.assignee_of(duty) in (None, ctx.assignee))  # fmt: skip
        duties = tuple(duty for permission in granted for duty in permission.duties) + obligations
    return Decision(allowed, tuple(reasons_out), duties, tuple(granted), tuple(forbidding))
