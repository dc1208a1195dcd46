"""What provider and consumer of a transfer do alike.

Either party may suspend, complete or terminate a transfer; both answer GET on their pid; both
check that a message names the process of its path. The two role classes add what only they do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from sqlalchemy.orm import Session

from allmende.negotiation.states import Role
from allmende.transfer import messages
from allmende.transfer.process import TransferEnv, by_own_pid, end, move, problem, send, state_body
from allmende.transfer.records import TransferRecord
from allmende.transfer.states import TransferMessage


class TransferSide:
    """The messages and owner actions common to both roles; ``role`` is this node's role."""

    role: ClassVar[Role]

    def __init__(self, env: TransferEnv) -> None:
        self.env = env

    @property
    def other(self) -> Role:
        """The counterparty's role."""
        return Role.CONSUMER if self.role is Role.PROVIDER else Role.PROVIDER

    # --- the counterparty's messages ---------------------------------------------------------------

    def receive_suspension(
        self, session: Session, caller: str, pid: str, body: Mapping[str, Any], digest: str
    ) -> None:
        record = self.own(session, caller, pid, body)
        move(
            session,
            record,
            TransferMessage.SUSPENSION,
            self.other,
            actor=caller,
            digest=digest,
            detail={"reason": body.get("reason")},
        )

    def receive_completion(
        self, session: Session, caller: str, pid: str, body: Mapping[str, Any], digest: str
    ) -> None:
        record = self.own(session, caller, pid, body)
        move(session, record, TransferMessage.COMPLETION, self.other, actor=caller, digest=digest)

    def receive_termination(
        self, session: Session, caller: str, pid: str, body: Mapping[str, Any], digest: str
    ) -> None:
        record = self.own(session, caller, pid, body)
        reasons = [str(r) for r in body.get("reason") or []]
        move(
            session,
            record,
            TransferMessage.TERMINATION,
            self.other,
            actor=caller,
            digest=digest,
            detail={"reason": reasons},
        )
        record.termination_reason = f"terminated by the {self.other.value}: " + (
            "; ".join(reasons) or "no reason given"
        )

    def state(self, session: Session, caller: str, pid: str) -> dict[str, Any]:
        """GET on our pid."""
        return state_body(by_own_pid(session, self.role, pid, caller))

    # --- the owner's control ---------------------------------------------------------------------------

    def suspend(self, session: Session, record: TransferRecord, reason: str, actor: str) -> None:
        move(session, record, TransferMessage.SUSPENSION, self.role, actor=actor, detail={"reason": reason})
        send(
            session,
            self.env,
            record,
            TransferMessage.SUSPENSION,
            "suspension",
            messages.transfer_suspension(
                provider_pid=record.provider_pid or "", consumer_pid=record.consumer_pid or "", reason=reason
            ),
        )

    def complete(self, session: Session, record: TransferRecord, actor: str) -> None:
        move(session, record, TransferMessage.COMPLETION, self.role, actor=actor)
        send(
            session,
            self.env,
            record,
            TransferMessage.COMPLETION,
            "completion",
            messages.transfer_completion(
                provider_pid=record.provider_pid or "", consumer_pid=record.consumer_pid or ""
            ),
        )

    def terminate(self, session: Session, record: TransferRecord, reason: str, actor: str) -> None:
        end(session, self.env, record, self.role, reason, actor)

    # --- checks -------------------------------------------------------------------------------------------

    def own(self, session: Session, caller: str, pid: str, body: Mapping[str, Any]) -> TransferRecord:
        """Our process ``pid`` of ``caller``; the body must name it (our pid) and the caller's pid."""
        record = by_own_pid(session, self.role, pid, caller)
        ours, theirs = (
            ("providerPid", "consumerPid") if self.role is Role.PROVIDER else ("consumerPid", "providerPid")
        )
        if body.get(ours) not in (None, pid):
            raise problem(400, f"{ours} in the message is not the one in the path", record)
        their_pid = body.get(theirs)
        known = record.consumer_pid if self.role is Role.PROVIDER else record.provider_pid
        if known is None and self.role is Role.CONSUMER and isinstance(their_pid, str):
            record.provider_pid = their_pid  # a consumer learns the provider's pid from its first message
        elif their_pid not in (None, known):
            raise problem(400, f"{theirs} does not match this transfer", record)
        return record
