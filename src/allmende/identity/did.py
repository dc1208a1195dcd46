"""did:web identifiers: mapping to and from URLs, and the node's own DID document.

Mapping (did:web method specification): the host, a port percent-encoded as ``%3A``, then the URL path
segments joined with ``:``. A DID with no path resolves to ``/.well-known/did.json``, one with a path to
``/<path>/did.json``. Resolution uses https; plain http only for loopback hosts (127.0.0.0/8, ::1,
localhost), so nodes can be developed and tested on one machine. IPv6 hosts keep their brackets, encoded
(``[::1]:8301`` → ``%5B%3A%3A1%5D%3A8301``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import SplitResult, quote, unquote, urlsplit

from allmende.identity.did_document import DidDocument, split_did_url
from allmende.identity.errors import DidError
from allmende.identity.key_encoding import public_key_to_jwk
from allmende.identity.keys import NodeKey

__all__ = [
    "DidDocument",
    "DidError",
    "build_did_document",
    "did_document_url",
    "did_from_url",
    "is_loopback_host",
    "split_did_url",
]

DID_CONTEXT = "https://www.w3.org/ns/did/v1"
JWS_2020_CONTEXT = "https://w3id.org/security/suites/jws-2020/v1"
DSPACE_CONTEXT = "https://w3id.org/dspace/2025/1/context.jsonld"
_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_ID_SEGMENT = r"(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})+"
_DID_WEB = re.compile(rf"did:web:({_ID_SEGMENT}(?::{_ID_SEGMENT})*)")


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback IP addresses (127.0.0.0/8, ::1); brackets are allowed."""
    bare = host.removeprefix("[").removesuffix("]").lower()
    if bare == "localhost":
        return True
    try:
        return ipaddress.ip_address(bare).is_loopback
    except ValueError:
        return False


def did_from_url(public_base_url: str) -> str:
    """Return the did:web identifier of a node reachable at ``public_base_url``.

    ``http://127.0.0.1:8301`` → ``did:web:127.0.0.1%3A8301``; ``https://x.example/nodes/a`` →
    ``did:web:x.example:nodes:a``. Default ports and a trailing slash are dropped. Raises DidError for
    other schemes, user info, query or fragment, empty or dot path segments, invalid hosts, and plain
    http to a non-loopback host (its DID would resolve over https).
    """
    parts = _split_url(public_base_url)
    host, port = _host_and_port(parts, public_base_url)
    if parts.scheme == "http" and not is_loopback_host(host):
        raise DidError(f"plain http is only allowed for loopback hosts: {public_base_url!r}")
    authority = host if port is None or port == _DEFAULT_PORTS[parts.scheme] else f"{host}:{port}"
    path = parts.path.removeprefix("/").removesuffix("/")
    segments = _path_segments(path.split("/") if path else [], public_base_url)
    return ":".join(["did:web", _encode_segment(authority), *(_encode_segment(s) for s in segments)])


def did_document_url(did: str) -> str:
    """Return the URL to fetch the DID document of a did:web DID from (inverse of ``did_from_url``).

    Raises DidError if ``did`` is not a syntactically valid did:web DID without path, query or fragment.
    """
    match = _DID_WEB.fullmatch(did)
    if not match:
        raise DidError(f"not a did:web DID: {did!r}")
    first, *rest = match.group(1).split(":")
    authority = unquote(first)
    parts = _split_url(f"https://{authority}")
    if parts.path:
        raise DidError(f"did:web host part {authority!r} must not contain a path")
    host, port = _host_and_port(parts, did)
    segments = _path_segments(rest, did)
    scheme = "http" if is_loopback_host(host) else "https"
    netloc = host if port is None else f"{host}:{port}"
    path = (
        "/" + "".join(f"{quote(segment, safe='')}/" for segment in segments) if segments else "/.well-known/"
    )
    return f"{scheme}://{netloc}{path}did.json"


def build_did_document(did: str, keys: Sequence[NodeKey], service_endpoint: str) -> dict[str, Any]:
    """Build the node's DID document: one JsonWebKey2020 method per key, DSP service entries.

    ``service_endpoint`` is the node's DSP base URL. Two service entries are published: a
    ``CatalogService`` at ``<base>/catalog``, which validates against DSP 2025-1's did-service-schema
    (its pattern requires a URL ending in ``/catalog``), and a ``DataService`` whose endpoint is the DSP
    base URL itself. Every key, active or kept after rotation, is listed for authentication and
    assertions, so tokens and credentials signed by any of them verify.
    """
    if not keys:
        raise DidError("a DID document needs at least one key")
    did_document_url(did)
    base = service_endpoint.rstrip("/")
    endpoint = urlsplit(base)
    if endpoint.scheme not in _DEFAULT_PORTS or not endpoint.netloc:
        raise DidError(f"service endpoint must be an absolute http(s) URL: {service_endpoint!r}")
    method_ids = [f"{did}#{key.key_id}" for key in keys]
    return {
        "@context": [DID_CONTEXT, JWS_2020_CONTEXT],
        "id": did,
        "verificationMethod": [
            {
                "id": method_id,
                "type": "JsonWebKey2020",
                "controller": did,
                "publicKeyJwk": public_key_to_jwk(k.public_key),
            }
            for method_id, k in zip(method_ids, keys, strict=True)
        ],
        "authentication": list(method_ids),
        "assertionMethod": list(method_ids),
        "service": [
            _service(f"{did}#dsp-catalog", "CatalogService", f"{base}/catalog"),
            _service(f"{did}#dsp", "DataService", base),
        ],
    }


def _service(service_id: str, service_type: str, endpoint: str) -> dict[str, Any]:
    return {
        "@context": [DSPACE_CONTEXT, DID_CONTEXT],
        "id": service_id,
        "type": service_type,
        "serviceEndpoint": endpoint,
    }


def _split_url(url: str) -> SplitResult:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port validates it
    except ValueError as error:
        raise DidError(f"invalid URL {url!r}: {error}") from error
    if parts.scheme not in _DEFAULT_PORTS:
        raise DidError(f"URL scheme must be http or https: {url!r}")
    if parts.username is not None or parts.password is not None:
        raise DidError(f"URL must not contain user info: {url!r}")
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise DidError(f"URL must not contain a query or fragment: {url!r}")
    return parts


def _host_and_port(parts: SplitResult, source: str) -> tuple[str, int | None]:
    host = parts.hostname
    if not host:
        raise DidError(f"URL has no host: {source!r}")
    if ":" in host:
        try:
            return f"[{ipaddress.IPv6Address(host).compressed}]", parts.port
        except ValueError as error:
            raise DidError(f"invalid IPv6 host in {source!r}: {error}") from error
    if re.fullmatch(r"[0-9.]+", host):
        try:
            return str(ipaddress.IPv4Address(host)), parts.port
        except ValueError as error:
            raise DidError(f"invalid IPv4 host in {source!r}: {error}") from error
    if len(host) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in host.split(".")):
        raise DidError(f"invalid host name {host!r} in {source!r}")
    return host, parts.port


def _path_segments(raw_segments: list[str], source: str) -> list[str]:
    """Decode percent-encoded path segments; rejects empty, dot and slash-containing segments."""
    segments = [unquote(segment) for segment in raw_segments]
    if any(segment in ("", ".", "..") or "/" in segment for segment in segments):
        raise DidError(f"path has an empty, '.', '..' or encoded '/' segment: {source!r}")
    return segments


def _encode_segment(text: str) -> str:
    return quote(text, safe="").replace("~", "%7E")
