"""``allmende search`` (the federated catalog in the node's database) and ``allmende crawl`` (asks the
running node to crawl now)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import DBAPIError

from allmende.cli.context import DataDirOption, JsonOption, call_api, database, fail, print_json
from allmende.network.search import MAX_LIMIT, SearchQuery, search
from allmende.network.views import results_view
from allmende.store.schema_version import needs_migration

console = Console()


def search_command(
    text: str = typer.Argument("", help='Words to look for ("phrases" and OR work); empty: newest first.'),
    publisher: str = typer.Option(None, "--publisher", help="Only this publisher."),
    keyword: str = typer.Option(None, "--keyword", help="Only datasets with this keyword."),
    theme: str = typer.Option(None, "--theme", help="Only this data theme (e.g. TECH)."),
    media_format: str = typer.Option(None, "--format", help="Only this format (e.g. text/csv)."),
    sector: str = typer.Option(None, "--sector", help="Only nodes of this sector."),
    region: str = typer.Option(None, "--region", help="Only nodes of this region."),
    template: str = typer.Option(None, "--template", help="Only offers following this policy template."),
    limit: int = typer.Option(20, "--limit", min=1, max=MAX_LIMIT, help="How many results."),
    offset: int = typer.Option(0, "--offset", min=0, help="Results to skip."),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Search the network: the catalogs of the nodes in your directories, as last crawled."""
    query = SearchQuery(
        text, publisher, keyword, theme, media_format, sector, region, template, limit, offset
    )
    with database(data_dir) as db:
        if needs_migration(db):
            fail("the node's database is not up to date; start the node once (`allmende serve`)")
        try:
            with db.read() as session:
                results = search(session, query)
        except DBAPIError as exc:
            fail(f"search failed: {exc.orig}")
    if as_json:
        print_json(results_view(results, limit, offset))
        return
    table = Table(title=f"{results.total} found" + (f" for {text!r}" if text else ""))
    for column in ("title", "publisher", "node", "offer ids", "policy"):
        table.add_column(column)
    for hit in results.hits:
        table.add_row(
            hit.title,
            hit.publisher,
            hit.node_did,
            "\n".join(str(offer["id"]) for offer in hit.offers),
            ", ".join(hit.templates),
        )
    console.print(table)
    if not results.total:
        console.print("Nothing found. Has the node crawled yet? `allmende crawl` runs a crawl now.")


def crawl_command(
    full: bool = typer.Option(False, "--full", help="Fetch every catalog anew (ignore ETags and back-off)."),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Crawl the catalogs of the nodes in your directories now (your node must be running)."""
    report = call_api(data_dir, "POST", f"/api/v1/crawl?full={'true' if full else 'false'}", timeout=600.0)
    if as_json:
        print_json(report)
        return
    console.print(
        f"{report['nodesSeen']} nodes: {report['nodesUpdated']} updated, "
        f"{report['nodesUnchanged']} unchanged, "
        f"{report['nodesFailed']} failed, {report['nodesWaiting']} backing off; "
        f"{report['datasets']} datasets in the federated catalog ({report['seconds']:.1f} s)"
    )
