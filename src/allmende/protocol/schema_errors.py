"""Turn jsonschema validation errors into short, precise messages: a JSON path and what is wrong there."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from jsonschema.exceptions import ValidationError

_MAX_VALUE_CHARS = 80


class SchemaViolation(ValueError):
    """A message does not conform to its DSP 2025-1 JSON schema.

    ``errors`` lists every problem found, each as ``"<JSON path>: <what is wrong>"``.
    """

    def __init__(self, message_type: str, errors: list[str]) -> None:
        self.message_type = message_type
        self.errors = errors
        summary = "; ".join(errors[:5]) + (f"; and {len(errors) - 5} more" if len(errors) > 5 else "")
        super().__init__(f"invalid {message_type}: {summary}")


def short_value(value: Any) -> str:
    """Render a JSON value for an error message, truncated to a readable length."""
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 3] + "..."


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


def _required_property(error: ValidationError) -> str:
    """The property name a ``required`` error is about (jsonschema puts it first in the message)."""
    names: list[str] = list(error.validator_value) if isinstance(error.validator_value, list) else []
    instance: Any = error.instance
    missing = [name for name in names if isinstance(instance, dict) and name not in instance]
    return missing[0] if missing else str(error.validator_value)


def _forbidden_properties(negated_schema: Any) -> list[str]:
    """The property names of a ``{"not": {"required": [...]}}`` schema, else an empty list."""
    if isinstance(negated_schema, dict) and set(negated_schema) == {"required"}:
        return [str(name) for name in negated_schema["required"]]
    return []


def _closest_alternative(error: ValidationError) -> list[ValidationError]:
    """The errors of the anyOf/oneOf alternative the instance came closest to matching.

    "Closest" is the alternative whose errors reach deepest into the instance (it matched the outer
    structure), then the one with fewest errors.
    """
    groups: dict[Any, list[ValidationError]] = {}
    for sub in error.context or ():
        index = sub.relative_schema_path[0] if sub.relative_schema_path else None
        groups.setdefault(index, []).append(sub)
    return max(groups.values(), key=lambda subs: (max(len(sub.absolute_path) for sub in subs), -len(subs)))


def describe_error(error: ValidationError) -> list[str]:
    """Lines for one jsonschema error, descending into anyOf/oneOf to the most relevant cause."""
    path = error.json_path
    kind = error.validator
    if kind in ("anyOf", "oneOf") and error.context:
        alternatives = error.context
        if all(sub.validator == "required" and sub.json_path == path for sub in alternatives):
            names = ", ".join(sorted({repr(_required_property(sub)) for sub in alternatives}))
            return [f"{path}: missing required property, one of {names}"]
        return [line for sub in _closest_alternative(error) for line in describe_error(sub)]
    return [_describe_simple(error, path, str(kind))]


def _describe_simple(error: ValidationError, path: str, kind: str) -> str:
    if kind == "oneOf":
        return f"{path}: matches more than one of the mutually exclusive alternatives of the schema"
    if kind == "required":
        return f"{path}: missing required property {_required_property(error)!r}"
    if kind == "type":
        got = f"{_json_type(error.instance)} {short_value(error.instance)}"
        return f"{path}: expected {error.validator_value}, got {got}"
    if kind == "const":
        return f"{path}: expected {short_value(error.validator_value)}, got {short_value(error.instance)}"
    if kind == "enum":
        return f"{path}: {short_value(error.instance)} is not one of {short_value(error.validator_value)}"
    if kind == "not" and _forbidden_properties(error.validator_value):
        names = ", ".join(repr(name) for name in _forbidden_properties(error.validator_value))
        return f"{path}: property {names} is not allowed here"
    if kind == "not":
        return f"{path}: must not match {short_value(error.validator_value)}"
    if kind == "contains":
        return f"{path}: must contain an item matching {short_value(error.validator_value)}"
    return f"{path}: {error.message if len(error.message) <= 200 else error.message[:197] + '...'}"


def describe_errors(errors: Iterable[ValidationError]) -> list[str]:
    """Describe all errors, in document order, without duplicates."""
    ordered = sorted(errors, key=lambda error: (list(map(str, error.absolute_path)), str(error.validator)))
    lines: list[str] = []
    for error in ordered:
        for line in describe_error(error):
            if line not in lines:
                lines.append(line)
    return lines
