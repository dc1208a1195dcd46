"""Commands about offerings: publishing assets, reading other nodes' catalogs, negotiating."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from allmende.api.views import asset_view, offer_view
from allmende.catalog.policy_source import policy_from_argument
from allmende.catalog.service import CatalogError, NewAsset, add_asset, source_for_path
from allmende.cli.context import DataDirOption, JsonOption, call_api, database, fail, print_json, settings_for
from allmende.identity import did_from_url
from allmende.node import open_secret_store
from allmende.sources import SecretError, Source, SourceConfigError, parse_source

asset_app = typer.Typer(help="Publish your own assets.", no_args_is_help=True)
console = Console()


@asset_app.command("add")
def asset_add(
    path: Path = typer.Argument(None, help="The file or folder to share (or use --sql-secret / --http-url)."),
    data_dir: Path = DataDirOption,
    title: str = typer.Option(..., "--title", "-t"),
    description: str = typer.Option(..., "--description", "-d"),
    keyword: list[str] = typer.Option([], "--keyword", "-k", help="A keyword (repeatable)."),
    policy: str = typer.Option(
        None, "--policy", help="A policy template name or an ODRL JSON file (default open-use)."
    ),
    review: bool = typer.Option(
        False, "--review", help="Review every contract request for this offer by hand."
    ),
    folder_mode: str = typer.Option(
        "tar", "--folder-mode", help="A folder is served as one tar or file by file."
    ),
    sql_secret: str = typer.Option(
        None, "--sql-secret", help="Name of the secret holding the database's SQLAlchemy URL."
    ),
    query: str = typer.Option(None, "--query", help="With --sql-secret: one SELECT; its result is the data."),
    table_format: str = typer.Option("csv", "--format", help="With --sql-secret: csv or parquet."),
    http_url: str = typer.Option(None, "--http-url", help="An HTTP API of yours, proxied by the node."),
    auth_header: str = typer.Option(None, "--auth-header", help="With --http-url: the credential's header."),
    auth_secret: str = typer.Option(None, "--auth-secret", help="With --http-url: the secret holding it."),
    as_json: bool = JsonOption,
) -> None:
    """Register a file, folder, SQL query or HTTP API as an asset and publish an offer for it.

    Prints the asset id and the offer id. Credentials never go on the command line: store them with
    `allmende secret put NAME` and name the secret here.
    """
    settings = settings_for(data_dir)
    actor = f"owner (cli on {settings.data_dir})"
    try:
        source = _source(
            path,
            folder_mode,
            sql_secret,
            query,
            table_format,
            http_url,
            auth_header,
            auth_secret,
            settings.data_dir,
        )
        policy_json, template = policy_from_argument(policy, assigner=did_from_url(settings.public_url))
        with database(data_dir) as db, db.transaction() as session:
            asset, offer = add_asset(
                session,
                NewAsset(source, title, description, tuple(keyword)),
                policy_json,
                actor=actor,
                template=template,
                review_required=review,
                secrets=open_secret_store(settings.data_dir),
            )
            result = {"asset": asset_view(asset), "offer": offer_view(offer)}
    except (CatalogError, SourceConfigError, SecretError) as exc:
        fail(str(exc))
    if as_json:
        print_json(result)
        return
    console.print(f"asset id: {result['asset']['id']}")
    console.print(f"offer id: {result['offer']['id']}  (policy: {template or policy})")


def _source(
    path: Path | None,
    folder_mode: str,
    sql_secret: str | None,
    query: str | None,
    table_format: str,
    http_url: str | None,
    auth_header: str | None,
    auth_secret: str | None,
    node_dir: Path,
) -> Source:
    given = [x for x in (path, sql_secret, http_url) if x is not None]
    if len(given) != 1:
        fail("give exactly one of PATH, --sql-secret (with --query) or --http-url")
    if path is not None:
        return source_for_path(path, folder_mode, node_dir=node_dir)
    if sql_secret is not None:
        if not query:
            fail("--sql-secret needs --query")
        return parse_source(
            {
                "kind": "sql_query",
                "database_url_secret": f"secret:{sql_secret}",
                "query": query,
                "format": table_format,
            }
        )
    config: dict[str, Any] = {"kind": "http_api", "url": http_url}
    if auth_header or auth_secret:
        if not (auth_header and auth_secret):
            fail("--auth-header and --auth-secret go together")
        config.update(auth_header_name=auth_header, auth_secret=f"secret:{auth_secret}")
    return parse_source(config)


def _datasets(catalog: dict[str, Any]) -> list[dict[str, Any]]:
    value = catalog.get("dataset", [])
    return value if isinstance(value, list) else [value]


def catalog(
    url: str = typer.Argument(..., help="The other node's public URL or did:web."),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Show another node's catalog as it shows it to you (your node must be running)."""
    result = call_api(data_dir, "POST", "/api/v1/remote-catalogs", body={"address": url})
    if as_json:
        print_json(result)
        return
    table = Table(title=f"Catalog of {result['providerDid']}")
    for column in ("dataset", "title", "offer id", "keywords"):
        table.add_column(column)
    for dataset in _datasets(result["catalog"]):
        offers = dataset.get("hasPolicy", [])
        for offer in offers if isinstance(offers, list) else [offers]:
            keywords = dataset.get("dcat:keyword", [])
            table.add_row(
                str(dataset.get("@id")),
                str(dataset.get("dct:title", "")),
                str(offer.get("@id")),
                ", ".join(keywords) if isinstance(keywords, list) else str(keywords),
            )
    console.print(table)


def negotiate(
    url: str = typer.Argument(..., help="The provider node's public URL or did:web."),
    offer: str = typer.Option(..., "--offer", help="The offer id from its catalog."),
    data_dir: Path = DataDirOption,
    wait: float = typer.Option(30.0, "--wait", help="Seconds to wait for a final state (0: do not wait)."),
    as_json: bool = JsonOption,
) -> None:
    """Ask another node for a contract on one of its offers."""
    started = call_api(data_dir, "POST", "/api/v1/negotiations", body={"address": url, "offer_id": offer})
    current = started
    deadline = time.monotonic() + wait
    while wait > 0 and current["state"] not in ("FINALIZED", "TERMINATED") and time.monotonic() < deadline:
        time.sleep(0.2)
        current = call_api(data_dir, "GET", f"/api/v1/negotiations/{started['id']}")
    if as_json:
        print_json(current)
        return
    console.print(f"negotiation {current['id']}: [bold]{current['state']}[/bold]")
    if current["state"] == "FINALIZED":
        console.print(f"agreement {current['agreementId']} signed by both parties")
    elif current.get("terminationReason"):
        console.print(f"reason: {current['terminationReason']}")
    elif current.get("reviewPending"):
        console.print("waiting for a decision: " + str(current.get("reviewNote")))
