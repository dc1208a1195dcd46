"""DSP 2025-1 message validation against the bundled schemas."""

from __future__ import annotations

import copy
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from allmende.protocol import schemas
from allmende.protocol.schemas import (
    MESSAGE_SCHEMAS,
    SchemaViolation,
    UnknownMessageType,
    fast_check_for,
    validate_message,
    validator_for,
)

EXAMPLES_ROOT = Path(schemas.__file__).parent.parent / "standards" / "dsp-2025-1"
EXAMPLE_FILES = sorted(EXAMPLES_ROOT.glob("*/example/*.json"))
KNOWN_BAD_EXAMPLE = "dataservice-did-service.json"


def load_example(name: str) -> dict[str, Any]:
    [path] = [path for path in EXAMPLE_FILES if path.name == name]
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def document_name(document: dict[str, Any]) -> str:
    """The schema name of an example: its @type, or the name of an untyped document."""
    if "@type" in document:
        return str(document["@type"])
    return "VersionResponse" if "protocolVersions" in document else "DidService"


def test_all_example_files_are_found() -> None:
    assert len(EXAMPLE_FILES) == 27
    assert {document_name(json.loads(p.read_text())) for p in EXAMPLE_FILES} == set(MESSAGE_SCHEMAS)


@pytest.mark.parametrize(
    "path", [p for p in EXAMPLE_FILES if p.name != KNOWN_BAD_EXAMPLE], ids=lambda p: p.name
)
def test_bundled_example_validates(path: Path) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    name = document_name(document)
    validate_message(document, name)
    if "@type" in document:
        validate_message(document)  # chosen by @type alone


def test_known_bad_upstream_example_fails_on_its_service_endpoint() -> None:
    with pytest.raises(SchemaViolation) as caught:
        validate_message(load_example(KNOWN_BAD_EXAMPLE), "DidService")
    assert caught.value.errors == [
        "$.serviceEndpoint: 'https://bar.example.com/some/path/.well-known/dspace-version' "
        "does not match 'https?://.*?/catalog$'"
    ]


NEGOTIATION_EXAMPLES = {
    "ContractRequestMessage": ("contract-request-message.json", "consumerPid"),
    "ContractOfferMessage": ("contract-offer-message.json", "providerPid"),
    "ContractAgreementMessage": ("contract-agreement-message.json", "agreement"),
    "ContractAgreementVerificationMessage": ("contract-agreement-verification-message.json", "consumerPid"),
    "ContractNegotiationEventMessage": ("contract-negotiation-event-message.json", "eventType"),
    "ContractNegotiationTerminationMessage": ("contract-negotiation-termination-message.json", "providerPid"),
    "ContractNegotiation": ("contract-negotiation.json", "state"),
    "ContractNegotiationError": ("contract-negotiation-error.json", "consumerPid"),
}


@pytest.mark.parametrize("message_type", sorted(NEGOTIATION_EXAMPLES))
def test_negotiation_message_missing_required_field(message_type: str) -> None:
    file_name, field = NEGOTIATION_EXAMPLES[message_type]
    message = load_example(file_name)
    del message[field]
    with pytest.raises(SchemaViolation) as caught:
        validate_message(message, message_type)
    assert caught.value.errors == [f"$: missing required property {field!r}"]
    assert caught.value.message_type == message_type


@pytest.mark.parametrize("message_type", sorted(NEGOTIATION_EXAMPLES))
def test_negotiation_message_wrong_type(message_type: str) -> None:
    message = load_example(NEGOTIATION_EXAMPLES[message_type][0])
    message["consumerPid"] = 42
    with pytest.raises(SchemaViolation) as caught:
        validate_message(message)
    assert caught.value.errors == ["$.consumerPid: expected string, got number 42"]


def test_nested_error_has_json_path_and_allowed_values() -> None:
    message = load_example("contract-request-message.json")
    message["offer"]["permission"][0]["constraint"][0]["operator"] = "foo"
    with pytest.raises(SchemaViolation) as caught:
        validate_message(message)
    [error] = caught.value.errors
    assert error.startswith('$.offer.permission[0].constraint[0].operator: "foo" is not one of ["eq", "gt"')


