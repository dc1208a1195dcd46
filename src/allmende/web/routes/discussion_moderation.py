"""Moderation pages of discussions: confirming hide, lock and report with a reason, unlocking, and the
owner's queue of reports."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from allmende.clock import utcnow
from allmende.knowledge import discussion_service as service
from allmende.knowledge.discussion_posting import TopicAddress, parse_address
from allmende.knowledge.discussion_records import PostRecord
from allmende.knowledge.discussion_remote import send_report
from allmende.knowledge.discussion_rules import DiscussionError
from allmende.protocol.endpoint import in_read, in_transaction, node_of
from allmende.web.forms import FormState
from allmende.web.routes.discussion_pages import PROBLEM, notice_text, remote_url
from allmende.web.routes.identity_view import actor_of
from allmende.web.security import Editor, Owner, WebDenied, checked_form
from allmende.web.templating import N_, Page, render

router = APIRouter(include_in_schema=False)


ACTIONS: dict[str, dict[str, str]] = {
    "hide": {
        "title": N_("Hide the post"),
        "explain": N_(
            "Everyone sees that the post was hidden by the moderator, with your reason, "
            "but no longer its text."
        ),
        "button": N_("Hide"),
        "notice": "hidden",
    },
    "lock": {
        "title": N_("Lock the topic"),
        "explain": N_(
            "The topic takes no new posts, from this node or any other, until you unlock it. "
            "The reason is shown with the topic."
        ),
        "button": N_("Lock"),
        "notice": "locked",
    },
    "report": {
        "title": N_("Report the post"),
        "explain": N_(
            "The owner of the node that hosts the topic sees your report "
            "and decides whether to hide the post."
        ),
        "button": N_("Report"),
        "notice": "reported",
    },
}


@router.get("/discussions/reports")
async def reports_page(request: Request, page: Owner, notice: str = "") -> Response:
    """Reports of posts hosted here: the open ones to decide, then the decided ones."""
    node = node_of(request)
    found = await in_read(node, lambda s: service.list_reports(s, None))
    context = {
        "open": [(r, p) for r, p in found if r.state == "open"],
        "decided": [(r, p) for r, p in reversed(found) if r.state != "open"],
        "notice": notice_text(page, notice),
    }
    return render(request, "discussion_reports.html", context)


@router.post("/discussions/reports/{report_id}/dismiss")
async def dismiss(request: Request, page: Owner, report_id: str) -> Response:
    """Close a report without hiding the post."""
    await checked_form(request, page)
    actor = actor_of(page)
    try:
        await in_transaction(
            node_of(request), lambda s: service.dismiss_report(s, report_id, actor=actor, now=utcnow())
        )
    except DiscussionError as error:
        raise WebDenied(error.status if error.status in (404, 409) else 400, error.reason) from None
    return RedirectResponse("/discussions/reports?notice=dismissed", status_code=303)


@router.get("/discussions/remote/report")
async def remote_report_page(request: Request, page: Editor, address: str = "", post: str = "") -> Response:
    """Confirm reporting a post of a topic on another node, with the reason."""
    target = _address_or_404(address)
    hidden = {"address": target.page_url, "post": post}
    return _confirm(
        request, page, "report", "/discussions/remote/report", remote_url(target), FormState(), hidden=hidden
    )


@router.post("/discussions/remote/report")
async def remote_report(request: Request, page: Editor) -> Response:
    """Report a post of a topic on another node to that node's owner."""
    form = FormState.of(await checked_form(request, page), "address", "post", "reason")
    target = _address_or_404(form.get("address"))
    url, back = "/discussions/remote/report", remote_url(target)
    hidden = {"address": target.page_url, "post": form.get("post")}
    if not form.require("reason", page.gettext("Give a reason.")):
        return _confirm(request, page, "report", url, back, form, hidden=hidden, status=400)
    try:
        await send_report(node_of(request), target, form.get("post"), form.get("reason"))
    except DiscussionError as error:
        problem = page.gettext(PROBLEM) % {"reason": error.reason}
        return _confirm(request, page, "report", url, back, form, hidden=hidden, problem=problem, status=409)
    return RedirectResponse(remote_url(target, notice="reported"), status_code=303)


def _address_or_404(address: str) -> TopicAddress:
    try:
        return parse_address(address)
    except DiscussionError as error:
        raise WebDenied(404, error.reason) from None


def _confirm(
    request: Request,
    page: Page,
    action: str,
    action_url: str,
    back: str,
    form: FormState,
    *,
    hidden: dict[str, str] | None = None,
    problem: str = "",
    status: int = 200,
) -> Response:
    texts = ACTIONS[action]
    context = {
        "title": page.gettext(texts["title"]),
        "explain": page.gettext(texts["explain"]),
        "button": page.gettext(texts["button"]),
        "action_url": action_url,
        "back": back,
        "hidden": hidden or {},
        "form": form,
        "problem": problem,
    }
    return render(request, "discussion_confirm.html", context, status=status)


