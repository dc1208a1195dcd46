"""Validation of policy JSON against the bundled DSP 2025-1 schemas (test helper)."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

from jsonschema import Draft201909Validator
from referencing import Registry, Resource

BASE = "https://w3id.org/dspace/2025/1/"


@cache
def _registry() -> Registry[Any]:
    root = files("allmende").joinpath("standards", "dsp-2025-1")
    resources = []
    for folder in ("negotiation", "catalog", "common"):
        for entry in root.joinpath(folder).iterdir():
            if entry.name.endswith("-schema.json"):
                text = entry.read_text(encoding="utf-8").replace("#definitions/", "#/definitions/")
                resources.append((f"{BASE}{folder}/{entry.name}", Resource.from_contents(json.loads(text))))
    return Registry().with_resources(resources)


@cache
def _validator(reference: str) -> Draft201909Validator:
    return Draft201909Validator({"$ref": reference}, registry=_registry())


def schema_errors(document: Any, definition: str) -> list[str]:
    """Errors of ``document`` against ``contract-schema.json#/definitions/<definition>`` (empty if valid)."""
    validator = _validator(f"{BASE}negotiation/contract-schema.json#/definitions/{definition}")
    return [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(document)]


def message_errors(document: Any, schema_file: str) -> list[str]:
    """Errors of a whole DSP message against e.g. ``negotiation/contract-request-message-schema.json``."""
    validator = _validator(f"{BASE}{schema_file}")
    return [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(document)]
