"""The pure rules of discussions: validation, rate limits, moderation, markup and post signatures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from allmende.identity.keys import KeyStore
from allmende.knowledge.discussion_markup import render_markup
from allmende.knowledge.discussion_rules import (
    DiscussionError,
    RateLimits,
    ReplyTarget,
    check_can_post,
    check_hide,
    check_lock,
    check_post_time,
    check_rate,
    check_report,
    check_resolve,
    clean_text,
    page_bounds,
    retry_after,
    topic_draft,
)
from allmende.knowledge.discussion_signing import SignedPost, read_post, sign_post, verify_post

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_a_topic_needs_a_one_line_title_and_keeps_what_it_is_about() -> None:
    draft = topic_draft("  Predictive maintenance  ", "urn:knowledge:case-17", "Line one\r\nline two")
    assert (draft.title, draft.about, draft.description) == (
        "Predictive maintenance",
        "urn:knowledge:case-17",
        "Line one\nline two",
    )
    assert topic_draft("OPC UA in old machines").about == ""
    for title, words in (
        ("", "must not be empty"),
        ("ab", "at least 3"),
        ("a\nb c", "one line"),
        ("x" * 201, "longer"),
    ):
        with pytest.raises(DiscussionError, match=words) as caught:
            topic_draft(title)
        assert caught.value.status == 400


def test_a_body_is_plain_text_without_control_characters() -> None:
    assert clean_text("  Hallo\r\nWelt \t ", "body", maximum=100) == "Hallo\nWelt"
    with pytest.raises(DiscussionError, match="control characters"):
        clean_text("bell\x07", "body", maximum=100)
    with pytest.raises(DiscussionError, match="control characters"):
        clean_text("right-to-left \u202e override", "body", maximum=100)
    with pytest.raises(DiscussionError, match="must be text"):
        clean_text(42, "body", maximum=100)
    with pytest.raises(DiscussionError, match="longer than 5"):
        clean_text("sechs!", "body", maximum=5)
    assert clean_text("", "about", maximum=5, required=False) == ""


def test_retry_after_counts_only_the_window() -> None:
    assert retry_after([], 2, HOUR, NOW) == 0
    assert retry_after([NOW - timedelta(minutes=10)], 2, HOUR, NOW) == 0
    two = [NOW - timedelta(minutes=50), NOW - timedelta(minutes=10)]
    assert retry_after(two, 2, HOUR, NOW) == 600  # the older one leaves the window in ten minutes
    assert retry_after([NOW - timedelta(hours=2), *two], 3, HOUR, NOW) == 0
    assert retry_after(two * 10, 0, HOUR, NOW) == 0  # 0: no limit
    assert retry_after([NOW - HOUR + timedelta(milliseconds=10)], 1, HOUR, NOW) == 1  # rounds up


def test_the_rate_limit_applies_per_author_node_and_per_topic() -> None:
    limits = RateLimits(per_node=2, per_topic=3, window=HOUR)
    recent = [NOW - timedelta(minutes=30)]
    check_rate(limits, recent, recent * 2, NOW)
    with pytest.raises(DiscussionError, match="too many posts from this node: at most 2 per hour") as node:
        check_rate(limits, recent * 2, [], NOW)
    assert node.value.status == 429 and node.value.retry_after == 1800
    with pytest.raises(DiscussionError, match="too many posts in this topic") as topic:
        check_rate(limits, [], recent * 3, NOW)
    assert topic.value.retry_after == 1800


def test_post_times_must_be_plausible() -> None:
    check_post_time(NOW - timedelta(hours=30), NOW)  # waited in the author's outbox
    with pytest.raises(DiscussionError, match="future"):
        check_post_time(NOW + timedelta(minutes=10), NOW)
    with pytest.raises(DiscussionError, match="older than two days"):
        check_post_time(NOW - timedelta(days=3), NOW)


def test_moderation_states() -> None:
    check_can_post(locked=False, topic_id="t1", parent=None, parent_id=None)
    check_can_post(locked=False, topic_id="t1", parent=ReplyTarget("t1", hidden=False), parent_id="p1")
    with pytest.raises(DiscussionError, match="locked") as locked:
        check_can_post(locked=True, topic_id="t1", parent=None, parent_id=None)
    assert locked.value.status == 409
    with pytest.raises(DiscussionError, match="not in this topic"):
        check_can_post(locked=False, topic_id="t1", parent=ReplyTarget("t2", hidden=False), parent_id="p1")
    with pytest.raises(DiscussionError, match="not in this topic"):
        check_can_post(locked=False, topic_id="t1", parent=None, parent_id="gone")
    with pytest.raises(DiscussionError, match="hidden by the moderator"):
        check_can_post(locked=False, topic_id="t1", parent=ReplyTarget("t1", hidden=True), parent_id="p1")
    check_hide(hidden=False)
    with pytest.raises(DiscussionError, match="already hidden"):
        check_hide(hidden=True)
    check_lock(locked=False, lock=True)
    check_lock(locked=True, lock=False)
    with pytest.raises(DiscussionError, match="already locked"):
        check_lock(locked=True, lock=True)
    with pytest.raises(DiscussionError, match="not locked"):
        check_lock(locked=False, lock=False)
    check_report(post_hidden=False, already_reported=False, own_post=False)
    for kwargs, words in (
        ({"post_hidden": True, "already_reported": False, "own_post": False}, "already hidden"),
        ({"post_hidden": False, "already_reported": True, "own_post": False}, "already reported"),
        ({"post_hidden": False, "already_reported": False, "own_post": True}, "its own post"),
    ):
        with pytest.raises(DiscussionError, match=words):
            check_report(**kwargs)
    check_resolve("open")
    with pytest.raises(DiscussionError, match="dismissed, not open"):
        check_resolve("dismissed")


def test_pages_are_clamped() -> None:
    assert page_bounds(1, 50, 0) == (0, 50, 1)
    assert page_bounds(3, 50, 120) == (100, 50, 3)
    assert page_bounds(9, 50, 120) == (100, 50, 3)
    assert page_bounds(-1, 10_000, 120) == (0, 200, 1)


def test_markup_escapes_html_and_knows_a_small_subset() -> None:
    html = render_markup('<script>alert("x")</script> **bold** and *em* and `<b>code</b>`')
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<strong>bold</strong>" in html and "<em>em</em>" in html
    assert "<code>&lt;b&gt;code&lt;/b&gt;</code>" in html
    link = render_markup("see [the case](https://example.org/a?b=1&c=2)")
    assert (
        '<a href="https://example.org/a?b=1&amp;c=2" rel="nofollow noopener noreferrer">the case</a>' in link
    )
    assert "<a " not in render_markup("[click](javascript:alert(1))")
    assert "<a " not in render_markup('[x](https://e.org/"onmouseover="alert(1))')
    assert render_markup("one\ntwo\n\n- a\n- b") == "<p>one<br>two</p><ul><li>a</li><li>b</li></ul>"
    assert render_markup("2 * 3 * 4") == "<p>2 * 3 * 4</p>"


def _post(**changes: object) -> SignedPost:
    values: dict[str, object] = {
        "author_did": "did:web:author.example",
        "host_did": "did:web:host.example",
        "author_name": "Carla Weber",
        "author_node": "Feinteile KG",
        "topic_id": "9b0e7c1a-0000-4000-8000-000000000001",
        "parent_id": None,
        "body": "Wir messen den Spindelstrom.\nUnd ihr?",
        "created": NOW,
        "nonce": "n-1",
    }
    values.update(changes)
    return SignedPost(**values)  # type: ignore[arg-type]


def test_a_signed_post_verifies_and_a_changed_one_does_not(tmp_path: Path) -> None:
    key = KeyStore.create(tmp_path / "keys").active
    token = sign_post(_post(), key, key_id=key.key_id)
    read = read_post(token)
    assert read.kid == f"did:web:author.example#{key.key_id}"
    assert verify_post(read, key.public_key) == _post()

    other = KeyStore.create(tmp_path / "other").active
    with pytest.raises(DiscussionError, match="signature does not verify"):
        verify_post(read, other.public_key)
    forged = sign_post(_post(body="changed"), other, key_id=key.key_id)
    spliced = ".".join([*forged.split(".")[:2], token.split(".")[2]])
    with pytest.raises(DiscussionError, match="signature does not verify"):
        verify_post(read_post(spliced), key.public_key)


def test_a_signed_post_must_be_well_formed(tmp_path: Path) -> None:
    key = KeyStore.create(tmp_path / "keys").active
    with pytest.raises(DiscussionError, match="compact JWS"):
        read_post(None)
    with pytest.raises(DiscussionError, match="malformed"):
        read_post("a.b")
    with pytest.raises(DiscussionError, match="must be stripped"):
        read_post(sign_post(_post(body=" padded "), key, key_id=key.key_id))
    with pytest.raises(DiscussionError, match="topic is not a valid identifier"):
        read_post(sign_post(_post(topic_id="../x"), key, key_id=key.key_id))
    with pytest.raises(DiscussionError, match="iss must be a DID"):
        read_post(sign_post(_post(author_did="carla"), key, key_id=key.key_id))
