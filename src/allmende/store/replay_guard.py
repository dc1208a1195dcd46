"""A replay guard in the database, shared by every worker process of a PostgreSQL deployment."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from allmende.clock import utcnow
from allmende.store.database import Database
from allmende.store.replay_records import SeenTokenRecord


class DatabaseReplayGuard:
    """Remembers accepted token ids in ``seen_tokens`` until they expire."""

    def __init__(self, database: Database, prune_every: int = 500) -> None:
        self._db = database
        self._prune_every = prune_every
        self._count = 0

    def check_and_remember(self, jti: str, issuer: str, expires_at: datetime) -> bool:
        """False when ``jti`` of ``issuer`` was seen before (a replay); otherwise remember it."""
        key = f"{issuer}|{jti}"[:200]
        try:
            with self._db.transaction() as session:
                session.add(SeenTokenRecord(jti=key, issuer=issuer, expires_at=expires_at))
        except IntegrityError:
            return False
        self._count += 1
        if self._count % self._prune_every == 0:
            with self._db.transaction() as session:
                session.execute(delete(SeenTokenRecord).where(SeenTokenRecord.expires_at < utcnow()))
        return True
