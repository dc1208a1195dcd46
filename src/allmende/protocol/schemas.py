"""Validation of DSP 2025-1 messages against the bundled JSON schemas.

The schemas reference each other by their ``https://w3id.org/dspace/2025/1/...`` ``$id``; they are all
loaded from the package into one :class:`referencing.Registry`, so validation never touches the network.
The upstream defect ``"$ref": "...#definitions/..."`` (missing ``/``) in three transfer schemas is repaired
at load time. Compiled validators are built once per message type and shared between threads.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft201909Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT201909

from allmende.protocol.bundled import list_standards_files, read_standards_json
from allmende.protocol.contexts import CONTEXT_URL, DSP_CONTEXT, load_context, offline_document_loader
from allmende.protocol.schema_errors import SchemaViolation, describe_errors
from allmende.protocol.schema_fastpath import InstanceCheck, SchemaCompiler

__all__ = [
    "CONTEXT_URL",
    "DSP_CONTEXT",
    "MESSAGE_SCHEMAS",
    "UNTYPED_DOCUMENTS",
    "SchemaViolation",
    "UnknownMessageType",
    "fast_check_for",
    "load_context",
    "offline_document_loader",
    "validate_message",
    "validator_for",
]

_SCHEMA_DIRS = ("dsp-2025-1/catalog", "dsp-2025-1/common", "dsp-2025-1/negotiation", "dsp-2025-1/transfer")

MESSAGE_SCHEMAS: Mapping[str, str] = {
    "CatalogRequestMessage": "catalog/catalog-request-message-schema.json",
    "DatasetRequestMessage": "catalog/dataset-request-message-schema.json",
    "Catalog": "catalog/catalog-schema.json",
    "Dataset": "catalog/dataset-schema.json",
    "CatalogError": "catalog/catalog-error-schema.json",
    "ContractRequestMessage": "negotiation/contract-request-message-schema.json",
    "ContractOfferMessage": "negotiation/contract-offer-message-schema.json",
    "ContractAgreementMessage": "negotiation/contract-agreement-message-schema.json",
    "ContractAgreementVerificationMessage": "negotiation/contract-agreement-verification-message-schema.json",
    "ContractNegotiationEventMessage": "negotiation/contract-negotiation-event-message-schema.json",
    "ContractNegotiationTerminationMessage": (
        "negotiation/contract-negotiation-termination-message-schema.json"
    ),
    "ContractNegotiation": "negotiation/contract-negotiation-schema.json",
    "ContractNegotiationError": "negotiation/contract-negotiation-error-schema.json",
    "TransferRequestMessage": "transfer/transfer-request-message-schema.json",
    "TransferStartMessage": "transfer/transfer-start-message-schema.json",
    "TransferCompletionMessage": "transfer/transfer-completion-message-schema.json",
    "TransferSuspensionMessage": "transfer/transfer-suspension-message-schema.json",
    "TransferTerminationMessage": "transfer/transfer-termination-message-schema.json",
    "TransferProcess": "transfer/transfer-process-schema.json",
    "TransferError": "transfer/transfer-error-schema.json",
    "VersionResponse": "common/protocol-version-schema.json",
    "DidService": "common/did-service-schema.json",
}
"""Message type (the ``@type`` value, or a document name) → schema file under ``standards/dsp-2025-1/``."""

UNTYPED_DOCUMENTS: frozenset[str] = frozenset({"VersionResponse", "DidService"})
"""Documents without ``@type`` (protocol-version response, DID service entry): name them explicitly."""

_SCHEMA_ID_PREFIX = "https://w3id.org/dspace/2025/1/"
_log = logging.getLogger(__name__)


class UnknownMessageType(LookupError):
    """``expected_type`` names no DSP 2025-1 message type (a programming error, not bad input)."""


def _unknown_type(name: str) -> UnknownMessageType:
    return UnknownMessageType(f"unknown DSP message type {name!r}; known: {', '.join(MESSAGE_SCHEMAS)}")


def _repair_refs(node: Any) -> Any:
    """Rewrite the upstream ``#definitions/`` anchors to the JSON pointer ``#/definitions/``."""
    if isinstance(node, dict):
        return {
            key: (
                value.replace("#definitions/", "#/definitions/")
                if key == "$ref" and isinstance(value, str)
                else _repair_refs(value)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_repair_refs(item) for item in node]
    return node


def _build_registry() -> Registry[Any]:
    resources: list[tuple[str, Resource[Any]]] = []
    for directory in _SCHEMA_DIRS:
        for path in list_standards_files(directory, "-schema.json"):
            contents = _repair_refs(read_standards_json(path))
            resources.append((contents["$id"], DRAFT201909.create_resource(contents)))
    registry: Registry[Any] = Registry().with_resources(resources)
    return registry.crawl()


_lock = threading.Lock()
_registry: Registry[Any] | None = None
_compiler: SchemaCompiler | None = None
_validators: dict[str, tuple[InstanceCheck, Draft201909Validator]] = {}


def _compiled(message_type: str) -> tuple[InstanceCheck, Draft201909Validator]:
    """The fast yes/no check and the error-reporting jsonschema validator of a message type (built once)."""
    pair = _validators.get(message_type)
    if pair is not None:
        return pair
    schema_path = MESSAGE_SCHEMAS.get(message_type)
    if schema_path is None:
        raise _unknown_type(message_type)
    global _registry, _compiler
    with _lock:
        if _registry is None or _compiler is None:
            _registry = _build_registry()
            _compiler = SchemaCompiler(_registry)
        pair = _validators.get(message_type)
        if pair is None:
            schema_uri = _SCHEMA_ID_PREFIX + schema_path
            validator = Draft201909Validator(_registry.contents(schema_uri), registry=_registry)
            pair = (_compiler.compile_uri(schema_uri), validator)
            _validators[message_type] = pair
    return pair


def validator_for(message_type: str) -> Draft201909Validator:
    """Return the (cached, thread-safe) jsonschema validator for a message type of :data:`MESSAGE_SCHEMAS`."""
    return _compiled(message_type)[1]


def fast_check_for(message_type: str) -> InstanceCheck:
    """Return the compiled yes/no check for a message type (what :func:`validate_message` runs first)."""
    return _compiled(message_type)[0]


def validate_message(message: Any, expected_type: str | None = None) -> None:
    """Validate a DSP 2025-1 message (parsed JSON) against the schema of its ``@type``.

    ``expected_type`` is the type the caller accepts at this endpoint: a message of another ``@type`` is an
    error. Documents without ``@type`` (:data:`UNTYPED_DOCUMENTS`) must be named by ``expected_type``.
    Raises SchemaViolation listing every problem, UnknownMessageType if ``expected_type`` is not a DSP type.
    """
    if expected_type is not None and expected_type not in MESSAGE_SCHEMAS:
        raise _unknown_type(expected_type)
    label = expected_type or "DSP message"
    if not isinstance(message, Mapping):
        raise SchemaViolation(label, [f"$: expected a JSON object, got {type(message).__name__}"])
    if expected_type in UNTYPED_DOCUMENTS:
        message_type = expected_type
    else:
        message_type = _typed_message_type(message, expected_type, label)
    fast_check, validator = _compiled(message_type)
    if fast_check(message):
        return
    errors = describe_errors(validator.iter_errors(message))
    if not errors:  # jsonschema is the reference; a disagreement is a bug in the compiled check
        _log.error("compiled schema check rejected a %s that jsonschema accepts", message_type)
        return
    raise SchemaViolation(message_type, errors)


def _typed_message_type(message: Mapping[str, Any], expected_type: str | None, label: str) -> str:
    """The schema name for a message that must carry ``@type``; raises SchemaViolation if it cannot."""
    declared = message.get("@type")
    if declared is None:
        raise SchemaViolation(label, ["$: missing required property '@type'"])
    if not isinstance(declared, str):
        raise SchemaViolation(label, [f"$['@type']: expected a string, got {type(declared).__name__}"])
    if expected_type is not None and declared != expected_type:
        raise SchemaViolation(label, [f"$['@type']: expected {expected_type!r}, got {declared!r}"])
    if declared not in MESSAGE_SCHEMAS or declared in UNTYPED_DOCUMENTS:
        typed = ", ".join(name for name in MESSAGE_SCHEMAS if name not in UNTYPED_DOCUMENTS)
        raise SchemaViolation(label, [f"$['@type']: unknown DSP message type {declared!r} (known: {typed})"])
    return declared
