"""Reading the "add an offering" form: the asset's metadata, where its data comes from, its policy.

Secrets typed into the form (an API credential, a database address) are never shown again: they are
read apart from the other fields and only stored once everything else is valid.
"""

from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import FormData

from allmende.catalog.service import CatalogError, NewAsset, source_for_path
from allmende.sources import SecretStore, Source, SourceConfigError, parse_source
from allmende.sources.sqlcheck import check_select
from allmende.web.forms import FormState
from allmende.web.offering_policy import PolicyChoice, policy_defaults, policy_field_names, read_policy
from allmende.web.offering_secrets import NewSecret, check_database_url, read_secret
from allmende.web.templating import Page

SOURCE_KINDS = ("path", "http_api", "sql_query")
TEXT_FIELDS = (
    "title",
    "description",
    "keywords",
    "media_type",
    "source_kind",
    "path",
    "folder_mode",
    "url",
    "method",
    "auth_header",
    "api_secret_name",
    "db_secret_name",
    "query",
    "table_format",
)
SECRET_FIELDS = ("api_secret_value", "db_url")  # typed once, never shown again
_MEDIA_TYPE = re.compile(
    r"[A-Za-z0-9][\w!#$&^.+-]*/[A-Za-z0-9][\w!#$&^.+-]*"
    r"(\s*;\s*[\w!#$&^.+-]+=(\"[^\"]*\"|[\w!#$&^.+-]+))*"
)


def form_fields() -> tuple[str, ...]:
    """The fields of the form that are shown again as typed."""
    return (*TEXT_FIELDS, *policy_field_names())


def blank_form() -> FormState:
    """A fresh form: a file source, the default template with its parameters' defaults."""
    values = {"source_kind": "path", "folder_mode": "tar", "method": "GET", "table_format": "csv"}
    return FormState(values={**values, **policy_defaults()})


@dataclass(frozen=True)
class OfferingDraft:
    """A valid form: the asset, its policy, and the secret to store first (if one was typed)."""

    asset: NewAsset
    policy: PolicyChoice
    review_required: bool
    new_secret: NewSecret | None


@dataclass
class ReadOffering:
    """What the form said: values and errors, the policy if valid, the draft if everything is."""

    state: FormState
    policy: PolicyChoice | None
    draft: OfferingDraft | None


def read_offering(
    form: FormData, page: Page, *, assigner: str, store: SecretStore, data_dir: Path
) -> ReadOffering:
    """Check every field of a posted form.

    It looks at the file system and the secret store: run it on a worker thread, not the event loop.
    """
    t = page.gettext
    state = FormState.of(form, *form_fields())
    typed = {name: str(form.get(name) or "").strip() for name in SECRET_FIELDS}
    title = state.require("title", t("Enter a title."))
    if len(title) > 500:
        state.errors["title"] = t("The title may be at most 500 characters long.")
    description = state.require("description", t("Describe the data in a few words."))
    media_type = state.get("media_type")
    if media_type and (len(media_type) > 200 or _MEDIA_TYPE.fullmatch(media_type) is None):
        state.errors["media_type"] = t("Enter a media type such as text/csv, or leave the field empty.")
    keywords = tuple(k.strip() for k in state.get("keywords").split(",") if k.strip())
    policy = read_policy(state, page, assigner)
    kind = state.get("source_kind")
    source: Source | None = None
    new_secret: NewSecret | None = None
    if kind == "path":
        source = _path_source(state, page, data_dir)
    elif kind == "http_api":
        source, new_secret = _api_source(state, typed, page, store)
    elif kind == "sql_query":
        source, new_secret = _sql_source(state, typed, page, store)
    else:
        state.errors["source_kind"] = t("Choose where the data comes from.")
    if not state.ok or source is None or policy is None:
        return ReadOffering(state, policy, None)
    asset = NewAsset(source, title, description, keywords, media_type or None)
    review = state.get("review_required") == "yes"
    return ReadOffering(state, policy, OfferingDraft(asset, policy, review, new_secret))


def _failed(state: FormState, *fields: str) -> bool:
    """Whether any of ``fields`` has an error (other parts of the form are checked on their own)."""
    return any(field in state.errors for field in fields)


