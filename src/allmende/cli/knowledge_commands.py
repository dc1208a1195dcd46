"""``allmende knowledge ...``: publish, list, search and match knowledge items in the node's database
(``crawl`` asks the running node to pull other nodes' items now)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from allmende.cli.context import DataDirOption, JsonOption, call_api, database, fail, print_json, settings_for
from allmende.identity import did_from_url
from allmende.knowledge import service
from allmende.knowledge.eligibility import CompanyProfile
from allmende.knowledge.embeddings import Embedder, embedder
from allmende.knowledge.matchmaking import match
from allmende.knowledge.model import KINDS, KnowledgeError
from allmende.knowledge.regions import region_code
from allmende.knowledge.search import MAX_LIMIT, search
from allmende.knowledge.seeding import load_seed
from allmende.knowledge.vectors import Filters
from allmende.knowledge.views import matches_view, search_view
from allmende.store.database import Database
from allmende.store.schema_version import needs_migration

app = typer.Typer(
    help="The knowledge hub: cases, funding programmes, experts, partners.", no_args_is_help=True
)
console = Console()
T = TypeVar("T")


@contextmanager
def _db(data_dir: Path) -> Iterator[Database]:
    with database(data_dir) as db:
        if needs_migration(db):
            fail("the node's database is not up to date; start the node once (`allmende serve`)")
        yield db


def _publisher(data_dir: Path) -> service.Publisher:
    settings = settings_for(data_dir)
    base = str(settings.public_url).rstrip("/")
    return service.Publisher(did_from_url(base), str(settings.name) or did_from_url(base))


def _model(data_dir: Path) -> Embedder | None:
    return embedder() if settings_for(data_dir).semantic_search else None


def _write(data_dir: Path, work: Callable[[Session], T]) -> T:
    with _db(data_dir) as db:
        try:
            with db.transaction() as session:
                return work(session)
        except KnowledgeError as exc:
            details = "; ".join(f"{d['field']}: {d['message']}" for d in exc.details[:10])
            fail(f"{exc}" + (f" ({details})" if details and details not in str(exc) else ""))


@app.command("add")
def add(
    file: Path = typer.Argument(..., help="A JSON file with one item (or a list of items)."),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Publish knowledge items from a JSON file (validated: nothing is published if one is invalid)."""
    try:
        loaded = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(f"cannot read {file}: {exc}")
    entries = loaded if isinstance(loaded, list) else [loaded]
    publisher = _publisher(data_dir)
    model = _model(data_dir)
    actor = f"owner (cli on {data_dir})"
    records = _write(
        data_dir,
        lambda s: [
            (r.id, r.kind, r.version)
            for r in (
                service.publish(s, entry, actor=actor, publisher=publisher, embedder=model)
                for entry in entries
            )
        ],
    )
    if as_json:
        print_json([{"id": i, "kind": k, "version": v} for i, k, v in records])
        return
    for item_id, kind, _ in records:
        console.print(f"published {kind} {item_id}")


@app.command("remove")
def remove(item_id: str = typer.Argument(...), data_dir: Path = DataDirOption) -> None:
    """Withdraw one of your items (its versions are kept; crawling nodes drop it at their next visit)."""
    publisher = _publisher(data_dir)
    _write(
        data_dir,
        lambda s: service.withdraw(s, item_id, actor=f"owner (cli on {data_dir})", publisher=publisher),
    )
    console.print(f"withdrawn {item_id}")


@app.command("seed")
def seed(
    demo: bool = typer.Option(False, "--demo", help="Also the demo cases, experts, event and help."),
    data_dir: Path = DataDirOption,
) -> None:
    """Publish the bundled list of real funding programmes (facts as of their verified date)."""
    publisher = _publisher(data_dir)
    model = _model(data_dir)
    added = _write(
        data_dir,
        lambda s: load_seed(
            s, actor=f"owner (cli on {data_dir})", publisher=publisher, embedder=model, demo=demo
        ),
    )
    console.print(f"{added} items published")


