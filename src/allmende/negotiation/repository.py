"""Look-ups of negotiations and agreements (the caller owns the session)."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from allmende.negotiation.records import AgreementRecord, NegotiationRecord
from allmende.negotiation.states import Role
from allmende.protocol.problems import not_found

# Built once: constructing an ORM select costs more CPU than executing it (the SQL is cached either way).
_BY_OWN_PID = {
    role: select(NegotiationRecord).where(
        NegotiationRecord.role == role.value,
        (NegotiationRecord.provider_pid if role is Role.PROVIDER else NegotiationRecord.consumer_pid)
        == bindparam("pid"),
    )
    for role in Role
}
_BY_COUNTERPARTY_PID = {
    role: select(NegotiationRecord).where(
        NegotiationRecord.role == role.value,
        (NegotiationRecord.consumer_pid if role is Role.PROVIDER else NegotiationRecord.provider_pid)
        == bindparam("pid"),
        NegotiationRecord.counterparty_did == bindparam("caller"),
    )
    for role in Role
}


def by_own_pid(session: Session, role: Role, pid: str, caller_did: str) -> NegotiationRecord:
    """The process ``pid`` (our pid in ``role``), if ``caller_did`` is its counterparty; else 404.

    A process the caller is not a party of is answered exactly like an unknown one.
    """
    record = session.execute(_BY_OWN_PID[role], {"pid": pid}).scalar_one_or_none()
    if record is None or record.counterparty_did != caller_did:
        pids = {"provider_pid": pid} if role is Role.PROVIDER else {"consumer_pid": pid}
        raise not_found(f"no contract negotiation {pid}", **pids)
    return record


def by_counterparty_pid(session: Session, role: Role, pid: str, caller_did: str) -> NegotiationRecord | None:
    """Our process in ``role`` that the counterparty knows as ``pid`` (for idempotent initial messages)."""
    statement = _BY_COUNTERPARTY_PID[role]
    return session.execute(statement, {"pid": pid, "caller": caller_did}).scalar_one_or_none()


def get(session: Session, negotiation_id: str) -> NegotiationRecord | None:
    """A negotiation by our id."""
    return session.get(NegotiationRecord, negotiation_id)


def agreement_of(session: Session, record: NegotiationRecord) -> AgreementRecord | None:
    """The agreement of a negotiation, once there is one."""
    if record.agreement_id is None:
        return None
    return session.get(AgreementRecord, record.agreement_id)
