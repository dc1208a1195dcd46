"""SQLite write transactions share one connection: rollbacks, a broken connection and dispose."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from allmende.store.database import Database


def _db(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    with db.transaction() as session:
        session.execute(text("CREATE TABLE t (v INTEGER)"))
    return db


def _values(db: Database) -> list[int]:
    with db.read() as session:
        return [int(v) for v in session.execute(text("SELECT v FROM t ORDER BY v")).scalars()]


def test_a_failed_transaction_writes_nothing_and_the_next_one_works(tmp_path: Path) -> None:
    db = _db(tmp_path)
    with pytest.raises(RuntimeError), db.transaction() as session:
        session.execute(text("INSERT INTO t VALUES (1)"))
        raise RuntimeError("boom")
    with db.transaction() as session:
        session.execute(text("INSERT INTO t VALUES (2)"))
    assert _values(db) == [2]
    db.dispose()


def test_a_broken_writer_connection_is_replaced(tmp_path: Path) -> None:
    db = _db(tmp_path)
    with pytest.raises(RuntimeError), db.transaction() as session:
        session.connection().invalidate()
        raise RuntimeError("connection lost")
    with db.transaction() as session:
        session.execute(text("INSERT INTO t VALUES (3)"))
    assert _values(db) == [3]
    db.dispose()


def test_dispose_closes_the_writer_and_a_later_write_opens_a_new_one(tmp_path: Path) -> None:
    db = _db(tmp_path)
    db.dispose()
    with db.transaction() as session:
        session.execute(text("INSERT INTO t VALUES (4)"))
    assert _values(db) == [4]
    db.dispose()
