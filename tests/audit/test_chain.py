"""The audit log detects edited, deleted and reordered entries (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, select, update

from allmende.audit import log as audit
from allmende.audit.records import AuditRecord
from allmende.store import migrate
from allmende.store.database import Database


def make_db(tmp_path: Path, database_url: str | None) -> Database:
    db = Database(database_url or f"sqlite:///{tmp_path / 'audit.db'}")
    migrate.upgrade(db)
    with db.transaction() as session:
        for i in range(5):
            audit.append(session, actor="did:web:a", event="test.event", subject=f"s{i}", detail={"i": i})
    return db


def verify(db: Database) -> audit.VerifyReport:
    with db.read() as session:
        return audit.verify(session)


def test_intact_chain_verifies(tmp_path: Path, database_url: str | None) -> None:
    db = make_db(tmp_path, database_url)
    report = verify(db)
    assert report.ok and report.entries == 5
    db.dispose()


def test_edited_entry_is_detected(tmp_path: Path, database_url: str | None) -> None:
    db = make_db(tmp_path, database_url)
    with db.transaction() as session:
        session.execute(update(AuditRecord).where(AuditRecord.seq == 3).values(detail={"i": 99}))
    report = verify(db)
    assert not report.ok
    assert [(p.seq, "modified" in p.reason) for p in report.problems] == [(3, True)]
    db.dispose()


def test_deleted_entry_is_detected(tmp_path: Path, database_url: str | None) -> None:
    db = make_db(tmp_path, database_url)
    with db.transaction() as session:
        session.execute(delete(AuditRecord).where(AuditRecord.seq == 2))
    report = verify(db)
    assert not report.ok
    assert any(p.seq == 3 and "gap" in p.reason for p in report.problems)
    db.dispose()


def test_reordered_entries_are_detected(tmp_path: Path, database_url: str | None) -> None:
    db = make_db(tmp_path, database_url)
    with db.transaction() as session:
        rows = {r.seq: r for r in session.execute(select(AuditRecord)).scalars()}
        two, four = rows[2], rows[4]
        fields = ("at", "actor", "event", "subject", "detail", "message_digest", "prev_hash", "entry_hash")
        swapped = {f: getattr(two, f) for f in fields}
        for f in fields:
            setattr(two, f, getattr(four, f))
            setattr(four, f, swapped[f])
    report = verify(db)
    assert not report.ok
    assert {p.seq for p in report.problems} >= {2, 4}
    db.dispose()


def test_appending_after_verification_continues_the_chain(tmp_path: Path, database_url: str | None) -> None:
    db = make_db(tmp_path, database_url)
    with db.transaction() as session:
        record = audit.append(session, actor="x", event="later")
    assert record.seq == 6
    assert verify(db).ok
    db.dispose()
