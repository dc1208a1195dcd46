"""Private peer benchmarks from the command line, through the running node's management API:
rounds this node organises (create, close, cancel) and taking part in other nodes' rounds (open, join)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import typer
from rich.console import Console
from rich.table import Table

from allmende.cli.context import DataDirOption, JsonOption, call_api, fail, print_json

app = typer.Typer(help="Private peer benchmarks (secure aggregation).", no_args_is_help=True)
console = Console()
API = "/api/v1/benchmarks"


def parse_kpi(text: str) -> dict[str, Any]:
    """``name,unit,lower,upper[,buckets]`` → the KPI's JSON form (the node checks it further)."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) not in (4, 5):
        fail(f"--kpi {text!r}: write name,unit,lower,upper[,buckets], e.g. oee,%,0,100,10")
    try:
        kpi: dict[str, Any] = {
            "name": parts[0],
            "unit": parts[1],
            "lower": float(parts[2]),
            "upper": float(parts[3]),
        }
        if len(parts) == 5:
            kpi["buckets"] = int(parts[4])
    except ValueError:
        fail(f"--kpi {text!r}: the bounds must be numbers and buckets a whole number")
    return kpi


def parse_value(text: str) -> tuple[str, float]:
    """``name=number`` → (name, number)."""
    name, sep, number = text.partition("=")
    try:
        if not sep or not name.strip():
            raise ValueError
        return name.strip(), float(number)
    except ValueError:
        fail(f"--value {text!r}: write kpi=number, e.g. oee=73.4")