def _path_source(state: FormState, page: Page, data_dir: Path) -> Source | None:
    t = page.gettext
    text = state.require("path", t("Enter the path of a file or folder on the node's machine."))
    mode = state.get("folder_mode") or "tar"
    if mode not in ("tar", "files"):
        state.errors["folder_mode"] = t("Choose how a folder is sent.")
    if not text:
        return None
    path = Path(text).expanduser()
    if not path.is_absolute():
        state.errors["path"] = t("Enter the full path, starting with /.")
        return None
    try:
        resolved = path.resolve()
        exists, is_dir, is_file = resolved.exists(), resolved.is_dir(), resolved.is_file()
    except (OSError, ValueError, RuntimeError):
        exists = is_dir = is_file = False
    own = data_dir.resolve()
    if not exists:
        state.errors["path"] = t("There is no file or folder at this path on the node's machine.")
    elif resolved.is_relative_to(own) or own.is_relative_to(resolved):
        state.errors["path"] = t("The node's own files (keys, secrets, database) cannot be offered.")
    elif is_dir and not os.access(resolved, os.R_OK | os.X_OK):
        state.errors["path"] = t("The node may not read this folder. Check its permissions.")
    elif is_file and not os.access(resolved, os.R_OK):
        state.errors["path"] = t("The node may not read this file. Check its permissions.")
    elif not is_dir and not is_file:
        state.errors["path"] = t("This is neither a file nor a folder.")
    if _failed(state, "path", "folder_mode"):
        return None
    try:
        return source_for_path(resolved, mode, node_dir=data_dir)
    except CatalogError as exc:
        state.errors["path"] = str(exc)
        return None


def _api_source(
    state: FormState, typed: dict[str, str], page: Page, store: SecretStore
) -> tuple[Source | None, NewSecret | None]:
    t = page.gettext
    url = state.require("url", t("Enter the address of the API."))
    parts = urlsplit(url)
    if url and (parts.scheme not in ("http", "https") or not parts.hostname):
        state.errors["url"] = t("Enter the full address, starting with https:// (or http://).")
    elif url and (parts.username is not None or parts.password is not None):
        state.errors["url"] = t(
            "Leave user name and password out of the address; enter the credential below."
        )
    method = state.get("method") or "GET"
    if method not in ("GET", "POST"):
        state.errors["method"] = t("Choose GET or POST.")
    name, new_secret = read_secret(state, typed, page, store, "api_secret_name", "api_secret_value", "api")
    header = state.get("auth_header")
    if header and name is None and "api_secret_name" not in state.errors:
        state.errors["api_secret_value"] = t(
            "Enter the credential for this header, or leave the header empty."
        )
    if _failed(state, "url", "method", "auth_header", "api_secret_name", "api_secret_value"):
        return None, None
    config: dict[str, Any] = {"kind": "http_api", "url": url, "method": method}
    if name is not None:
        config.update(auth_header_name=header or "Authorization", auth_secret=f"secret:{name}")
    try:
        return parse_source(config), new_secret
    except SourceConfigError as exc:
        field = "auth_header" if "header" in str(exc) else "url"
        state.errors[field] = t("This cannot be used: %(problem)s") % {"problem": exc}
        return None, None


def _sql_source(
    state: FormState, typed: dict[str, str], page: Page, store: SecretStore
) -> tuple[Source | None, NewSecret | None]:
    t = page.gettext
    name, new_secret = read_secret(state, typed, page, store, "db_secret_name", "db_url", "db")
    if new_secret is not None:
        check_database_url(state, new_secret.value, page)
    elif name is None and "db_secret_name" not in state.errors:
        state.errors["db_url"] = t(
            "Enter the database's address, or the name of a stored secret that holds it."
        )
    query = state.require("query", t("Enter the query whose result is the data."))
    if query:
        try:
            check_select(query)
        except SourceConfigError as exc:
            state.errors["query"] = t("This query cannot be used: %(problem)s") % {"problem": exc}
    table_format = state.get("table_format") or "csv"
    if table_format not in ("csv", "parquet"):
        state.errors["table_format"] = t("Choose CSV or Parquet.")
    elif table_format == "parquet" and importlib.util.find_spec("pyarrow") is None:
        state.errors["table_format"] = t(
            "Parquet needs the pyarrow package on this node. Choose CSV instead."
        )
    if _failed(state, "db_url", "db_secret_name", "query", "table_format") or name is None:
        return None, None
    config = {
        "kind": "sql_query",
        "database_url_secret": f"secret:{name}",
        "query": query,
        "format": table_format,
    }
    try:
        return parse_source(config), new_secret
    except SourceConfigError as exc:
        state.errors["query"] = t("This query cannot be used: %(problem)s") % {"problem": exc}
        return None, None
