"""The DSP compact JSON-LD form: reading, writing, schema validity and same_terms."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any

import pytest
from dsp_policy_schemas import message_errors, schema_errors
from hypothesis import given, settings
from hypothesis import strategies as st
from policy_strategies import POLICIES

from allmende.policy import (
    Constraint,
    ConstraintNode,
    Duty,
    LogicalConstraint,
    Permission,
    Policy,
    PolicyError,
    Prohibition,
    policy_from_json,
    policy_to_json,
    same_terms,
)

EXAMPLES = files("allmende").joinpath("standards", "dsp-2025-1")


def example(path: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(EXAMPLES.joinpath(path).read_text(encoding="utf-8"))
    return document


# (example file, key of the policy in the message, schema definition the policy must satisfy)
POLICY_EXAMPLES = [
    ("negotiation/example/contract-agreement-message-full.json", "agreement", "Agreement"),
    ("negotiation/example/contract-agreement-message.json", "agreement", "Agreement"),
    ("negotiation/example/contract-request-message.json", "offer", "MessageOffer"),
    ("negotiation/example/contract-request-message_initial.json", "offer", "MessageOffer"),
    ("negotiation/example/contract-offer-message.json", "offer", "MessageOffer"),
    ("negotiation/example/contract-offer-message_initial.json", "offer", "MessageOffer"),
]


@pytest.mark.parametrize(
    ("path", "key", "definition"), POLICY_EXAMPLES, ids=[p[0].rsplit("/")[-1] for p in POLICY_EXAMPLES]
)
def test_dsp_examples_round_trip_and_stay_valid(path: str, key: str, definition: str) -> None:
    original = example(path)[key]
    assert schema_errors(original, definition) == []
    policy = policy_from_json(original)
    written = policy_to_json(policy)
    assert schema_errors(written, definition) == []
    assert policy_from_json(written) == policy
    assert written == {k: v for k, v in original.items() if k != "@context"}


def test_whole_messages_with_written_policies_validate() -> None:
    for path, key, _ in POLICY_EXAMPLES:
        message = example(path)
        schema = (
            path.replace("example/", "").replace("_initial", "").replace("-full", "").replace(".json", "")
        )
        message[key] = policy_to_json(policy_from_json(message[key]))
        assert message_errors(message, f"{schema}-schema.json") == [], path


def test_catalog_offer_round_trips_without_target() -> None:
    offer = example("catalog/example/catalog.json")["dataset"][0]["hasPolicy"][0]
    policy = policy_from_json(offer)
    assert policy.target is None and policy.policy_type == "Offer"
    assert schema_errors(policy_to_json(policy, for_catalog=True), "Offer") == []


def test_for_catalog_drops_the_target_the_offer_schema_forbids() -> None:
    policy = Policy("urn:o", "Offer", "urn:asset", "did:web:p", None, (Permission("use"),))
    assert schema_errors(policy_to_json(policy), "Offer") != []
    assert schema_errors(policy_to_json(policy, for_catalog=True), "Offer") == []
    assert schema_errors(policy_to_json(policy), "MessageOffer") == []


def test_reader_accepts_prefixed_iri_and_node_forms() -> None:
    document = {
        "uid": "urn:p",
        "@type": "odrl:Agreement",
        "odrl:target": {"@id": "urn:asset"},
        "assigner": [{"@id": "did:web:p"}],
        "assignee": "did:web:c",
        "timestamp": {"@value": "2025-01-01T00:00:00Z", "@type": "xsd:dateTime"},
        "http://www.w3.org/ns/odrl/2/permission": {
            "action": {"@id": "http://www.w3.org/ns/odrl/2/read"},
            "constraint": {
                "leftOperand": {"@id": "odrl:count"},
                "operator": {"@id": "odrl:lteq"},
                "rightOperand": {"@value": "10", "@type": "xsd:integer"},
            },
            "duty": {"action": "odrl:delete", "@id": "urn:duty"},
        },
        "prohibition": [{"action": [{"rdf:value": {"@id": "odrl:sell"}}]}],
    }
    policy = policy_from_json(document)
    assert policy == Policy(
        "urn:p", "Agreement", "urn:asset", "did:web:p", "did:web:c",
        (Permission("read", (Constraint("count", "lteq", "10", data_type="xsd:integer"),),
                    (Duty("delete", uid="urn:duty"),)),),
        (Prohibition("sell"),),
        timestamp=datetime(2025, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    assert schema_errors(policy_to_json(policy), "Agreement") == []


def test_numbers_are_written_as_typed_values_the_schema_accepts() -> None:
    policy = Policy("urn:p", "Offer", None, None, None, (Permission("use", (Constraint("count", "lt", 5),)),))
    written = policy_to_json(policy)
    assert written["permission"][0]["constraint"][0]["rightOperand"] == {"@value": 5, "@type": "xsd:integer"}
    assert schema_errors(written, "Offer") == []
    assert policy_from_json(written).permissions[0].constraints[0].right_operand == 5


def test_policy_without_uid_gets_a_stable_uuid_from_its_terms() -> None:
    policy = Policy(None, "Offer", None, None, None, (Permission("use"),))
    first, again = policy_to_json(policy)["@id"], policy_to_json(policy)["@id"]
    other = policy_to_json(Policy(None, "Offer", None, None, None, (Permission("read"),)))["@id"]
    assert first == again != other and first.startswith("urn:uuid:")


@pytest.mark.parametrize(
    ("document", "path", "problem"),
    [
        ([], "policy", "must be a JSON object"),
        ({"@type": "Contract"}, "@type", "expected one of Offer, Agreement, Set, Policy"),
        ({"permission": [{}]}, "permission[0].action", "is required"),
        (
            {"permission": [{"action": "use", "constraint": [{"leftOperand": "purpose", "operator": "eq"}]}]},
            "permission[0].constraint[0].rightOperand",
            "is required",
        ),
        (
            {
                "permission": [
                    {
                        "action": "use",
                        "constraint": [{"leftOperand": "purpose", "operator": "like", "rightOperand": "x"}],
                    }
                ]
            },
            "permission[0].constraint[0].operator",
            "unknown operator 'like'",
        ),
        (
            {"prohibition": [{"action": "use", "constraint": [{"or": []}]}]},
            "prohibition[0].constraint[0].or",
            "at least one constraint",
        ),
        (
            {"permission": [{"action": "use", "constraint": [{"and": [], "or": []}]}]},
            "permission[0].constraint[0]",
            "exactly one operator",
        ),
        ({"permission": [{"action": ["use", "read"]}]}, "permission[0].action", "exactly one action"),
        (
            {"permission": [{"action": [{"rdf:value": {"@id": "odrl:print"}, "refinement": []}]}]},
            "permission[0].action[0].refinement",
            "not supported",
        ),
        (
            {
                "permission": [
                    {
                        "action": "use",
                        "constraint": [
                            {"leftOperand": "x", "operator": "eq", "rightOperandReference": "urn:r"}
                        ],
                    }
                ]
            },
            "permission[0].constraint[0].rightOperandReference",
            "not supported",
        ),
        (
            {
                "permission": [
                    {
                        "action": "use",
                        "constraint": [{"leftOperand": "x", "operator": "eq", "rightOperand": {"foo": 1}}],
                    }
                ]
            },
            "permission[0].constraint[0].rightOperand",
            "needs @value or @id",
        ),
        ({"obligation": [{"action": 5}]}, "obligation[0].action", "identifier string"),
        ({"timestamp": "yesterday"}, "timestamp", "not an RFC 3339 timestamp"),
        (
            {"permission": [{"action": "use", "duty": [{"action": "delete", "consequence": ["x"]}]}]},
            "permission[0].duty[0].consequence[0]",
            "must be a JSON object",
        ),
    ],
)
def test_malformed_input_names_the_field(document: Any, path: str, problem: str) -> None:
    with pytest.raises(PolicyError) as caught:
        policy_from_json(document)
    assert caught.value.path == path
    assert problem in caught.value.problem


@settings(max_examples=60, deadline=None)
@given(policy=POLICIES)
def test_generated_policies_round_trip_and_validate(policy: Policy) -> None:
    written = policy_to_json(policy)
    assert policy_from_json(json.loads(json.dumps(written))) == policy
    assert schema_errors(written, "MessageOffer") == []


@settings(max_examples=60, deadline=None)
@given(policy=POLICIES, data=st.data())
def test_same_terms_ignores_ids_parties_and_order(policy: Policy, data: st.DataObject) -> None:
    shuffled = Policy(
        uid="urn:other",
        policy_type="Agreement",
        target=policy.target,
        assigner="did:web:someone-else",
        assignee="did:web:consumer",
        permissions=tuple(data.draw(st.permutations(policy.permissions))),
        prohibitions=tuple(data.draw(st.permutations(policy.prohibitions))),
    )
    assert same_terms(policy, shuffled)
    assert same_terms(policy, policy_from_json(policy_to_json(policy)))


def test_same_terms_sees_changed_rules() -> None:
    base = Policy(
        "urn:a",
        "Offer",
        "urn:x",
        None,
        None,
        (Permission("use", (Constraint("purpose", "eq", "research"),)),),
    )
    assert not same_terms(base, Policy("urn:b", "Offer", "urn:x", None, None, (Permission("use"),)))
    loosened = (Permission("use", (Constraint("purpose", "isAnyOf", ["research", "commercial"]),)),)
    assert not same_terms(base, Policy("urn:b", "Offer", "urn:x", None, None, loosened))
    assert not same_terms(base, Policy("urn:b", "Offer", "urn:y", None, None, base.permissions))
    assert same_terms(base, Policy("urn:b", "Offer", None, None, None, base.permissions))  # catalog offer
    assert not same_terms(
        base, Policy("urn:b", "Offer", "urn:x", None, None, base.permissions, (Prohibition("sell"),))
    )


def test_same_terms_keeps_the_order_of_an_and_sequence() -> None:
    first, second = Constraint("purpose", "eq", "a"), Constraint("spatial", "eq", "DE")

    def policy(*nodes: ConstraintNode) -> Policy:
        return Policy(
            None, "Offer", None, None, None, (Permission("use", (LogicalConstraint("andSequence", nodes),)),)
        )

    assert same_terms(policy(first, second), policy(first, second))
    assert not same_terms(policy(first, second), policy(second, first))
    unordered = LogicalConstraint("or", (first, second)), LogicalConstraint("or", (second, first))
    assert same_terms(
        *(Policy(None, "Set", None, None, None, (Permission("use", (node,)),)) for node in unordered)
    )