def _print_round(view: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(view)
    else:
        _round_summary(view)


def _round_summary(view: dict[str, Any]) -> None:
    console.print(
        f"[bold]{view['title']}[/bold] ({view['state']}{': ' + view['reason'] if view.get('reason') else ''})"
    )
    console.print(f"  address for participants: {view['url']}")
    console.print(
        f"  joined: {len(view['participants'])}, minimum {view['minParticipants']}, "
        f"joining closes {view['deadline']}"
    )
    _figures(view.get("result"))


def _figures(result: list[dict[str, Any]] | None, standing: list[dict[str, Any]] | None = None) -> None:
    if not result:
        return
    where = {s["kpi"]: s for s in standing or []}
    table = Table(
        "KPI", "count", "mean", "Q1", "median", "Q3", *(["you", "percentile", "quartile"] if standing else [])
    )
    for figures in result:
        quartiles = figures.get("quartiles") or [None, None, None]
        cells = [
            f"{figures['name']} ({figures['unit']})",
            str(figures.get("count") or "withheld"),
            _num(figures.get("mean")),
            *(_num(q) for q in quartiles),
        ]
        if standing:
            mine = where.get(figures["name"], {})
            cells += [_num(mine.get("value")), _num(mine.get("percentile")), str(mine.get("quartile") or "")]
        table.add_row(*cells)
    console.print(table)


def _num(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, int | float) else ""


@app.command("create")
def create(
    title: str = typer.Option(..., "--title", help="What the round compares, e.g. 'OEE 2026'."),
    kpis: list[str] = typer.Option(..., "--kpi", help="name,unit,lower,upper[,buckets]; repeat per KPI."),
    deadline: str = typer.Option(None, "--deadline", help="When joining closes (ISO 8601)."),
    days: float = typer.Option(
        14.0, "--days", help="Joining closes this many days from now (without --deadline)."
    ),
    minimum: int = typer.Option(5, "--min", help="Fewer participants than this release nothing."),
    threshold: int = typer.Option(None, "--threshold", help="Share-sums needed (at least a majority)."),
    community: str = typer.Option(None, "--community", help="Only members of this community (its DID)."),
    phase_seconds: float = typer.Option(
        600.0, "--phase-seconds", help="How long sharing and summing may take."
    ),
    epsilon: float = typer.Option(None, "--epsilon", help="Add differentially private noise (privacy loss)."),
    description: str = typer.Option("", "--description"),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Define a round this node organises; prints the address members join at."""
    body = {
        "title": title,
        "description": description,
        "kpis": [parse_kpi(text) for text in kpis],
        "deadline": deadline or (datetime.now(UTC) + timedelta(days=days)).isoformat(),
        "minParticipants": minimum,
        "threshold": threshold,
        "community": community,
        "phaseSeconds": phase_seconds,
        "epsilon": epsilon,
    }
    view = call_api(data_dir, "POST", f"{API}/rounds", body=body)
    _print_round(view, as_json)


@app.command("list")
def list_command(data_dir: Path = DataDirOption, as_json: bool = JsonOption) -> None:
    """Rounds this node organises and rounds it takes part in."""
    rounds = call_api(data_dir, "GET", f"{API}/rounds")
    taking_part = call_api(data_dir, "GET", f"{API}/participations")
    if as_json:
        print_json({"rounds": rounds, "participations": taking_part})
        return
    organised = Table("round id", "title", "state", "joined", "closes", title="Rounds organised here")
    for view in rounds:
        organised.add_row(
            view["id"], view["title"], view["state"], str(len(view["participants"])), view["deadline"]
        )
    console.print(organised)
    joined = Table("participation id", "title", "organiser", "state", title="Rounds this node takes part in")
    for view in taking_part:
        joined.add_row(view["id"], view["title"], view["organiser"], view["state"])
    console.print(joined)


@app.command("open")
def open_rounds(
    address: str = typer.Argument(..., help="The organiser node's address (http(s)://host:port)."),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Rounds another node organises that are open to this node (its memberships count)."""
    rounds = call_api(data_dir, "GET", f"{API}/open-rounds?address={quote(address, safe='')}")
    if as_json:
        print_json(rounds)
        return
    table = Table("title", "KPIs", "joined", "closes", "address", title=f"Open rounds at {address}")
    for view in rounds:
        kpis = ", ".join(str(k.get("name")) for k in view.get("kpis", []))
        mark = " (this node)" if view.get("joined") else ""
        table.add_row(view["title"], kpis, f"{view['participants']}{mark}", view["deadline"], view["url"])
    console.print(table)


@app.command("join")
def join(
    url: str = typer.Argument(..., help="The round's address (…/benchmarks/rounds/<id>)."),
    values: list[str] = typer.Option(..., "--value", help="kpi=number; repeat per KPI (they stay here)."),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Take part in another node's round with this node's figures (they never leave it in the clear)."""
    body = {"round_url": url, "values": dict(parse_value(text) for text in values)}
    view = call_api(data_dir, "POST", f"{API}/participations", body=body)
    if as_json:
        print_json(view)
    else:
        console.print(f"joined [bold]{view['title']}[/bold] as {view['id']} ({view['state']})")


@app.command("close")
def close(round_id: str, data_dir: Path = DataDirOption, as_json: bool = JsonOption) -> None:
    """Close joining now: sharing starts (or the round fails when too few joined)."""
    view = call_api(data_dir, "POST", f"{API}/rounds/{round_id}/close")
    _print_round(view, as_json)


@app.command("cancel")
def cancel(round_id: str, data_dir: Path = DataDirOption, as_json: bool = JsonOption) -> None:
    """Stop a round that is not over (its participants are told)."""
    view = call_api(data_dir, "POST", f"{API}/rounds/{round_id}/cancel")
    _print_round(view, as_json)


@app.command("show")
def show(
    identifier: str = typer.Argument(
        ..., help="A round id, a participation id (urn:uuid:…) or a round address."
    ),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """A round organised here, a participation (with where this node stands), or another node's round."""
    if identifier.startswith(("http://", "https://")):
        view = call_api(data_dir, "GET", f"{API}/remote?url={quote(identifier, safe='')}")
        if as_json:
            print_json(view)
        else:
            console.print(
                f"[bold]{view['title']}[/bold] by {view['organiser']} ({view['state']}), "
                f"{view['participants']} joined, closes {view['deadline']}"
            )
            for kpi in view["kpis"]:
                console.print(f"  {kpi['name']} ({kpi['unit']}): {kpi['lower']:g}..{kpi['upper']:g}")
        return
    if identifier.startswith("urn:uuid:"):
        view = call_api(data_dir, "GET", f"{API}/participations/{identifier}")
        if as_json:
            print_json(view)
            return
        reason = f": {view['reason']}" if view.get("reason") else ""
        console.print(f"[bold]{view['title']}[/bold] ({view['state']}{reason})")
        _figures(view.get("result"), view.get("standing"))
        return
    view = call_api(data_dir, "GET", f"{API}/rounds/{identifier}")
    _print_round(view, as_json)
