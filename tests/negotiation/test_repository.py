"""Negotiation and agreement rows without the ORM's unit of work: read, added, changed, rolled back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from allmende.clock import utcnow
from allmende.negotiation import repository
from allmende.negotiation.records import AgreementRecord, NegotiationRecord
from allmende.negotiation.states import Role
from allmende.protocol.problems import ProtocolProblem
from allmende.store import migrate
from allmende.store.database import Database

CONSUMER = "did:web:consumer.example"


@pytest.fixture
def db(tmp_path: Path, database_url: str | None) -> Iterator[Database]:
    database = Database(database_url or f"sqlite:///{tmp_path / 'negotiations.db'}")
    migrate.upgrade(database)
    yield database
    database.dispose()


def _negotiation(pid: str = "urn:uuid:p-1") -> NegotiationRecord:
    now = utcnow()
    return NegotiationRecord(
        id=pid,
        role=Role.PROVIDER.value,
        provider_pid=pid,
        consumer_pid="urn:uuid:c-1",
        state="REQUESTED",
        counterparty_did=CONSUMER,
        counterparty_address="https://consumer.example/dsp/callback",
        offer_id="offer-1",
        dataset_id="dataset-1",
        offer={"@id": "offer-1", "permission": [{"action": "use"}]},
        created_at=now,
        updated_at=now,
    )


def _stored(db: Database, pid: str) -> NegotiationRecord:
    """The row as the ORM reads it, in a session of its own."""
    with db.read() as session:
        return session.execute(select(NegotiationRecord).where(NegotiationRecord.id == pid)).scalar_one()


def test_an_added_record_is_stored_at_once_with_defaults_and_later_changes_at_commit(db: Database) -> None:
    with db.transaction() as session:
        record = repository.add_negotiation(session, _negotiation())
        assert record.review_pending is False  # the column default, as the ORM applied it
        with db.read() as other:  # a concurrent reader sees nothing before the commit
            assert other.get(NegotiationRecord, record.id) is None
        record.state = "AGREED"
        record.agreement_id = "urn:uuid:a-1"
    stored = _stored(db, "urn:uuid:p-1")
    assert (stored.state, stored.agreement_id, stored.review_pending) == ("AGREED", "urn:uuid:a-1", False)
    assert stored.offer == {"@id": "offer-1", "permission": [{"action": "use"}]}


def test_changes_to_a_read_record_are_written_and_a_rollback_writes_nothing(db: Database) -> None:
    with db.transaction() as session:
        repository.add_negotiation(session, _negotiation())
    with db.transaction() as session:
        record = repository.by_own_pid(session, Role.PROVIDER, "urn:uuid:p-1", CONSUMER)
        record.state = "VERIFIED"
        record.offer = {"@id": "offer-2"}
    with pytest.raises(RuntimeError), db.transaction() as session:
        record = repository.by_own_pid(session, Role.PROVIDER, "urn:uuid:p-1", CONSUMER)
        record.state = "TERMINATED"
        raise RuntimeError("the message handler failed")
    stored = _stored(db, "urn:uuid:p-1")
    assert (stored.state, stored.offer) == ("VERIFIED", {"@id": "offer-2"})


def test_one_row_is_one_object_within_a_session(db: Database) -> None:
    with db.transaction() as session:
        repository.add_negotiation(session, _negotiation())
    with db.transaction() as session:
        by_pid = repository.by_own_pid(session, Role.PROVIDER, "urn:uuid:p-1", CONSUMER)
        by_pid.state = "AGREED"
        by_id = repository.get(session, "urn:uuid:p-1")
        by_counterparty = repository.by_counterparty_pid(session, Role.PROVIDER, "urn:uuid:c-1", CONSUMER)
        assert by_id is by_pid and by_counterparty is by_pid and by_id.state == "AGREED"
    assert _stored(db, "urn:uuid:p-1").state == "AGREED"


def test_a_process_of_another_party_is_not_found(db: Database) -> None:
    with db.transaction() as session:
        repository.add_negotiation(session, _negotiation())
    with db.read() as session:
        with pytest.raises(ProtocolProblem) as raised:
            repository.by_own_pid(session, Role.PROVIDER, "urn:uuid:p-1", "did:web:someone.else")
        assert raised.value.status == 404
        assert repository.by_counterparty_pid(session, Role.PROVIDER, "urn:uuid:c-1", "did:web:x") is None
        assert repository.get(session, "urn:uuid:unknown") is None


def test_agreements_are_added_found_and_updated(db: Database) -> None:
    now = utcnow()
    with db.transaction() as session:
        record = repository.add_negotiation(session, _negotiation())
        assert repository.agreement_of(session, record) is None
        agreement = repository.add_agreement(
            session,
            AgreementRecord(
                id="urn:uuid:a-1",
                negotiation_id=record.id,
                role=Role.PROVIDER.value,
                provider_did="did:web:provider.example",
                consumer_did=CONSUMER,
                target="dataset-1",
                policy={"@id": "urn:uuid:a-1", "@type": "Agreement"},
                digest="sha-256=:abc:",
                provider_signature="jwt",
                consumer_signature=None,
                signed_at=now,
                finalized_at=None,
            ),
        )
        record.agreement_id = agreement.id
        assert repository.agreement_of(session, record) is agreement
    with db.transaction() as session:
        record = repository.by_own_pid(session, Role.PROVIDER, "urn:uuid:p-1", CONSUMER)
        found = repository.agreement_of(session, record)
        assert found is not None and found.policy == {"@id": "urn:uuid:a-1", "@type": "Agreement"}
        found.consumer_signature = "consumer-jwt"
        found.finalized_at = now
    with db.read() as session:
        stored = session.get(AgreementRecord, "urn:uuid:a-1")
        assert stored is not None
        assert (stored.consumer_signature, stored.finalized_at) == (
            "consumer-jwt",
            now.replace(microsecond=now.microsecond),
        )
        assert stored.terminated_at is None
