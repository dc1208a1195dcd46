"""The key facts of a policy: actions, purposes, end dates, use limits, and honesty about the rest."""

from __future__ import annotations

from datetime import UTC, datetime

from allmende.policy.facts import policy_facts
from allmende.policy.model import Constraint, LogicalConstraint, Permission, Policy
from allmende.policy.templates import get_template

PROVIDER = "did:web:provider.example"
DATASET = "urn:uuid:6c0e6f6e-1d2b-4b5e-9a39-6f2f9e5d0a11"
START = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


def offer(*constraints: Constraint | LogicalConstraint, timestamp: datetime | None = None) -> Policy:
    return Policy(
        None, "Agreement", DATASET, PROVIDER, None, (Permission("use", constraints),), timestamp=timestamp
    )


def test_machine_data_for_maintenance_ends_after_twelve_months_and_must_be_deleted() -> None:
    facts = policy_facts(get_template("machine-data-maintenance").build(PROVIDER, DATASET), START)
    (use,) = facts.permissions
    assert use.action == "use" and use.purposes == ("maintenance",)
    assert use.until == datetime(2027, 1, 31, 12, 0, tzinfo=UTC)
    assert use.max_uses is None and not use.other_conditions
    assert [rule.action for rule in facts.prohibitions] == ["sell", "distribute"]
    (delete,) = facts.duties
    assert delete.action == "delete" and delete.not_before == datetime(2027, 1, 31, 12, 0, tzinfo=UTC)
    assert facts.until == use.until


def test_open_use_has_no_end_and_elapsed_time_needs_a_start() -> None:
    assert policy_facts(get_template("open-use").build(PROVIDER, DATASET)).until is None
    unanchored = policy_facts(get_template("time-limited").build(PROVIDER, DATASET))
    assert unanchored.until is None and unanchored.permissions[0].other_conditions
    anchored = policy_facts(offer(Constraint("elapsedTime", "lteq", "P1M"), timestamp=START))
    assert anchored.until == datetime(2026, 2, 28, 12, 0, tzinfo=UTC)  # a calendar month after 31 January


def test_the_earliest_end_and_the_smallest_count_win() -> None:
    facts = policy_facts(
        offer(
            Constraint("dateTime", "lteq", "2026-06-30T00:00:00Z"),
            LogicalConstraint("and", (Constraint("dateTime", "lt", "2026-05-01T00:00:00Z"),)),
            Constraint("count", "lteq", 10),
            Constraint("count", "lt", 5),
        )
    )
    (use,) = facts.permissions
    assert use.until == datetime(2026, 5, 1, tzinfo=UTC)
    assert use.max_uses == 4
    assert not use.other_conditions


def test_alternatives_and_unknown_conditions_are_flagged_not_summarised() -> None:
    either = offer(
        LogicalConstraint(
            "or", (Constraint("purpose", "eq", "research"), Constraint("purpose", "eq", "evaluation"))
        ),
        Constraint("spatial", "eq", "DE"),
    )
    (use,) = policy_facts(either).permissions
    assert use.purposes == () and use.other_conditions
    bad_date = offer(Constraint("dateTime", "lteq", "soon"))
    assert policy_facts(bad_date).permissions[0].other_conditions
    assert policy_facts(bad_date).until is None
