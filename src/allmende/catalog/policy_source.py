"""Where an offer's policy comes from: a template name or an ODRL JSON file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from allmende.catalog.service import CatalogError, new_id
from allmende.policy.errors import PolicyError
from allmende.policy.jsonld import policy_to_json
from allmende.policy.templates import TEMPLATES, get_template

DEFAULT_TEMPLATE = "open-use"
# Offers in the catalog carry no target (DSP); templates want one, so they get a placeholder.
_NO_TARGET_YET = "urn:uuid:00000000-0000-0000-0000-000000000000"


def policy_from_argument(
    value: str | None, *, assigner: str, params: dict[str, str] | None = None
) -> tuple[dict[str, Any], str | None]:
    """(ODRL offer JSON, template name or None) for ``--policy TEMPLATE|FILE`` (default: open-use)."""
    value = value or DEFAULT_TEMPLATE
    if value in TEMPLATES:
        try:
            policy = get_template(value).build(assigner, _NO_TARGET_YET, **(params or {}))
        except PolicyError as exc:
            raise CatalogError(f"template {value}: {exc}") from None
        built = policy_to_json(policy)
        built["@id"] = new_id()  # every offer is its own, even when two assets share a template
        return built, value
    path = Path(value)
    if not path.is_file():
        raise CatalogError(
            f"--policy {value!r} is neither a template ({', '.join(sorted(TEMPLATES))}) nor a readable file"
        )
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CatalogError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(loaded, dict):
        raise CatalogError(f"{path} must hold one ODRL policy object")
    return loaded, None
