"""A compiled yes/no check for the JSON-Schema subset that the DSP 2025-1 schemas use.

python-jsonschema interprets a schema anew for every instance (about 50 sub-validator objects per DSP
message), which costs over a millisecond per negotiation message. This module compiles a schema once into
nested closures that answer only "valid or not" in a few tens of microseconds. When the answer is "not valid",
:mod:`allmende.protocol.schemas` runs python-jsonschema to produce the precise error list, so jsonschema stays
the reference and this module only has to agree with it (the tests check that on all examples and mutations).

A keyword outside the supported subset raises :class:`UnsupportedSchemaKeyword` at compile time, so a schema
update can never make the check silently ignore a constraint.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urldefrag, urljoin

from referencing import Registry

InstanceCheck = Callable[[Any], bool]

_ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "definitions"})


class UnsupportedSchemaKeyword(ValueError):
    """The schema uses a keyword (or keyword form) that the compiled check does not implement."""


def json_equal(left: Any, right: Any) -> bool:
    """JSON equality as JSON Schema defines it (``true`` differs from ``1``; containers compared deeply)."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(json_equal(left[key], right[key]) for key in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(json_equal(a, b) for a, b in zip(left, right, strict=True))
    return (
        bool(left == right)
        and type(left) in (int, float, str, type(None))
        and type(right) in (int, float, str, type(None))
    )


_TYPE_CHECKS: dict[str, InstanceCheck] = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
    "number": lambda value: isinstance(value, int | float) and not isinstance(value, bool),
    "integer": lambda value: (
        (isinstance(value, int) and not isinstance(value, bool))
        or (isinstance(value, float) and value.is_integer())
    ),
}


def _all_of(checks: list[InstanceCheck]) -> InstanceCheck:
    if len(checks) == 1:
        return checks[0]
    frozen = tuple(checks)
    return lambda value: all(check(value) for check in frozen)


class SchemaCompiler:
    """Compiles the schemas of one :class:`referencing.Registry` into instance checks, sharing refs."""

    def __init__(self, registry: Registry[Any]) -> None:
        self._registry = registry
        self._by_uri: dict[str, InstanceCheck] = {}

    def compile_uri(self, uri: str) -> InstanceCheck:
        """Return the check for the schema (or subschema, with a JSON-pointer fragment) at ``uri``."""
        compiled = self._by_uri.get(uri)
        if compiled is not None:
            return compiled
        cell: list[InstanceCheck] = []
        self._by_uri[uri] = lambda value: cell[0](value)  # resolves recursive references once compiled
        document_uri, _ = urldefrag(uri)
        resolved = self._registry.resolver(base_uri=document_uri).lookup(uri)
        compiled = self._compile(resolved.contents, document_uri)
        cell.append(compiled)
        self._by_uri[uri] = compiled
        return compiled

    def _compile(self, schema: Any, base_uri: str) -> InstanceCheck:
        if schema is True or schema == {}:
            return lambda value: True
        if not isinstance(schema, dict):
            raise UnsupportedSchemaKeyword(f"schema form {schema!r} at {base_uri}")
        checks = [
            self._keyword(key, argument, schema, base_uri)
            for key, argument in schema.items()
            if key not in _ANNOTATIONS
        ]
        return _all_of(checks) if checks else (lambda value: True)

    def _keyword(self, key: str, argument: Any, schema: dict[str, Any], base_uri: str) -> InstanceCheck:
        if key == "$ref":
            return self.compile_uri(urljoin(base_uri, argument))
        if key == "type":
            type_names: list[str] = [argument] if isinstance(argument, str) else list(argument)
            type_checks = tuple(_TYPE_CHECKS[name] for name in type_names)
            return lambda value: any(check(value) for check in type_checks)
        if key in ("allOf", "anyOf", "oneOf"):
            subs = tuple(self._compile(sub, base_uri) for sub in argument)
            if key == "allOf":
                return _all_of(list(subs))
            if key == "anyOf":
                return lambda value: any(sub(value) for sub in subs)
            return lambda value: sum(1 for sub in subs if sub(value)) == 1
        if key == "not":
            negated = self._compile(argument, base_uri)
            return lambda value: not negated(value)
        if key == "required":
            names = tuple(argument)
            return lambda value: not isinstance(value, dict) or all(name in value for name in names)
        if key == "properties":
            props = tuple((name, self._compile(sub, base_uri)) for name, sub in argument.items())
            return lambda value: (
                not isinstance(value, dict)
                or all(check(value[name]) for name, check in props if name in value)
            )
        if key == "items" and isinstance(argument, dict | bool):
            item_check = self._compile(argument, base_uri)
            return lambda value: not isinstance(value, list) or all(item_check(item) for item in value)
        if key == "contains":
            contained = self._compile(argument, base_uri)
            return lambda value: not isinstance(value, list) or any(contained(item) for item in value)
        if key == "minItems":
            return lambda value: not isinstance(value, list) or len(value) >= argument
        if key == "const":
            return lambda value: json_equal(value, argument)
        if key == "enum":
            options = tuple(argument)
            return lambda value: any(json_equal(value, option) for option in options)
        if key == "pattern":
            regex = re.compile(argument)
            return lambda value: not isinstance(value, str) or regex.search(value) is not None
        raise UnsupportedSchemaKeyword(f"keyword {key!r} (in a schema of {base_uri}) is not supported")
