"""The network from the command line: the directory this node runs (local, on its data folder) and
this node's memberships (through the running node's management API, like ``negotiate``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from allmende.cli.context import DataDirOption, JsonOption, call_api, database, fail, print_json, settings_for
from allmende.identity import KeyStore, did_from_url
from allmende.network import directory
from allmende.network.errors import NetworkError
from allmende.network.records import DirectoryEntryRecord
from allmende.settings import NodeSettings

directory_app = typer.Typer(
    help="The directory this node runs: applications and members.", no_args_is_help=True
)
membership_app = typer.Typer(help="This node's memberships in communities.", no_args_is_help=True)
console = Console()
ReasonOption = typer.Option(..., "--reason", help="Why (the applicant or member is told).")


@dataclass
class _LocalDirectory:
    """The directory's node as the CLI sees it: settings and keys from the data folder."""

    settings: NodeSettings
    did: str
    base_url: str
    keys: KeyStore

    @property
    def name(self) -> str:
        return str(self.settings.name)


def _local(data_dir: Path) -> _LocalDirectory:
    settings = settings_for(data_dir)
    if not settings.directory_enabled:
        fail("this node runs no directory (set directory_enabled to true)")
    base_url = str(settings.public_url).rstrip("/")
    return _LocalDirectory(
        settings, did_from_url(base_url), base_url, KeyStore.load(settings.data_dir / "keys")
    )


def _actor(data_dir: Path) -> str:
    return f"owner (cli on {settings_for(data_dir).data_dir})"


def _show(entries: list[DirectoryEntryRecord], as_json: bool) -> None:
    if as_json:
        print_json([directory.entry_view(entry) for entry in entries])
        return
    table = Table("id", "state", "name", "DID", "since / reason")
    for entry in entries:
        table.add_row(
            entry.id, entry.state, entry.name, entry.applicant_did, entry.reason or str(entry.received_at)
        )
    console.print(table)


@directory_app.command("applications")
def applications(
    state: str | None = typer.Option(None, "--state", help="pending, admitted, refused or revoked"),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """List the directory's applications and members."""
    with database(data_dir) as db, db.read() as session:
        try:
            _show(directory.list_entries(session, state), as_json)
        except NetworkError as error:
            fail(error.message)


def _decide(data_dir: Path, as_json: bool, action: str, entry_id: str, reason: str = "") -> None:
    local = _local(data_dir)
    actor = _actor(data_dir)
    with database(data_dir) as db:
        try:
            with db.transaction() as session:
                if action == "admit":
                    entry = directory.admit(session, local, entry_id, actor)
                elif action == "refuse":
                    entry = directory.refuse(session, entry_id, reason, actor)
                else:
                    entry = directory.revoke(session, entry_id, reason, actor)
                view = directory.entry_view(entry)
        except NetworkError as error:
            fail(error.message)
    if as_json:
        print_json(view)
    else:
        console.print(f"{view['name']} ({view['did']}): [bold]{view['state']}[/bold]")


@directory_app.command("admit")
def admit(entry_id: str, data_dir: Path = DataDirOption, as_json: bool = JsonOption) -> None:
    """Admit a pending applicant (issues its membership credential)."""
    _decide(data_dir, as_json, "admit", entry_id)


@directory_app.command("refuse")
def refuse(
    entry_id: str, reason: str = ReasonOption, data_dir: Path = DataDirOption, as_json: bool = JsonOption
) -> None:
    """Refuse a pending application."""
    _decide(data_dir, as_json, "refuse", entry_id, reason)


@directory_app.command("revoke")
def revoke(
    entry_id: str, reason: str = ReasonOption, data_dir: Path = DataDirOption, as_json: bool = JsonOption
) -> None:
    """Revoke a membership (its credential goes onto the revocation list)."""
    _decide(data_dir, as_json, "revoke", entry_id, reason)


@directory_app.command("members")
def members(data_dir: Path = DataDirOption, as_json: bool = JsonOption) -> None:
    """The member list as the directory publishes it."""
    local = _local(data_dir)
    with database(data_dir) as db, db.read() as session:
        view = directory.members_view(session, local)
    if as_json:
        print_json(view)
        return
    table = Table("DID", "name", "sector", "region", "since", title=str(view["name"]))
    for member in view["members"]:
        table.add_row(member["did"], member["name"], member["sector"], member["region"], member["since"])
    console.print(table)


def _show_memberships(values: list[dict[str, object]], as_json: bool) -> None:
    if as_json:
        print_json(values)
        return
    table = Table("id", "community", "state", "valid until / reason")
    for value in values:
        detail = value.get("reason") or value.get("validUntil") or ""
        table.add_row(
            str(value["id"]),
            f"{value['communityName']} ({value['community']})",
            str(value["state"]),
            str(detail),
        )
    console.print(table)


@membership_app.command("apply")
def apply(
    url: str = typer.Argument(..., help="The directory node's public URL."),
    message: str = typer.Option("", "--message", help="A note for the directory's operator."),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Apply to a community's directory (through the running node)."""
    body = {"directory_url": url, "message": message}
    _show_memberships([call_api(data_dir, "POST", "/api/v1/memberships", body=body)], as_json)


@membership_app.command("list")
def list_command(data_dir: Path = DataDirOption, as_json: bool = JsonOption) -> None:
    """This node's memberships and applications."""
    _show_memberships(call_api(data_dir, "GET", "/api/v1/memberships"), as_json)


@membership_app.command("refresh")
def refresh(
    membership_id: str | None = typer.Argument(
        None, help="One membership (default: all applied or admitted)."
    ),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Ask the directories about applications now (stores credentials of admitted ones)."""
    if membership_id is not None:
        ids = [membership_id]
    else:
        ids = [
            str(m["id"])
            for m in call_api(data_dir, "GET", "/api/v1/memberships")
            if m["state"] in ("applied", "admitted")
        ]
    _show_memberships([call_api(data_dir, "POST", f"/api/v1/memberships/{i}/refresh") for i in ids], as_json)
