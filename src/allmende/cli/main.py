"""The ``allmende`` command line: create, run and use a node."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from allmende import __version__
from allmende.accounts.setup_code import setup_code
from allmende.cli import (
    benchmark_commands,
    catalog_commands,
    compute_commands,
    discussion_commands,
    inspect_commands,
    knowledge_commands,
    network_commands,
    policy_commands,
    search_commands,
    secret_commands,
    transfer_commands,
    user_commands,
)
from allmende.cli.context import DataDirOption, fail, settings_for
from allmende.settings import SETTINGS_FILE
from allmende.setup_node import InitError, init_node

app = typer.Typer(
    help="Allmende: share data, software and know-how between companies over open standards.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(catalog_commands.asset_app, name="asset")
app.add_typer(policy_commands.app, name="policy")
app.add_typer(inspect_commands.audit_app, name="audit")
app.add_typer(transfer_commands.app, name="transfer")
app.add_typer(secret_commands.app, name="secret")
app.add_typer(user_commands.app, name="user")
app.add_typer(network_commands.directory_app, name="directory")
app.add_typer(compute_commands.app, name="compute")
app.add_typer(network_commands.membership_app, name="membership")
app.add_typer(knowledge_commands.app, name="knowledge")
app.add_typer(benchmark_commands.app, name="benchmark")
app.add_typer(discussion_commands.app, name="discussion")
app.command("catalog")(catalog_commands.catalog)
app.command("negotiate")(catalog_commands.negotiate)
app.command("negotiations")(inspect_commands.negotiations)
app.command("agreements")(inspect_commands.agreements)
app.command("review")(inspect_commands.review)
app.command("search")(search_commands.search_command)
app.command("crawl")(search_commands.crawl_command)
console = Console()


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


@app.command()
def init(
    data_dir: Path = DataDirOption,
    name: str = typer.Option(..., "--name", help="Your organisation's name, e.g. 'Feinteile KG'."),
    url: str = typer.Option(..., "--url", help="Public base URL peers reach this node at."),
    database_url: str = typer.Option(
        None, "--database-url", help="PostgreSQL URL (default: SQLite in the data folder)."
    ),
    port: int = typer.Option(None, "--port", help="Port to serve on (default: the URL's port)."),
) -> None:
    """Create a node: keys, did:web identity, settings, database, API keys. Refuses to overwrite a node."""
    try:
        created = init_node(data_dir, name=name, public_url=url, database_url=database_url, port=port)
    except (InitError, ValueError, OSError) as exc:
        fail(str(exc))
    console.print(f"[green]Created node[/green] {name} in {created.data_dir}")
    console.print(f"  identity (did:web): {created.did}")
    console.print(f"  admin API key:     {created.admin_key}")
    console.print(f"  read-only API key: {created.read_key}")
    console.print("  (both keys are also kept, readable only by you, in the data folder)")
    code = setup_code(created.data_dir)
    console.print(f"  web set-up code:   {code}  (open the node's address in a browser)")


@app.command()
def serve(
    data_dir: Path = DataDirOption,
    host: str = typer.Option(
        None, "--host", help="Interface to listen on (default from settings: 127.0.0.1)."
    ),
    port: int = typer.Option(None, "--port", help="Port to listen on (default from settings)."),
) -> None:
    """Run the node (web interface, protocol endpoints, management API) until Ctrl-C.

    On an empty or new data folder the web interface asks who the node is (first start).
    """
    from allmende.accounts.service import user_count
    from allmende.node import Node
    from allmende.serving import prepare
    from allmende.serving import serve as serve_node

    folder = data_dir.expanduser().resolve()
    if not (folder / SETTINGS_FILE).exists():
        _first_start(folder, host or "127.0.0.1", port or 8080)
        return
    settings = settings_for(data_dir)
    try:
        node = Node(settings)
        prepare(node)
        with node.db.read() as session:
            users = user_count(session)
    except Exception as exc:
        fail(f"cannot start the node: {exc}")
    listen_host = host or settings.host
    listen_port = port or settings.port
    console.print(f"Allmende node [bold]{node.name}[/bold] ({node.did})")
    console.print(f"  listening on http://{listen_host}:{listen_port}  (public URL {node.base_url})")
    console.print(f"  web interface: {node.base_url}/")
    if users == 0:
        code = setup_code(settings.data_dir)
        console.print(f"  no users yet: open {node.base_url}/setup and enter the set-up code {code}")
    serve_node(node, listen_host, listen_port)
    console.print("node stopped")


def _first_start(folder: Path, host: str, port: int) -> None:
    from allmende.serving import serve_app
    from allmende.web.first_start import FirstStart

    address = f"http://{host}:{port}"
    try:
        first = FirstStart(folder, address, port)
    except OSError as exc:
        fail(f"cannot use {folder}: {exc}")
    console.print(f"No node in {folder} yet: set it up in the browser.")
    console.print(f"  open {address}/setup and enter the set-up code [bold]{first.code}[/bold]")
    serve_app(first, host, port)
    console.print("node stopped")


def main() -> None:
    """Entry point."""
    app()
