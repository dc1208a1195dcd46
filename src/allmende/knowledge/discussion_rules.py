"""Rules of discussions, as pure functions: what a topic, a post and a report may hold, the rate limits,
and what moderation allows (no FastAPI, no SQLAlchemy).

Texts are plain text with a small markdown subset (see ``discussion_markup``); they are checked here
for length and for control characters, never for HTML — HTML is escaped when a post is shown.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

MAX_TITLE: Final = 200
MIN_TITLE: Final = 3
MAX_ABOUT: Final = 1000
MAX_DESCRIPTION: Final = 4000
MAX_BODY: Final = 8000
MAX_NAME: Final = 200
MAX_REASON: Final = 1000
MAX_ID: Final = 80
# A post may have waited in the author's outbox (retries up to the peer deadline) before it arrives.
MAX_POST_AGE: Final = timedelta(days=2)
MAX_CLOCK_SKEW: Final = timedelta(minutes=5)
PAGE_SIZE: Final = 50
MAX_PAGE_SIZE: Final = 200

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,79}$")


class DiscussionError(ValueError):
    """A discussion request that is refused: ``status`` (HTTP) and ``reason`` (shown to the user).

    ``retry_after`` (seconds) is set for rate-limit refusals (429).
    """

    def __init__(self, status: int, reason: str, *, retry_after: int | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.retry_after = retry_after


def clean_line(value: object, field: str, *, maximum: int, minimum: int = 0) -> str:
    """A one-line text (title, name): stripped, without control characters, within its length."""
    if not isinstance(value, str):
        raise DiscussionError(400, f"{field} must be text")
    text = value.strip()
    if _LINE_CONTROL.search(text):
        raise DiscussionError(400, f"{field} must be one line without control characters")
    if not text:
        raise DiscussionError(400, f"{field} must not be empty")
    if len(text) < minimum:
        raise DiscussionError(400, f"{field} needs at least {minimum} characters")
    if len(text) > maximum:
        raise DiscussionError(400, f"{field} is longer than {maximum} characters")
    return text


def clean_text(value: object, field: str, *, maximum: int, required: bool = True) -> str:
    """A multi-line text (post body, description, reason): line ends unified to ``\\n``, stripped."""
    if not isinstance(value, str):
        raise DiscussionError(400, f"{field} must be text")
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if _CONTROL.search(text):
        raise DiscussionError(400, f"{field} contains control characters")
    if required and not text:
        raise DiscussionError(400, f"{field} must not be empty")
    if len(text) > maximum:
        raise DiscussionError(400, f"{field} is longer than {maximum} characters")
    return text


def clean_id(value: object, field: str) -> str:
    """An identifier (topic, post, nonce): letters, digits and ``._:-``, at most 80 characters."""
    if not isinstance(value, str) or not _ID.match(value):
        raise DiscussionError(400, f"{field} is not a valid identifier")
    return value


@dataclass(frozen=True)
class TopicDraft:
    """A new topic as validated: its title, what it is about (a knowledge item's IRI or id, or empty)."""

    title: str
    about: str
    description: str


def topic_draft(title: object, about: object = "", description: object = "") -> TopicDraft:
    """Validate a new topic; raises DiscussionError (400) with the reason."""
    return TopicDraft(
        title=clean_line(title, "title", maximum=MAX_TITLE, minimum=MIN_TITLE),
        about=clean_text(about or "", "about", maximum=MAX_ABOUT, required=False).replace("\n", " "),
        description=clean_text(description or "", "description", maximum=MAX_DESCRIPTION, required=False),
    )


def check_post_time(created: datetime, now: datetime) -> None:
    """A post's signed creation time must be plausible: not in the future, not older than two days."""
    if created > now + MAX_CLOCK_SKEW:
        raise DiscussionError(400, "the post is dated in the future")
    if created < now - MAX_POST_AGE:
        raise DiscussionError(400, "the post is older than two days")


def retry_after(recent: Sequence[datetime], limit: int, window: timedelta, now: datetime) -> int:
    """Seconds until one more post is allowed, given the times of the posts counted (0: allowed now).

    ``recent`` may hold older times; only those inside the window count. ``limit`` 0 means no limit.
    """
    if limit <= 0:
        return 0
    inside = sorted(moment for moment in recent if moment > now - window)
    if len(inside) < limit:
        return 0
    # The oldest post that must leave the window before one more fits.
    frees_at = inside[len(inside) - limit] + window
    return max(1, math.ceil((frees_at - now).total_seconds()))


@dataclass(frozen=True)
class RateLimits:
    """The two limits a host applies: per author node, per topic, over one sliding window."""

    per_node: int
    per_topic: int
    window: timedelta


def check_rate(
    limits: RateLimits, by_author: Sequence[datetime], in_topic: Sequence[datetime], now: datetime
) -> None:
    """Refuse with 429 (and ``retry_after``) when the author node or the topic is over its limit."""
    wait_author = retry_after(by_author, limits.per_node, limits.window, now)
    if wait_author:
        raise DiscussionError(
            429,
            f"too many posts from this node: at most {limits.per_node} per "
            f"{_duration(limits.window)}; try again in {wait_author} s",
            retry_after=wait_author,
        )
    wait_topic = retry_after(in_topic, limits.per_topic, limits.window, now)
    if wait_topic:
        raise DiscussionError(
            429,
            f"too many posts in this topic: at most {limits.per_topic} per "
            f"{_duration(limits.window)}; try again in {wait_topic} s",
            retry_after=wait_topic,
        )


def _duration(window: timedelta) -> str:
    seconds = int(window.total_seconds())
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return "hour" if hours == 1 else f"{hours} hours"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


@dataclass(frozen=True)
class ReplyTarget:
    """What the host knows about the post a reply answers."""

    topic_id: str
    hidden: bool


def check_can_post(*, locked: bool, topic_id: str, parent: ReplyTarget | None, parent_id: str | None) -> None:
    """May a post be added? Not to a locked topic, and a reply only to a visible post of the same topic."""
    if locked:
        raise DiscussionError(409, "the topic is locked: it takes no new posts")
    if parent_id is None:
        return
    if parent is None or parent.topic_id != topic_id:
        raise DiscussionError(404, f"the post {parent_id} to reply to is not in this topic")
    if parent.hidden:
        raise DiscussionError(409, "the post to reply to was hidden by the moderator")


def check_hide(*, hidden: bool) -> None:
    """A post is hidden once; hiding it again is refused (409), so the first reason stays."""
    if hidden:
        raise DiscussionError(409, "the post is already hidden")


def check_lock(*, locked: bool, lock: bool) -> None:
    """Lock an open topic, unlock a locked one; anything else is refused (409)."""
    if lock and locked:
        raise DiscussionError(409, "the topic is already locked")
    if not lock and not locked:
        raise DiscussionError(409, "the topic is not locked")


REPORT_STATES: Final = ("open", "hidden", "dismissed")


def check_report(*, post_hidden: bool, already_reported: bool, own_post: bool) -> None:
    """A node reports a visible post of someone else, once."""
    if own_post:
        raise DiscussionError(409, "a node cannot report its own post")
    if post_hidden:
        raise DiscussionError(409, "the post is already hidden")
    if already_reported:
        raise DiscussionError(409, "this node has already reported the post")


def check_resolve(state: str) -> None:
    """Only an open report can be dismissed."""
    if state != "open":
        raise DiscussionError(409, f"the report is {state}, not open")


def page_bounds(page: int, size: int, total: int) -> tuple[int, int, int]:
    """(offset, size, last page) of page ``page`` (1-based) of ``total`` items; bad values are clamped."""
    size = min(max(1, size), MAX_PAGE_SIZE)
    last = max(1, math.ceil(total / size))
    page = min(max(1, page), last)
    return (page - 1) * size, size, last
