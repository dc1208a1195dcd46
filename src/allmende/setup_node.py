"""Creating a node: data folder, keys, did:web identity, settings, database schema and API keys."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from allmende.api.keys import create_key
from allmende.audit import log as audit
from allmende.identity import IdentityError, KeyStore, did_from_url
from allmende.node import KEYS_FOLDER, SECRETS_FOLDER, open_secret_store
from allmende.settings import SETTINGS_FILE, load_settings, write_settings
from allmende.store import migrate
from allmende.store.database import Database

ADMIN_KEY_FILE = "admin-api-key"
READ_KEY_FILE = "read-api-key"


class InitError(ValueError):
    """The node cannot be created as asked (the message says why); nothing was left behind."""


@dataclass(frozen=True)
class CreatedNode:
    """What ``init`` made."""

    data_dir: Path
    did: str
    admin_key: str
    read_key: str


def init_node(
    data_dir: Path,
    *,
    name: str,
    public_url: str,
    database_url: str | None = None,
    port: int | None = None,
    language: str = "en",
) -> CreatedNode:
    """Create a node in ``data_dir``; refuses to overwrite an existing node."""
    data_dir = data_dir.expanduser().resolve()
    if any((data_dir / leaf).exists() for leaf in (SETTINGS_FILE, KEYS_FOLDER, SECRETS_FOLDER)):
        raise InitError(f"{data_dir} already holds a node; refusing to overwrite it")
    if not name.strip():
        raise InitError("--name must not be empty")
    parts = urlsplit(public_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InitError(f"--url must be an absolute http(s) URL, got {public_url!r}")
    try:
        did = did_from_url(public_url)
    except IdentityError as exc:
        raise InitError(f"--url cannot be a did:web: {exc}") from None
    values: dict[str, object] = {
        "name": name.strip(),
        "public_url": public_url.rstrip("/"),
        "language": language,
    }
    if database_url:
        values["database_url"] = database_url
    values["port"] = port if port is not None else (parts.port or (443 if parts.scheme == "https" else 80))
    created_dir = not data_dir.exists()
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        write_settings(data_dir, values)
        settings = load_settings(data_dir, environ={})
        KeyStore.create(data_dir / KEYS_FOLDER)
        open_secret_store(data_dir)
        database = Database(database_url or settings.effective_database_url)
        try:
            migrate.upgrade(database)
            with database.transaction() as session:
                admin_key = create_key(session, "admin (created by init)", "admin")
                read_key = create_key(session, "read-only (created by init)", "read")
                audit.append(
                    session,
                    actor=did,
                    event="node.created",
                    subject=did,
                    detail={"name": values["name"], "publicUrl": values["public_url"]},
                )
        finally:
            database.dispose()
        _write_secret(data_dir / ADMIN_KEY_FILE, admin_key)
        _write_secret(data_dir / READ_KEY_FILE, read_key)
    except Exception:
        _remove_partial(data_dir, created_dir)
        raise
    return CreatedNode(data_dir, did, admin_key, read_key)


def _write_secret(path: Path, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")


def _remove_partial(data_dir: Path, created_dir: bool) -> None:
    for leaf in (
        SETTINGS_FILE,
        ADMIN_KEY_FILE,
        READ_KEY_FILE,
        "allmende.db",
        "allmende.db-wal",
        "allmende.db-shm",
    ):
        (data_dir / leaf).unlink(missing_ok=True)
    shutil.rmtree(data_dir / KEYS_FOLDER, ignore_errors=True)
    shutil.rmtree(data_dir / SECRETS_FOLDER, ignore_errors=True)
    if created_dir:
        shutil.rmtree(data_dir, ignore_errors=True)


def read_admin_key(data_dir: Path) -> str:
    """The admin API key kept in the data folder for the local CLI."""
    path = data_dir / ADMIN_KEY_FILE
    if not path.is_file():
        raise InitError(f"no admin API key in {data_dir} ({ADMIN_KEY_FILE} missing)")
    return path.read_text(encoding="utf-8").strip()
