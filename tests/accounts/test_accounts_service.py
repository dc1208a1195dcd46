"""Accounts and log-in sessions on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from allmende.accounts import service
from allmende.accounts.passwords import hash_password, verify_password
from allmende.accounts.records import WebSessionRecord
from allmende.audit import log as audit
from allmende.store import migrate
from allmende.store.database import Database

PASSWORD = "correct horse battery"


@pytest.fixture
def db(tmp_path: Path, database_url: str | None) -> Iterator[Database]:
    database = Database(database_url or f"sqlite:///{tmp_path / 'a.db'}")
    migrate.upgrade(database)
    yield database
    database.dispose()


def _add(db: Database, username: str, role: str = "owner") -> str:
    with db.transaction() as session:
        return service.create_user(
            session, username=username, display_name=username, password=PASSWORD, role=role, actor="test"
        ).id


def test_create_authenticate_and_session(db: Database) -> None:
    _add(db, " Olga ")
    with db.transaction() as session:
        assert service.authenticate(session, "olga", "wrong password!") is None
        assert service.authenticate(session, "nobody", PASSWORD) is None
        user = service.authenticate(session, "OLGA", PASSWORD)
        assert user is not None and user.username == "olga"
        secret = service.open_session(session, user, timedelta(hours=1))
    with db.read() as session:
        signed = service.signed_in(session, secret)
        assert signed is not None and signed.username == "olga" and signed.role == "owner"
        assert service.signed_in(session, secret + "x") is None
        assert session.get(WebSessionRecord, secret) is None  # only the hash is stored
        assert audit.verify(session).ok


def test_expired_sessions_and_disabled_users_are_refused(db: Database) -> None:
    _add(db, "olga")
    member = _add(db, "max", "member")
    with db.transaction() as session:
        user = service.authenticate(session, "max", PASSWORD)
        assert user is not None
        secret = service.open_session(session, user, timedelta(hours=1))
        short = service.open_session(session, user, timedelta(seconds=-1))
    with db.read() as session:
        assert service.signed_in(session, short) is None
        assert service.signed_in(session, secret) is not None
    with db.transaction() as session:
        service.set_disabled(session, member, True, actor="olga")
    with db.transaction() as session:
        assert service.signed_in(session, secret) is None
        assert service.authenticate(session, "max", PASSWORD) is None


def test_duplicate_names_and_weak_passwords_name_their_fields(db: Database) -> None:
    _add(db, "olga")
    with db.transaction() as session, pytest.raises(service.AccountError) as caught:
        service.create_user(
            session, username="olga", display_name="", password="short", role="boss", actor="test"
        )
    fields = {problem.field for problem in caught.value.problems}
    assert fields == {"password", "role", "display_name"}
    with db.transaction() as session, pytest.raises(service.AccountError) as taken:
        service.create_user(
            session, username="olga", display_name="O", password=PASSWORD, role="owner", actor="test"
        )
    assert taken.value.problems[0].field == "username"


def test_the_last_owner_cannot_be_disabled(db: Database) -> None:
    owner = _add(db, "olga")
    with db.transaction() as session, pytest.raises(service.AccountError):
        service.set_disabled(session, owner, True, actor="olga")
    second = _add(db, "otto")
    with db.transaction() as session:
        service.set_disabled(session, second, True, actor="olga")
    with db.read() as session:
        assert service.user_count(session) == 2


def test_password_hashes_are_argon2id_and_salted() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first.startswith("$argon2id$") and first != second
    assert verify_password(first, PASSWORD)
    assert not verify_password(first, PASSWORD + "!")
    assert not verify_password(None, PASSWORD)
    assert not verify_password("not a hash", PASSWORD)
