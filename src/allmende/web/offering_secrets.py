"""Secrets typed into the "add an offering" form: checked, named, stored only once all else is valid.

A typed secret (an API credential, a database address) is never shown again; the form keeps its name.
"""

from __future__ import annotations

import re
import secrets as random
from dataclasses import dataclass

from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from allmende.sources import SecretError, SecretStore
from allmende.sources.secrets import check_secret_name
from allmende.web.forms import FormState
from allmende.web.templating import Page


@dataclass(frozen=True)
class NewSecret:
    """A secret typed into the form, to store under ``name`` before the asset is added."""

    name: str
    value: str
    field: str


def check_database_url(state: FormState, value: str, page: Page) -> None:
    """Record on ``db_url`` why ``value`` is no database address this node can query read-only."""
    t = page.gettext
    try:
        backend = make_url(value).get_backend_name()
    except (ArgumentError, ValueError):
        state.errors["db_url"] = t(
            "This is not a database address such as postgresql://user:password@host/database."
        )
        return
    if backend not in ("postgresql", "sqlite"):
        state.errors["db_url"] = t(
            "Only PostgreSQL and SQLite databases can be queried: only they open read-only."
        )
    elif backend == "sqlite" and make_url(value).database in (None, "", ":memory:"):
        state.errors["db_url"] = t("Give the SQLite database's file, e.g. sqlite:////srv/data/shop.db.")


def read_secret(
    state: FormState,
    typed: dict[str, str],
    page: Page,
    store: SecretStore,
    name_field: str,
    value_field: str,
    prefix: str,
) -> tuple[str | None, NewSecret | None]:
    """The secret's name to refer to, and the value to store first when one was typed."""
    t = page.gettext
    name = state.get(name_field)
    value = typed.get(value_field, "")
    if name:
        try:
            check_secret_name(name)
        except SecretError:
            state.errors[name_field] = t(
                "A secret's name has 1 to 64 characters: lower-case letters, digits, '.', '_' or '-'."
            )
            return None, None
    if not name and not value:
        return None, None
    try:
        known = set(store.names())
    except SecretError:
        state.errors[name_field] = t(
            "The node's secret store cannot be read. Ask an owner of the node to check it."
        )
        return None, None
    if value:
        if not name:
            name = fresh_name(prefix, state.get("title"), known)
        elif name in known:
            state.errors[name_field] = t(
                "A secret of this name is stored already. Leave the secret field empty to use it, "
                "or choose another name."
            )
            return None, None
        return name, NewSecret(name, value, value_field)
    if name not in known:
        state.errors[name_field] = t(
            "No secret of this name is stored on this node. Enter the secret to store it under this name."
        )
        return None, None
    return name, None


def fresh_name(prefix: str, title: str, known: set[str]) -> str:
    """A new secret name made up from the title, e.g. ``api-price-list-3f9a1c``."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40].strip("-")
    while True:
        name = "-".join(part for part in (prefix, slug, random.token_hex(3)) if part)
        if name not in known:
            return name
