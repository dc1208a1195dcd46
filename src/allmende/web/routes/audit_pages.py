"""The audit log: every event, newest first, filtered and paged; and the check of its hash chain.

Everyone signed in may read it. Verifying changes nothing, so it is a plain GET.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response

from allmende.audit import log as audit
from allmende.audit.records import AuditRecord
from allmende.audit.search import AuditFilter, event_names, search
from allmende.protocol.endpoint import in_read, node_of
from allmende.web.forms import FormState
from allmende.web.security import Viewer
from allmende.web.templating import N_, Page, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
FILTERS = ("event", "subject", "actor", "from", "to")
MAX_FILTER = 200
# The chain check's reasons (allmende.audit.chain) by their start, in words for the page.
PROBLEMS = {
    "sequence gap": N_("Entries are missing or out of order before this one."),
    "link broken": N_("The link to the previous entry is broken: an entry before it was removed or changed."),
    "entry was modified": N_(
        "This entry was changed after it was written: its content does not match its hash."
    ),
}


def _day(state: FormState, name: str, page: Page) -> date | None:
    text = state.get(name)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        state.errors[name] = page.gettext("Enter a date like 2026-03-31.")
        return None


def _start_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=zone)


def read_filter(request: Request, page: Page) -> tuple[FormState, AuditFilter]:
    """The filter form as typed (from the query) and the filter it means; days are local to the node."""
    state = FormState(values={name: request.query_params.get(name, "").strip() for name in FILTERS})
    for name in ("subject", "actor"):
        if len(state.get(name)) > MAX_FILTER:
            state.errors[name] = page.gettext("At most %(count)s characters.") % {"count": MAX_FILTER}
    first, last = _day(state, "from", page), _day(state, "to", page)
    if first and last and last < first:
        state.errors["to"] = page.gettext("The end date is before the start date.")
    if not state.ok:
        return state, AuditFilter()
    zone = page.formats.zone
    wanted = AuditFilter(
        event=state.get("event"),
        subject=state.get("subject"),
        actor=state.get("actor"),
        since=_start_of(first, zone) if first else None,
        until=_start_of(last + timedelta(days=1), zone) if last else None,
    )
    return state, wanted


def _entry(record: AuditRecord) -> dict[str, Any]:
    """An entry for the page, its detail as readable JSON (escaped by the template, not by JSON)."""
    detail = json.dumps(record.detail, indent=2, ensure_ascii=False, sort_keys=True) if record.detail else ""
    return {
        "seq": record.seq,
        "at": record.at,
        "actor": record.actor,
        "event": record.event,
        "subject": record.subject,
        "detail": detail,
        "message_digest": record.message_digest,
        "entry_hash": record.entry_hash,
        "prev_hash": record.prev_hash,
    }


def _query(state: FormState, **extra: Any) -> str:
    values = {name: state.get(name) for name in FILTERS if state.get(name)}
    values.update({name: value for name, value in extra.items() if value is not None})
    return "?" + urlencode(values) if values else ""


@router.get("/audit")
async def audit_log(request: Request, page: Viewer) -> Response:
    node = node_of(request)
    state, wanted = read_filter(request, page)
    before_text = request.query_params.get("before", "")
    before = int(before_text) if before_text.isdigit() else None
    found, events = await in_read(
        node, lambda session: (search(session, wanted, before=before, limit=PAGE_SIZE), event_names(session))
    )
    context = {
        "form": state,
        "entries": [_entry(record) for record in found.entries],
        "events": [("", page.gettext("All events")), *((name, name) for name in events)],
        "older": "/audit" + _query(state, before=found.older) if found.older is not None else "",
        "newest": "/audit" + _query(state) if before is not None else "",
        "filtered": any(state.get(name) for name in FILTERS),
    }
    return render(request, "audit.html", context, status=200 if state.ok else 400)


@router.get("/audit/verify")
async def verify(request: Request, page: Viewer) -> Response:
    report = await in_read(node_of(request), audit.verify)
    problems = []
    for problem in report.problems:
        known = next((text for start, text in PROBLEMS.items() if problem.reason.startswith(start)), None)
        problems.append({"seq": problem.seq, "text": page.gettext(known) if known else problem.reason})
    return render(request, "audit_verify.html", {"report": report, "problems": problems})
