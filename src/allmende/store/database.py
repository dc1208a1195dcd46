"""One engine per node: SQLite (embedded default, one writer) or PostgreSQL (for scale).

Reads run concurrently. Writes go through :meth:`Database.transaction`; on SQLite a
process-wide lock makes them one writer at a time (``BEGIN IMMEDIATE``), so SQLite never
answers "database is locked" under load. PostgreSQL needs no lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool


class Database:
    """Owns the SQLAlchemy engine, the session factory and the SQLite writer lock."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.engine: Engine = self._create_engine(url, echo)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Write transactions flush ORM changes once, at commit (or where code flushes explicitly):
        # statements inside them do not see unflushed ORM changes, and do not pay for a flush each.
        self._write_sessions = sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self._write_lock = threading.RLock() if self.is_sqlite else None
        self._writer: Connection | None = None
        self._write_depth = 0

    @staticmethod
    def _create_engine(url: str, echo: bool) -> Engine:
        if url.startswith("sqlite"):
            kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
            if url in ("sqlite://", "sqlite:///:memory:"):
                raise ValueError("in-memory SQLite is not supported; give a file path")
            engine = create_engine(url, echo=echo, pool_size=8, max_overflow=16, **kwargs)

            @event.listens_for(engine, "connect")
            def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
                # Let SQLAlchemy not issue BEGIN itself; we issue BEGIN / BEGIN IMMEDIATE below.
                dbapi_connection.isolation_level = None
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.execute("PRAGMA busy_timeout=30000")
                cursor.close()

            @event.listens_for(engine, "begin")
            def _sqlite_begin(conn: Any) -> None:
                immediate = conn.info.get("allmende_write", False)
                # Straight on the driver's connection: through SQLAlchemy's execution path the BEGIN
                # cost more CPU than most statements of the transaction.
                conn.connection.dbapi_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")

            return engine
        if url.startswith("postgresql"):
            return create_engine(url, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True)
        raise ValueError(f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql+psycopg://...")

    @classmethod
    def sqlite_in(cls, folder: Path) -> Database:
        """The embedded default: ``allmende.db`` in the node's data folder."""
        return cls(f"sqlite:///{folder / 'allmende.db'}")

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; closed (not committed) at the end, loaded objects stay usable."""
        with self._sessions() as session:
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction: committed when the block ends, rolled back on any exception."""
        if self._write_lock is None:
            with self._write_sessions.begin() as session:
                yield session
            _run_after_commit(session)
            return
        with self._write_lock:
            # One connection serves every write transaction (they take turns under the lock), so a
            # write costs no pool checkout and no reset on return; a nested call gets its own.
            nested = self._write_depth > 0
            if nested:
                connection = self.engine.connect()
            else:
                if self._writer is None or self._writer.closed or self._writer.invalidated:
                    self._writer = self.engine.connect()
                connection = self._writer
            self._write_depth += 1
            connection.info["allmende_write"] = True  # read by the "begin" hook: BEGIN IMMEDIATE
            try:
                with self._write_sessions(bind=connection) as session:
                    try:
                        yield session
                        session.commit()
                    except BaseException:
                        session.rollback()
                        raise
                    _run_after_commit(session)
            finally:
                self._write_depth -= 1
                connection.info.pop("allmende_write", None)
                if nested or connection.invalidated:
                    connection.close()
                    if not nested:
                        self._writer = None

    def dispose(self) -> None:
        """Close every pooled connection."""
        if self._write_lock is not None:
            with self._write_lock:
                if self._writer is not None:
                    self._writer.close()
                    self._writer = None
        self.engine.dispose()


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` once the transaction of ``session`` has committed (not on rollback)."""
    callbacks: list[Callable[[], None]] = session.info.setdefault("after_commit", [])
    if callback not in callbacks:
        callbacks.append(callback)


def _run_after_commit(session: Session) -> None:
    for callback in session.info.pop("after_commit", []):
        callback()


def no_pool_engine(url: str) -> Engine:
    """An engine without pooling, for one-off tools (migrations, CLI inspection)."""
    return create_engine(url, poolclass=NullPool)
