"""Policy templates: DSP validity, behaviour under evaluation, parameters and errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from dsp_policy_schemas import schema_errors

from allmende.policy import TEMPLATES, EvaluationContext, PolicyError, evaluate, get_template, policy_to_json

PROVIDER, ASSET, CONSUMER = "did:web:provider.example", "urn:uuid:asset-1", "did:web:consumer.example"
START = datetime(2025, 1, 15, tzinfo=UTC)
REQUIRED = {
    "open-use",
    "evaluation-only",
    "research-only",
    "time-limited",
    "machine-data-maintenance",
    "compute-only",
}


def ctx(**changes: object) -> EvaluationContext:
    values: dict[str, object] = {"now": datetime(2025, 3, 1, tzinfo=UTC), "assignee": CONSUMER,
                                 "agreement_start": START, "action": "use"}  # fmt: skip
    values.update(changes)
    return EvaluationContext(**values)  # type: ignore[arg-type]


def test_required_templates_exist_with_both_languages() -> None:
    assert set(TEMPLATES) >= REQUIRED
    for template in TEMPLATES.values():
        texts = (template.title_en, template.title_de, template.summary_en, template.summary_de)
        assert all(text.strip() for text in texts)
        assert template.title_en != template.title_de and template.summary_en != template.summary_de


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_every_template_builds_a_valid_dsp_offer(name: str) -> None:
    policy = get_template(name).build(PROVIDER, ASSET)
    assert (policy.policy_type, policy.assigner, policy.target) == ("Offer", PROVIDER, ASSET)
    assert schema_errors(policy_to_json(policy, for_catalog=True), "Offer") == []
    assert schema_errors(policy_to_json(policy), "MessageOffer") == []


def test_only_open_use_members_only_and_compute_only_are_auto_approved() -> None:
    auto = [name for name, template in TEMPLATES.items() if template.auto_approve]
    assert auto == ["open-use", "members-only", "compute-only"]


def test_members_only_permits_members_of_the_community_only() -> None:
    policy = get_template("members-only").build(PROVIDER, ASSET, community="did:web:verband.example")
    assert evaluate(
        policy, ctx(party_collections=frozenset({"did:web:verband.example", "did:web:x"}))
    ).allowed
    refused = evaluate(policy, ctx(party_collections=frozenset({"did:web:other.example"})))
    assert not refused.allowed
    assert "memberOf eq 'did:web:verband.example' not met" in refused.reasons[0]
    assert not evaluate(policy, ctx()).allowed
    with pytest.raises(PolicyError):
        get_template("members-only").build(PROVIDER, ASSET, community="verband")


def test_open_use_allows_any_verified_participant() -> None:
    policy = get_template("open-use").build(PROVIDER, ASSET)
    assert evaluate(policy, ctx(purpose=None)).allowed
    assert evaluate(policy, ctx(assignee="did:web:anyone.example", action="read")).allowed


def test_evaluation_only() -> None:
    policy = get_template("evaluation-only").build(PROVIDER, ASSET)
    assert evaluate(policy, ctx(purpose="evaluation")).allowed
    assert not evaluate(policy, ctx(purpose="evaluation", action="distribute")).allowed
    assert not evaluate(policy, ctx(purpose="commercial")).allowed
    assert not evaluate(policy, ctx(purpose=None)).allowed


def test_research_only() -> None:
    policy = get_template("research-only").build(PROVIDER, ASSET)
    assert evaluate(policy, ctx(purpose="research", action="derive")).allowed
    assert not evaluate(policy, ctx(purpose="commercial")).allowed
    assert not evaluate(policy, ctx(purpose="maintenance")).allowed


def test_time_limited_defaults_to_six_months_after_the_agreement() -> None:
    policy = get_template("time-limited").build(PROVIDER, ASSET)
    assert evaluate(policy, ctx(now=datetime(2025, 7, 15, tzinfo=UTC))).allowed
    assert not evaluate(policy, ctx(now=datetime(2025, 7, 15, 0, 0, 1, tzinfo=UTC))).allowed


def test_time_limited_with_duration_or_end_date() -> None:
    weeks = get_template("time-limited").build(PROVIDER, ASSET, duration="P2W")
    assert not evaluate(weeks, ctx(now=datetime(2025, 2, 1, tzinfo=UTC))).allowed
    until = get_template("time-limited").build(PROVIDER, ASSET, until="2025-12-31T23:59:59Z")
    assert evaluate(until, ctx(now=datetime(2025, 12, 31, tzinfo=UTC))).allowed
    assert not evaluate(until, ctx(now=datetime(2026, 1, 1, tzinfo=UTC))).allowed


def test_machine_data_maintenance() -> None:
    policy = get_template("machine-data-maintenance").build(PROVIDER, ASSET)
    decision = evaluate(policy, ctx(purpose="maintenance"))
    assert decision.allowed
    [delete] = decision.duties
    assert delete.action == "delete"
    assert not evaluate(policy, ctx(purpose="maintenance", now=datetime(2026, 1, 16, tzinfo=UTC))).allowed
    assert not evaluate(policy, ctx(purpose="maintenance", action="sell")).allowed
    assert not evaluate(policy, ctx(purpose="maintenance", action="distribute")).allowed
    assert not evaluate(policy, ctx(purpose="development")).allowed


def test_fixed_uid_is_kept() -> None:
    policy = get_template("open-use").build(PROVIDER, ASSET, uid="urn:offer:1")
    assert policy.uid == "urn:offer:1" and policy_to_json(policy)["@id"] == "urn:offer:1"


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("open-use", {"duration": "P1M"}, "unknown parameter(s) duration; this template takes: none"),
        ("time-limited", {"duration": "six months"}, "not an ISO 8601 duration"),
        ("time-limited", {"until": "tomorrow"}, "not an RFC 3339 dateTime"),
        ("machine-data-maintenance", {"purpose": "x"}, "this template takes: duration"),
    ],
)
def test_bad_parameters_are_policy_errors(name: str, params: dict[str, str], message: str) -> None:
    with pytest.raises(PolicyError, match=message.replace("(", r"\(").replace(")", r"\)")):
        get_template(name).build(PROVIDER, ASSET, **params)


def test_missing_assigner_or_target_is_rejected() -> None:
    with pytest.raises(PolicyError, match="target: must be a non-empty identifier"):
        get_template("open-use").build(PROVIDER, "")


def test_unknown_template_lists_valid_names() -> None:
    with pytest.raises(
        PolicyError, match="unknown template 'free'; valid templates: open-use, evaluation-only"
    ):
        get_template("free")
