"""The hosting node's side of discussions: topics, storing verified posts, reports and moderation.

Every function works in the caller's transaction (one write transaction per request): a refusal raises
DiscussionError before anything is written, so a refused post, report or decision changes nothing.
Moderation decisions and received posts are written to the audit log.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from allmende.audit import log as audit
from allmende.clock import isoformat
from allmende.knowledge.discussion_records import PostRecord, ReportRecord, TopicRecord
from allmende.knowledge.discussion_rules import (
    MAX_REASON,
    PAGE_SIZE,
    DiscussionError,
    RateLimits,
    ReplyTarget,
    TopicDraft,
    check_can_post,
    check_hide,
    check_lock,
    check_post_time,
    check_rate,
    check_report,
    check_resolve,
    clean_text,
    page_bounds,
)
from allmende.knowledge.discussion_signing import SignedPost
from allmende.settings import NodeSettings

TOPIC_PAGE_PATH = "/discussions"


def limits_of(settings: NodeSettings) -> RateLimits:
    """The rate limits this node applies to the posts it hosts."""
    return RateLimits(
        per_node=int(settings.discussion_posts_per_node),
        per_topic=int(settings.discussion_posts_per_topic),
        window=timedelta(seconds=float(settings.discussion_rate_window_seconds)),
    )


def create_topic(session: Session, draft: TopicDraft, *, actor: str, now: datetime) -> TopicRecord:
    """Open a topic on this node."""
    topic = TopicRecord(
        id=str(uuid.uuid4()),
        title=draft.title,
        about=draft.about,
        description=draft.description,
        created_by=actor,
        created_at=now,
        post_count=0,
        last_post_at=None,
        locked=False,
    )
    session.add(topic)
    audit.append(
        session,
        actor=actor,
        event="discussion.topic_created",
        subject=topic.id,
        detail={"title": topic.title},
    )
    return topic


def list_topics(session: Session, about: str | None = None) -> list[TopicRecord]:
    """The topics hosted here, most recently active first (optionally only those about one item)."""
    query = select(TopicRecord).order_by(
        func.coalesce(TopicRecord.last_post_at, TopicRecord.created_at).desc(), TopicRecord.id
    )
    if about:
        query = query.where(TopicRecord.about == about)
    return list(session.execute(query).scalars())


def get_topic(session: Session, topic_id: str) -> TopicRecord:
    """The topic, or DiscussionError 404."""
    topic = session.get(TopicRecord, topic_id)
    if topic is None:
        raise DiscussionError(404, f"no topic {topic_id} on this node")
    return topic


def get_post(session: Session, post_id: str) -> PostRecord:
    """The post, or DiscussionError 404."""
    post = session.get(PostRecord, post_id)
    if post is None:
        raise DiscussionError(404, f"no post {post_id} on this node")
    return post


@dataclass(frozen=True)
class Thread:
    """One page of a topic's posts in order, with the numbers (``seq``) of the posts they answer."""

    topic: TopicRecord
    posts: list[PostRecord]
    parent_numbers: dict[str, int]
    page: int
    last_page: int
    page_size: int
    total: int


