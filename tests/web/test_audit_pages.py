"""The audit log page: newest first, filters, paging, details, and the check of the hash chain."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from tests.conftest import RunningNode
from tests.support.web import logged_in

from allmende.audit import log as audit
from allmende.clock import utcnow

pytestmark = pytest.mark.anyio

ROW = re.compile(r'<th scope="row" class="num">(?:<a [^>]*>)?(\d+)<')


def seqs(html: str) -> list[int]:
    """The sequence numbers of the entries shown, in page order."""
    return [int(found) for found in ROW.findall(html)]


def log_events(running: RunningNode, count: int) -> None:
    """``count`` test entries: alternating actors, numbered subjects."""
    with running.node.db.transaction() as session:
        for number in range(count):
            audit.append(
                session,
                actor="alice" if number % 2 else "Bob Builder",
                event="test.ping",
                subject=f"offer-{number}",
                detail={"number": number, "note": "<b>not markup</b>"},
            )


async def test_the_log_pages_newest_first_and_filters(make_node) -> None:
    running = await make_node("Feinteile KG", 8510)
    browser = await logged_in(running, "rita", "read")  # after node.created: seq 1..3
    log_events(running, 60)  # seq 4..63
    first = await browser.get("/audit")
    assert first.status_code == 200
    assert seqs(first.text) == list(range(63, 13, -1))
    assert "&lt;b&gt;not markup&lt;/b&gt;" in first.text  # the detail JSON, escaped, in <details>
    assert "<details>" in first.text
    older = re.search(r'href="(/audit\?before=\d+)">Older entries', first.text)
    assert older is not None and older.group(1) == "/audit?before=14"
    second = await browser.get(older.group(1))
    assert seqs(second.text) == list(range(13, 0, -1))
    assert "Older entries" not in second.text and 'href="/audit">Newest entries' in second.text

    bob = await browser.get("/audit", params={"event": "test.ping", "actor": "bob"})
    assert seqs(bob.text) == list(range(62, 3, -2))
    assert '<option value="test.ping" selected>test.ping</option>' in bob.text
    assert 'value="bob"' in bob.text
    subject = await browser.get("/audit", params={"subject": "OFFER-5"})
    assert seqs(subject.text) == [*range(63, 53, -1), 9]  # offer-59 .. offer-50, offer-5
    like = await browser.get("/audit", params={"subject": "offer_1"})  # "_" is no wildcard
    assert seqs(like.text) == [] and "No entry matches this filter." in like.text

    today = utcnow().astimezone(ZoneInfo(running.node.settings.time_zone)).date()
    same_day = await browser.get("/audit", params={"from": today.isoformat(), "to": today.isoformat()})
    assert len(seqs(same_day.text)) == 50
    before = await browser.get("/audit", params={"to": (today - timedelta(days=1)).isoformat()})
    assert seqs(before.text) == []
    paged = await browser.get("/audit", params={"event": "test.ping", "from": today.isoformat()})
    assert f'href="/audit?event=test.ping&amp;from={today.isoformat()}&amp;before=' in paged.text


async def test_bad_dates_are_shown_next_to_the_fields_in_german(make_node) -> None:
    running = await make_node("Feinteile KG", 8511)
    browser = await logged_in(running, "olga", "owner", language="de")
    page = await browser.get("/audit")
    assert "<h1>Protokoll</h1>" in page.text and "Kette prüfen" in page.text
    wrong = await browser.get("/audit", params={"from": "31.12.2026", "actor": "olga"})
    assert wrong.status_code == 400
    assert 'id="from-error"' in wrong.text and "Geben Sie ein Datum wie 2026-03-31 ein." in wrong.text
    assert 'value="31.12.2026"' in wrong.text and 'value="olga"' in wrong.text
    reversed_range = await browser.get("/audit", params={"from": "2026-03-02", "to": "2026-03-01"})
    assert reversed_range.status_code == 400
    assert (
        'id="to-error"' in reversed_range.text
        and "Das Enddatum liegt vor dem Anfangsdatum." in reversed_range.text
    )


async def test_verify_chain_reports_an_intact_log(make_node) -> None:
    running = await make_node("Feinteile KG", 8512)
    browser = await logged_in(running, "rita", "read", language="de")
    log_events(running, 3)
    result = await browser.get("/audit/verify")
    assert result.status_code == 200
    assert "Das Protokoll ist unversehrt: 6 Einträge und ihre Verkettung wurden geprüft." in result.text


async def test_verify_chain_names_the_entry_that_was_changed(make_node) -> None:
    running = await make_node("Feinteile KG", 8513)
    browser = await logged_in(running, "olga", "owner")
    log_events(running, 4)  # seq 4..7
    with running.node.db.transaction() as session:
        session.execute(
            text("UPDATE audit_log SET detail = :detail WHERE seq = 4"), {"detail": '{"number": 99}'}
        )
    result = await browser.get("/audit/verify")
    assert result.status_code == 200
    assert "The audit log does not verify: 7 entries checked, the problems are listed below." in result.text
    assert seqs(result.text) == [4]
    assert "This entry was changed after it was written" in result.text
    with running.node.db.transaction() as session:
        session.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    gap = await browser.get("/audit/verify")
    assert seqs(gap.text) == [3, 3, 4]
    assert "Entries are missing or out of order before this one." in gap.text
    assert "The link to the previous entry is broken" in gap.text
