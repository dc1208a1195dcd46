"""The dashboard: what needs attention, transfers running, recent activity, data shared over time."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from allmende.audit.records import AuditRecord
from allmende.catalog.records import OfferRecord
from allmende.clock import utcnow
from allmende.negotiation.records import AgreementRecord, NegotiationRecord
from allmende.protocol.endpoint import in_read, node_of
from allmende.transfer.records import TransferRecord
from allmende.web.chart import daily_chart
from allmende.web.security import Viewer
from allmende.web.templating import render

router = APIRouter(include_in_schema=False)
CHART_DAYS = 30


def _overview(session: Session, today: date, zone: Any) -> dict[str, Any]:
    reviews = list(
        session.execute(
            select(NegotiationRecord)
            .where(NegotiationRecord.review_pending.is_(True))
            .order_by(NegotiationRecord.updated_at.desc())
            .limit(10)
        ).scalars()
    )
    offers_to_answer = list(
        session.execute(
            select(NegotiationRecord)
            .where(NegotiationRecord.role == "consumer", NegotiationRecord.state == "OFFERED")
            .limit(10)
        ).scalars()
    )
    running = list(
        session.execute(
            select(TransferRecord)
            .where(TransferRecord.state.in_(("REQUESTED", "STARTED", "SUSPENDED")))
            .order_by(TransferRecord.updated_at.desc())
            .limit(20)
        ).scalars()
    )
    activity = list(session.execute(select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(10)).scalars())
    since = utcnow() - timedelta(days=CHART_DAYS + 1)
    shared: dict[date, int] = defaultdict(int)
    received: dict[date, int] = defaultdict(int)
    for role, moment, size in session.execute(
        select(TransferRecord.role, TransferRecord.updated_at, TransferRecord.bytes_served).where(
            TransferRecord.updated_at >= since, TransferRecord.bytes_served > 0
        )
    ):
        day = moment.astimezone(zone).date()
        (shared if role == "provider" else received)[day] += int(size)
    counts = {
        "offers": session.execute(
            select(func.count()).select_from(OfferRecord).where(OfferRecord.published.is_(True))
        ).scalar_one(),
        "agreements": session.execute(
            select(func.count()).select_from(AgreementRecord).where(AgreementRecord.terminated_at.is_(None))
        ).scalar_one(),
        "negotiations": session.execute(select(func.count()).select_from(NegotiationRecord)).scalar_one(),
    }
    return {
        "reviews": reviews,
        "offers_to_answer": offers_to_answer,
        "running": running,
        "activity": activity,
        "chart": daily_chart(dict(shared), dict(received), today, CHART_DAYS),
        "counts": counts,
    }


@router.get("/")
async def dashboard(request: Request, page: Viewer) -> Response:
    node = node_of(request)
    zone = page.formats.zone
    today = utcnow().astimezone(zone).date()
    context = await in_read(node, lambda s: _overview(s, today, zone))
    context["in_flight"] = {r.id: node.bytes_in_flight(r.id) for r in context["running"]}
    return render(request, "dashboard.html", context)
