"""The SolidLab ODRL test suite (68 cases, FORCE compliance reports) run against the Allmende evaluator."""

from __future__ import annotations

import pytest
from odrl_rdf_adapter import SolidLabCase, is_active, load_cases

from allmende.policy import evaluate

CASES = load_cases()


def test_every_case_of_the_suite_is_loaded() -> None:
    assert len(CASES) == 68
    assert all(case.expected for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_solidlab_case(case: SolidLabCase) -> None:
    decision = evaluate(case.policy, case.context)
    for expected in case.expected:
        active = is_active(expected.rule, expected.kind, decision.permitted_by, decision.prohibited_by)
        assert active is expected.active, f"{case.title}: {expected.kind} {expected.rule}; {decision.reasons}"
        if expected.kind == "PermissionReport" and expected.active:
            assert decision.allowed
        if expected.kind == "ProhibitionReport" and expected.active:
            assert not decision.allowed
