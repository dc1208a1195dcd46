"""Reading and writing negotiations and agreements (the caller owns the session and its transaction).

Every DSP message runs one write transaction that reads a negotiation, changes a few fields and
perhaps adds an agreement. Through the ORM's unit of work that cost more CPU than everything else
in the transaction (~1.5 ms per transaction: identity map, attribute history, flush planning), so
this module does the same with Core statements (on the session's connection: the ORM session's own
``execute`` adds ~15 % per statement), keeping the ORM's semantics:

- rows are read into record objects (``NegotiationRecord``, ``AgreementRecord``) that belong to no
  session; within one session, reading the same row again gives the same object (as the identity
  map did), so changes made through one reference are seen through the others;
- new records are inserted at once (:func:`add_negotiation`, :func:`add_agreement`), so constraint
  violations surface where they happen, as the explicit flush did before;
- the fields of tracked records that changed are written by one ``UPDATE`` per record just before
  the session commits (as the ORM flushed at commit); a rollback writes nothing.

A record's fields are plain values: assign new values (as the services do), never mutate a stored
JSON dict in place (the ORM did not notice that either).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from sqlalchemy import RowMapping, Select, Table, bindparam, event, insert, inspect, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from allmende.negotiation.records import AgreementRecord, NegotiationRecord
from allmende.negotiation.states import Role
from allmende.protocol.problems import not_found
from allmende.store.base import Base, table_of

R = TypeVar("R", NegotiationRecord, AgreementRecord)

_TRACKED = "allmende_negotiation_rows"  # session.info key of the Tracked rows
Tracked = dict[tuple[str, str], tuple[Any, dict[str, Any]]]
"""(table name, id) -> (record object, the values stored for it) of the rows a session read or added."""


class _Kind:
    """What this module needs to know about one record class, computed once."""

    def __init__(self, record: type[Base]) -> None:
        self.table: Table = table_of(record)
        self.manager = inspect(record).class_manager
        self.columns = tuple(column.name for column in self.table.c)
        # Python-side scalar defaults (review_pending=False), for fields a new record leaves unset.
        self.defaults = {
            column.name: column.default.arg
            for column in self.table.c
            if isinstance(column.default, ScalarElementColumnDefault)
        }
        self.insert = insert(self.table)
        # Without .values(), the SET clause is made of the parameters given (the changed columns).
        self.update = update(self.table).where(self.table.c.id == bindparam("row_id"))
        self.by_id = select(self.table).where(self.table.c.id == bindparam("row_id"))


_NEGOTIATION = _Kind(NegotiationRecord)
NEGOTIATION_TABLE = _NEGOTIATION.table
"""The negotiation table, to build the ``select`` for :func:`negotiations`."""
_AGREEMENT = _Kind(AgreementRecord)
_KINDS: dict[type[Base], _Kind] = {NegotiationRecord: _NEGOTIATION, AgreementRecord: _AGREEMENT}

# Built once: constructing a statement costs more CPU than executing it (the SQL is cached either way).
_N = _NEGOTIATION.table.c
_BY_OWN_PID = {
    role: select(_NEGOTIATION.table).where(
        _N.role == role.value,
        (_N.provider_pid if role is Role.PROVIDER else _N.consumer_pid) == bindparam("pid"),
    )
    for role in Role
}
_BY_COUNTERPARTY_PID = {
    role: select(_NEGOTIATION.table).where(
        _N.role == role.value,
        (_N.consumer_pid if role is Role.PROVIDER else _N.provider_pid) == bindparam("pid"),
        _N.counterparty_did == bindparam("caller"),
    )
    for role in Role
}
_LEARN_PROVIDER_PID = (
    update(_NEGOTIATION.table)
    .where(_N.id == bindparam("row_id"), _N.provider_pid.is_(None))
    .values(provider_pid=bindparam("pid"))
)


# --- reading ------------------------------------------------------------------------------------------


def by_own_pid(session: Session, role: Role, pid: str, caller_did: str) -> NegotiationRecord:
    """The process ``pid`` (our pid in ``role``), if ``caller_did`` is its counterparty; else 404.

    A process the caller is not a party of is answered exactly like an unknown one.
    """
    record = _one(session, NegotiationRecord, _BY_OWN_PID[role], {"pid": pid})
    if record is None or record.counterparty_did != caller_did:
        pids = {"provider_pid": pid} if role is Role.PROVIDER else {"consumer_pid": pid}
        raise not_found(f"no contract negotiation {pid}", **pids)
    return record


def by_counterparty_pid(session: Session, role: Role, pid: str, caller_did: str) -> NegotiationRecord | None:
    """Our process in ``role`` that the counterparty knows as ``pid`` (for idempotent initial messages)."""
    return _one(session, NegotiationRecord, _BY_COUNTERPARTY_PID[role], {"pid": pid, "caller": caller_did})


def get(session: Session, negotiation_id: str) -> NegotiationRecord | None:
    """A negotiation by our id."""
    return _by_id(session, NegotiationRecord, negotiation_id)


def agreement_of(session: Session, record: NegotiationRecord) -> AgreementRecord | None:
    """The agreement of a negotiation, once there is one."""
    if record.agreement_id is None:
        return None
    return _by_id(session, AgreementRecord, record.agreement_id)


def negotiations(session: Session, statement: Select[Any]) -> list[NegotiationRecord]:
    """The negotiations a Core ``select`` of the negotiation table finds, as records for reading.

    Listing many rows through the ORM built an instance state per row; these records are plain
    objects filled straight from the rows, not tracked by the session (changes to them are not written).
    """
    make = _NEGOTIATION.manager.new_instance
    found: list[NegotiationRecord] = []
    for row in session.connection().execute(statement).mappings():
        record = cast(NegotiationRecord, make())
        record.__dict__.update(row)
        found.append(record)
    return found


# --- writing ------------------------------------------------------------------------------------------


def add_negotiation(session: Session, record: NegotiationRecord) -> NegotiationRecord:
    """Insert a new negotiation now; later changes to ``record`` are written at commit."""
    return _add(session, record)


def add_agreement(session: Session, record: AgreementRecord) -> AgreementRecord:
    """Insert a new agreement now; later changes to ``record`` are written at commit."""
    return _add(session, record)


def learn_provider_pid(session: Session, negotiation_id: str, provider_pid: str) -> None:
    """Set the provider's pid of a negotiation that has none yet (one UPDATE; no read)."""
    known = session.info.get(_TRACKED, {}).get((_NEGOTIATION.table.name, negotiation_id))
    if known is None:
        session.connection().execute(_LEARN_PROVIDER_PID, {"row_id": negotiation_id, "pid": provider_pid})
    elif known[0].provider_pid is None:
        known[0].provider_pid = provider_pid


