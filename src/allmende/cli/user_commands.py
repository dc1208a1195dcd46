"""The web interface's users: add, list, disable and enable them from the command line.

These commands work on the node's database directly, so they also work while the node is stopped —
e.g. to let an owner in again who forgot the password, or to create the first owner without the
browser set-up.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from allmende.accounts import service as accounts
from allmende.accounts import setup_code
from allmende.accounts.rules import ROLES, FieldProblem, check_password
from allmende.cli.context import DataDirOption, JsonOption, database, fail, print_json, settings_for
from allmende.clock import isoformat

app = typer.Typer(help="Users of the web interface and their roles.", no_args_is_help=True)
console = Console()


def _actor(data_dir: Path) -> str:
    return f"owner (cli on {settings_for(data_dir).data_dir})"


def _password(password_file: Path | None, username: str) -> str:
    """The password from the file's first line, or asked for twice; a weak one ends the command."""
    if password_file is not None:
        try:
            lines = password_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"cannot read the password file {password_file}: {exc}")
        password = lines[0].strip() if lines else ""
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True).strip()
    problem = check_password(password, username=username.strip().lower())
    if problem is not None:
        fail(f"password {problem.message}")
    return password


@app.command("add")
def add(
    username: str = typer.Argument(..., help="The log-in name: lower-case letters, digits, '.', '-', '_'."),
    role: str = typer.Option(..., "--role", help=f"One of {', '.join(ROLES)}."),
    name: str = typer.Option(None, "--name", help="Display name (default: the user name)."),
    password_file: Path = typer.Option(
        None, "--password-file", help="Read the password from this file's first line instead of asking."
    ),
    data_dir: Path = DataDirOption,
) -> None:
    """Add a user; the password is asked for twice or read from --password-file, never an argument."""
    if role not in ROLES:
        fail(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    password = _password(password_file, username)
    actor = _actor(data_dir)
    with database(data_dir) as db:
        try:
            with db.transaction() as session:
                user = accounts.create_user(
                    session,
                    username=username,
                    display_name=name or username,
                    password=password,
                    role=role,
                    actor=actor,
                )
                created = (user.username, user.role)
        except accounts.AccountError as exc:
            fail("; ".join(f"{p.field}: {p.message}" for p in exc.problems))
    setup_code.forget(settings_for(data_dir).data_dir)  # the node has a user now: no set-up any more
    console.print(f"added {created[0]} ({created[1]})")


@app.command("list")
def list_users(data_dir: Path = DataDirOption, as_json: bool = JsonOption) -> None:
    """The users with their roles and whether they are disabled."""
    with database(data_dir) as db, db.read() as session:
        rows = [
            {
                "username": user.username,
                "name": user.display_name,
                "role": user.role,
                "created": isoformat(user.created_at),
                "disabled": isoformat(user.disabled_at) if user.disabled_at else None,
            }
            for user in accounts.list_users(session)
        ]
    if as_json:
        print_json(rows)
        return
    table = Table(title="Users")
    for column in ("username", "name", "role", "created", "disabled"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["username"], row["name"], row["role"], row["created"], row["disabled"] or "")
    console.print(table)
    if not rows:
        console.print("no users yet: add one with `allmende user add USERNAME --role owner`")


def _set_disabled(data_dir: Path, username: str, disabled: bool) -> None:
    actor = _actor(data_dir)
    with database(data_dir) as db:
        try:
            with db.transaction() as session:
                user = accounts.user_by_name(session, username)
                if user is None:
                    raise accounts.AccountError([FieldProblem("user", "no such user")])
                accounts.set_disabled(session, user.id, disabled, actor)
        except accounts.AccountError as exc:
            fail(f"{username}: " + "; ".join(p.message for p in exc.problems))


@app.command("disable")
def disable(username: str, data_dir: Path = DataDirOption) -> None:
    """Disable a user: their log-in sessions end and they cannot log in (the last owner stays)."""
    _set_disabled(data_dir, username, True)
    console.print(f"disabled {username}")


@app.command("enable")
def enable(username: str, data_dir: Path = DataDirOption) -> None:
    """Let a disabled user log in again."""
    _set_disabled(data_dir, username, False)
    console.print(f"enabled {username}")
