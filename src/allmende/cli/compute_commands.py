"""Compute jobs from the command line, through the running node's management API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from allmende.cli.context import (
    DataDirOption,
    JsonOption,
    call_api,
    fail,
    local_api_url,
    print_json,
    settings_for,
)
from allmende.compute.algorithm import AlgorithmError, make_bundle
from allmende.compute.requests import DEFAULT_RUNTIMES
from allmende.setup_node import InitError, read_admin_key

app = typer.Typer(
    help="Algorithms to the data: jobs on others' data and on this node's.", no_args_is_help=True
)
console = Console()
KindOption = typer.Option("sql", "--kind", help="sql or python")
CodeFileOption = typer.Option(..., "--code-file", exists=True, dir_okay=False, help="The algorithm's code")


def _read_code(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {path}: {exc}")


def _show(jobs: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print_json(jobs)
        return
    table = Table("id", "role", "state", "title", "algorithm", "reason")
    for job in jobs:
        table.add_row(
            job["id"],
            job["role"],
            job["state"],
            job["title"],
            job["algorithm"][:19] + "…",
            job["reason"] or "",
        )
    console.print(table)


@app.command("jobs")
def jobs(
    role: str | None = typer.Option(None, "--role", help="provider (on my data) or consumer (I submitted)"),
    state: str | None = typer.Option(None, "--state"),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """List compute jobs."""
    params = "&".join(f"{k}={v}" for k, v in (("role", role), ("state", state)) if v)
    _show(call_api(data_dir, "GET", "/api/v1/compute/jobs" + (f"?{params}" if params else "")), as_json)


@app.command("submit")
def submit(
    agreement: str = typer.Option(..., "--agreement", help="The agreement that permits compute"),
    code_file: Path = CodeFileOption,
    kind: str = KindOption,
    title: str = typer.Option("", "--title"),
    group_size_column: str = typer.Option("n", "--group-size-column", help="The result's count column"),
    epsilon: float | None = typer.Option(None, "--epsilon", help="Ask for differential-privacy noise"),
    noise: list[str] = typer.Option(
        [], "--noise", help="name:statistic[:lower:upper], statistic count, sum or mean (with --epsilon)"
    ),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Send a job to the provider of an agreement."""
    body: dict[str, Any] = {
        "agreement_id": agreement,
        "kind": kind,
        "code": _read_code(code_file),
        "title": title,
        "group_size_column": group_size_column,
    }
    if epsilon is not None:
        columns = []
        for spec in noise:
            parts = spec.split(":")
            if len(parts) not in (2, 4):
                fail(f"--noise {spec!r}: expected name:statistic or name:statistic:lower:upper")
            column: dict[str, Any] = {"name": parts[0], "statistic": parts[1]}
            if len(parts) == 4:
                try:
                    column.update(lower=float(parts[2]), upper=float(parts[3]))
                except ValueError:
                    fail(f"--noise {spec!r}: the bounds must be numbers")
            columns.append(column)
        body["privacy"] = {"epsilon": epsilon, "columns": columns}
    elif noise:
        fail("--noise needs --epsilon")
    _show([call_api(data_dir, "POST", "/api/v1/compute/jobs", body=body)], as_json)


@app.command("show")
def show(job_id: str, data_dir: Path = DataDirOption, as_json: bool = JsonOption) -> None:
    """A job with its code, checks, log and result preview."""
    job = call_api(data_dir, "GET", f"/api/v1/compute/jobs/{job_id}")
    if as_json:
        print_json(job)
        return
    _show([job], False)
    console.print(job["code"], markup=False, highlight=False)
    for check in job["checks"]:
        console.print(f"✓ {check}", markup=False)
    preview = job.get("preview")
    if preview:
        table = Table(*preview["columns"])
        for row in preview["rows"]:
            table.add_row(*row)
        console.print(table)


@app.command("refresh")
def refresh(job_id: str, data_dir: Path = DataDirOption, as_json: bool = JsonOption) -> None:
    """Ask the provider how a submitted job stands (fetches the released result)."""
    _show([call_api(data_dir, "POST", f"/api/v1/compute/jobs/{job_id}/refresh")], as_json)


@app.command("result")
def result(
    job_id: str,
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the CSV here (default: print)"),
    data_dir: Path = DataDirOption,
) -> None:
    """The job's result as CSV."""
    settings = settings_for(data_dir)
    try:
        key = read_admin_key(settings.data_dir)
    except InitError as exc:
        fail(str(exc))
    url = f"{local_api_url(settings)}/api/v1/compute/jobs/{job_id}/result"
    try:
        response = httpx.get(url, headers={"Authorization": f"Bearer {key}"}, timeout=60.0)
    except httpx.HTTPError as exc:
        fail(f"the node is not reachable ({exc}); is `allmende serve` running?")
    if response.status_code >= 400:
        fail(
            response.json().get("error", response.text)
            if response.content
            else f"HTTP {response.status_code}"
        )
    if output is None:
        typer.echo(response.text, nl=False)
    else:
        output.write_bytes(response.content)


@app.command("release")
def release(job_id: str, data_dir: Path = DataDirOption, as_json: bool = JsonOption) -> None:
    """Release a reviewed result to the consumer."""
    _show([call_api(data_dir, "POST", f"/api/v1/compute/jobs/{job_id}/release")], as_json)


@app.command("reject")
def reject(
    job_id: str,
    reason: str = typer.Option(..., "--reason", help="Why (the consumer is told)"),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Reject a job with the reason."""
    _show(
        [call_api(data_dir, "POST", f"/api/v1/compute/jobs/{job_id}/reject", body={"reason": reason})],
        as_json,
    )


@app.command("digest")
def digest(code_file: Path = CodeFileOption, kind: str = KindOption, as_json: bool = JsonOption) -> None:
    """The digest of an algorithm (what allow-lists and pre-approvals name); no node needed."""
    try:
        bundle = make_bundle(kind, _read_code(code_file), DEFAULT_RUNTIMES.get(kind, ""))
    except AlgorithmError as exc:
        fail(str(exc))
    if as_json:
        print_json({"digest": bundle.digest, "runtime": bundle.runtime})
    else:
        typer.echo(bundle.digest)


@app.command("approve")
def approve(
    digest_value: str = typer.Argument(..., metavar="DIGEST"),
    name: str = typer.Option(..., "--name"),
    note: str = typer.Option("", "--note"),
    data_dir: Path = DataDirOption,
) -> None:
    """Pre-approve an algorithm: its jobs release automatically once the gates pass."""
    call_api(
        data_dir,
        "POST",
        "/api/v1/compute/algorithms",
        body={"digest": digest_value, "name": name, "note": note},
    )
    typer.echo(f"pre-approved {digest_value}")


@app.command("algorithms")
def algorithms(data_dir: Path = DataDirOption, as_json: bool = JsonOption) -> None:
    """The pre-approved algorithms."""
    listed = call_api(data_dir, "GET", "/api/v1/compute/algorithms")
    if as_json:
        print_json(listed)
        return
    table = Table("digest", "name", "approved by", "note")
    for item in listed:
        table.add_row(item["digest"], item["name"], item["approvedBy"], item["note"])
    console.print(table)


@app.command("runtimes")
def runtimes(data_dir: Path = DataDirOption, as_json: bool = JsonOption) -> None:
    """The runtimes this node offers and whether each can run jobs."""
    listed = call_api(data_dir, "GET", "/api/v1/compute/runtimes")
    if as_json:
        print_json(listed)
        return
    for item in listed:
        typer.echo(
            f"{item['id']}: {'available' if item['available'] else 'not available: ' + item['reason']}"
        )
