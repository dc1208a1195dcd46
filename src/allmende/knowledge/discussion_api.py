"""Management API of discussions under ``/api/v1/discussions``: topics hosted here, posting,
moderation (hide, lock, unlock, reports), and this node's posts to other nodes' topics."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from allmende.api.auth import ApiCaller, admin, reader
from allmende.clock import utcnow
from allmende.knowledge import discussion_service as service
from allmende.knowledge.discussion_posting import (
    delivery_of,
    list_outgoing,
    outgoing_view,
    parse_address,
    post_here,
    queue_post,
)
from allmende.knowledge.discussion_records import OutgoingPostRecord
from allmende.knowledge.discussion_remote import fetch_topic, send_report, wait_for_delivery
from allmende.knowledge.discussion_routes import problem
from allmende.knowledge.discussion_rules import REPORT_STATES, DiscussionError, topic_draft
from allmende.protocol.endpoint import in_read, in_transaction, node_of

router = APIRouter(prefix="/api/v1/discussions", tags=["discussions"])
Reader = Annotated[ApiCaller, Depends(reader)]
Admin = Annotated[ApiCaller, Depends(admin)]
DELIVERY_WAIT_SECONDS = 5.0


class TopicIn(BaseModel):
    """A new topic: free-standing, or about a knowledge item (its IRI or id in ``about``)."""

    title: str = Field(max_length=1000)
    about: str = Field(default="", max_length=2000)
    description: str = Field(default="", max_length=10_000)


class PostIn(BaseModel):
    """A post to a topic hosted here; ``authorName`` defaults to the node's name."""

    body: str = Field(max_length=20_000)
    parent: str | None = Field(default=None, max_length=200)
    authorName: str | None = Field(default=None, max_length=1000)  # the API's JSON name


class RemotePostIn(PostIn):
    """A post to a topic on another node, by its address ``<base URL>/discussions/<id>``."""

    address: str = Field(max_length=2000)


class ReasonIn(BaseModel):
    """Why (kept in the audit log; shown with a hidden post or a locked topic)."""

    reason: str = Field(default="", max_length=4000)


class RemoteReportIn(ReasonIn):
    """Report a post of a topic on another node to its owner."""

    address: str = Field(max_length=2000)
    post: str = Field(max_length=200)


@router.get("/topics")
async def topics(request: Request, _: Reader, about: str | None = None) -> list[dict[str, Any]]:
    """The topics this node hosts (``about``: only those about one knowledge item)."""
    node = node_of(request)
    found = await in_read(node, lambda s: service.list_topics(s, about))
    return [service.topic_view(topic, node.base_url) for topic in found]


@router.post("/topics", status_code=201, response_model=None)
async def create_topic(body: TopicIn, request: Request, caller: Admin) -> dict[str, Any] | JSONResponse:
    """Open a topic on this node."""
    node = node_of(request)
    try:
        draft = topic_draft(body.title, body.about, body.description)
        topic = await in_transaction(
            node, lambda s: service.create_topic(s, draft, actor=caller.actor, now=utcnow())
        )
    except DiscussionError as error:
        return problem(error)
    return service.topic_view(topic, node.base_url)


@router.get("/topics/{topic_id}", response_model=None)
async def show_topic(
    topic_id: str, request: Request, _: Reader, page: int = 1
) -> dict[str, Any] | JSONResponse:
    """A page of a topic hosted here (hidden posts without their text)."""
    node = node_of(request)
    try:
        found = await in_read(node, lambda s: service.thread(s, topic_id, page))
    except DiscussionError as error:
        return problem(error)
    return service.thread_view(found, node.base_url)


@router.post("/topics/{topic_id}/posts", status_code=201, response_model=None)
async def post(topic_id: str, body: PostIn, request: Request, _: Admin) -> dict[str, Any] | JSONResponse:
    """Post to a topic hosted here, signed with this node's key like a post from another node."""
    node = node_of(request)
    limits = service.limits_of(node.settings)
    try:
        record = await in_transaction(
            node,
            lambda s: post_here(
                s,
                node,
                limits=limits,
                topic_id=topic_id,
                author_name=body.authorName or node.name,
                body=body.body,
                parent_id=body.parent,
                now=utcnow(),
            ),
        )
    except DiscussionError as error:
        return problem(error)
    return service.post_view(record, {})


@router.post("/topics/{topic_id}/lock", response_model=None)
async def lock(
    topic_id: str, body: ReasonIn, request: Request, caller: Admin
) -> dict[str, Any] | JSONResponse:
    """Lock a topic: no new posts (the reason is shown with the topic)."""
    return await _set_lock(request, topic_id, True, body.reason, caller)


@router.post("/topics/{topic_id}/unlock", response_model=None)
async def unlock(
    topic_id: str, body: ReasonIn, request: Request, caller: Admin
) -> dict[str, Any] | JSONResponse:
    """Open a locked topic again."""
    return await _set_lock(request, topic_id, False, body.reason, caller)


