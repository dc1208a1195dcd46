"""The discussion store on SQLite and PostgreSQL: ordered posts, idempotent delivery, the rate limits
counted from the database, reports closed by hiding, and refusals that leave nothing behind."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from allmende.audit import log as audit
from allmende.clock import utcnow
from allmende.identity import KeyStore
from allmende.knowledge import discussion_service as service
from allmende.knowledge.discussion_posting import post_here, signed_post
from allmende.knowledge.discussion_records import PostRecord, ReportRecord
from allmende.knowledge.discussion_rules import DiscussionError, RateLimits, topic_draft
from allmende.store import migrate
from allmende.store.database import Database

HOST = "did:web:host.example"
LIMITS = RateLimits(per_node=3, per_topic=4, window=timedelta(hours=1))


@dataclass
class Author:
    did: str
    keys: KeyStore
    name: str


@pytest.fixture
def db(tmp_path: Path, database_url: str | None) -> Iterator[Database]:
    database = Database(database_url or f"sqlite:///{tmp_path / 'd.db'}")
    migrate.upgrade(database)
    yield database
    database.dispose()


def author(tmp_path: Path, did: str) -> Author:
    return Author(did, KeyStore.create(tmp_path / did.rsplit(":", 1)[-1]), "Feinteile KG")


def count(db: Database, record: type[object]) -> int:
    with db.read() as session:
        return int(session.execute(select(func.count()).select_from(record)).scalar_one())


def test_posts_are_ordered_stored_once_and_rate_limited(db: Database, tmp_path: Path) -> None:
    host = author(tmp_path, HOST)
    carla = author(tmp_path, "did:web:carla.example")
    with db.transaction() as session:
        topic = service.create_topic(session, topic_draft("Retrofit"), actor="olga", now=utcnow())
        topic_id = topic.id
    tokens = []
    for number in range(3):
        post, token = signed_post(
            carla,
            host_did=HOST,
            topic_id=topic_id,
            author_name="Carla",
            body=f"Post {number}",
            parent_id=None,
            now=utcnow(),
        )
        with db.transaction() as session:
            record, new = service.store_post(session, post, token, host_did=HOST, limits=LIMITS, now=utcnow())
            assert new and record.seq == number + 1
        tokens.append((post, token))
    with db.transaction() as session:  # the first post once more: answered with the stored one
        again, new = service.store_post(session, *tokens[0], host_did=HOST, limits=LIMITS, now=utcnow())
        assert not new and again.seq == 1
    fourth, token = signed_post(
        carla,
        host_did=HOST,
        topic_id=topic_id,
        author_name="Carla",
        body="Too many",
        parent_id=None,
        now=utcnow(),
    )
    with (
        pytest.raises(DiscussionError, match="too many posts from this node") as caught,
        db.transaction() as session,
    ):
        service.store_post(session, fourth, token, host_did=HOST, limits=LIMITS, now=utcnow())
    assert caught.value.status == 429 and caught.value.retry_after
    # The host's own post still fits the topic's limit (4); the next one does not.
    with db.transaction() as session:
        post_here(
            session,
            host,
            limits=LIMITS,
            topic_id=topic_id,
            author_name="Olga",
            body="Host",
            parent_id=None,
            now=utcnow(),
        )
    with pytest.raises(DiscussionError, match="too many posts in this topic"), db.transaction() as session:
        post_here(
            session,
            host,
            limits=LIMITS,
            topic_id=topic_id,
            author_name="Olga",
            body="More",
            parent_id=None,
            now=utcnow(),
        )
    later = utcnow() + timedelta(hours=2)
    with db.transaction() as session:  # outside the window again
        assert service.store_post(session, fourth, token, host_did=HOST, limits=LIMITS, now=later)[0].seq == 5
    with db.read() as session:
        page = service.thread(session, topic_id, page=1, page_size=2)
        assert [p.seq for p in page.posts] == [1, 2] and page.last_page == 3 and page.total == 5
        assert audit.verify(session).ok


def test_hiding_closes_reports_and_refusals_leave_nothing(db: Database, tmp_path: Path) -> None:
    carla = author(tmp_path, "did:web:carla.example")
    with db.transaction() as session:
        topic_id = service.create_topic(session, topic_draft("Energy"), actor="olga", now=utcnow()).id
    post, token = signed_post(
        carla,
        host_did=HOST,
        topic_id=topic_id,
        author_name="Carla",
        body="Spam",
        parent_id=None,
        now=utcnow(),
    )
    with db.transaction() as session:
        post_id = service.store_post(session, post, token, host_did=HOST, limits=LIMITS, now=utcnow())[0].id
    with db.transaction() as session:
        service.report_post(
            session, post_id, reporter_did="did:web:dora.example", reason="Spam", now=utcnow()
        )
        service.report_post(session, post_id, reporter_did="did:web:emil.example", reason="Ads", now=utcnow())
    with pytest.raises(DiscussionError, match="already reported"), db.transaction() as session:
        service.report_post(
            session, post_id, reporter_did="did:web:dora.example", reason="Again", now=utcnow()
        )
    with pytest.raises(DiscussionError, match="reason must not be empty"), db.transaction() as session:
        service.hide_post(session, post_id, reason=" ", actor="olga", now=utcnow())
    with db.transaction() as session:
        service.hide_post(session, post_id, reason="Advertising", actor="olga", now=utcnow())
    with db.read() as session:
        assert [r.state for r, _ in service.list_reports(session, None)] == ["hidden", "hidden"]
        assert service.open_report_count(session) == 0
    reply, token = signed_post(
        carla,
        host_did=HOST,
        topic_id=topic_id,
        author_name="Carla",
        body="Re",
        parent_id=post_id,
        now=utcnow(),
    )
    with pytest.raises(DiscussionError, match="hidden by the moderator"), db.transaction() as session:
        service.store_post(session, reply, token, host_did=HOST, limits=LIMITS, now=utcnow())
    stale, token = signed_post(
        carla,
        host_did=HOST,
        topic_id=topic_id,
        author_name="Carla",
        body="Old",
        parent_id=None,
        now=utcnow() - timedelta(days=3),
    )
    with pytest.raises(DiscussionError, match="older than two days"), db.transaction() as session:
        service.store_post(session, stale, token, host_did=HOST, limits=LIMITS, now=utcnow())
    assert count(db, PostRecord) == 1 and count(db, ReportRecord) == 2
