"""Writing posts as the author's node: signing them, storing them here when this node hosts the
topic, or queueing them in the outbox for the node that hosts it.

A topic is addressed by its page's URL on the hosting node, ``<base URL>/discussions/<topic id>``:
the address people share; the host's DID follows from its base URL (did:web).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from allmende.identity.did import did_from_url
from allmende.identity.errors import DidError
from allmende.identity.keys import KeyStore
from allmende.knowledge.discussion_records import OutgoingPostRecord, PostRecord
from allmende.knowledge.discussion_rules import (
    MAX_BODY,
    MAX_NAME,
    DiscussionError,
    RateLimits,
    clean_id,
    clean_line,
    clean_text,
)
from allmende.knowledge.discussion_service import TOPIC_PAGE_PATH, store_post
from allmende.knowledge.discussion_signing import SignedPost, sign_post
from allmende.messaging.postbox import Postbox
from allmende.messaging.records import OutboxRecord

POST_KIND = "DiscussionPost"
PROTOCOL_PATH = "/discussions/protocol"


class Author(Protocol):
    """What signing a post needs of a node (the running Node, or the CLI's view of a data folder)."""

    did: str
    keys: KeyStore

    @property
    def name(self) -> str: ...


@dataclass(frozen=True)
class TopicAddress:
    """Where a topic lives: the hosting node's base URL and DID, and the topic's id there."""

    base_url: str
    host_did: str
    topic_id: str

    @property
    def page_url(self) -> str:
        return f"{self.base_url}{TOPIC_PAGE_PATH}/{self.topic_id}"

    @property
    def protocol_url(self) -> str:
        return f"{self.base_url}{PROTOCOL_PATH}/topics/{self.topic_id}"


def parse_address(address: str) -> TopicAddress:
    """The topic at ``address`` (``https://node.example/discussions/<id>``); raises DiscussionError (400)."""
    text = address.strip()
    parts = urlsplit(text)
    base, marker, rest = text.partition(TOPIC_PAGE_PATH + "/")
    if parts.scheme not in ("http", "https") or not marker or parts.query or parts.fragment:
        raise DiscussionError(400, f"{address!r} is not the address of a topic (…{TOPIC_PAGE_PATH}/<id>)")
    topic_id = clean_id(rest.strip("/"), "topic")
    base = base.rstrip("/")
    try:
        host_did = did_from_url(base)
    except DidError as error:
        raise DiscussionError(400, f"{address!r} is not a usable node address: {error.reason}") from None
    return TopicAddress(base, host_did, topic_id)


def signed_post(
    author: Author,
    *,
    host_did: str,
    topic_id: str,
    author_name: str,
    body: str,
    parent_id: str | None,
    now: datetime,
) -> tuple[SignedPost, str]:
    """Validate and sign a new post with the author node's active key: (the post, its JWS)."""
    post = SignedPost(
        author_did=author.did,
        host_did=host_did,
        author_name=clean_line(author_name, "name", maximum=MAX_NAME),
        author_node=clean_line(author.name, "node", maximum=MAX_NAME) if author.name.strip() else "",
        topic_id=clean_id(topic_id, "topic"),
        parent_id=clean_id(parent_id, "parent") if parent_id else None,
        body=clean_text(body, "body", maximum=MAX_BODY),
        created=now,
        nonce=str(uuid.uuid4()),
    )
    key = author.keys.active
    return post, sign_post(post, key, key_id=key.key_id)


def post_here(
    session: Session,
    author: Author,
    *,
    limits: RateLimits,
    topic_id: str,
    author_name: str,
    body: str,
    parent_id: str | None,
    now: datetime,
) -> PostRecord:
    """A post by one of this node's users to a topic this node hosts: signed like any other."""
    post, token = signed_post(
        author,
        host_did=author.did,
        topic_id=topic_id,
        author_name=author_name,
        body=body,
        parent_id=parent_id,
        now=now,
    )
    record, _new = store_post(session, post, token, host_did=author.did, limits=limits, now=now)
    return record


def queue_post(
    session: Session,
    author: Author,
    postbox: Postbox,
    *,
    address: TopicAddress,
    author_name: str,
    body: str,
    parent_id: str | None,
    now: datetime,
) -> OutgoingPostRecord:
    """Sign a post for a topic on another node and queue it in the outbox (sent after the commit)."""
    if address.host_did == author.did:
        raise DiscussionError(400, "this topic is hosted here; post to it directly")
    post, token = signed_post(
        author,
        host_did=address.host_did,
        topic_id=address.topic_id,
        author_name=author_name,
        body=body,
        parent_id=parent_id,
        now=now,
    )
    record = OutgoingPostRecord(
        id=post.nonce,
        host_url=address.base_url,
        host_did=address.host_did,
        topic_id=address.topic_id,
        parent_id=post.parent_id,
        author_name=post.author_name,
        body=post.body,
        signature=token,
        created_at=now,
    )
    session.add(record)
    postbox.send(
        session,
        process_id=record.id,
        audience_did=address.host_did,
        kind=POST_KIND,
        url=f"{address.protocol_url}/posts",
        body={"post": token},
    )
    return record


@dataclass(frozen=True)
class Delivery:
    """Where a sent post stands: ``pending`` (waiting or retrying), ``sent`` or ``failed`` with the reason."""

    state: str
    attempts: int
    error: str | None


def delivery_of(session: Session, outgoing_id: str) -> Delivery:
    """The outbox state of an outgoing post."""
    row = session.execute(
        select(OutboxRecord.status, OutboxRecord.attempts, OutboxRecord.last_error)
        .where(OutboxRecord.process_id == outgoing_id, OutboxRecord.kind == POST_KIND)
        .order_by(OutboxRecord.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return Delivery("failed", 0, "the message is missing from the outbox")
    status, attempts, error = row
    return Delivery(str(status), int(attempts), _readable(error) if status != "sent" else None)


def _readable(error: str | None) -> str | None:
    """The host's own words from an outbox error ``HTTP 409: {"error": ...}`` (else the error as it is)."""
    if not error:
        return error
    head, _, rest = error.partition(": ")
    try:
        said = json.loads(rest).get("error") if rest.startswith("{") else None
    except (ValueError, AttributeError):
        said = None
    return f"{head}: {said}" if isinstance(said, str) and said else error


def list_outgoing(session: Session, limit: int = 100) -> list[tuple[OutgoingPostRecord, Delivery]]:
    """This node's posts to other nodes' topics, newest first, with their delivery state."""
    records = session.execute(
        select(OutgoingPostRecord).order_by(OutgoingPostRecord.created_at.desc()).limit(limit)
    ).scalars()
    return [(record, delivery_of(session, record.id)) for record in records]


def outgoing_view(record: OutgoingPostRecord, delivery: Delivery) -> dict[str, Any]:
    """An outgoing post as the API and the CLI show it."""
    return {
        "id": record.id,
        "topic": f"{record.host_url}{TOPIC_PAGE_PATH}/{record.topic_id}",
        "hostDid": record.host_did,
        "parent": record.parent_id,
        "authorName": record.author_name,
        "body": record.body,
        "createdAt": record.created_at.isoformat(),
        "delivery": delivery.state,
        "attempts": delivery.attempts,
        "error": delivery.error,
    }
