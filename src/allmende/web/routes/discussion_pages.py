"""Discussions: the topics this node hosts, a thread with its reply form, and topics on other nodes
read and answered as this node (moderation pages: ``discussion_moderation``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from allmende.clock import parse_datetime, utcnow
from allmende.knowledge import discussion_service as service
from allmende.knowledge.discussion_markup import render_markup
from allmende.knowledge.discussion_posting import (
    TopicAddress,
    list_outgoing,
    parse_address,
    post_here,
    queue_post,
)
from allmende.knowledge.discussion_remote import fetch_topic, wait_for_delivery
from allmende.knowledge.discussion_rules import PAGE_SIZE, DiscussionError, topic_draft
from allmende.protocol.endpoint import in_read, in_transaction, node_of
from allmende.web.forms import FormState
from allmende.web.routes.identity_view import actor_of
from allmende.web.security import Editor, Viewer, WebDenied, checked_form
from allmende.web.templating import N_, Page, render

router = APIRouter(include_in_schema=False)

DELIVERY_WAIT_SECONDS = 5.0
NOTICES = {
    "created": N_("The topic is open. Share its address so that other nodes can take part."),
    "posted": N_("Your post was added."),
    "sent": N_("Your post was delivered to the hosting node."),
    "queued": N_("The hosting node did not answer yet; your post is delivered as soon as it can be reached."),
    "hidden": N_("The post is hidden."),
    "locked": N_("The topic is locked; it takes no new posts."),
    "unlocked": N_("The topic is open for posts again."),
    "reported": N_("Thank you. The report is queued for the owner of the hosting node."),
    "dismissed": N_("The report is dismissed."),
}
# The confirmation pages: their title, what they explain, the button, and the notice afterwards.
PROBLEM = N_("Nothing was changed: %(reason)s")


def notice_text(page: Page, notice: str) -> str:
    return page.gettext(NOTICES[notice]) if notice in NOTICES else ""


def _post_item(view: dict[str, Any]) -> dict[str, Any]:
    """A post (as the protocol shows it) with its HTML and times, ready for the template."""
    body = view.get("body")
    return {
        **view,
        "html": Markup(render_markup(body)) if isinstance(body, str) and not view.get("hidden") else "",
        "created_at": parse_datetime(str(view["created"])),
    }


@router.get("/discussions")
async def topics_page(
    request: Request, page: Viewer, notice: str = "", about: str = "", title: str = ""
) -> Response:
    """The topics hosted here, the form to open one, reading a topic on another node, my posts elsewhere.

    ``about`` and ``title`` fill in the form (the knowledge hub's "Discuss this item" link).
    """
    prefilled = FormState(values={"about": about.strip()[:1000], "title": title.strip()[:200]})
    return await _topics(request, page, prefilled, notice=notice)


async def _topics(
    request: Request, page: Page, form: FormState, *, notice: str = "", status: int = 200
) -> Response:
    node = node_of(request)

    def load(session: Any) -> dict[str, Any]:
        return {
            "topics": service.list_topics(session),
            "outgoing": list_outgoing(session, 20),
            "open_reports": service.open_report_count(session),
        }

    context = await in_read(node, load)
    context.update(form=form, notice=notice_text(page, notice))
    return render(request, "discussions.html", context, status=status)


@router.post("/discussions")
async def open_topic(request: Request, page: Editor) -> Response:
    """Open a topic on this node."""
    form = FormState.of(await checked_form(request, page), "title", "about", "description")
    try:
        draft = topic_draft(form.get("title"), form.get("about"), form.get("description"))
    except DiscussionError as error:
        form.errors["title" if "title" in error.reason else "about"] = page.gettext(PROBLEM) % {
            "reason": error.reason
        }
        return await _topics(request, page, form, status=400)
    actor = actor_of(page)
    topic = await in_transaction(
        node_of(request), lambda s: service.create_topic(s, draft, actor=actor, now=utcnow())
    )
    return RedirectResponse(f"/discussions/{quote(topic.id)}?notice=created", status_code=303)


def remote_url(address: TopicAddress, **params: Any) -> str:
    return "/discussions/remote?" + urlencode({"address": address.page_url, **params})


@router.get("/discussions/remote")
async def remote_page(
    request: Request, page: Viewer, address: str = "", page_no: int = 1, reply: str = "", notice: str = ""
) -> Response:
    """A topic on another node, read as this node, each post's signature checked."""
    try:
        target = parse_address(address)
    except DiscussionError as error:
        return await _topics(
            request, page, FormState({"address": address}, {"address": error.reason}), status=400
        )
    return await _remote(request, page, target, page_no, reply, FormState(), notice=notice)


async def _remote(
    request: Request,
    page: Page,
    target: TopicAddress,
    page_no: int,
    reply: str,
    form: FormState,
    *,
    notice: str = "",
    problem: str = "",
    status: int = 200,
) -> Response:
    try:
        answer = await fetch_topic(node_of(request), target, page_no)
    except DiscussionError as error:
        raise WebDenied(404 if error.status == 404 else 502, error.reason) from None
    posts = [_post_item(view) for view in answer["posts"]]
    context = _thread_context(page, answer, posts, reply, form, notice=notice, problem=problem)
    context.update(
        remote=True,
        address=target.page_url,
        own_did=node_of(request).did,
        post_action="/discussions/remote/posts",
        page_url=lambda number: remote_url(target, page_no=number),
        report_url=lambda post_id: (
            "/discussions/remote/report?" + urlencode({"address": target.page_url, "post": post_id})
        ),
    )
    return render(request, "discussion_topic.html", context, status=status)


def _thread_context(
    page: Page,
    thread: dict[str, Any],
    posts: list[dict[str, Any]],
    reply: str,
    form: FormState,
    *,
    notice: str,
    problem: str,
) -> dict[str, Any]:
    reply_to = next((post for post in posts if post["id"] == reply and not post["hidden"]), None)
    return {
        "topic": thread["topic"],
        "posts": posts,
        "current": thread["page"],
        "last_page": thread["lastPage"],
        "reply_to": reply_to,
        "form": form,
        "notice": notice_text(page, notice),
        "problem": problem,
    }


@router.post("/discussions/remote/posts")
async def remote_post(request: Request, page: Editor) -> Response:
    """Sign a post for a topic on another node, send it through the outbox, and say how it went."""
    form = FormState.of(await checked_form(request, page), "address", "body", "parent")
    node = node_of(request)
    try:
        target = parse_address(form.get("address"))
    except DiscussionError as error:
        raise WebDenied(400, error.reason) from None
    name = page.user.display_name if page.user else node.name
    try:
        record = await in_transaction(
            node,
            lambda s: queue_post(
                s,
                node,
                node.postbox,
                address=target,
                author_name=name,
                body=form.get("body"),
                parent_id=form.get("parent") or None,
                now=utcnow(),
            ),
        )
    except DiscussionError as error:
        form.errors["body"] = page.gettext(PROBLEM) % {"reason": error.reason}
        return await _remote(request, page, target, 1, form.get("parent"), form, status=400)
    delivery = await wait_for_delivery(node, record.id, DELIVERY_WAIT_SECONDS)
    if delivery.state == "failed":
        problem = page.gettext("The hosting node refused the post: %(reason)s") % {"reason": delivery.error}
        return await _remote(request, page, target, 1, form.get("parent"), form, problem=problem, status=409)
    if delivery.state == "pending" and delivery.error:  # e.g. 429: the outbox tries again later
        problem = page.gettext(
            "The hosting node has not accepted the post yet: %(reason)s. It is sent again later."
        ) % {"reason": delivery.error}
        return await _remote(request, page, target, 1, "", FormState(), problem=problem, status=202)
    notice = "sent" if delivery.state == "sent" else "queued"
    return RedirectResponse(remote_url(target, notice=notice, page_no=10_000), status_code=303)


@router.get("/discussions/{topic_id}")
async def topic_page(
    request: Request, page: Viewer, topic_id: str, page_no: int = 1, reply: str = "", notice: str = ""
) -> Response:
    """A topic hosted here: its posts in order, the reply form, and the owner's moderation."""
    return await _local(request, page, topic_id, page_no, reply, FormState(), notice=notice)


async def _local(
    request: Request,
    page: Page,
    topic_id: str,
    page_no: int,
    reply: str,
    form: FormState,
    *,
    notice: str = "",
    problem: str = "",
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    node = node_of(request)
    try:
        found = await in_read(node, lambda s: service.thread(s, topic_id, page_no))
    except DiscussionError:
        raise WebDenied(404, N_("This node hosts no such topic.")) from None
    answer = service.thread_view(found, node.base_url)
    posts = [_post_item(view) for view in answer["posts"]]
    context = _thread_context(page, answer, posts, reply, form, notice=notice, problem=problem)
    base = f"/discussions/{quote(topic_id)}"
    context.update(
        remote=False,
        address=answer["topic"]["address"],
        own_did=node.did,
        post_action=f"{base}/posts",
        page_url=lambda number: f"{base}?page_no={number}",
        report_url=lambda post_id: f"{base}/posts/{quote(post_id)}/report",
    )
    return render(request, "discussion_topic.html", context, status=status, headers=headers)


@router.post("/discussions/{topic_id}/posts")
async def local_post(request: Request, page: Editor, topic_id: str) -> Response:
    """Post to a topic hosted here, as the signed-in user, signed with this node's key."""
    form = FormState.of(await checked_form(request, page), "body", "parent")
    node = node_of(request)
    limits = service.limits_of(node.settings)
    name = page.user.display_name if page.user else node.name
    try:
        record = await in_transaction(
            node,
            lambda s: post_here(
                s,
                node,
                limits=limits,
                topic_id=topic_id,
                author_name=name,
                body=form.get("body"),
                parent_id=form.get("parent") or None,
                now=utcnow(),
            ),
        )
    except DiscussionError as error:
        if error.status == 404 and "topic" in error.reason:
            raise WebDenied(404, N_("This node hosts no such topic.")) from None
        said = page.gettext(PROBLEM) % {"reason": error.reason}
        retry = {"Retry-After": str(error.retry_after)} if error.retry_after else None
        if error.status in (409, 429):  # the topic's state or the rate limit, not what was typed
            return await _local(
                request, page, topic_id, 1, "", form, problem=said, status=error.status, headers=retry
            )
        form.errors["body"] = said
        return await _local(request, page, topic_id, 1, form.get("parent"), form, status=400)
    last = (record.seq - 1) // PAGE_SIZE + 1
    return RedirectResponse(
        f"/discussions/{quote(topic_id)}?page_no={last}&notice=posted#post-{record.seq}", status_code=303
    )
