"""What CLI commands share: finding the node's data folder, its database, and its local API."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import httpx
import typer

from allmende.settings import NodeSettings, SettingsError, load_settings
from allmende.setup_node import InitError, read_admin_key
from allmende.store.database import Database

DATA_DIR_HELP = "The node's data folder (env ALLMENDE_DATA_DIR)."
DataDirOption = typer.Option(
    Path("allmende-data"), "--data-dir", envvar="ALLMENDE_DATA_DIR", help=DATA_DIR_HELP
)
JsonOption = typer.Option(False, "--json", help="Print machine-readable JSON.")


def fail(message: str, code: int = 1) -> NoReturn:
    """Print an error (no stack trace) and exit non-zero."""
    typer.secho(f"Error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def settings_for(data_dir: Path) -> NodeSettings:
    """The node's settings, or a clear error."""
    try:
        return load_settings(data_dir.expanduser().resolve())
    except SettingsError as exc:
        fail(str(exc))


@contextmanager
def database(data_dir: Path) -> Iterator[Database]:
    """The node's database (for local inspection commands)."""
    db = Database(settings_for(data_dir).effective_database_url)
    try:
        yield db
    finally:
        db.dispose()


def local_api_url(settings: NodeSettings) -> str:
    """Where the running node's management API is reached from this machine."""
    host = settings.host if settings.host not in ("0.0.0.0", "::") else "127.0.0.1"
    return f"http://{host}:{settings.port}"


def call_api(data_dir: Path, method: str, path: str, *, body: Any = None, timeout: float = 60.0) -> Any:
    """Call the running node's management API with the admin key from the data folder."""
    settings = settings_for(data_dir)
    try:
        key = read_admin_key(settings.data_dir)
    except InitError as exc:
        fail(str(exc))
    url = local_api_url(settings) + path
    try:
        response = httpx.request(
            method, url, json=body, headers={"Authorization": f"Bearer {key}"}, timeout=timeout
        )
    except httpx.HTTPError as exc:
        fail(f"the node is not reachable at {local_api_url(settings)} ({exc}); is `allmende serve` running?")
    if response.status_code >= 400:
        try:
            error = response.json()
            message = error.get("error", response.text)
            details = error.get("details")
        except ValueError:
            message, details = response.text, None
        fail(f"{message}" + (f" ({details})" if details else ""))
    return response.json() if response.content else None


def print_json(value: Any) -> None:
    """JSON on stdout, UTF-8, stable key order."""
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
