"""Bundled JSON-LD contexts: resolved locally, never fetched."""

from __future__ import annotations

import socket
import urllib.request
from typing import Any

import pytest

from allmende.protocol import contexts, schemas
from allmende.protocol.contexts import (
    CONTEXT_URL,
    DCAT_AP_CONTEXT_URL,
    DSP_CONTEXT,
    ODRL_PROFILE_CONTEXT_URL,
    UnknownContext,
    inline_contexts,
    load_context,
    offline_document_loader,
)


def test_constants() -> None:
    assert CONTEXT_URL == "https://w3id.org/dspace/2025/1/context.jsonld"
    assert DSP_CONTEXT == [CONTEXT_URL]
    assert schemas.CONTEXT_URL is CONTEXT_URL and schemas.load_context is load_context


@pytest.mark.parametrize(
    ("url", "defined_term"),
    [
        (CONTEXT_URL, "ContractRequestMessage"),
        (ODRL_PROFILE_CONTEXT_URL, "permission"),
        (DCAT_AP_CONTEXT_URL, "Catalogue"),
    ],
)
def test_bundled_contexts_load(url: str, defined_term: str) -> None:
    document = load_context(url)
    assert defined_term in document["@context"]
    document["@context"].clear()  # callers get a copy, the cache stays intact
    assert defined_term in load_context(url)["@context"]


def test_unknown_context_is_refused() -> None:
    with pytest.raises(UnknownContext, match="is not bundled"):
        load_context("https://www.w3.org/ns/did/v1")


def test_offline_document_loader_has_remote_document_shape() -> None:
    remote = offline_document_loader(CONTEXT_URL, {})
    assert remote["documentUrl"] == CONTEXT_URL and remote["contextUrl"] is None
    assert "Catalog" in remote["document"]["@context"]


def test_inline_contexts_resolves_import() -> None:
    [inlined] = inline_contexts(DSP_CONTEXT)
    request_context = inlined["ContractRequestMessage"]["@context"]
    assert "@import" not in request_context
    assert request_context["permission"]["@id"] == "odrl:permission"  # from the imported ODRL profile
    assert request_context["offer"]["@id"] == "dspace:offer"  # the importing context's own terms stay


def _no_network(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError(f"network access attempted: {args!r}")


def test_nothing_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    from allmende.catalog import shacl

    monkeypatch.setattr(socket.socket, "connect", _no_network)
    monkeypatch.setattr(socket, "create_connection", _no_network)
    monkeypatch.setattr(socket, "getaddrinfo", _no_network)
    monkeypatch.setattr(urllib.request, "urlopen", _no_network)
    # start from cold caches so that loading happens under the patch
    monkeypatch.setattr(contexts, "_cache", {})
    monkeypatch.setattr(schemas, "_validators", {})
    monkeypatch.setattr(schemas, "_registry", None)
    monkeypatch.setattr(shacl, "_shapes", None)
    message = {
        "@context": DSP_CONTEXT,
        "@type": "ContractRequestMessage",
        "consumerPid": "urn:uuid:32541fe6-c580-409e-85a8-8a9a32fbe833",
        "callbackAddress": "https://consumer.example/callback",
        "offer": {
            "@id": "urn:uuid:d526561f-528e-4d5a-ae12-9a9dd9b7a815",
            "@type": "Offer",
            "target": "urn:uuid:3dd1add8-4d2d-569e-d634-8394a8836a88",
            "permission": [{"action": "use"}],
        },
    }
    schemas.validate_message(message)
    graph = shacl.jsonld_to_graph(message)
    assert len(graph) > 0
    assert shacl.validate_dcat_ap(message) == []
