"""Building the node's DID document and reading keys from DID documents."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jsonschema
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from referencing import Registry, Resource

from allmende.identity import (
    DidDocument,
    DidError,
    NodeKey,
    UnknownVerificationMethodError,
    build_did_document,
    split_did_url,
)
from allmende.identity.key_encoding import raw_public_bytes

DID = "did:web:node.example:nodes:a"


def _schema(name: str) -> dict[str, Any]:
    common = resources.files("allmende") / "standards" / "dsp-2025-1" / "common"
    loaded: dict[str, Any] = json.loads((common / name).read_text(encoding="utf-8"))
    return loaded


def _did_service_validator() -> jsonschema.Draft201909Validator:
    context = _schema("context-schema.json")
    registry: Registry[Any] = Registry().with_resource(context["$id"], Resource.from_contents(context))
    return jsonschema.Draft201909Validator(_schema("did-service-schema.json"), registry=registry)


def _keys(count: int) -> list[NodeKey]:
    return [NodeKey(f"key-{n}", Ed25519PrivateKey.generate()) for n in range(1, count + 1)]


def test_document_lists_every_key_for_authentication_and_assertion() -> None:
    keys = _keys(2)
    document = build_did_document(DID, keys, "https://node.example/nodes/a/dsp/")
    ids = [f"{DID}#key-1", f"{DID}#key-2"]
    assert document["id"] == DID
    assert [method["id"] for method in document["verificationMethod"]] == ids
    assert {method["type"] for method in document["verificationMethod"]} == {"JsonWebKey2020"}
    assert document["authentication"] == ids and document["assertionMethod"] == ids
    parsed = DidDocument.parse(json.loads(json.dumps(document)))
    for key in keys:
        found = parsed.verification_key(f"{DID}#{key.key_id}")
        assert raw_public_bytes(found) == raw_public_bytes(key.public_key)


def test_catalog_service_validates_against_dsp_schema() -> None:
    document = build_did_document(DID, _keys(1), "https://node.example/nodes/a/dsp")
    parsed = DidDocument.parse(document)
    (catalog,) = parsed.services("CatalogService")
    (data_service,) = parsed.services("DataService")
    assert catalog["serviceEndpoint"] == "https://node.example/nodes/a/dsp/catalog"
    assert data_service["serviceEndpoint"] == "https://node.example/nodes/a/dsp"
    _did_service_validator().validate(catalog)


def test_schema_validator_is_strict_enough_to_catch_a_wrong_endpoint() -> None:
    document = build_did_document(DID, _keys(1), "https://node.example/dsp")
    (catalog,) = DidDocument.parse(document).services("CatalogService")
    broken = {**catalog, "serviceEndpoint": "https://node.example/dsp"}
    with pytest.raises(jsonschema.ValidationError, match="does not match"):
        _did_service_validator().validate(broken)


@pytest.mark.parametrize(
    ("did", "keys", "endpoint", "message"),
    [
        (DID, [], "https://n.example/dsp", "at least one key"),
        ("did:web:", None, "https://n.example/dsp", "not a did:web"),
        (DID, None, "ftp://n.example/dsp", "absolute http"),
    ],
)
def test_build_rejects_bad_input(did: str, keys: list[NodeKey] | None, endpoint: str, message: str) -> None:
    with pytest.raises(DidError, match=message):
        build_did_document(did, _keys(1) if keys is None else keys, endpoint)


def test_multikey_and_jsonwebkey_methods_are_accepted_with_relative_ids() -> None:
    multikey_key, jwk_key = _keys(2)
    document = DidDocument.parse(
        {
            "id": DID,
            "verificationMethod": [
                {
                    "id": "#mk",
                    "type": "Multikey",
                    "controller": DID,
                    "publicKeyMultibase": multikey_key.public_multibase(),
                },
                {
                    "id": f"{DID}#jwk",
                    "type": "JsonWebKey",
                    "controller": DID,
                    "publicKeyJwk": jwk_key.public_jwk(),
                },
            ],
        }
    )
    assert document.method_ids() == [f"{DID}#mk", f"{DID}#jwk"]
    assert raw_public_bytes(document.verification_key(f"{DID}#mk")) == raw_public_bytes(
        multikey_key.public_key
    )
    assert raw_public_bytes(document.verification_key("#jwk")) == raw_public_bytes(jwk_key.public_key)


def test_unsupported_and_unknown_methods_are_rejected() -> None:
    document = DidDocument.parse(
        {
            "id": DID,
            "verificationMethod": [
                {"id": "#ec", "type": "EcdsaSecp256k1VerificationKey2019", "publicKeyHex": "02ab"},
                {"id": "#bare", "type": "JsonWebKey2020"},
                {"id": "#mb", "type": "Multikey"},
            ],
        }
    )
    with pytest.raises(DidError, match="unsupported type 'EcdsaSecp256k1VerificationKey2019'"):
        document.verification_key("#ec")
    with pytest.raises(DidError, match="lacks a publicKeyJwk"):
        document.verification_key("#bare")
    with pytest.raises(DidError, match="lacks publicKeyMultibase"):
        document.verification_key("#mb")
    with pytest.raises(UnknownVerificationMethodError, match="no verification method"):
        document.verification_key("#missing")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "JSON object"),
        ({"id": "https://x.example"}, "not a DID"),
        ({"id": DID, "verificationMethod": {}}, "must be a list"),
        ({"id": DID, "verificationMethod": [{"type": "Multikey"}]}, "without a string 'id'"),
        ({"id": DID, "verificationMethod": [{"id": "#a"}]}, "no string 'type'"),
        (
            {"id": DID, "verificationMethod": [{"id": "#a", "type": "X"}, {"id": f"{DID}#a", "type": "X"}]},
            "twice",
        ),
    ],
)
def test_parse_rejects_malformed_documents(data: object, message: str) -> None:
    with pytest.raises(DidError, match=message):
        DidDocument.parse(data)


def test_split_did_url() -> None:
    assert split_did_url("did:web:a.example%3A8443#key-2") == ("did:web:a.example%3A8443", "key-2")
    for bad in ["did:web:a.example", "did:web:a.example#", "https://a.example#k", "did:web:#k"]:
        with pytest.raises(DidError, match="not a DID URL"):
            split_did_url(bad)