async def _known_post(request: Request, topic_id: str, post_id: str) -> None:
    def check(session: Any) -> bool:
        post = session.get(PostRecord, post_id)
        return post is not None and post.topic_id == topic_id

    if not await in_read(node_of(request), check):
        raise WebDenied(404, N_("This topic has no such post."))


@router.get("/discussions/{topic_id}/posts/{post_id}/{action}")
async def post_action_page(
    request: Request, page: Editor, topic_id: str, post_id: str, action: str
) -> Response:
    """Confirm hiding (owner) or reporting (owner or member) a post, with the reason."""
    if action not in ("hide", "report"):
        raise WebDenied(404, "This page does not exist.")
    if action == "hide" and not page.can_administer:
        raise WebDenied(403, "Only an owner of this node may do this.")
    await _known_post(request, topic_id, post_id)
    url = f"/discussions/{quote(topic_id)}/posts/{quote(post_id)}/{action}"
    return _confirm(request, page, action, url, f"/discussions/{quote(topic_id)}", FormState())


@router.post("/discussions/{topic_id}/posts/{post_id}/{action}")
async def post_action(request: Request, page: Editor, topic_id: str, post_id: str, action: str) -> Response:
    """Hide a post (owner) or report it (the report is this node's, queued for its owner)."""
    if action not in ("hide", "report"):
        raise WebDenied(404, "This page does not exist.")
    if action == "hide" and not page.can_administer:
        raise WebDenied(403, "Only an owner of this node may do this.")
    form = FormState.of(await checked_form(request, page), "reason")
    await _known_post(request, topic_id, post_id)
    url = f"/discussions/{quote(topic_id)}/posts/{quote(post_id)}/{action}"
    back = f"/discussions/{quote(topic_id)}"
    if not form.require("reason", page.gettext("Give a reason.")):
        return _confirm(request, page, action, url, back, form, status=400)
    node, actor, reason = node_of(request), actor_of(page), form.get("reason")
    try:
        if action == "hide":
            await in_transaction(
                node, lambda s: service.hide_post(s, post_id, reason=reason, actor=actor, now=utcnow())
            )
        else:
            await in_transaction(
                node,
                lambda s: service.report_post(s, post_id, reporter_did=node.did, reason=reason, now=utcnow()),
            )
    except DiscussionError as error:
        problem = page.gettext(PROBLEM) % {"reason": error.reason}
        return _confirm(request, page, action, url, back, form, problem=problem, status=409)
    return RedirectResponse(f"{back}?notice={ACTIONS[action]['notice']}", status_code=303)


@router.get("/discussions/{topic_id}/lock")
async def lock_page(request: Request, page: Owner, topic_id: str) -> Response:
    """Confirm locking a topic, with the reason."""
    url = f"/discussions/{quote(topic_id)}/lock"
    return _confirm(request, page, "lock", url, f"/discussions/{quote(topic_id)}", FormState())


@router.post("/discussions/{topic_id}/lock")
async def lock(request: Request, page: Owner, topic_id: str) -> Response:
    """Lock a topic: no new posts."""
    form = FormState.of(await checked_form(request, page), "reason")
    url, back = f"/discussions/{quote(topic_id)}/lock", f"/discussions/{quote(topic_id)}"
    if not form.require("reason", page.gettext("Give a reason.")):
        return _confirm(request, page, "lock", url, back, form, status=400)
    return await _set_lock(request, page, topic_id, True, form.get("reason"), form)


@router.post("/discussions/{topic_id}/unlock")
async def unlock(request: Request, page: Owner, topic_id: str) -> Response:
    """Open a locked topic again."""
    await checked_form(request, page)
    return await _set_lock(request, page, topic_id, False, "", FormState())


async def _set_lock(
    request: Request, page: Page, topic_id: str, locked: bool, reason: str, form: FormState
) -> Response:
    actor = actor_of(page)
    back = f"/discussions/{quote(topic_id)}"
    try:
        await in_transaction(
            node_of(request),
            lambda s: service.set_lock(s, topic_id, lock=locked, reason=reason, actor=actor, now=utcnow()),
        )
    except DiscussionError as error:
        if error.status == 404:
            raise WebDenied(404, N_("This node hosts no such topic.")) from None
        problem = page.gettext(PROBLEM) % {"reason": error.reason}
        return _confirm(request, page, "lock", f"{back}/lock", back, form, problem=problem, status=409)
    return RedirectResponse(f"{back}?notice={'locked' if locked else 'unlocked'}", status_code=303)
