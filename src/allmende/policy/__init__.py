"""policy domain: the ODRL 2.2 model, its DSP JSON-LD form, the evaluator, templates and rendering.

Pure rules: no I/O, no web framework, no database.
"""

from allmende.policy.errors import PolicyError
from allmende.policy.evaluate import Decision, evaluate
from allmende.policy.jsonld import policy_from_json, policy_to_json
from allmende.policy.model import (
    Constraint,
    ConstraintNode,
    Duty,
    LogicalConstraint,
    Permission,
    Policy,
    Prohibition,
)
from allmende.policy.operands import EvaluationContext, LeftOperandRegistry, default_registry
from allmende.policy.render import render_policy
from allmende.policy.templates import TEMPLATES, PolicyTemplate, get_template
from allmende.policy.terms import same_terms

__all__ = [
    "TEMPLATES",
    "Constraint",
    "ConstraintNode",
    "Decision",
    "Duty",
    "EvaluationContext",
    "LeftOperandRegistry",
    "LogicalConstraint",
    "Permission",
    "Policy",
    "PolicyError",
    "PolicyTemplate",
    "Prohibition",
    "default_registry",
    "evaluate",
    "get_template",
    "policy_from_json",
    "policy_to_json",
    "render_policy",
    "same_terms",
]
