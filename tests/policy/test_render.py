"""Plain-language rendering in English and German."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from policy_strategies import POLICIES

from allmende.policy import (
    Constraint,
    Duty,
    LogicalConstraint,
    Permission,
    Policy,
    PolicyError,
    Prohibition,
    get_template,
    render_policy,
)


def policy_with(
    *constraints: Constraint | LogicalConstraint, prohibitions: tuple[Prohibition, ...] = ()
) -> Policy:
    return Policy(None, "Agreement", "urn:asset", "did:web:p", "did:web:c", (Permission("use", constraints),),
                  prohibitions)  # fmt: skip


def test_machine_data_template_in_both_languages() -> None:
    policy = get_template("machine-data-maintenance").build("did:web:operator.example", "urn:machine-data")
    assert render_policy(policy, "en").splitlines() == [
        "Offer from did:web:operator.example for urn:machine-data:",
        "Permitted: use the data — only for the purpose 'maintenance'; for 12 months after the agreement.",
        "  Duty: delete the data — once 12 months have passed since the agreement.",
        "Not allowed: sell the data.",
        "Not allowed: pass the data on to others.",
    ]
    assert render_policy(policy, "de").splitlines() == [
        "Angebot von did:web:operator.example für urn:machine-data:",
        "Erlaubt: die Daten nutzen — nur zum Zweck „Wartung“ (maintenance); "
        "für 12 Monate ab Vertragsschluss.",
        "  Pflicht: die Daten löschen — sobald 12 Monate seit Vertragsschluss vergangen sind.",
        "Nicht erlaubt: die Daten verkaufen.",
        "Nicht erlaubt: die Daten an Dritte weitergeben.",
    ]
    without = render_policy(policy, "de", heading=False).splitlines()
    assert without == render_policy(policy, "de").splitlines()[1:]
    assert "did:web" not in "\n".join(without)


@pytest.mark.parametrize(
    ("constraint", "english", "german"),
    [
        (Constraint("dateTime", "lteq", "2027-12-31"), "until 31 December 2027", "bis 31. Dezember 2027"),
        (
            Constraint("dateTime", "gteq", "2026-03-01T08:30:00Z"),
            "from 1 March 2026, 08:30 UTC",
            "ab 1. März 2026, 08:30 Uhr (UTC)",
        ),
        (
            Constraint("elapsedTime", "lteq", "P1Y"),
            "for 1 year after the agreement",
            "für 1 Jahr ab Vertragsschluss",
        ),
        (
            Constraint("elapsedTime", "gt", "P1D"),
            "once 1 day has passed since the agreement",
            "sobald 1 Tag seit Vertragsschluss vergangen ist",
        ),
        (Constraint("count", "lteq", 10), "at most 10 times", "höchstens 10-mal"),
        (
            Constraint("spatial", "isAnyOf", ["DE", "AT"]),
            "only in Germany or Austria",
            "nur in Deutschland oder Österreich",
        ),
        (Constraint("spatial", "isNoneOf", ["http://example.org/US"]), "not in US", "nicht in US"),
        (
            Constraint("purpose", "isAnyOf", ["research", "evaluation"]),
            "only for the purpose 'research' or 'evaluation'",
            "nur zum Zweck „Forschung“ (research) oder „Evaluierung“ (evaluation)",
        ),
        (Constraint("assignee", "eq", "did:web:c"), "only for 'did:web:c'", "nur für „did:web:c“"),
        (
            Constraint("membership", "hasPart", "did:web:verband"),
            "only if 'membership' includes 'did:web:verband'",
            "nur wenn „membership“ „did:web:verband“ enthält",
        ),
    ],
)
def test_constraints_in_words(constraint: Constraint, english: str, german: str) -> None:
    assert f"— {english}" in render_policy(policy_with(constraint), "en")
    assert f"— {german}" in render_policy(policy_with(constraint), "de")


def test_unknown_operand_is_rendered_honestly() -> None:
    policy = policy_with(Constraint("partner", "eq", "gold"))
    assert "only if 'partner' is 'gold' (a condition this node cannot check; in doubt, access is denied)" in (
        render_policy(policy, "en")
    )
    assert "nur wenn „partner“ gleich „gold“ ist (eine Bedingung, die dieser Knoten nicht prüfen kann" in (
        render_policy(policy, "de")
    )


def test_logical_constraints_are_numbered() -> None:
    choice = LogicalConstraint(
        "xone", (Constraint("purpose", "eq", "research"), Constraint("spatial", "eq", "DE"))
    )
    assert "exactly one of the following: (1) only for the purpose 'research'; (2) only in Germany" in (
        render_policy(policy_with(choice), "en")
    )
    assert (
        "genau eine der folgenden Bedingungen: (1) nur zum Zweck „Forschung“ (research); "
        "(2) nur in Deutschland" in (render_policy(policy_with(choice), "de"))
    )


def test_prohibition_conditions_are_not_phrased_as_restrictions() -> None:
    policy = policy_with(prohibitions=(Prohibition("use", (Constraint("purpose", "eq", "commercial"),)),))
    assert "Not allowed: use the data — for the purpose 'commercial'." in render_policy(policy, "en")
    assert (
        "Nicht erlaubt: die Daten nutzen — zum Zweck „kommerzielle Nutzung“ (commercial)."
        in render_policy(policy, "de")
    )


def test_parties_unknown_actions_obligations_and_remedies() -> None:
    policy = Policy(
        None, "Set", None, None, None,
        (Permission("ex:train", assignee="did:web:lab"),),
        (Prohibition("sell", remedies=(Duty("compensate"),)),),
        (Duty("inform"),),
    )  # fmt: skip
    assert render_policy(policy, "en").splitlines() == [
        "Policy:",
        "Permitted: perform the action 'ex:train' (only for did:web:lab).",
        "Not allowed: sell the data.",
        "  If violated: pay the agreed compensation.",
        "Duty: inform the provider.",
    ]
    assert "Pflicht: den Anbieter informieren." in render_policy(policy, "de")
    assert "  Bei Verstoß: die vereinbarte Vergütung zahlen." in render_policy(policy, "de")


def test_policy_without_permissions_says_so() -> None:
    policy = Policy(None, "Offer", None, None, None, (), (Prohibition("use"),))
    assert render_policy(policy, "de").endswith("Diese Richtlinie erlaubt nichts.")


def test_malformed_values_are_shown_verbatim() -> None:
    text = render_policy(policy_with(Constraint("dateTime", "lt", "someday")), "en")
    assert "only if 'dateTime' is less than 'someday'" in text


def test_unsupported_language_is_rejected() -> None:
    with pytest.raises(PolicyError, match="unsupported language 'fr'"):
        render_policy(policy_with(), "fr")  # type: ignore[arg-type]


@settings(max_examples=50, deadline=None)
@given(policy=POLICIES)
def test_any_policy_renders_one_line_per_rule(policy: Policy) -> None:
    for lang in ("en", "de"):
        lines = render_policy(policy, lang).splitlines()  # type: ignore[arg-type]
        top_level = [line for line in lines[1:] if not line.startswith(" ")]
        assert len(top_level) == len(policy.permissions) + len(policy.prohibitions) + len(policy.obligations)
        duties = sum(len(rule.duties) for rule in policy.permissions)
        assert len(lines) - 1 - len(top_level) == duties
