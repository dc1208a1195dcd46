"""The JSON-LD contexts of DSP 2025-1 and DCAT-AP 3.0.1, served from the bundled copies only.

Nothing here touches the network: a context URL that is not bundled raises :class:`UnknownContext`.
:func:`offline_document_loader` has the shape of a pyld document loader (``loader(url, options)`` returning a
remote-document dict); :func:`inline_contexts` replaces context URLs (and ``@import`` references) inside an
``@context`` value by the bundled context objects, so any JSON-LD processor can read the document offline.
"""

from __future__ import annotations

import copy
import threading
from typing import Any, TypedDict

from allmende.protocol.bundled import read_standards_json

CONTEXT_URL = "https://w3id.org/dspace/2025/1/context.jsonld"
"""The DSP 2025-1 JSON-LD context; every DSP message carries it in ``@context``."""

DSP_CONTEXT: list[str] = [CONTEXT_URL]
"""The ``@context`` value of an outgoing DSP message (copy it before changing it)."""

ODRL_PROFILE_CONTEXT_URL = "https://w3id.org/dspace/2025/1/odrl-profile.jsonld"
"""The DSP ODRL profile context, imported (``@import``) by the DSP context's policy-carrying types."""

DCAT_AP_CONTEXT_URL = "https://semiceu.github.io/DCAT-AP/releases/3.0.1/context/dcat-ap.jsonld"
"""The DCAT-AP 3.0.1 JSON-LD context as published by SEMIC."""

_BUNDLED_CONTEXT_FILES: dict[str, str] = {
    CONTEXT_URL: "dsp-2025-1/context/dspace.jsonld",
    ODRL_PROFILE_CONTEXT_URL: "dsp-2025-1/context/odrl.jsonld",
    DCAT_AP_CONTEXT_URL: "dcat-ap-3.0.1/context/dcat-ap.jsonld",
}

BUNDLED_CONTEXT_URLS: frozenset[str] = frozenset(_BUNDLED_CONTEXT_FILES)
"""The context URLs that :func:`load_context` can resolve."""

_cache: dict[str, dict[str, Any]] = {}
_cache_lock = threading.Lock()


class UnknownContext(LookupError):
    """A JSON-LD context URL is not among the bundled contexts (and will not be fetched)."""


class RemoteDocument(TypedDict):
    """The result of a JSON-LD document loader (pyld's ``RemoteDocument`` shape)."""

    contextUrl: str | None
    documentUrl: str
    document: dict[str, Any]


def load_context(url: str) -> dict[str, Any]:
    """Return a deep copy of the bundled context document for ``url`` (``{"@context": {...}}``).

    Raises UnknownContext for a URL that is not bundled; never fetches anything.
    """
    relative_path = _BUNDLED_CONTEXT_FILES.get(url)
    if relative_path is None:
        known = ", ".join(sorted(_BUNDLED_CONTEXT_FILES))
        raise UnknownContext(f"JSON-LD context {url!r} is not bundled (known: {known}); it is never fetched")
    with _cache_lock:
        document = _cache.get(url)
        if document is None:
            document = read_standards_json(relative_path)
            if not isinstance(document, dict) or "@context" not in document:
                raise UnknownContext(f"bundled file for {url!r} is not a JSON-LD context document")
            _cache[url] = document
    return copy.deepcopy(document)


def offline_document_loader(url: str, options: dict[str, Any] | None = None) -> RemoteDocument:
    """A JSON-LD document loader that serves bundled contexts and refuses everything else.

    ``options`` is accepted for compatibility with pyld's loader signature and ignored.
    """
    return {"contextUrl": None, "documentUrl": url, "document": load_context(url)}


def inline_contexts(context: Any) -> Any:
    """Return ``context`` (an ``@context`` value) with every context URL and ``@import`` replaced inline.

    An ``@import`` is resolved as JSON-LD 1.1 defines it: the imported definitions come first and the
    importing context's own entries override them. Raises UnknownContext for a URL that is not bundled.
    """
    if isinstance(context, str):
        return inline_contexts(load_context(context)["@context"])
    if isinstance(context, list):
        return [inline_contexts(item) for item in context]
    if not isinstance(context, dict):
        return context
    result: dict[str, Any] = {}
    imported = context.get("@import")
    if imported is not None:
        if not isinstance(imported, str):
            raise UnknownContext(f"@import must be a context URL string, got {imported!r}")
        imported_context = inline_contexts(imported)
        if not isinstance(imported_context, dict):
            raise UnknownContext(f"@import {imported!r} does not resolve to a single context object")
        result.update(imported_context)
    for key, value in context.items():
        if key == "@import":
            continue
        if isinstance(value, dict) and "@context" in value:
            value = {**value, "@context": inline_contexts(value["@context"])}
        result[key] = value
    return result
