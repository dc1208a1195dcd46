"""API keys: created at ``init`` (admin and read-only), stored as hashes, checked on every API call."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from allmende.api.records import ApiKeyRecord
from allmende.clock import utcnow
from allmende.ttl_cache import TtlCache

ROLES = ("admin", "read")
PREFIX = "alm"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_key(session: Session, name: str, role: str) -> str:
    """Create a key and return it in full (``alm_<id>_<secret>``); only its hash is stored."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    session.add(ApiKeyRecord(id=key_id, name=name, role=role, key_hash=_hash(secret), created_at=utcnow()))
    return f"{PREFIX}_{key_id}_{secret}"


def role_of(session: Session, presented: str) -> str | None:
    """The role of a presented key, or None when it is unknown, malformed or revoked."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        return None
    record = session.execute(select(ApiKeyRecord).where(ApiKeyRecord.id == parts[1])).scalar_one_or_none()
    if record is None or record.revoked_at is not None:
        return None
    if not hmac.compare_digest(record.key_hash, _hash(parts[2])):
        return None
    return record.role


class RoleCache(TtlCache[str, str]):
    """Roles of keys seen recently, so that not every API call costs a database round trip.

    Keyed by the key's hash; only valid keys are put in (unknown keys cannot fill it). A key revoked
    in the database stops working within ``ttl_seconds``.
    """

    def __init__(self, ttl_seconds: float = 30.0) -> None:
        super().__init__(ttl_seconds)

    def role(self, presented: str) -> str | None:
        """The cached role of ``presented``, or None."""
        return self.get(_hash(presented))

    def remember(self, presented: str, role: str) -> None:
        """Remember a verified key's role."""
        self.put(_hash(presented), role)
