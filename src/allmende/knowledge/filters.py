"""The hard filters of a knowledge search (pure: no numpy, so the API can take them without loading it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Filters:
    """Hard filters: each None lets everything through. ``region``: a region code; items for anyone or
    for an area containing it pass. ``sector``, ``size``: items for anyone or naming it pass.
    ``status``: items without a status (all but programmes) pass, programmes only with this one."""

    kind: str | None = None
    region: str | None = None
    sector: str | None = None
    size: str | None = None
    status: str | None = None
