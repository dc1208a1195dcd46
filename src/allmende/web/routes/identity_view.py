"""What the identity page shows: the node's DID, its keys, trusted participants and company profile."""

from __future__ import annotations

import os
from typing import Any

from allmende.clock import parse_datetime
from allmende.node import Node
from allmende.settings import SETTINGS, SIZE_CLASSES, NodeSettings
from allmende.web.forms import FormState
from allmende.web.templating import N_, Page

NOTICES = {
    "rotated": N_(
        "A new key is active. The previous keys stay in the DID document, so older signatures can "
        "still be verified."
    ),
    "trusted": N_("The participant is trusted now."),
    "untrusted": N_("The participant is no longer trusted."),
    "profile": N_("The company profile was saved."),
}
SIZE_CLASS_NAMES = {
    "": N_("Not stated"),
    "micro": N_("Micro (fewer than 10 employees)"),
    "small": N_("Small (10 to 49 employees)"),
    "medium": N_("Medium (50 to 249 employees)"),
    "large": N_("Large (250 employees or more)"),
}
PROFILE_FIELDS = ("name", "sector", "size_class", "region")
SETTINGS_NOT_WRITTEN = N_("The settings file could not be written; nothing was changed.")


def actor_of(page: Page) -> str:
    """The audit log's actor for a change made on a page: the signed-in user's name."""
    return page.user.username if page.user is not None else "web"


def profile_state(settings: NodeSettings) -> FormState:
    """The company profile form filled with the stored values."""
    return FormState(values={name: str(getattr(settings, name) or "") for name in PROFILE_FIELDS})


def trusted_entries(settings: NodeSettings) -> list[dict[str, Any]]:
    """The pinned participants as stored (``{"did", "jwk"}`` each)."""
    return [dict(entry) for entry in settings.trusted_participants if isinstance(entry, dict)]


def overridden() -> list[str]:
    """Environment variables that fix a setting of this page (they win over ``node.json``)."""
    names = (*PROFILE_FIELDS, "trusted_participants")
    return [s.env_var for s in SETTINGS if s.name in names and s.env_var in os.environ]


def _keys(node: Node) -> list[dict[str, Any]]:
    active = node.keys.active.key_id
    keys = []
    for key in node.keys.all():
        created = node.keys.created(key.key_id)
        keys.append(
            {
                "kid": f"{node.did}#{key.key_id}",
                "created": parse_datetime(created) if created else None,
                "active": key.key_id == active,
                "x": key.public_jwk()["x"],
            }
        )
    return list(reversed(keys))  # the active (newest) key first


def identity_context(
    node: Node, page: Page, *, trust_form: FormState | None = None, profile_form: FormState | None = None
) -> dict[str, Any]:
    """Everything the identity page shows; the forms default to empty / the stored profile."""
    settings = node.settings
    return {
        "node": {
            "name": node.name,
            "did": node.did,
            "public_url": node.base_url,
            "dsp_url": node.dsp_url,
            "document_url": f"{node.base_url}/.well-known/did.json",
        },
        "keys": _keys(node),
        "trusted": [
            {"did": str(entry.get("did", "")), "x": str(dict(entry.get("jwk") or {}).get("x", ""))}
            for entry in trusted_entries(settings)
        ],
        "profile": {
            "sector": settings.sector,
            "size_class": page.gettext(SIZE_CLASS_NAMES.get(settings.size_class, SIZE_CLASS_NAMES[""])),
            "region": settings.region,
        },
        "size_classes": [(value, page.gettext(SIZE_CLASS_NAMES[value])) for value in SIZE_CLASSES],
        "trust_form": trust_form or FormState(),
        "profile_form": profile_form or profile_state(settings),
        "failure": "",
        "overridden": overridden(),
    }
