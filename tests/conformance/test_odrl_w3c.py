"""The W3C ODRL formal-semantics examples (draft) run against the Allmende evaluator.

Supported: category A (constraints). Not supported, each checked below and listed in docs/policies.md:
category B (refinements on the permitted action) and category C (conditioned permissions whose duty
action carries a refinement, fulfilled or not according to a state of the world). The parser rejects
refinements with a PolicyError instead of ignoring them, since ignoring one would grant more than the
policy says.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from allmende.clock import parse_datetime
from allmende.policy import EvaluationContext, PolicyError, evaluate, policy_from_json

EXAMPLES = Path(__file__).parent / "data" / "odrl" / "w3c-odrl" / "formal-semantics" / "examples"
CURRENT_TIME = "sotw:CurrentXSDDateTime"

SUPPORTED = ("A11", "A12")
UNSUPPORTED = {
    "B11": "refinement on the permitted action (print with resolution lteq 1200 dpi)",
    "B12": "refinement on the permitted action (print with resolution lteq 1200 dpi)",
    "C11": "conditioned permission: the duty action 'compensate' carries a payAmount refinement",
    "C12": "conditioned permission: the duty action 'compensate' carries a payAmount refinement",
    "C21": "conditioned permission with a refined duty action and an ex:dayOfWeek duty constraint",
    "C22": "conditioned permission with a refined duty action and an ex:dayOfWeek duty constraint",
    "C23": "conditioned permission with a refined duty action and an ex:dayOfWeek duty constraint",
}


def _find(pattern: str) -> Path:
    [path] = sorted(EXAMPLES.rglob(pattern))
    return path


def _json(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def _case(name: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(policy, evaluation request, compliance report) of one example, e.g. ``A11``."""
    folder = _find(f"evaluationrequest{name}.json").parent
    policy = _json(next(folder.parent.glob("policy*.json")))
    report = _json(next(folder.glob("compliancereport*.json")))
    return policy, _json(folder / f"evaluationrequest{name}.json"), report


def _context(request: dict[str, Any]) -> EvaluationContext:
    parameters = request["requestParameters"]
    assert parameters["describesFeature"] == CURRENT_TIME
    return EvaluationContext(
        now=parse_datetime(parameters["value"]["@value"]),
        assignee=request.get("evaluatedParty"),
        action=request["evaluatedAction"],
        target=request.get("evaluatedTarget"),
    )


def _rule_report(report: dict[str, Any]) -> dict[str, Any]:
    [rule] = [value for value in report.values() if isinstance(value, dict) and "report:rule" in value]
    return rule


def test_every_example_is_either_supported_or_listed() -> None:
    names = {
        path.stem.removeprefix("evaluationrequest") for path in EXAMPLES.rglob("evaluationrequest*.json")
    }
    assert names == set(SUPPORTED) | set(UNSUPPORTED)


@pytest.mark.parametrize("name", SUPPORTED)
def test_w3c_example(name: str) -> None:
    policy_json, request, report = _case(name)
    decision = evaluate(policy_from_json(policy_json), _context(request))
    expected = _rule_report(report)
    active = any(rule.uid == expected["report:rule"] for rule in decision.permitted_by)
    assert active is (expected["report:activationState"] == "report:Active"), decision.reasons
    assert decision.allowed is (expected["report:controlState"] == "report:Permit"), decision.reasons


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_unsupported_example_is_rejected_not_misread(name: str) -> None:
    policy_json, _, _ = _case(name)
    with pytest.raises(PolicyError, match="refinement"):
        policy_from_json(policy_json)


def test_constrained_prohibition_example_a2_parses_and_forbids_before_2025() -> None:
    policy = policy_from_json(_json(_find("policyA2.json")))
    [prohibition] = policy.prohibitions
    ctx = dict(
        assignee="http://example.com/assignee:55",
        action="odrl:archive",
        target="http://example.com/photoAlbum:55",
    )
    before = EvaluationContext(now=parse_datetime("2024-06-01T00:00:00Z"), **ctx)
    after = EvaluationContext(now=parse_datetime("2025-06-01T00:00:00Z"), **ctx)
    assert evaluate(policy, before).prohibited_by == (prohibition,)
    assert evaluate(policy, after).prohibited_by == ()
