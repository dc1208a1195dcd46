"""Discussions across two (and three) in-process nodes: signed posts from another node, refusals that
store nothing, reading and checking a remote thread, reports, hiding and locking."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from tests.conftest import NodeFactory, RunningNode

from allmende.audit.records import AuditRecord
from allmende.clock import utcnow
from allmende.knowledge.discussion_posting import parse_address, signed_post
from allmende.knowledge.discussion_records import PostRecord, ReportRecord
from allmende.knowledge.discussion_signing import read_post, verify_post

pytestmark = pytest.mark.anyio


async def open_topic(host: RunningNode, title: str = "Predictive maintenance for small machine shops") -> str:
    created = await host.api.post(
        "/api/v1/discussions/topics", json={"title": title, "about": "urn:knowledge:case-17"}
    )
    assert created.status_code == 201, created.text
    address: str = created.json()["address"]
    assert address == f"{host.node.base_url}/discussions/{created.json()['id']}"
    return address


def stored_posts(host: RunningNode) -> int:
    with host.node.db.read() as session:
        return int(session.execute(select(func.count()).select_from(PostRecord)).scalar_one())


def audit_events(host: RunningNode) -> list[str]:
    with host.node.db.read() as session:
        return list(session.execute(select(AuditRecord.event).order_by(AuditRecord.seq)).scalars())


async def send_signed(
    author: RunningNode, host: RunningNode, token: str, *, caller: RunningNode | None = None
) -> httpx.Response:
    """POST a signed post to the host's protocol endpoint with ``caller``'s (default: author's) ID token."""
    topic_id = read_post(token).post.topic_id
    issuer = caller or author
    return await issuer.node.http.post(
        f"{host.node.base_url}/discussions/protocol/topics/{topic_id}/posts",
        json={"post": token},
        headers={"Authorization": f"Bearer {issuer.node.issue_token(host.did)}"},
    )


def sign(author: RunningNode, host: RunningNode, topic_address: str, body: str, **extra: Any) -> str:
    topic_id = parse_address(topic_address).topic_id
    _, token = signed_post(
        author.node,
        host_did=host.did,
        topic_id=topic_id,
        author_name=extra.pop("name", "Carla"),
        body=body,
        parent_id=extra.pop("parent", None),
        now=extra.pop("now", utcnow()),
    )
    return token


async def test_a_post_from_another_node_appears_with_a_valid_signature(make_node: NodeFactory) -> None:
    host = await make_node("Kompetenzzentrum", 8751)
    author = await make_node("Feinteile KG", 8752)
    address = await open_topic(host)

    sent = await author.api.post(
        "/api/v1/discussions/remote/posts",
        json={"address": address, "body": "We log **spindle current** first.", "authorName": "Carla"},
    )
    assert sent.status_code == 202, sent.text
    assert sent.json()["delivery"] == "sent", sent.json()

    topic_id = parse_address(address).topic_id
    thread = (await host.api.get(f"/api/v1/discussions/topics/{topic_id}")).json()
    assert thread["total"] == 1 and thread["topic"]["postCount"] == 1
    (post,) = thread["posts"]
    assert (post["authorDid"], post["authorName"], post["authorNode"]) == (
        author.did,
        "Carla",
        "Feinteile KG",
    )
    assert post["body"] == "We log **spindle current** first." and post["seq"] == 1
    # Anyone can check the stored signature again with the author's key.
    read = read_post(post["signature"])
    assert verify_post(read, author.node.keys.active.public_key).body == post["body"]
    assert read.post.host_did == host.did and read.kid == f"{author.did}#{author.node.keys.active.key_id}"

    # A reply from the host's own node, signed the same way, then the author's node reads the thread.
    reply = await host.api.post(
        f"/api/v1/discussions/topics/{topic_id}/posts", json={"body": "Which sensors?", "parent": post["id"]}
    )
    assert reply.status_code == 201, reply.text
    remote = await author.api.get("/api/v1/discussions/remote", params={"address": address})
    assert remote.status_code == 200, remote.text
    posts = remote.json()["posts"]
    assert [(p["seq"], p["parentSeq"], p["check"]) for p in posts] == [
        (1, None, "verified"),
        (2, 1, "verified"),
    ]
    assert posts[1]["authorDid"] == host.did

    outgoing = (await author.api.get("/api/v1/discussions/outgoing")).json()
    assert [(o["topic"], o["delivery"]) for o in outgoing] == [(address, "sent")]
    assert "discussion.post_received" in audit_events(host)


async def test_refused_posts_store_nothing(make_node: NodeFactory) -> None:
    host = await make_node("Kompetenzzentrum", 8753, discussion_posts_per_node=2)
    author = await make_node("Feinteile KG", 8754)
    stranger = await make_node("Dritte GmbH", 8755)
    address = await open_topic(host)

    good = sign(author, host, address, "First")
    header, payload, signature = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["body"] = "Something the author never wrote"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    tampered = await send_signed(author, host, f"{header}.{forged_payload}.{signature}")
    assert tampered.status_code == 400
    assert "signature does not verify" in tampered.json()["error"]

    wrong_issuer = await send_signed(author, host, good, caller=stranger)
    assert wrong_issuer.status_code == 403
    assert f"signed by {author.did}, not by the caller" in wrong_issuer.json()["error"]

    elsewhere = sign(author, stranger, address, "Meant for another node")
    misdirected = await send_signed(author, host, elsewhere)
    assert misdirected.status_code == 400 and "addressed to" in misdirected.json()["error"]

    unauthenticated = await author.node.http.post(
        f"{host.node.base_url}/discussions/protocol/topics/{parse_address(address).topic_id}/posts",
        json={"post": good},
    )
    assert unauthenticated.status_code == 401
    assert stored_posts(host) == 0

    assert (await send_signed(author, host, good)).status_code == 201
    again = await send_signed(author, host, good)  # an outbox retry of a delivered post
    assert again.status_code == 200 and stored_posts(host) == 1
    assert (await send_signed(author, host, sign(author, host, address, "Second"))).status_code == 201
    limited = await send_signed(author, host, sign(author, host, address, "Third"))
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert "too many posts from this node" in limited.json()["error"]
    assert stored_posts(host) == 2

    # Another author is not limited by the first one's posts.
    assert (await send_signed(stranger, host, sign(stranger, host, address, "Hello"))).status_code == 201


async def test_a_locked_topic_refuses_posts_and_the_author_sees_why(make_node: NodeFactory) -> None:
    host = await make_node("Kompetenzzentrum", 8756)
    author = await make_node("Feinteile KG", 8757)
    address = await open_topic(host)
    topic_id = parse_address(address).topic_id

    no_reason = await host.api.post(f"/api/v1/discussions/topics/{topic_id}/lock", json={"reason": " "})
    assert no_reason.status_code == 400 and "reason must not be empty" in no_reason.json()["error"]
    locked = await host.api.post(
        f"/api/v1/discussions/topics/{topic_id}/lock", json={"reason": "Moved to the forum"}
    )
    assert locked.status_code == 200 and locked.json()["locked"] is True

    direct = await send_signed(author, host, sign(author, host, address, "Anyone?"))
    assert direct.status_code == 409 and "locked" in direct.json()["error"]
    queued = await author.api.post(
        "/api/v1/discussions/remote/posts", json={"address": address, "body": "Anyone?"}
    )
    assert queued.status_code == 202
    assert queued.json()["delivery"] == "failed"
    assert "HTTP 409: the topic is locked" in queued.json()["error"]
    assert stored_posts(host) == 0

    again = await host.api.post(f"/api/v1/discussions/topics/{topic_id}/lock", json={"reason": "twice"})
    assert again.status_code == 409
    unlocked = await host.api.post(f"/api/v1/discussions/topics/{topic_id}/unlock", json={})
    assert unlocked.status_code == 200 and unlocked.json()["locked"] is False
    assert (await send_signed(author, host, sign(author, host, address, "Now?"))).status_code == 201
    events = audit_events(host)
    assert "discussion.topic_locked" in events and "discussion.topic_unlocked" in events


async def test_report_hide_and_how_a_hidden_post_reads(make_node: NodeFactory) -> None:
    host = await make_node("Kompetenzzentrum", 8758)
    author = await make_node("Feinteile KG", 8759)
    reader = await make_node("Dritte GmbH", 8760)
    address = await open_topic(host)
    sent = await author.api.post(
        "/api/v1/discussions/remote/posts",
        json={"address": address, "body": "Buy cheap sensors at spam.example"},
    )
    assert sent.json()["delivery"] == "sent"
    post_id = (await reader.api.get("/api/v1/discussions/remote", params={"address": address})).json()[
        "posts"
    ][0]["id"]

    reported = await reader.api.post(
        "/api/v1/discussions/remote/reports",
        json={"address": address, "post": post_id, "reason": "Advertising"},
    )
    assert reported.status_code == 201, reported.text
    twice = await reader.api.post(
        "/api/v1/discussions/remote/reports", json={"address": address, "post": post_id, "reason": "Again"}
    )
    assert twice.status_code == 409 and "already reported" in twice.json()["error"]
    own = await author.api.post(
        "/api/v1/discussions/remote/reports", json={"address": address, "post": post_id, "reason": "Oops"}
    )
    assert own.status_code == 409 and "its own post" in own.json()["error"]

    queue = (await host.api.get("/api/v1/discussions/reports")).json()
    assert [(r["reporterDid"], r["reason"], r["post"]["id"]) for r in queue] == [
        (reader.did, "Advertising", post_id)
    ]
    hidden = await host.api.post(f"/api/v1/discussions/posts/{post_id}/hide", json={"reason": "Advertising"})
    assert hidden.status_code == 200 and hidden.json()["hidden"] is True
    assert (await host.api.get("/api/v1/discussions/reports")).json() == []
    closed = (await host.api.get("/api/v1/discussions/reports", params={"state": "hidden"})).json()
    assert [r["state"] for r in closed] == ["hidden"]

    seen = (await reader.api.get("/api/v1/discussions/remote", params={"address": address})).json()["posts"][
        0
    ]
    assert seen["hidden"] is True and seen["hiddenReason"] == "Advertising"
    assert seen["body"] is None and seen["signature"] is None and seen["check"] == "hidden"
    reply = await reader.api.post(
        "/api/v1/discussions/remote/posts", json={"address": address, "body": "Agreed", "parent": post_id}
    )
    assert reply.json()["delivery"] == "failed" and "hidden by the moderator" in reply.json()["error"]
    with host.node.db.read() as session:
        assert session.execute(select(func.count()).select_from(ReportRecord)).scalar_one() == 1
    assert {"discussion.post_reported", "discussion.post_hidden"} <= set(audit_events(host))


async def test_unknown_topics_and_bad_addresses_are_clear_errors(make_node: NodeFactory) -> None:
    host = await make_node("Kompetenzzentrum", 8761)
    author = await make_node("Feinteile KG", 8762)
    missing = await author.api.get(
        "/api/v1/discussions/remote", params={"address": f"{host.node.base_url}/discussions/nope"}
    )
    assert missing.status_code == 404 and "no topic nope" in missing.json()["error"]
    bad = await author.api.post(
        "/api/v1/discussions/remote/posts", json={"address": "ftp://x/y", "body": "Hi"}
    )
    assert bad.status_code == 400 and "not the address of a topic" in bad.json()["error"]
    empty = await author.api.post(
        "/api/v1/discussions/remote/posts",
        json={"address": f"{host.node.base_url}/discussions/t1", "body": "  "},
    )
    assert empty.status_code == 400 and "body must not be empty" in empty.json()["error"]
    with author.node.db.read() as session:
        assert session.execute(select(func.count()).select_from(PostRecord)).scalar_one() == 0