@app.command("list")
def list_items(
    kind: str = typer.Option(None, "--kind", help=f"Only one kind ({', '.join(KINDS)})."),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Your published knowledge items."""
    if kind is not None and kind not in KINDS:
        fail(f"kind must be one of {', '.join(KINDS)}")
    with _db(data_dir) as db, db.read() as session:
        rows = [
            (r.id, r.kind, r.version, str(r.data.get("title", ""))) for r in service.published(session, kind)
        ]
    if as_json:
        print_json([{"id": i, "kind": k, "version": v, "title": t} for i, k, v, t in rows])
        return
    table = Table(title=f"{len(rows)} published")
    for column in ("id", "kind", "version", "title"):
        table.add_column(column)
    for row in rows:
        table.add_row(row[0], row[1], str(row[2]), row[3])
    console.print(table)


def _region(value: str | None) -> str | None:
    if not value:
        return None
    code = region_code(value)
    if code is None:
        fail(f"unknown region {value!r}: give a German state, a country code or EU")
    return code


@app.command("search")
def search_command(
    text: str = typer.Argument("", help="What you look for, in your own words (German or English)."),
    kind: str = typer.Option(None, "--kind", help=f"Only one kind ({', '.join(KINDS)})."),
    region: str = typer.Option(None, "--region", help="Only items for this region (e.g. Sachsen, DE-SN)."),
    sector: str = typer.Option(None, "--sector", help="Only items for this sector."),
    size: str = typer.Option(None, "--size", help="Only items for this size class."),
    status: str = typer.Option(None, "--status", help="Programmes only with this status (open...)."),
    limit: int = typer.Option(10, "--limit", min=1, max=MAX_LIMIT),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Search your and the network's knowledge items (keywords and meaning)."""
    if kind is not None and kind not in KINDS:
        fail(f"kind must be one of {', '.join(KINDS)}")
    filters = Filters(kind, _region(region), sector, size, status)
    model = _model(data_dir)
    with _db(data_dir) as db, db.read() as session:
        view = search_view(search(session, text, filters=filters, limit=limit, embedder=model))
    if as_json:
        print_json(view)
        return
    if view["notice"]:
        console.print(f"[yellow]{view['notice']}[/yellow]")
    table = Table(title=f"{len(view['hits'])} found ({view['mode']})")
    for column in ("kind", "title", "from"):
        table.add_column(column)
    for hit in view["hits"]:
        table.add_row(hit["kind"], hit["title"], hit["node"]["name"])
    console.print(table)


@app.command("match")
def match_command(
    need: str = typer.Argument(..., help='Your need, e.g. "connect our machines and predict failures".'),
    sector: str = typer.Option(None, "--sector", help="Your sector (default: the node's setting)."),
    size_class: str = typer.Option(None, "--size-class", help="micro, small, medium or large."),
    employees: int = typer.Option(None, "--employees", min=0),
    region: str = typer.Option(None, "--region", help="Your region (default: the node's setting)."),
    age: float = typer.Option(None, "--company-age", min=0, help="Years since founding."),
    turnover: float = typer.Option(None, "--turnover", min=0, help="Yearly turnover in EUR."),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Programmes you are eligible for, cases of similar companies, experts and partners for a need."""
    settings = settings_for(data_dir)
    try:
        profile = CompanyProfile(
            sector=sector if sector is not None else str(settings.sector),
            size_class=size_class if size_class is not None else str(settings.size_class),
            employees=employees,
            region=region if region is not None else str(settings.region),
            company_age_years=age,
            turnover_eur=turnover,
        )
    except ValueError as exc:
        fail(f"invalid profile: {exc}")
    model = _model(data_dir)
    with _db(data_dir) as db, db.read() as session:
        groups = matches_view(match(session, profile, need, embedder=model))
    if as_json:
        print_json({"profile": profile.__dict__, **groups})
        return
    if groups["notice"]:
        console.print(f"[yellow]{groups['notice']}[/yellow]")
    for name in ("programmes", "cases", "experts", "partners", "events", "security"):
        matches: list[dict[str, Any]] = groups[name]
        if not matches:
            continue
        table = Table(title=name)
        for column in ("title", "eligibility" if name == "programmes" else "from", "why"):
            table.add_column(column)
        for m in matches[:5]:
            second = m.get("eligibility", "") if name == "programmes" else m["node"]["name"]
            table.add_row(m["title"], second, "; ".join(m["why"][:4]))
        console.print(table)


@app.command("crawl")
def crawl_command(
    full: bool = typer.Option(
        False, "--full", help="Fetch every node's items anew (ignore ETags, back-off)."
    ),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Pull the published knowledge items of the nodes in your directories now (the node must run)."""
    report = call_api(
        data_dir, "POST", f"/api/v1/knowledge/crawl?full={'true' if full else 'false'}", timeout=600
    )
    if as_json:
        print_json(report)
        return
    console.print(
        f"{report['nodesSeen']} nodes: {report['nodesUpdated']} updated, {report['nodesUnchanged']} "
        f"unchanged, {report['nodesFailed']} failed; {report['items']} items in the knowledge index"
    )