def thread(session: Session, topic_id: str, page: int = 1, page_size: int = PAGE_SIZE) -> Thread:
    """Page ``page`` of the topic's posts, oldest first."""
    topic = get_topic(session, topic_id)
    total = topic.post_count
    offset, size, last = page_bounds(page, page_size, total)
    posts = list(
        session.execute(
            select(PostRecord)
            .where(PostRecord.topic_id == topic_id)
            .order_by(PostRecord.seq)
            .offset(offset)
            .limit(size)
        ).scalars()
    )
    parents = {post.parent_id for post in posts if post.parent_id}
    numbers: dict[str, int] = {}
    if parents:
        rows = session.execute(select(PostRecord.id, PostRecord.seq).where(PostRecord.id.in_(parents)))
        numbers = {post_id: seq for post_id, seq in rows}
    return Thread(topic, posts, numbers, offset // size + 1, last, size, total)


def store_post(
    session: Session,
    post: SignedPost,
    signature: str,
    *,
    host_did: str,
    limits: RateLimits,
    now: datetime,
) -> tuple[PostRecord, bool]:
    """Store a post whose signature the caller verified; (the post, True if it is new).

    The same post arriving again (same author and nonce) is answered with the stored one and changes
    nothing. Refusals (wrong host, implausible time, unknown or locked topic, bad parent, over a rate
    limit) raise DiscussionError before anything is written.
    """
    if post.host_did != host_did:
        raise DiscussionError(400, f"the post is addressed to {post.host_did}, not to this node")
    known = session.execute(
        select(PostRecord).where(PostRecord.author_did == post.author_did, PostRecord.nonce == post.nonce)
    ).scalar_one_or_none()
    if known is not None:
        if known.signature != signature:
            raise DiscussionError(409, "the post's nonce was already used for another post")
        return known, False
    check_post_time(post.created, now)
    topic = session.get(TopicRecord, post.topic_id, with_for_update=True)
    if topic is None:
        raise DiscussionError(404, f"no topic {post.topic_id} on this node")
    parent = session.get(PostRecord, post.parent_id) if post.parent_id else None
    check_can_post(
        locked=topic.locked,
        topic_id=topic.id,
        parent=ReplyTarget(parent.topic_id, parent.hidden) if parent is not None else None,
        parent_id=post.parent_id,
    )
    since = now - limits.window
    by_author = _received_since(session, since, PostRecord.author_did == post.author_did)
    in_topic = _received_since(session, since, PostRecord.topic_id == topic.id)
    check_rate(limits, by_author, in_topic, now)
    record = PostRecord(
        id=str(uuid.uuid4()),
        topic_id=topic.id,
        seq=topic.post_count + 1,
        parent_id=post.parent_id,
        author_did=post.author_did,
        author_name=post.author_name,
        author_node=post.author_node,
        nonce=post.nonce,
        body=post.body,
        created_at=post.created,
        received_at=now,
        signature=signature,
        hidden=False,
    )
    session.add(record)
    topic.post_count += 1
    topic.last_post_at = now
    audit.append(
        session,
        actor=post.author_did,
        event="discussion.post_received",
        subject=record.id,
        detail={"topic": topic.id, "seq": record.seq, "parent": post.parent_id, "nonce": post.nonce},
    )
    return record, True


def _received_since(session: Session, since: datetime, condition: Any) -> list[datetime]:
    query = select(PostRecord.received_at).where(condition, PostRecord.received_at > since)
    return list(session.execute(query).scalars())


def report_post(
    session: Session, post_id: str, *, reporter_did: str, reason: object, now: datetime
) -> ReportRecord:
    """Queue a report of a post for the owner (one per reporting node and post)."""
    text = clean_text(reason, "reason", maximum=MAX_REASON)
    post = get_post(session, post_id)
    already = session.execute(
        select(ReportRecord.id).where(
            ReportRecord.post_id == post_id, ReportRecord.reporter_did == reporter_did
        )
    ).first()
    check_report(
        post_hidden=post.hidden,
        already_reported=already is not None,
        own_post=post.author_did == reporter_did,
    )
    report = ReportRecord(
        id=str(uuid.uuid4()),
        post_id=post.id,
        topic_id=post.topic_id,
        reporter_did=reporter_did,
        reason=text,
        state="open",
        created_at=now,
    )
    session.add(report)
    audit.append(
        session,
        actor=reporter_did,
        event="discussion.post_reported",
        subject=post.id,
        detail={"topic": post.topic_id, "report": report.id, "reason": text},
    )
    return report


def hide_post(session: Session, post_id: str, *, reason: str, actor: str, now: datetime) -> PostRecord:
    """Hide a post with the moderator's reason; its open reports are closed as ``hidden``."""
    text = clean_text(reason, "reason", maximum=MAX_REASON)
    post = get_post(session, post_id)
    check_hide(hidden=post.hidden)
    post.hidden, post.hidden_reason, post.hidden_at, post.hidden_by = True, text, now, actor
    session.execute(
        update(ReportRecord)
        .where(ReportRecord.post_id == post_id, ReportRecord.state == "open")
        .values(state="hidden", resolved_at=now, resolved_by=actor)
    )
    audit.append(
        session,
        actor=actor,
        event="discussion.post_hidden",
        subject=post.id,
        detail={"topic": post.topic_id, "author": post.author_did, "reason": text},
    )
    return post


def set_lock(
    session: Session, topic_id: str, *, lock: bool, reason: str, actor: str, now: datetime
) -> TopicRecord:
    """Lock a topic (no new posts; a reason is required) or unlock it again."""
    text = clean_text(reason, "reason", maximum=MAX_REASON, required=lock)
    topic = get_topic(session, topic_id)
    check_lock(locked=topic.locked, lock=lock)
    topic.locked = lock
    topic.lock_reason = text if lock else None
    topic.locked_at = now if lock else None
    topic.locked_by = actor if lock else None
    audit.append(
        session,
        actor=actor,
        event="discussion.topic_locked" if lock else "discussion.topic_unlocked",
        subject=topic.id,
        detail={"reason": text},
    )
    return topic


def list_reports(session: Session, state: str | None = "open") -> list[tuple[ReportRecord, PostRecord]]:
    """Reports with their posts, oldest first (``state`` None: all)."""
    query = (
        select(ReportRecord, PostRecord)
        .join(PostRecord, PostRecord.id == ReportRecord.post_id)
        .order_by(ReportRecord.created_at, ReportRecord.id)
    )
    if state:
        query = query.where(ReportRecord.state == state)
    return [(report, post) for report, post in session.execute(query).all()]


def open_report_count(session: Session) -> int:
    """How many reports wait for the owner."""
    return int(session.execute(select(func.count()).where(ReportRecord.state == "open")).scalar_one())


def dismiss_report(session: Session, report_id: str, *, actor: str, now: datetime) -> ReportRecord:
    """Close an open report without hiding the post."""
    report = session.get(ReportRecord, report_id)
    if report is None:
        raise DiscussionError(404, f"no report {report_id} on this node")
    check_resolve(report.state)
    report.state, report.resolved_at, report.resolved_by = "dismissed", now, actor
    audit.append(
        session,
        actor=actor,
        event="discussion.report_dismissed",
        subject=report.post_id,
        detail={"report": report.id},
    )
    return report


def topic_view(topic: TopicRecord, base_url: str) -> dict[str, Any]:
    """A topic as the protocol, the API and the CLI show it."""
    return {
        "id": topic.id,
        "address": f"{base_url}{TOPIC_PAGE_PATH}/{topic.id}",
        "title": topic.title,
        "about": topic.about,
        "description": topic.description,
        "createdAt": isoformat(topic.created_at),
        "postCount": topic.post_count,
        "lastPostAt": isoformat(topic.last_post_at) if topic.last_post_at else None,
        "locked": topic.locked,
        "lockReason": topic.lock_reason,
    }


def post_view(post: PostRecord, parent_numbers: dict[str, int]) -> dict[str, Any]:
    """A post as shown to others: a hidden post without its text and signature, with the reason."""
    return {
        "id": post.id,
        "seq": post.seq,
        "parent": post.parent_id,
        "parentSeq": parent_numbers.get(post.parent_id) if post.parent_id else None,
        "authorDid": post.author_did,
        "authorName": post.author_name,
        "authorNode": post.author_node,
        "created": isoformat(post.created_at),
        "received": isoformat(post.received_at),
        "hidden": post.hidden,
        "hiddenReason": post.hidden_reason if post.hidden else None,
        "body": None if post.hidden else post.body,
        "signature": None if post.hidden else post.signature,
    }


def thread_view(page: Thread, base_url: str) -> dict[str, Any]:
    """A page of a topic as the protocol and the API answer it."""
    return {
        "topic": topic_view(page.topic, base_url),
        "posts": [post_view(post, page.parent_numbers) for post in page.posts],
        "page": page.page,
        "lastPage": page.last_page,
        "pageSize": page.page_size,
        "total": page.total,
    }


def report_view(report: ReportRecord, post: PostRecord) -> dict[str, Any]:
    """A report with the post it is about (the text included: the owner has to judge it)."""
    return {
        "id": report.id,
        "state": report.state,
        "reason": report.reason,
        "reporterDid": report.reporter_did,
        "createdAt": isoformat(report.created_at),
        "resolvedAt": isoformat(report.resolved_at) if report.resolved_at else None,
        "resolvedBy": report.resolved_by,
        "topic": report.topic_id,
        "post": {
            "id": post.id,
            "seq": post.seq,
            "authorDid": post.author_did,
            "authorName": post.author_name,
            "body": post.body,
            "hidden": post.hidden,
        },
    }
