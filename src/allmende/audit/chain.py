"""Pure rules of the hash-chained audit log: how an entry is hashed and how a chain is checked."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from allmende.canonical import canonical_json, sha256_hex
from allmende.clock import isoformat

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    """One audit event as it is hashed."""

    seq: int
    at: datetime
    actor: str
    event: str
    subject: str | None
    detail: dict[str, Any]
    message_digest: str | None
    prev_hash: str


def entry_hash(entry: AuditEntry) -> str:
    """sha-256 over the canonical JSON of every field of the entry (``prev_hash`` included)."""
    return sha256_hex(
        canonical_json(
            {
                "seq": entry.seq,
                "at": isoformat(entry.at),
                "actor": entry.actor,
                "event": entry.event,
                "subject": entry.subject,
                "detail": entry.detail,
                "message_digest": entry.message_digest,
                "prev_hash": entry.prev_hash,
            }
        )
    )


@dataclass(frozen=True)
class ChainProblem:
    """Where and why a chain does not verify."""

    seq: int
    reason: str


def verify_chain(entries: Iterable[tuple[AuditEntry, str]]) -> list[ChainProblem]:
    """Check a chain given in ``seq`` order as (entry, stored hash) pairs.

    Detects edited entries (hash mismatch), deleted or reordered entries (gaps in ``seq``,
    ``prev_hash`` not the previous entry's hash). Returns every problem found; empty = intact.
    """
    problems: list[ChainProblem] = []
    expected_prev = GENESIS_HASH
    expected_seq = 1
    for entry, stored_hash in entries:
        if entry.seq != expected_seq:
            problems.append(
                ChainProblem(entry.seq, f"sequence gap: expected entry {expected_seq}, found {entry.seq}")
            )
        if entry.prev_hash != expected_prev:
            problems.append(
                ChainProblem(entry.seq, "link broken: prev_hash is not the previous entry's hash")
            )
        actual = entry_hash(entry)
        if actual != stored_hash:
            problems.append(
                ChainProblem(entry.seq, "entry was modified: its content does not match its hash")
            )
        expected_prev = stored_hash
        expected_seq = entry.seq + 1
    return problems
