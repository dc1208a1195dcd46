"""Inspection commands that read the node's own database (they work while the node is stopped too)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from allmende.api.views import agreement_view, negotiation_view
from allmende.audit import log as audit
from allmende.cli.context import DataDirOption, JsonOption, call_api, database, fail, print_json
from allmende.negotiation.records import AgreementRecord, NegotiationRecord

audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
console = Console()


def negotiations(
    data_dir: Path = DataDirOption,
    state: str = typer.Option(None, "--state", help="Only negotiations in this state."),
    as_json: bool = JsonOption,
) -> None:
    """List negotiations (both roles), newest first."""
    with database(data_dir) as db, db.read() as session:
        query = select(NegotiationRecord).order_by(NegotiationRecord.created_at.desc())
        if state:
            query = query.where(NegotiationRecord.state == state.upper())
        rows = [negotiation_view(r) for r in session.execute(query).scalars()]
    if as_json:
        print_json(rows)
        return
    table = Table(title="Negotiations")
    for column in ("id", "role", "state", "counterparty", "review", "note"):
        table.add_column(column)
    for row in rows:
        note = row["terminationReason"] or (row["reviewNote"] if row["reviewPending"] else "") or ""
        table.add_row(
            row["id"],
            row["role"],
            row["state"],
            row["counterparty"],
            "yes" if row["reviewPending"] else "",
            note,
        )
    console.print(table)


def agreements(data_dir: Path = DataDirOption, as_json: bool = JsonOption) -> None:
    """List contract agreements with both parties' signatures."""
    with database(data_dir) as db, db.read() as session:
        rows = [
            agreement_view(r)
            for r in session.execute(
                select(AgreementRecord).order_by(AgreementRecord.signed_at.desc())
            ).scalars()
        ]
    if as_json:
        print_json(rows)
        return
    table = Table(title="Agreements")
    for column in ("id", "role", "provider", "consumer", "target", "finalized", "signed by"):
        table.add_column(column)
    for row in rows:
        signed = [
            who
            for who, key in (("provider", "providerSignature"), ("consumer", "consumerSignature"))
            if row[key]
        ]
        table.add_row(
            row["id"],
            row["role"],
            row["provider"],
            row["consumer"],
            row["target"],
            row["finalized"] or "",
            ", ".join(signed),
        )
    console.print(table)


def review(
    negotiation_id: str = typer.Argument(None, help="Decide this negotiation (omit to list the queue)."),
    agree: bool = typer.Option(False, "--agree", help="Agree to the request."),
    decline: str = typer.Option(None, "--decline", help="Decline with this reason."),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """The review queue: list requests waiting for you, or agree / decline one (node must be running)."""
    if negotiation_id is None:
        rows = call_api(data_dir, "GET", "/api/v1/negotiations/review-queue")
        if as_json:
            print_json(rows)
            return
        for row in rows:
            console.print(f"{row['id']}  {row['role']}  {row['counterparty']}")
            console.print(f"    offer {row['offerId']}: {row['reviewNote']}")
        if not rows:
            console.print("nothing waits for your review")
        return
    if agree == (decline is not None):
        fail("say either --agree or --decline REASON")
    if agree:
        result = call_api(data_dir, "POST", f"/api/v1/negotiations/{negotiation_id}/agree")
    else:
        result = call_api(
            data_dir, "POST", f"/api/v1/negotiations/{negotiation_id}/decline", body={"reason": decline}
        )
    if as_json:
        print_json(result)
    else:
        console.print(f"negotiation {result['id']}: {result['state']}")


@audit_app.command("verify")
def verify(data_dir: Path = DataDirOption, as_json: bool = JsonOption) -> None:
    """Check the audit log's hash chain; exits 1 when an entry was edited, deleted or reordered."""
    with database(data_dir) as db, db.read() as session:
        report = audit.verify(session)
    result = {
        "ok": report.ok,
        "entries": report.entries,
        "problems": [{"seq": p.seq, "reason": p.reason} for p in report.problems],
    }
    if as_json:
        print_json(result)
    elif report.ok:
        console.print(f"[green]audit log intact[/green]: {report.entries} entries verified")
    else:
        console.print(
            f"[red]audit log damaged[/red]: {len(report.problems)} problem(s) in {report.entries} entries"
        )
        for problem in report.problems:
            console.print(f"  entry {problem.seq}: {problem.reason}")
    if not report.ok:
        raise typer.Exit(1)