def test_either_or_requirement_names_both_alternatives() -> None:
    message = load_example("contract-request-message.json")
    del message["providerPid"]
    with pytest.raises(SchemaViolation) as caught:
        validate_message(message)
    assert caught.value.errors == ["$: missing required property, one of 'callbackAddress', 'providerPid'"]


def test_offer_in_catalog_dataset_must_not_have_target() -> None:
    dataset = load_example("dataset.json")
    dataset["hasPolicy"][0]["target"] = dataset["@id"]
    with pytest.raises(SchemaViolation) as caught:
        validate_message(dataset, "Dataset")
    assert "$.hasPolicy[0]: property 'target' is not allowed here" in caught.value.errors


@pytest.mark.parametrize("value", [[], "text", 3, None, [{"@type": "ContractRequestMessage"}]])
def test_non_object_json_is_rejected(value: Any) -> None:
    with pytest.raises(SchemaViolation) as caught:
        validate_message(value, "ContractRequestMessage")
    assert caught.value.errors[0].startswith("$: expected a JSON object, got ")


def test_missing_context_is_rejected() -> None:
    message = load_example("transfer-start-message.json")
    del message["@context"]
    with pytest.raises(SchemaViolation) as caught:
        validate_message(message)
    assert caught.value.errors == ["$: missing required property '@context'"]


def test_context_without_dsp_context_is_rejected() -> None:
    message = load_example("transfer-start-message.json")
    message["@context"] = ["https://example.org/other.jsonld"]
    with pytest.raises(SchemaViolation) as caught:
        validate_message(message)
    assert caught.value.errors == [
        '$[\'@context\']: must contain an item matching {"const": "https://w3id.org/dspace/2025/1/context.jsonld"}'
    ]


def test_wrong_missing_and_unknown_type_are_rejected() -> None:
    message = load_example("contract-request-message.json")
    with pytest.raises(
        SchemaViolation, match="expected 'ContractOfferMessage', got 'ContractRequestMessage'"
    ):
        validate_message(message, "ContractOfferMessage")
    with pytest.raises(SchemaViolation, match="unknown DSP message type 'ContractWish'"):
        validate_message({**message, "@type": "ContractWish"})
    without_type = {key: value for key, value in message.items() if key != "@type"}
    with pytest.raises(SchemaViolation, match=r"missing required property '@type'"):
        validate_message(without_type)
    with pytest.raises(UnknownMessageType):
        validate_message(message, "ContractWish")


def _mutations(document: dict[str, Any]) -> list[Any]:
    """Variants of a document: each top-level key dropped, set to a number, to an empty list, to an object."""
    variants: list[Any] = []
    for key in document:
        replacements: tuple[Any, ...] = (None, 42, [], {}, "x")
        for replacement in replacements:
            variant = copy.deepcopy(document)
            if replacement is None:
                del variant[key]
            else:
                variant[key] = replacement
            variants.append(variant)
    return variants


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_compiled_check_agrees_with_jsonschema(path: Path) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    name = document_name(document)
    fast, reference = fast_check_for(name), validator_for(name)
    variants = [document, *_mutations(document)]
    for nested_key in ("offer", "agreement", "dataAddress"):
        if isinstance(document.get(nested_key), dict):
            for nested in _mutations(document[nested_key]):
                variants.append({**document, nested_key: nested})
    verdicts = [(fast(variant), reference.is_valid(variant)) for variant in variants]
    assert [f for f, _ in verdicts] == [r for _, r in verdicts]
    assert any(not r for _, r in verdicts)  # the mutations do exercise rejections


def test_validation_of_a_contract_request_is_well_under_a_millisecond() -> None:
    message = load_example("contract-request-message.json")
    validate_message(message)  # build the cached validator first
    rounds = 300
    started = time.perf_counter()
    for _ in range(rounds):
        validate_message(message)
    per_message = (time.perf_counter() - started) / rounds
    assert per_message < 0.001, f"{per_message * 1e6:.0f} µs per message"


def test_validators_are_built_once_and_shared_between_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schemas, "_validators", {})
    monkeypatch.setattr(schemas, "_registry", None)
    barrier = threading.Barrier(4)
    seen: list[object] = []

    def worker() -> None:
        barrier.wait()
        seen.append(validator_for("TransferRequestMessage"))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 4 and all(item is seen[0] for item in seen)
