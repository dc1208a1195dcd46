"""How services send a message to a peer: into the outbox, in their own transaction.

The message is sent only if that transaction commits. When the node's sender runs, the message is
written already claimed and handed to the sender right after the commit, so it goes out at once;
otherwise the sender's loop finds it in the outbox (e.g. after a restart).
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy.orm import Session

from allmende.clock import utcnow
from allmende.messaging import outbox
from allmende.messaging.records import OutboxRecord
from allmende.store.database import after_commit


class Dispatcher(Protocol):
    """The outbox sender as the postbox sees it."""

    def handoff_lease(self) -> float: ...

    def handoff(self, record: OutboxRecord) -> None: ...

    def wake(self) -> None: ...


class Postbox:
    """Queues messages for one node; ``dispatcher`` is its sender, attached once it exists."""

    def __init__(self, deadline_seconds: float, dispatcher: Dispatcher | None = None) -> None:
        self.deadline_seconds = deadline_seconds
        self.dispatcher = dispatcher

    def send(
        self,
        session: Session,
        *,
        process_id: str,
        audience_did: str,
        kind: str,
        url: str,
        body: dict[str, Any],
        token_claims: dict[str, Any] | None = None,
    ) -> None:
        """Queue ``body`` for ``url`` in the caller's transaction."""
        dispatcher = self.dispatcher
        claimed_for = dispatcher.handoff_lease() if dispatcher is not None else 0.0
        message = outbox.enqueue(
            session,
            process_id=process_id,
            kind=kind,
            url=url,
            audience_did=audience_did,
            body=body,
            now=utcnow(),
            deadline_seconds=self.deadline_seconds,
            token_claims=token_claims,
            claimed_for=claimed_for,
        )
        if dispatcher is None:
            return
        if claimed_for:
            after_commit(session, lambda: dispatcher.handoff(message))
        else:
            after_commit(session, dispatcher.wake)
