"""The node's settings: one table feeds the settings file, the environment, the CLI and docs.

Every setting is declared once in :data:`SETTINGS`. A node stores its values in
``DATA_DIR/node.json``; an environment variable ``ALLMENDE_<NAME>`` overrides the file.
``docs/settings.md`` documents every entry, and a test fails when one is missing there.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SETTINGS_FILE = "node.json"
SIZE_CLASSES = ("", "micro", "small", "medium", "large")


class SettingsError(ValueError):
    """A settings file or value is malformed."""


@dataclass(frozen=True)
class Setting:
    """One documented setting."""

    name: str
    kind: type
    default: Any
    help: str

    @property
    def env_var(self) -> str:
        return "ALLMENDE_" + self.name.upper()

    def parse(self, raw: Any) -> Any:
        """Convert a value from the file or the environment to this setting's type."""
        if self.kind is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise SettingsError(f"{self.name}: expected true or false, got {raw!r}")
        if self.kind in (int, float):
            try:
                value = self.kind(raw)
            except (TypeError, ValueError):
                raise SettingsError(f"{self.name}: expected a number, got {raw!r}") from None
            if value < 0:
                raise SettingsError(f"{self.name}: must not be negative, got {raw!r}")
            return value
        if self.kind is list:
            if isinstance(raw, str):
                try:
                    raw = json.loads(raw)
                except json.JSONDecodeError:
                    raise SettingsError(f"{self.name}: expected a JSON list") from None
            if not isinstance(raw, list):
                raise SettingsError(f"{self.name}: expected a list, got {type(raw).__name__}")
            return raw
        if raw is None:
            return None
        if not isinstance(raw, str):
            raise SettingsError(f"{self.name}: expected text, got {type(raw).__name__}")
        return raw


SETTINGS: tuple[Setting, ...] = (
    Setting("name", str, "", "The organisation's display name, shown as the catalog's publisher."),
    Setting(
        "public_url", str, "", "Base URL under which peers reach this node; its did:web is derived from it."
    ),
    Setting("host", str, "127.0.0.1", "Interface `allmende serve` listens on."),
    Setting("port", int, 8080, "Port `allmende serve` listens on."),
    Setting(
        "database_url",
        str,
        None,
        "SQLAlchemy URL of the database; empty means SQLite `allmende.db` in the data folder. "
        "Example: postgresql+psycopg://postgres@127.0.0.1:5432/allmende",
    ),
    Setting("language", str, "en", "Default language (en or de) of plain-language texts."),
    Setting(
        "token_ttl_seconds", int, 120, "Lifetime of the self-issued ID tokens this node sends (max 300)."
    ),
    Setting("did_cache_seconds", int, 300, "How long a resolved DID document of a peer is cached."),
    Setting("catalog_page_size", int, 100, "Datasets per catalog page when the requester asks for none."),
    Setting(
        "review_all_requests",
        bool,
        False,
        "Queue every incoming contract request for the owner's review instead of agreeing automatically.",
    ),
    Setting(
        "access_token_seconds",
        int,
        3600,
        "Lifetime of the data-plane access token a provider hands out when a pull transfer starts.",
    ),
    Setting(
        "require_agreement_signatures",
        bool,
        True,
        "As consumer, refuse agreements the provider did not sign with the agreement_signature claim "
        "(Allmende's extension); turn off to accept agreements from connectors that do not sign them.",
    ),
    Setting(
        "outbox_retry_seconds", float, 1.0, "First retry delay of an undelivered message; doubles per try."
    ),
    Setting("outbox_max_retry_seconds", float, 300.0, "Longest delay between two delivery attempts."),
    Setting(
        "peer_deadline_seconds",
        float,
        3600.0,
        "A peer that stays unreachable this long ends the negotiation as TERMINATED with a reason.",
    ),
    Setting("outbox_concurrency", int, 32, "Messages delivered in parallel by the outbox sender."),
    Setting(
        "remote_catalog_cache_seconds",
        float,
        10.0,
        "How long a fetched remote catalog is reused when starting negotiations (0: always fetch).",
    ),
    Setting("http_timeout_seconds", float, 15.0, "Timeout of one HTTP call to a peer."),
    Setting(
        "trusted_participants",
        list,
        [],
        'Pinned peers for closed networks: a JSON list of {"did": ..., "jwk": {...}}; '
        "their keys are used without resolving their DID documents.",
    ),
    Setting(
        "allow_http_for_loopback",
        bool,
        True,
        "Resolve did:web documents over plain http for loopback hosts (127.0.0.0/8, ::1, localhost) only.",
    ),
    Setting(
        "time_zone", str, "Europe/Berlin", "Time zone (IANA name) in which the web interface shows times."
    ),
    Setting("session_hours", float, 12.0, "How long a web log-in lasts before the user must log in again."),
    Setting(
        "login_max_failures",
        int,
        5,
        "Failed log-ins per user name or address within login_window_seconds before log-in is refused.",
    ),
    Setting("login_window_seconds", float, 300.0, "The window of the log-in rate limit."),
    Setting("sector", str, "", "Company profile: the sector (e.g. mechanical engineering), shown to peers."),
    Setting("size_class", str, "", "Company profile: size class (micro, small, medium, large)."),
    Setting("region", str, "", "Company profile: region (e.g. Saxony, DE-SN)."),
    Setting("directory_enabled", bool, False, "Run a directory: accept applications, issue credentials."),
    Setting("directory_name", str, "", "The display name of the community this node's directory runs."),
    Setting("directory_auto_admit", bool, False, "Admit every applicant at once, without review."),
    Setting("membership_days", int, 365, "How long a membership credential this directory issues is valid."),
    Setting("membership_poll_seconds", float, 60.0, "How often pending applications are asked about."),
    Setting("status_list_cache_seconds", float, 300.0, "How long a fetched revocation list is reused."),
    Setting("crawl_interval_seconds", float, 300.0, "How often the federated catalog is crawled (0: off)."),
    Setting("crawl_concurrency", int, 16, "Nodes the crawler asks at the same time."),
    Setting("crawl_timeout_seconds", float, 10.0, "How long the crawler waits for one node's catalog."),
    Setting(
        "semantic_search",
        bool,
        True,
        "Knowledge search by meaning where the semantic model is installed (false: keywords only).",
    ),
    Setting("compute_wall_seconds", float, 60.0, "Wall-clock and CPU-time limit of one compute job."),
    Setting("compute_memory_mib", int, 1024, "Memory limit of one compute job, in MiB."),
    Setting("compute_max_output_mib", int, 10, "Largest result a compute job may write, in MiB."),
    Setting("compute_poll_seconds", float, 5.0, "How often queued jobs and submitted jobs are looked at."),
    Setting(
        "discussion_posts_per_node",
        int,
        30,
        "Posts one author node may add to this node's discussions per discussion_rate_window_seconds "
        "(0: no limit).",
    ),
    Setting(
        "discussion_posts_per_topic",
        int,
        300,
        "Posts one topic hosted here accepts per discussion_rate_window_seconds (0: no limit).",
    ),
    Setting("discussion_rate_window_seconds", float, 3600.0, "The window of the discussion rate limits."),
)

