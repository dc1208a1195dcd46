"""`allmende user add | list | disable | enable`: users of the web interface from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import Result
from sqlalchemy import select
from typer.testing import CliRunner

from allmende.accounts import service as accounts
from allmende.accounts.setup_code import SETUP_CODE_FILE, setup_code
from allmende.audit.records import AuditRecord
from allmende.cli.main import app
from allmende.settings import load_settings
from allmende.store.database import Database

runner = CliRunner()
PASSWORD = "correct horse battery"


def init(tmp_path: Path) -> Path:
    data_dir = tmp_path / "node"
    result = runner.invoke(
        app, ["init", "--data-dir", str(data_dir), "--name", "Feinteile KG", "--url", "http://127.0.0.1:8521"]
    )
    assert result.exit_code == 0, result.output
    return data_dir


def users(data_dir: Path) -> list[dict[str, object]]:
    result = runner.invoke(app, ["user", "list", "--data-dir", str(data_dir), "--json"])
    assert result.exit_code == 0, result.output
    rows: list[dict[str, object]] = json.loads(result.output)
    return rows


def add(data_dir: Path, *args: str, stdin: str | None = None) -> Result:
    return runner.invoke(app, ["user", "add", "--data-dir", str(data_dir), *args], input=stdin)


def test_add_reads_the_password_from_a_file_and_the_user_can_log_in(tmp_path: Path) -> None:
    data_dir = init(tmp_path)
    setup_code(data_dir)
    secret = tmp_path / "password.txt"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    result = add(data_dir, "olga", "--role", "owner", "--name", "Olga Muster", "--password-file", str(secret))
    assert result.exit_code == 0, result.output
    assert "added olga (owner)" in result.output
    assert not (data_dir / SETUP_CODE_FILE).exists()  # the browser set-up is no longer needed
    [row] = users(data_dir)
    assert row["username"] == "olga" and row["name"] == "Olga Muster" and row["role"] == "owner"
    assert row["disabled"] is None
    db = Database(load_settings(data_dir, environ={}).effective_database_url)
    try:
        with db.transaction() as session:
            assert accounts.authenticate(session, "olga", PASSWORD) is not None
            entry = session.execute(
                select(AuditRecord).where(AuditRecord.event == "user.created")
            ).scalar_one()
            assert entry.subject == "olga" and entry.actor.startswith("owner (cli on ")
    finally:
        db.dispose()


def test_add_asks_for_the_password_twice_and_refuses_weak_ones(tmp_path: Path) -> None:
    data_dir = init(tmp_path)
    differ = add(
        data_dir, "max", "--role", "member", stdin=f"{PASSWORD}\nsomething else\n{PASSWORD}\n{PASSWORD}\n"
    )
    assert differ.exit_code == 0, differ.output
    assert "do not match" in differ.output
    weak = add(data_dir, "rita", "--role", "read", stdin="short\nshort\n")
    assert weak.exit_code == 1
    assert "too short: at least 10 characters" in weak.output
    assert "Traceback" not in weak.output
    assert [row["username"] for row in users(data_dir)] == ["max"]


def test_add_refuses_bad_names_roles_and_duplicates(tmp_path: Path) -> None:
    data_dir = init(tmp_path)
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD, encoding="utf-8")
    role = add(data_dir, "olga", "--role", "admin", "--password-file", str(secret))
    assert role.exit_code == 1 and "unknown role 'admin'" in role.output
    name = add(data_dir, "Olga Muster!", "--role", "owner", "--password-file", str(secret))
    assert name.exit_code == 1 and "username: 2 to 64 characters" in name.output
    assert add(data_dir, "olga", "--role", "owner", "--password-file", str(secret)).exit_code == 0
    again = add(data_dir, "olga", "--role", "member", "--password-file", str(secret))
    assert again.exit_code == 1 and "this user name is taken" in again.output
    missing = add(data_dir, "max", "--role", "member", "--password-file", str(tmp_path / "nope"))
    assert missing.exit_code == 1 and "cannot read the password file" in missing.output


def test_disable_and_enable_keep_the_last_owner(tmp_path: Path) -> None:
    data_dir = init(tmp_path)
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD, encoding="utf-8")
    for username, role in (("olga", "owner"), ("max", "member")):
        assert add(data_dir, username, "--role", role, "--password-file", str(secret)).exit_code == 0
    last = runner.invoke(app, ["user", "disable", "olga", "--data-dir", str(data_dir)])
    assert last.exit_code == 1
    assert "the last owner cannot be disabled" in last.output
    done = runner.invoke(app, ["user", "disable", "max", "--data-dir", str(data_dir)])
    assert done.exit_code == 0, done.output
    rows = {row["username"]: row for row in users(data_dir)}
    assert rows["max"]["disabled"] is not None and rows["olga"]["disabled"] is None
    back = runner.invoke(app, ["user", "enable", "max", "--data-dir", str(data_dir)])
    assert back.exit_code == 0, back.output
    assert all(row["disabled"] is None for row in users(data_dir))
    unknown = runner.invoke(app, ["user", "disable", "nobody", "--data-dir", str(data_dir)])
    assert unknown.exit_code == 1 and "no such user" in unknown.output
    verified = runner.invoke(app, ["audit", "verify", "--data-dir", str(data_dir), "--json"])
    assert json.loads(verified.output)["ok"] is True


def test_list_prints_a_table(tmp_path: Path) -> None:
    data_dir = init(tmp_path)
    empty = runner.invoke(app, ["user", "list", "--data-dir", str(data_dir)])
    assert empty.exit_code == 0 and "no users yet" in empty.output
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD, encoding="utf-8")
    add(data_dir, "olga", "--role", "owner", "--password-file", str(secret))
    table = runner.invoke(app, ["user", "list", "--data-dir", str(data_dir)])
    assert table.exit_code == 0 and "olga" in table.output and "owner" in table.output
