"""Rotating the node's signing key at run time, recorded in the audit log."""

from __future__ import annotations

from sqlalchemy.orm import Session

from allmende.audit import log as audit
from allmende.identity.keys import KeyStore, NodeKey

KEY_ROTATED = "identity.key_rotated"


def rotate_key(session: Session, keys: KeyStore, did: str, actor: str) -> NodeKey:
    """Make a new key the active one, in the caller's transaction; older keys stay for verification.

    Everything that signs reads ``keys.active`` when it signs, and the DID document is built from
    ``keys.all()`` per request, so new tokens and agreement signatures use the new key at once and
    peers find it in the served document. The audit entry is written first: if the rotation fails,
    the transaction rolls back and nothing changed.
    """
    previous = keys.active.key_id
    audit.append(
        session,
        actor=actor,
        event=KEY_ROTATED,
        subject=did,
        detail={"previous": f"{did}#{previous}", "active": f"{did}#{keys.next_key_id()}"},
    )
    return keys.rotate()
