"""The node's secret store: credentials for the owner's own systems, encrypted at rest."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console

from allmende.cli.context import DataDirOption, JsonOption, fail, print_json, settings_for
from allmende.node import open_secret_store
from allmende.sources import SecretError

app = typer.Typer(
    help="Secrets (database URLs, API credentials), encrypted in the data folder.", no_args_is_help=True
)
console = Console()


@app.command("put")
def put(name: str = typer.Argument(..., help="e.g. erp-db"), data_dir: Path = DataDirOption) -> None:
    """Store a secret; the value is read from standard input (or asked for), never from the command line."""
    if sys.stdin.isatty():
        value = typer.prompt(f"value of {name}", hide_input=True, confirmation_prompt=True)
    else:
        value = sys.stdin.read().rstrip("\n")
    if not value:
        fail("the value is empty")
    try:
        ref = open_secret_store(settings_for(data_dir).data_dir).put(name, value)
    except SecretError as exc:
        fail(str(exc))
    console.print(f"stored {ref} (use it as --sql-secret {name} or --auth-secret {name})")


@app.command("list")
def list_secrets(data_dir: Path = DataDirOption, as_json: bool = JsonOption) -> None:
    """The names of the stored secrets (never their values)."""
    names = open_secret_store(settings_for(data_dir).data_dir).names()
    if as_json:
        print_json(names)
    else:
        for name in names:
            console.print(name)


@app.command("rm")
def remove(name: str, data_dir: Path = DataDirOption) -> None:
    """Delete a secret."""
    try:
        open_secret_store(settings_for(data_dir).data_dir).delete(name)
    except SecretError as exc:
        fail(str(exc))
    console.print(f"deleted {name}")
