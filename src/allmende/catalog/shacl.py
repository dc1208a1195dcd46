"""DCAT-AP 3.0.1 conformance of catalog documents: JSON-LD → RDF offline, then pySHACL.

The shapes are the bundled mandatory shapes (``shapes.ttl``) plus the class-range shapes (``range.ttl``); the
shapes graph is parsed once and shared. JSON-LD contexts come from the bundled copies only
(:func:`allmende.protocol.contexts.inline_contexts`); a document naming any other context is rejected.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import pyshacl
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.plugins.parsers.jsonld import to_rdf
from rdflib.term import Node

from allmende.protocol.bundled import read_standards_text
from allmende.protocol.contexts import inline_contexts

SH = Namespace("http://www.w3.org/ns/shacl#")
_SHAPE_FILES = ("dcat-ap-3.0.1/shacl/shapes.ttl", "dcat-ap-3.0.1/shacl/range.ttl")

_lock = threading.Lock()
_shapes: Graph | None = None


class NotJsonLd(ValueError):
    """The document cannot be read as JSON-LD (not an object, no ``@context``, or an ``@graph`` container)."""


def shapes_graph() -> Graph:
    """The DCAT-AP 3.0.1 shapes graph (mandatory + range shapes), parsed once."""
    global _shapes
    with _lock:
        if _shapes is None:
            graph = Graph()
            for path in _SHAPE_FILES:
                graph.parse(data=read_standards_text(path), format="turtle")
            _shapes = graph
        return _shapes


def jsonld_to_graph(document: Mapping[str, Any]) -> Graph:
    """Read a compact JSON-LD document (DSP catalog, dataset or message) into an RDF graph, offline.

    Every context URL in ``@context`` must be a bundled one (else UnknownContext). Documents with a top-level
    ``@graph`` are not DSP documents and are rejected with NotJsonLd.
    """
    if not isinstance(document, Mapping):
        raise NotJsonLd(f"expected a JSON-LD object, got {type(document).__name__}")
    if "@context" not in document:
        raise NotJsonLd("document has no @context, so its keys have no RDF meaning")
    if "@graph" in document:
        raise NotJsonLd("documents with @graph are not supported; DSP documents are single node objects")
    data = dict(document)
    data["@context"] = inline_contexts(document["@context"])
    graph = Graph()
    to_rdf(data, graph)
    return graph


def validate_dcat_ap(document: Mapping[str, Any]) -> list[str]:
    """Check a catalog/dataset document against the DCAT-AP 3.0.1 shapes; return the violations.

    Each violation reads ``"<focus node> <path>: <message>"``; an empty list means the document conforms.
    """
    data = jsonld_to_graph(document)
    shapes = shapes_graph()
    with _lock:  # pySHACL may add inferred/cached state to the shared shapes graph
        _conforms, report, _text = pyshacl.validate(
            data, shacl_graph=shapes, inference="none", advanced=False
        )
    if not isinstance(report, Graph):
        raise TypeError("pySHACL returned no report graph")
    return sorted(_describe(report, result) for result in report.subjects(SH.resultSeverity, SH.Violation))


def _describe(report: Graph, result: Node) -> str:
    focus = report.value(result, SH.focusNode)
    path = report.value(result, SH.resultPath)
    message = report.value(result, SH.resultMessage)
    value = report.value(result, SH.value)
    text = str(message) if message is not None else str(report.value(result, SH.sourceConstraintComponent))
    where = f"{_short(focus)} {_short(path)}" if path is not None else _short(focus)
    return f"{where}: {text}" + (f" (value {_short(value)})" if value is not None else "")


def _short(node: Node | None) -> str:
    if isinstance(node, URIRef):
        for prefix, namespace in _PREFIXES:
            if str(node).startswith(namespace):
                return f"{prefix}:{str(node)[len(namespace) :]}"
        return f"<{node}>"
    if isinstance(node, Literal):
        return repr(str(node))
    return "[blank node]" if node is not None else "?"


_PREFIXES = (
    ("dcat", "http://www.w3.org/ns/dcat#"),
    ("dct", "http://purl.org/dc/terms/"),
    ("foaf", "http://xmlns.com/foaf/0.1/"),
    ("odrl", "http://www.w3.org/ns/odrl/2/"),
    ("skos", "http://www.w3.org/2004/02/skos/core#"),
    ("dspace", "https://w3id.org/dspace/2025/1/"),
)