async def _set_lock(
    request: Request, topic_id: str, locked: bool, reason: str, caller: ApiCaller
) -> dict[str, Any] | JSONResponse:
    node = node_of(request)
    try:
        topic = await in_transaction(
            node,
            lambda s: service.set_lock(
                s, topic_id, lock=locked, reason=reason, actor=caller.actor, now=utcnow()
            ),
        )
    except DiscussionError as error:
        return problem(error)
    return service.topic_view(topic, node.base_url)


@router.post("/posts/{post_id}/hide", response_model=None)
async def hide(
    post_id: str, body: ReasonIn, request: Request, caller: Admin
) -> dict[str, Any] | JSONResponse:
    """Hide a post (shown as hidden by the moderator, with the reason); closes its open reports."""
    node = node_of(request)
    try:
        record = await in_transaction(
            node,
            lambda s: service.hide_post(s, post_id, reason=body.reason, actor=caller.actor, now=utcnow()),
        )
    except DiscussionError as error:
        return problem(error)
    return service.post_view(record, {})


@router.get("/reports", response_model=None)
async def reports(request: Request, _: Reader, state: str = "open") -> list[dict[str, Any]] | JSONResponse:
    """Reports of posts hosted here (``state``: open, hidden, dismissed or all), oldest first."""
    if state not in (*REPORT_STATES, "all"):
        return problem(
            DiscussionError(400, f"unknown state {state!r}; known: {', '.join(REPORT_STATES)}, all")
        )
    node = node_of(request)
    found = await in_read(node, lambda s: service.list_reports(s, None if state == "all" else state))
    return [service.report_view(report, post) for report, post in found]


@router.post("/reports/{report_id}/dismiss", response_model=None)
async def dismiss(report_id: str, request: Request, caller: Admin) -> dict[str, Any] | JSONResponse:
    """Close an open report without hiding the post."""
    node = node_of(request)
    try:
        report = await in_transaction(
            node, lambda s: service.dismiss_report(s, report_id, actor=caller.actor, now=utcnow())
        )
        post = await in_read(node, lambda s: service.get_post(s, report.post_id))
    except DiscussionError as error:
        return problem(error)
    return service.report_view(report, post)


@router.get("/remote", response_model=None)
async def remote_topic(
    request: Request, _: Reader, address: str, page: int = 1
) -> dict[str, Any] | JSONResponse:
    """A topic on another node, read as this node; every post with ``check`` (``verified`` or why not)."""
    try:
        return await fetch_topic(node_of(request), parse_address(address), page)
    except DiscussionError as error:
        return problem(error)


@router.post("/remote/posts", status_code=202, response_model=None)
async def remote_post(body: RemotePostIn, request: Request, _: Admin) -> dict[str, Any] | JSONResponse:
    """Sign a post for a topic on another node and send it through the outbox.

    Waits up to a few seconds for the host's answer: ``delivery`` is then ``sent``, ``failed`` (with the
    host's reason in ``error``) or still ``pending`` (retried until the peer deadline).
    """
    node = node_of(request)
    try:
        address = parse_address(body.address)
        record = await in_transaction(
            node,
            lambda s: queue_post(
                s,
                node,
                node.postbox,
                address=address,
                author_name=body.authorName or node.name,
                body=body.body,
                parent_id=body.parent,
                now=utcnow(),
            ),
        )
    except DiscussionError as error:
        return problem(error)
    delivery = await wait_for_delivery(node, record.id, DELIVERY_WAIT_SECONDS)
    return outgoing_view(record, delivery)


@router.get("/outgoing")
async def outgoing(request: Request, _: Reader) -> list[dict[str, Any]]:
    """This node's posts to other nodes' topics, newest first, with their delivery state."""
    found = await in_read(node_of(request), list_outgoing)
    return [outgoing_view(record, delivery) for record, delivery in found]


@router.get("/outgoing/{outgoing_id}", response_model=None)
async def outgoing_one(outgoing_id: str, request: Request, _: Reader) -> dict[str, Any] | JSONResponse:
    """One of this node's posts to another node, with its delivery state."""
    node = node_of(request)

    def find(session: Session) -> dict[str, Any] | None:
        record = session.get(OutgoingPostRecord, outgoing_id)
        return None if record is None else outgoing_view(record, delivery_of(session, record.id))

    found = await in_read(node, find)
    if found is None:
        return problem(DiscussionError(404, f"no outgoing post {outgoing_id}"))
    return found


@router.post("/remote/reports", status_code=201, response_model=None)
async def remote_report(body: RemoteReportIn, request: Request, _: Admin) -> dict[str, Any] | JSONResponse:
    """Report a post on another node's topic to that node's owner."""
    try:
        return await send_report(node_of(request), parse_address(body.address), body.post, body.reason)
    except DiscussionError as error:
        return problem(error)
