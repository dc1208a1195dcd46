"""What the transfer pages show: the list with its filters, one transfer's facts, progress and actions.

The routes of ``transfer_pages``, ``transfer_actions`` and ``transfer_download`` render through the
functions here, so that a failed action can show the transfer page again with its message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from allmende.audit.records import AuditRecord
from allmende.catalog.records import AssetRecord
from allmende.negotiation.records import AgreementRecord
from allmende.node import Node
from allmende.protocol.endpoint import in_read, node_of
from allmende.transfer.messages import PULL_FORMAT, PUSH_FORMAT
from allmende.transfer.records import TransferRecord
from allmende.transfer.states import TransferState
from allmende.web.security import WebDenied
from allmende.web.templating import N_, Page, render

LIST_LIMIT = 200
HISTORY_LIMIT = 30
DIRECTIONS = {"sending": "provider", "receiving": "consumer"}
STATES = tuple(state.value for state in TransferState)
FINAL_STATES = frozenset({TransferState.COMPLETED.value, TransferState.TERMINATED.value})
NOTICES = {
    "started": N_("The transfer was requested. The provider starts it in a moment."),
    "suspended": N_("The transfer was suspended."),
    "resumed": N_("The transfer was resumed."),
    "completed": N_("The transfer was completed."),
    "terminated": N_("The transfer was terminated."),
}
# Which owner actions the state machine allows in each state (either party may take them).
ACTIONS = {
    TransferState.REQUESTED.value: ("terminate",),
    TransferState.STARTED.value: ("suspend", "complete", "terminate"),
    TransferState.SUSPENDED.value: ("resume", "terminate"),
}
_SIZES_LIMIT = 1000


@dataclass(frozen=True)
class Progress:
    """How far a transfer got: bytes moved so far and, where known, the total size."""

    transfer_id: str
    state: str
    role: str
    moved: int
    total: int | None

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def shown_value(self) -> int:
        """The value for a ``<progress>`` bar (the data may be fetched more than once: capped)."""
        return min(self.moved, self.total or 0)

    @property
    def figures(self) -> str:
        """What the fragment shows, to tell whether a poll brings anything new."""
        return f"{self.moved}/{self.total or ''}"

    @property
    def percent(self) -> int:
        return 0 if not self.total else min(100, self.moved * 100 // self.total)


def known_sizes(request: Request) -> dict[str, int]:
    """Total sizes seen while downloading, by transfer (in memory; the consumer's record has no size)."""
    sizes: dict[str, int] | None = getattr(request.app.state, "transfer_sizes", None)
    if sizes is None:
        sizes = {}
        request.app.state.transfer_sizes = sizes
    return sizes


def remember_size(request: Request, transfer_id: str, total: int) -> None:
    """Keep the total size of a transfer's data (bounded: the oldest entries go first)."""
    sizes = known_sizes(request)
    sizes.pop(transfer_id, None)
    sizes[transfer_id] = total
    while len(sizes) > _SIZES_LIMIT:
        sizes.pop(next(iter(sizes)))


def direction(record: TransferRecord) -> str:
    return "sending" if record.role == "provider" else "receiving"


def actions_for(record: TransferRecord) -> tuple[str, ...]:
    """The owner actions allowed now: ``suspend``, ``resume``, ``complete``, ``terminate``."""
    return ACTIONS.get(record.state, ())


def can_download(record: TransferRecord) -> bool:
    """Whether this node can hand the data of ``record`` to the browser now (consumer side only)."""
    if record.role != "consumer":
        return False
    if record.format == PUSH_FORMAT:
        return record.received_file is not None
    return record.state == TransferState.STARTED.value and record.data_address is not None


def list_transfers(
    session: Session, role: str | None, state: str | None, agreement_id: str | None
) -> list[TransferRecord]:
    """Transfers newest first (one more than ``LIST_LIMIT``, to tell that there are more)."""
    query = select(TransferRecord).order_by(TransferRecord.created_at.desc(), TransferRecord.id)
    if role:
        query = query.where(TransferRecord.role == role)
    if state:
        query = query.where(TransferRecord.state == state)
    if agreement_id:
        query = query.where(TransferRecord.agreement_id == agreement_id)
    return list(session.execute(query.limit(LIST_LIMIT + 1)).scalars())


def startable_agreements(session: Session) -> list[AgreementRecord]:
    """Agreements this node obtained as consumer that are in force (a transfer can start under them)."""
    return list(
        session.execute(
            select(AgreementRecord)
            .where(
                AgreementRecord.role == "consumer",
                AgreementRecord.finalized_at.is_not(None),
                AgreementRecord.terminated_at.is_(None),
            )
            .order_by(AgreementRecord.signed_at.desc())
            .limit(500)
        ).scalars()
    )


def _asset(session: Session, record: TransferRecord) -> AssetRecord | None:
    """The shared asset behind a transfer this node provides."""
    if record.role != "provider":
        return None
    agreement = session.get(AgreementRecord, record.agreement_id)
    return session.get(AssetRecord, agreement.target) if agreement is not None else None


def progress_of(node: Node, request: Request, session: Session, record: TransferRecord) -> Progress:
    """Bytes moved so far (counted in memory while data flows) and the total size where known."""
    total: int | None
    if record.role == "provider":
        asset = _asset(session, record)
        total = asset.byte_size if asset is not None else None
    elif record.format == PUSH_FORMAT and record.received_file is not None:
        total = record.bytes_served
    else:
        total = known_sizes(request).get(record.id)
    moved = record.bytes_served + node.bytes_in_flight(record.id)
    return Progress(record.id, record.state, record.role, moved, total or None)


@dataclass(frozen=True)
class Step:
    """One entry of a transfer's history (from the audit log): ``kind`` names what happened."""

    at: datetime
    kind: str
    actor: str
    reason: str


def history(session: Session, record: TransferRecord, limit: int = HISTORY_LIMIT) -> list[Step]:
    """What happened to a transfer, newest first: state changes with their reasons, data accesses."""
    entries = session.execute(
        select(AuditRecord)
        .where(AuditRecord.subject == record.id)
        .order_by(AuditRecord.seq.desc())
        .limit(limit)
    ).scalars()
    steps = []
    for entry in entries:
        kind = entry.event
        if kind == "transfer.started" and entry.detail.get("from") == TransferState.SUSPENDED.value:
            kind = "transfer.resumed"
        reason = entry.detail.get("reason")
        if isinstance(reason, list):
            reason = "; ".join(str(r) for r in reason)
        steps.append(Step(entry.at, kind, entry.actor, reason if isinstance(reason, str) else ""))
    return steps


def _detail(node: Node, request: Request, session: Session, transfer_id: str) -> dict[str, Any] | None:
    record = session.get(TransferRecord, transfer_id)
    if record is None:
        return None
    agreement = session.get(AgreementRecord, record.agreement_id)
    return {
        "transfer": record,
        "agreement": agreement,
        "asset": _asset(session, record),
        "progress": progress_of(node, request, session, record),
        "direction": direction(record),
        "actions": actions_for(record),
        "downloadable": can_download(record),
        "pull": record.format == PULL_FORMAT,
        "history": history(session, record),
    }


async def transfer_context(request: Request, transfer_id: str) -> dict[str, Any]:
    """The detail page's context; a 404 page for an unknown transfer."""
    node = node_of(request)
    context = await in_read(node, lambda s: _detail(node, request, s, transfer_id))
    if context is None:
        raise WebDenied(404, "This transfer does not exist.")
    return context


async def transfer_page(
    request: Request,
    page: Page,
    transfer_id: str,
    *,
    notice: str = "",
    problem: str = "",
    status: int = 200,
) -> HTMLResponse:
    """The detail page of a transfer, with a translated ``notice`` or a ``problem`` to show."""
    context = await transfer_context(request, transfer_id)
    context.update(notice=notice, problem=problem)
    return render(request, "transfer.html", context, status=status, page=page)


def notice_text(page: Page, key: str | None) -> str:
    """The translated status message for a ``?notice=`` key (unknown keys show nothing)."""
    message = NOTICES.get(key or "")
    return page.gettext(message) if message else ""


def problem_text(page: Page, reasons: list[str]) -> str:
    """A domain error as a sentence in the page's language, with the protocol's reason (English)."""
    return page.gettext("This could not be done: %(reason)s") % {"reason": "; ".join(reasons)}