_BY_NAME = {setting.name: setting for setting in SETTINGS}


@dataclass(frozen=True)
class NodeSettings:
    """The effective settings of one node (file values overridden by the environment)."""

    data_dir: Path
    values: Mapping[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        setting = _BY_NAME.get(name)
        if setting is None:
            raise AttributeError(name)
        return self.values.get(name, setting.default)

    @property
    def effective_database_url(self) -> str:
        url: str | None = self.values.get("database_url")
        return url or f"sqlite:///{self.data_dir / 'allmende.db'}"


def validate_values(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Check names and types of raw values; unknown names are an error (catches typos)."""
    values: dict[str, Any] = {}
    for name, value in raw.items():
        setting = _BY_NAME.get(name)
        if setting is None:
            raise SettingsError(f"unknown setting {name!r}; known: {', '.join(sorted(_BY_NAME))}")
        values[name] = setting.parse(value)
    if "token_ttl_seconds" in values and not 1 <= values["token_ttl_seconds"] <= 300:
        raise SettingsError("token_ttl_seconds: must be between 1 and 300")
    if values.get("language", "en") not in ("en", "de"):
        raise SettingsError("language: must be 'en' or 'de'")
    if values.get("size_class", "") not in SIZE_CLASSES:
        raise SettingsError("size_class: must be empty or one of micro, small, medium, large")
    if "time_zone" in values:
        try:
            ZoneInfo(values["time_zone"])
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(f"time_zone: unknown time zone {values['time_zone']!r}") from None
    return values


def load_settings(data_dir: Path, environ: Mapping[str, str] | None = None) -> NodeSettings:
    """Read ``DATA_DIR/node.json`` and apply ``ALLMENDE_*`` environment overrides."""
    path = data_dir / SETTINGS_FILE
    if not path.is_file():
        raise SettingsError(f"no node in {data_dir}: {SETTINGS_FILE} is missing (run `allmende init` first)")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SettingsError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise SettingsError(f"{path} must hold a JSON object")
    environ = os.environ if environ is None else environ
    for setting in SETTINGS:
        if setting.env_var in environ:
            raw[setting.name] = environ[setting.env_var]
    return NodeSettings(data_dir=data_dir, values=validate_values(raw))


def write_settings(data_dir: Path, values: Mapping[str, Any]) -> None:
    """Write the settings file (validated first, so a bad value never reaches the disk)."""
    checked = validate_values(values)
    path = data_dir / SETTINGS_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(checked, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)


def update_settings(data_dir: Path, changes: Mapping[str, Any]) -> NodeSettings:
    """Change some values in ``node.json`` (validated; the others stay) and return the new settings."""
    path = data_dir / SETTINGS_FILE
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw.update(changes)
    write_settings(data_dir, raw)
    return load_settings(data_dir)
