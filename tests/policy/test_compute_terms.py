"""The compute action: its place in the action hierarchy, its template, per-job conditions, rendering."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from allmende.policy.compute import compute_terms, negotiation_policy, offered_action
from allmende.policy.errors import PolicyError
from allmende.policy.evaluate import evaluate
from allmende.policy.jsonld import policy_from_json, policy_to_json
from allmende.policy.operands import EvaluationContext
from allmende.policy.render import render_policy
from allmende.policy.templates import get_template
from allmende.policy.vocabulary import action_includes, short_term

DIGEST = "sha-256:" + "ab" * 32
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _offer(**params: str):  # type: ignore[no-untyped-def]
    return get_template("compute-only").build("did:web:provider.example", "urn:dataset:1", **params)


def test_compute_is_included_in_use_but_does_not_include_it() -> None:
    assert action_includes("use", "compute")
    assert not action_includes("compute", "use")
    assert short_term("https://w3id.org/allmende/policy#compute") == "compute"


def test_template_terms_survive_json_ld() -> None:
    policy = policy_from_json(policy_to_json(_offer(algorithms=f"{DIGEST}, {DIGEST.upper()}", epsilon="2")))
    terms = compute_terms(policy)
    assert terms is not None
    assert terms.algorithms == (DIGEST, DIGEST)
    assert (terms.max_jobs, terms.min_group_size, terms.max_output_bytes) == (20, 5, 1048576)
    assert terms.epsilon_budget == 2.0
    assert offered_action(policy) == "compute"
    assert compute_terms(get_template("open-use").build("did:web:a", "urn:x")) is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"algorithms": "md5:abc"}, "algorithms"),
        ({"algorithms": "sha-256:xyz"}, "algorithms"),
        ({"max_jobs": "0"}, "max_jobs"),
        ({"min_group_size": "-3"}, "min_group_size"),
        ({"max_output_bytes": "lots"}, "max_output_bytes"),
        ({"epsilon": "0"}, "epsilon"),
        ({"epsilon": "abc"}, "epsilon"),
    ],
)
def test_template_refuses_bad_parameters(params: dict[str, str], field: str) -> None:
    with pytest.raises(PolicyError) as caught:
        _offer(**params)
    assert field in str(caught.value)


def test_negotiation_decides_without_the_job_conditions() -> None:
    policy = _offer(algorithms=DIGEST)
    ctx = EvaluationContext(now=NOW, assignee="did:web:consumer.example", action="compute")
    assert not evaluate(policy, ctx).allowed  # the job conditions are unknown before a job
    assert evaluate(negotiation_policy(policy), ctx).allowed
    assert not evaluate(negotiation_policy(policy), EvaluationContext(now=NOW, action="use")).allowed


def test_a_job_is_checked_with_its_facts() -> None:
    policy = _offer(algorithms=DIGEST, max_jobs="2")

    def job(digest: str, before: int, group: int, size: int) -> bool:
        facts = {"algorithm": digest, "groupSize": group, "outputSize": size}
        ctx = EvaluationContext(now=NOW, action="compute", use_count=before, facts=facts)
        return evaluate(policy, ctx).allowed

    assert job(DIGEST, 0, 5, 100)
    assert not job("sha-256:" + "cd" * 32, 0, 5, 100)
    assert not job(DIGEST, 2, 5, 100)  # a third job
    assert not job(DIGEST, 0, 4, 100)
    assert not job(DIGEST, 0, 5, 2_000_000)


def test_plain_language_in_both_languages() -> None:
    policy = _offer(algorithms=DIGEST, epsilon="1.5")
    english, german = render_policy(policy, "en"), render_policy(policy, "de")
    assert "run approved algorithms on the data where it lies" in english
    assert "at least 5 records" in english and "at most 1048576 bytes" in english and "ε = 1.5" in english
    assert "(unchecked)" not in english
    assert "mindestens 5 Datensätze" in german and "höchstens 20-mal" in german
    assert DIGEST in english and DIGEST in german
