"""Commands about transfers: pulling data under an agreement, and the owner's control of running ones."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from allmende.cli.context import DataDirOption, JsonOption, call_api, fail, print_json
from allmende.dataplane.download import DigestMismatch, DownloadError, download
from allmende.dataplane.progress import RichProgress
from allmende.transfer.messages import read_data_address

app = typer.Typer(
    help="Data transfers: pull data under an agreement, control running transfers.", no_args_is_help=True
)
console = Console()


@app.command("get")
def get(
    agreement_id: str = typer.Argument(
        ..., help="An agreement your node obtained (see `allmende agreements`)."
    ),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the file."),
    data_dir: Path = DataDirOption,
    wait: float = typer.Option(
        30.0, "--wait", help="Seconds to wait for the provider to start the transfer."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Pull the data of an agreement: progress bar, resume after a broken connection, digest check,
    the file appears under its name only when complete (your node must be running)."""
    started = call_api(data_dir, "POST", "/api/v1/transfers", body={"agreement_id": agreement_id})
    current = started
    deadline = time.monotonic() + wait
    while current["state"] == "REQUESTED" and time.monotonic() < deadline:
        time.sleep(0.2)
        current = call_api(data_dir, "GET", f"/api/v1/transfers/{started['id']}")
    if current["state"] != "STARTED" or not current.get("dataAddress"):
        reason = current.get("terminationReason") or f"the transfer is {current['state']}"
        fail(f"the provider did not start the transfer: {reason}")
    endpoint, token = read_data_address(current["dataAddress"])
    try:
        result = asyncio.run(_pull(endpoint, token, output))
    except DigestMismatch as exc:
        fail(f"the data arrived damaged and was discarded: {exc}")
    except DownloadError as exc:
        fail(f"download failed: {exc}")
    completed = call_api(data_dir, "POST", f"/api/v1/transfers/{started['id']}/complete")
    summary = {
        "transfer": completed,
        "file": str(output),
        "bytes": result.size,
        "sha256": result.sha256_hex,
        "resumed": result.resumed,
        "attempts": result.attempts,
    }
    if as_json:
        print_json(summary)
    else:
        console.print(f"saved {output} ({result.size} bytes, sha-256 {result.sha256_hex} verified)")


@app.command("push")
def push_command(
    agreement_id: str = typer.Argument(..., help="An agreement your node obtained."),
    endpoint: str = typer.Option(
        None,
        "--endpoint",
        help="Where the provider sends the data (default: your node, into DATA_DIR/received).",
    ),
    data_dir: Path = DataDirOption,
    wait: float = typer.Option(300.0, "--wait", help="Seconds to wait for the data to arrive."),
    as_json: bool = JsonOption,
) -> None:
    """Ask the provider to push the data (HttpData-PUSH). With --endpoint, the bearer token for it is read
    from standard input."""
    body: dict[str, Any] = {"agreement_id": agreement_id, "format": "HttpData-PUSH"}
    if endpoint:
        token = (
            sys.stdin.readline().strip() if not sys.stdin.isatty() else typer.prompt("token", hide_input=True)
        )
        body.update(push_endpoint=endpoint, push_token=token)
    started = call_api(data_dir, "POST", "/api/v1/transfers", body=body)
    current = started
    deadline = time.monotonic() + wait
    while current["state"] not in ("COMPLETED", "TERMINATED") and time.monotonic() < deadline:
        time.sleep(0.3)
        current = call_api(data_dir, "GET", f"/api/v1/transfers/{started['id']}")
    if as_json:
        print_json(current)
    elif current["state"] == "COMPLETED":
        where = current.get("receivedFile") or endpoint
        console.print(f"transfer {current['id']}: COMPLETED, {current['bytesServed']} bytes -> {where}")
    else:
        reason = current.get("terminationReason") or "still running"
        fail(f"transfer {current['id']} is {current['state']}: {reason}")


async def _pull(endpoint: str, token: str | None, output: Path) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=15.0)) as client:
        return await download(client, endpoint, output, headers=headers, progress=RichProgress(output.name))


@app.command("list")
def list_transfers(
    data_dir: Path = DataDirOption,
    state: str = typer.Option(None, "--state"),
    as_json: bool = JsonOption,
) -> None:
    """Transfers (both roles): who, which agreement, state, bytes served (node must be running)."""
    query = f"?state={state}" if state else ""
    rows = call_api(data_dir, "GET", f"/api/v1/transfers{query}")
    if as_json:
        print_json(rows)
        return
    table = Table(title="Transfers")
    for column in ("id", "role", "state", "counterparty", "agreement", "bytes served"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["id"],
            row["role"],
            row["state"],
            row["counterparty"],
            row["agreementId"],
            str(row["bytesServed"]),
        )
    console.print(table)


def _control(data_dir: Path, transfer_id: str, action: str, reason: str | None, as_json: bool) -> None:
    body = {"reason": reason} if reason is not None else None
    result = call_api(data_dir, "POST", f"/api/v1/transfers/{transfer_id}/{action}", body=body)
    if as_json:
        print_json(result)
    else:
        console.print(f"transfer {result['id']}: {result['state']}")


@app.command("suspend")
def suspend(
    transfer_id: str,
    reason: str = typer.Option(..., "--reason"),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Suspend a running transfer (its access token stops working until it is resumed)."""
    _control(data_dir, transfer_id, "suspend", reason, as_json)


@app.command("resume")
def resume(transfer_id: str, data_dir: Path = DataDirOption, as_json: bool = JsonOption) -> None:
    """Resume a suspended transfer."""
    _control(data_dir, transfer_id, "resume", None, as_json)


@app.command("terminate")
def terminate(
    transfer_id: str,
    reason: str = typer.Option(..., "--reason"),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """End a transfer for good."""
    _control(data_dir, transfer_id, "terminate", reason, as_json)