def write_changes(session: Session) -> None:
    """Write the changed fields of every record read or added in ``session`` (one UPDATE per record).

    Runs by itself just before the session commits; calling it earlier (e.g. before a query that must
    see the changes) is harmless: what it wrote counts as stored.
    """
    tracked: Tracked = session.info.get(_TRACKED, {})
    for record, stored in tracked.values():
        kind = _KINDS[type(record)]
        current = record.__dict__
        changes = {name: current[name] for name in kind.columns if current.get(name) != stored[name]}
        if changes:
            session.connection().execute(kind.update, {**changes, "row_id": stored["id"]})
            stored.update(changes)


# --- internals ----------------------------------------------------------------------------------------


def _one(session: Session, cls: type[R], statement: Any, params: Mapping[str, Any]) -> R | None:
    row = session.connection().execute(statement, params).mappings().one_or_none()
    return None if row is None else _adopt(session, cls, row)


def _by_id(session: Session, cls: type[R], row_id: str) -> R | None:
    kind = _KINDS[cls]
    known = session.info.get(_TRACKED, {}).get((kind.table.name, row_id))
    if known is not None:
        record: R = known[0]
        return record
    return _one(session, cls, kind.by_id, {"row_id": row_id})


def _adopt(session: Session, cls: type[R], row: RowMapping) -> R:
    """The record object for a row just read: the one this session already has, or a new one."""
    kind = _KINDS[cls]
    tracked = _tracked(session)
    known = tracked.get((kind.table.name, row["id"]))
    if known is not None:
        existing: R = known[0]
        return existing
    # As the ORM's loader builds objects: no __init__, values straight into the instance dict.
    record: R = cast(R, kind.manager.new_instance())
    values = dict(row)
    record.__dict__.update(values)
    tracked[(kind.table.name, row["id"])] = (record, values)
    return record


def _add(session: Session, record: R) -> R:
    kind = _KINDS[type(record)]
    current = record.__dict__
    for name, default in kind.defaults.items():
        if current.get(name) is None:
            setattr(record, name, default)
    values = {name: current.get(name) for name in kind.columns}
    session.connection().execute(kind.insert, values)
    _tracked(session)[(kind.table.name, str(values["id"]))] = (record, values.copy())
    return record


def _tracked(session: Session) -> Tracked:
    tracked: Tracked | None = session.info.get(_TRACKED)
    if tracked is None:
        tracked = session.info[_TRACKED] = {}
        event.listen(session, "before_commit", write_changes)
    return tracked
